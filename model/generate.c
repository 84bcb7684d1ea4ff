/* generate: turns, replies and their log-probabilities. See generate.h. */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Chosen with tools/reply_quality.sh on the shipped model (README, "The model"): 0.7 is
   repetitive (distinct-2 0.68), 1.0 incoherent; without min_tokens the mean reply is
   under 6 words. */
SamplerConfig chat_sampler_defaults(void) {
    SamplerConfig c = {.temperature = 0.8f, .top_k = 0, .top_p = 0.9f, .repetition_penalty = 1.2f, .min_tokens = 6};
    return c;
}

void gen_build(Generator *g, const Model *m, const Tokenizer *t) {
    g->model = m;
    g->tok = t;
    step_build(&g->state, &m->config);
    sampler_build(&g->sampler, m->config.vocab_size);
    half_build(&g->half, m);
}

void gen_free(Generator *g) {
    step_free(&g->state);
    sampler_free(&g->sampler);
    half_free(&g->half);
}

void gen_reset(Generator *g) { step_reset(&g->state, &g->model->config); }

void gen_feed(Generator *g, const int32_t *tokens, int n) {
    half_feed(&g->half, &g->state, tokens, n);
}

void gen_feed_user(Generator *g, const char *text, size_t len) {
    size_t n;
    int32_t *ids = tokenizer_encode(g->tok, text, len, &n);
    int32_t user = TOK_USER, close[2] = {TOK_EOT, TOK_BOT};
    gen_feed(g, &user, 1);
    gen_feed(g, ids, (int)n);
    gen_feed(g, close, 2);
    free(ids);
}

void gen_reply(Generator *g, const SamplerConfig *cfg, Rng *rng, const uint8_t *mask, int max_tokens,
               Reply *r, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop) {
    int V = g->model->config.vocab_size;
    memset(r, 0, sizeof *r);
    r->tokens = xmalloc((size_t)(max_tokens > 0 ? max_tokens : 1) * sizeof(int32_t));
    r->logprobs = xmalloc((size_t)(max_tokens > 0 ? max_tokens + 1 : 2) * sizeof(float));
    float *logits = xmalloc((size_t)V * sizeof(float));
    /* Tokens never to produce inside a reply: a new turn marker would break the format. */
    while (r->n < max_tokens) {
        if (stop && *stop) {
            r->stopped = 1;
            break;
        }
        memcpy(logits, g->state.logits, (size_t)V * sizeof(float));
        logits[TOK_USER] = logits[TOK_BOT] = -INFINITY;
        if (r->n < cfg->min_tokens) logits[TOK_EOT] = -INFINITY;
        int recent = r->n < 64 ? r->n : 64;
        int id = sampler_sample(&g->sampler, cfg, logits, r->tokens + r->n - recent, recent, mask,
                                rng_float(rng), NULL);
        if (id == TOK_EOT) {
            r->ended = 1;
            break;
        }
        r->logprobs[r->n] = log_softmax_at(g->state.logits, V, id, g->sampler.probs);
        r->tokens[r->n++] = id;
        half_step(&g->half, &g->state, id);
        if (on_token) on_token(ctx, id);
    }
    int32_t eot = TOK_EOT;
    r->logprobs[r->n] = log_softmax_at(g->state.logits, V, TOK_EOT, g->sampler.probs);
    gen_feed(g, &eot, 1);
    free(logits);
}

void reply_free(Reply *r) {
    free(r->tokens);
    free(r->logprobs);
    memset(r, 0, sizeof *r);
}

char *reply_text(const Tokenizer *t, const Reply *r) {
    char *out = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < r->n; i++) tokenizer_decode_append(t, r->tokens[i], &out, &len, &cap);
    out = xrealloc(out, len + 1);
    out[len] = 0;
    return out;
}
