/* test_generate: replies on a tiny random model. Words outside the word list are taken back
   with the state restored bit for bit, a reply holds only words of the list or of the
   user's messages, the stored log-probabilities are those of the distribution each token
   was drawn from, streaming shows only what stays, and a seed fixes the reply. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/generate.h"
#include "tests/check.h"
#include "tests/tiny_model.h"

#define MESSAGE "hi there, how are you?"

typedef struct {
    TinySetup ts;
    Lexicon words;   /* the tiny corpus's words, with prefixes */
    Generator g;
    StepState ctx;   /* the state after MESSAGE, ready for a reply */
} Fixture;

static void fixture(Fixture *f, int with_words) {
    tiny_setup(&f->ts, 24);
    lexicon_build(&f->words, 1);
    if (with_words) lexicon_add_text(&f->words, TINY_CORPUS, strlen(TINY_CORPUS));
    gen_build(&f->g, &f->ts.model, &f->ts.tok);
    gen_set_words(&f->g, &f->words);
    gen_feed_user(&f->g, MESSAGE, strlen(MESSAGE));
    step_build(&f->ctx, &f->ts.model.config);
    step_copy(&f->ctx, &f->g.state, &f->ts.model.config);
}

static void fixture_free(Fixture *f) {
    step_free(&f->ctx);
    gen_free(&f->g);
    lexicon_free(&f->words);
    tiny_teardown(&f->ts);
}

/* Samples a reply to MESSAGE from the saved state with the given seed. */
static void reply(Fixture *f, const SamplerConfig *c, uint64_t seed, int max_tokens, Reply *r, TokenFn fn,
                  void *ctx) {
    Rng rng;
    rng_seed(&rng, seed);
    step_copy(&f->g.state, &f->ctx, &f->ts.model.config);
    gen_reply(&f->g, c, &rng, NULL, max_tokens, r, fn, ctx, NULL);
}

/* Words of r's text that neither the list nor MESSAGE holds. */
static int unknown_words(const Fixture *f, const Reply *r) {
    Lexicon said;
    lexicon_build(&said, 0);
    lexicon_add_text(&said, MESSAGE, strlen(MESSAGE));
    char *text = reply_text(&f->ts.tok, r);
    size_t pos = 0, n;
    const char *w;
    int unknown = 0;
    while (word_next(text, strlen(text), &pos, &w, &n))
        unknown += !lexicon_count(&f->words, w, n) && !lexicon_count(&said, w, n);
    free(text);
    lexicon_free(&said);
    return unknown;
}

static SamplerConfig settings(void) {
    SamplerConfig c = chat_sampler_defaults();
    c.temperature = 1.0f; /* a random model's words are mostly invented: many backoffs */
    c.known_words = 1;
    return c;
}

static void test_backoff_restores_the_state_bit_for_bit(void) {
    Fixture f;
    fixture(&f, 1);
    SamplerConfig c = settings();
    const Config *mc = &f.ts.model.config;
    size_t lh = (size_t)mc->num_layers * mc->hidden_dim;
    StepState ref;
    step_build(&ref, mc);
    int backoffs = 0, same_state = 1, same_steps = 1;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        Reply r;
        reply(&f, &c, seed, 40, &r, NULL, NULL);
        backoffs += r.backoffs;
        /* The reply fed from the same context, token by token, with nothing taken back:
           each step's logits and the state after TOK_EOT must be the sampled run's. */
        step_copy(&ref, &f.ctx, mc);
        for (int i = 0; i <= r.n; i++) {
            float scratch[512];
            int id = i < r.n ? r.tokens[i] : TOK_EOT;
            same_steps &= log_softmax_at(ref.logits, mc->vocab_size, id, scratch) == r.policy_logprobs[i];
            half_step(&f.g.half, &ref, id);
        }
        same_state &= !memcmp(ref.h, f.g.state.h, lh * sizeof(float)) &&
                      !memcmp(ref.c, f.g.state.c, lh * sizeof(float)) &&
                      !memcmp(ref.logits, f.g.state.logits, (size_t)mc->vocab_size * sizeof(float));
        reply_free(&r);
    }
    CHECK(backoffs > 10, "only %d backoffs in 10 replies: the test does not exercise them", backoffs);
    CHECK(same_steps, "a step's logits differ from the same tokens fed afresh");
    CHECK(same_state, "the state after the reply differs from the same tokens fed afresh");
    step_free(&ref);
    fixture_free(&f);
}

static void test_no_word_outside_the_list_or_the_message_is_emitted(void) {
    Fixture f;
    fixture(&f, 1);
    SamplerConfig c = settings();
    int unknown = 0, unknown_off = 0, kept = 0, words = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        Reply r;
        reply(&f, &c, seed, 30, &r, NULL, NULL);
        unknown += unknown_words(&f, &r);
        kept += r.unknown;
        char *text = reply_text(&f.ts.tok, &r);
        size_t pos = 0, n;
        const char *w;
        while (word_next(text, strlen(text), &pos, &w, &n)) words++;
        free(text);
        reply_free(&r);
        c.known_words = 0; /* the same model without the check: it does invent words */
        reply(&f, &c, seed, 30, &r, NULL, NULL);
        unknown_off += unknown_words(&f, &r);
        reply_free(&r);
        c.known_words = 1;
    }
    CHECK(words > 20, "only %d words in 20 replies", words);
    CHECK(unknown == 0 && kept == 0, "%d words outside the list (%d kept for want of another)", unknown, kept);
    CHECK(unknown_off > 10, "without the check only %d unknown words: the fixture proves nothing", unknown_off);
    fixture_free(&f);
}

static void test_with_an_empty_list_only_the_messages_words_are_used(void) {
    Fixture f;
    fixture(&f, 0);
    lexicon_add(&f.words, "zz", 2); /* a list with a word the model never spells */
    SamplerConfig c = settings();
    int unknown = 0, words = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        Reply r;
        reply(&f, &c, seed, 30, &r, NULL, NULL);
        unknown += unknown_words(&f, &r);
        char *text = reply_text(&f.ts.tok, &r);
        size_t pos = 0, n;
        const char *w;
        while (word_next(text, strlen(text), &pos, &w, &n)) words += !(n == 2 && !memcmp(w, "zz", 2));
        free(text);
        reply_free(&r);
    }
    CHECK(words > 10, "only %d of the message's words used in 10 replies", words);
    CHECK(unknown == 0, "%d words neither in the list nor in the message", unknown);
    gen_reset(&f.g); /* a new conversation forgets them */
    CHECK(!lexicon_count(&f.g.said, "there", 5), "the message's words outlive gen_reset");
    fixture_free(&f);
}

/* ---- the stored log-probabilities, against the distribution computed afresh ---- */

static const double *by_p;
static int by_p_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (by_p[x] != by_p[y]) return by_p[x] < by_p[y] ? 1 : -1;
    return x - y;
}

/* The probability of id at reply position n (tokens before it) under settings c, from the
   raw logits, written out step by step as generate.h and sampler.h define it. */
static double reference_prob(const Fixture *f, const float *raw, const SamplerConfig *c, const uint8_t *mask,
                             const int32_t *tokens, int n, int id) {
    int V = f->ts.model.config.vocab_size;
    float *z = malloc((size_t)V * sizeof(float));
    double *p = malloc((size_t)V * sizeof(double));
    int *order = malloc((size_t)V * sizeof(int));
    memcpy(z, raw, (size_t)V * sizeof(float));
    z[TOK_USER] = z[TOK_BOT] = -INFINITY;
    if (n < c->min_tokens) z[TOK_EOT] = -INFINITY;
    int from = n > 64 ? n - 64 : 0;
    for (int i = from; i < n; i++) {
        int seen = 0;
        for (int j = from; j < i; j++) seen |= tokens[j] == tokens[i];
        if (!seen) z[tokens[i]] = z[tokens[i]] > 0 ? z[tokens[i]] / c->repetition_penalty
                                                   : z[tokens[i]] * c->repetition_penalty;
    }
    for (int v = 0; v < V; v++)
        if (mask && mask[v]) z[v] = -INFINITY;
    double top = -INFINITY, sum = 0;
    for (int v = 0; v < V; v++) top = z[v] > top ? z[v] : top;
    for (int v = 0; v < V; v++) sum += (p[v] = exp((z[v] - top) / c->temperature));
    for (int v = 0; v < V; v++) p[v] /= sum;
    int in_word = 0;
    if (n > 0) {
        int last = tokens[n - 1];
        in_word = !tokenizer_is_special(last) && word_byte(f->ts.tok.bytes[last][f->ts.tok.len[last] - 1]);
    }
    if (in_word && c->word_temperature > 0) { /* the group's mass, shared at the word temperature */
        double group = 0, gtop = -INFINITY, gsum = 0;
        for (int v = 0; v < V; v++)
            if (f->g.goes_on[v]) group += p[v], gtop = z[v] > gtop ? z[v] : gtop;
        for (int v = 0; v < V; v++)
            if (f->g.goes_on[v]) gsum += exp((z[v] - gtop) / c->word_temperature);
        for (int v = 0; v < V; v++)
            if (f->g.goes_on[v]) p[v] = group * exp((z[v] - gtop) / c->word_temperature) / gsum;
    }
    double pmax = 0;
    for (int v = 0; v < V; v++) pmax = p[v] > pmax ? p[v] : pmax;
    int m = 0;
    for (int v = 0; v < V; v++)
        if (p[v] > 0 && p[v] >= c->min_p * pmax) order[m++] = v;
    by_p = p;
    qsort(order, (size_t)m, sizeof(int), by_p_desc);
    double mass = 0, kept = 0, result = 0;
    int keep = m;
    for (int i = 0; i < m; i++)
        if ((mass += p[order[i]]) >= c->top_p) {
            keep = i + 1;
            break;
        }
    for (int i = 0; i < keep; i++) kept += p[order[i]];
    for (int i = 0; i < keep; i++)
        if (order[i] == id) result = p[id] / kept;
    free(z), free(p), free(order);
    return result;
}

static void test_stored_logprobs_are_those_of_the_distribution_sampled(void) {
    Fixture f;
    fixture(&f, 1);
    const Config *mc = &f.ts.model.config;
    int V = mc->vocab_size;
    SamplerConfig c = {.temperature = 0.7f, .top_p = 0.85f, .min_p = 0.01f, .repetition_penalty = 1.3f,
                       .min_tokens = 4, .word_temperature = 0.5f, .known_words = 0};
    uint8_t *mask = calloc((size_t)V, 1);
    mask['e'] = mask[' '] = 1;
    StepState ref;
    step_build(&ref, mc);
    int checked = 0, off = 0, policy_off = 0, differ = 0, cut = 0;
    double worst = 0;
    for (uint64_t seed = 1; seed <= 15; seed++) {
        Reply r;
        Rng rng;
        rng_seed(&rng, seed);
        step_copy(&f.g.state, &f.ctx, mc);
        int max_tokens = seed % 3 ? 40 : 5; /* some replies are cut: their TOK_EOT was not drawn */
        gen_reply(&f.g, &c, &rng, mask, max_tokens, &r, NULL, NULL, NULL);
        cut += !r.ended;
        step_copy(&ref, &f.ctx, mc);
        for (int i = 0; i <= r.n; i++) {
            int id = i < r.n ? r.tokens[i] : TOK_EOT;
            double want = reference_prob(&f, ref.logits, &c, mask, r.tokens, i, id);
            double gap = want > 0 ? fabs(r.logprobs[i] - log(want)) : (r.logprobs[i] == -INFINITY ? 0 : INFINITY);
            worst = gap > worst ? gap : worst;
            off += gap > 1e-4;
            float scratch[512];
            float own = log_softmax_at(ref.logits, V, id, scratch);
            policy_off += fabsf(own - r.policy_logprobs[i]) > 1e-6f;
            differ += fabsf(own - r.logprobs[i]) > 1e-3f;
            checked++;
            if (i < r.n) half_step(&f.g.half, &ref, id);
        }
        reply_free(&r);
    }
    CHECK(off == 0, "%d of %d stored log-probabilities are not the sampled distribution's (worst %.3g nats)", off,
          checked, worst);
    CHECK(policy_off == 0, "%d policy log-probabilities are not the model's own", policy_off);
    CHECK(differ > checked / 2, "only %d of %d differ from the model's own: the test cannot tell them apart", differ,
          checked);
    CHECK(cut > 0, "no reply was cut: the undrawn TOK_EOT went untested");
    free(mask);
    step_free(&ref);
    fixture_free(&f);
}

/* ---- streaming and seeds ---- */

typedef struct {
    int32_t ids[64];
    int n;
} Seen;

static void collect(void *ctx, int token) {
    Seen *s = ctx;
    if (s->n < 64) s->ids[s->n++] = token;
}

static void test_streaming_shows_only_the_tokens_that_stay(void) {
    Fixture f;
    fixture(&f, 1);
    SamplerConfig c = settings();
    int wrong = 0, backoffs = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        Reply r;
        Seen s = {.n = 0};
        reply(&f, &c, seed, 40, &r, collect, &s);
        backoffs += r.backoffs;
        wrong += s.n != r.n || memcmp(s.ids, r.tokens, (size_t)r.n * sizeof(int32_t));
        reply_free(&r);
    }
    CHECK(backoffs > 0, "no backoffs: nothing was taken back to hide");
    CHECK(wrong == 0, "%d replies streamed other tokens than they hold", wrong);
    fixture_free(&f);
}

static void test_a_seed_fixes_the_reply(void) {
    Fixture f;
    fixture(&f, 1);
    SamplerConfig c = settings();
    Reply a, b, other;
    reply(&f, &c, 7, 40, &a, NULL, NULL);
    reply(&f, &c, 7, 40, &b, NULL, NULL);
    reply(&f, &c, 8, 40, &other, NULL, NULL);
    CHECK(a.n == b.n && !memcmp(a.tokens, b.tokens, (size_t)a.n * sizeof(int32_t)) &&
              !memcmp(a.logprobs, b.logprobs, (size_t)(a.n + 1) * sizeof(float)),
          "the same seed gave two replies");
    CHECK(other.n != a.n || memcmp(other.tokens, a.tokens, (size_t)a.n * sizeof(int32_t)),
          "another seed gave the same reply");
    reply_free(&a), reply_free(&b), reply_free(&other);
    fixture_free(&f);
}

int main(void) {
    RUN(test_backoff_restores_the_state_bit_for_bit);
    RUN(test_no_word_outside_the_list_or_the_message_is_emitted);
    RUN(test_with_an_empty_list_only_the_messages_words_are_used);
    RUN(test_stored_logprobs_are_those_of_the_distribution_sampled);
    RUN(test_streaming_shows_only_the_tokens_that_stay);
    RUN(test_a_seed_fixes_the_reply);
    return check_summary();
}
