/* generate: turns, replies and their log-probabilities. See generate.h. */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Chosen with tools/reply_quality.sh on the shipped model (README, "The model"): 0.7 is
   repetitive (distinct-2 0.68), 1.0 incoherent; without min_tokens the mean reply is
   under 6 words. */
SamplerConfig chat_sampler_defaults(void) {
    SamplerConfig c = {.temperature = 0.8f, .top_k = 0, .top_p = 0.9f, .repetition_penalty = 1.2f, .min_tokens = 6,
                     .known_words = 1};
    return c;
}

void gen_build(Generator *g, const Model *m, const Tokenizer *t) {
    memset(g, 0, sizeof *g);
    g->model = m;
    g->tok = t;
    step_build(&g->state, &m->config);
    sampler_build(&g->sampler, m->config.vocab_size);
    half_build(&g->half, m);
    lexicon_build(&g->said, 1);
    g->goes_on = xcalloc((size_t)t->vocab_size, 1);
    for (int v = 0; v < t->vocab_size; v++) g->goes_on[v] = !tokenizer_is_special(v) && word_byte(t->bytes[v][0]);
}

void gen_free(Generator *g) {
    step_free(&g->state);
    sampler_free(&g->sampler);
    half_free(&g->half);
    lexicon_free(&g->said);
    free(g->saved);
    free(g->goes_on);
}

void gen_reset(Generator *g) {
    step_reset(&g->state, &g->model->config);
    lexicon_clear(&g->said);
}

void gen_set_words(Generator *g, const Lexicon *words) { g->words = words; }

void gen_hear(Generator *g, const char *text, size_t len) { lexicon_add_text(&g->said, text, len); }

void gen_feed(Generator *g, const int32_t *tokens, int n) {
    half_feed(&g->half, &g->state, tokens, n);
}

void gen_feed_user(Generator *g, const char *text, size_t len) {
    size_t n;
    int32_t *ids = tokenizer_encode(g->tok, text, len, &n);
    int32_t user = TOK_USER, close[2] = {TOK_EOT, TOK_BOT};
    gen_hear(g, text, len);
    gen_feed(g, &user, 1);
    gen_feed(g, ids, (int)n);
    gen_feed(g, close, 2);
    free(ids);
}

/* ---- words ---- */

/* Bytes of an unfinished word kept for the checks; a longer word is never known. */
#define WORD_BUF (WORD_MAX + 8)

/* Whether w (n bytes, n <= WORD_BUF, apostrophes at its ends included) is a word of the
   lists, or no word at all (apostrophes alone). */
static int word_known(const Generator *g, const char *w, size_t n) {
    while (n && *w == '\'') w++, n--;
    while (n && w[n - 1] == '\'') n--;
    return n == 0 || lexicon_count(g->words, w, n) || lexicon_count(&g->said, w, n);
}

/* Whether w, a word not finished yet, can still become one of the lists: it begins one,
   or is one followed by apostrophes that may be a closing quote. */
static int word_may_become_known(const Generator *g, const char *w, size_t n) {
    while (n && *w == '\'') w++, n--;
    return n == 0 || lexicon_has_prefix(g->words, w, n) || lexicon_has_prefix(&g->said, w, n) || word_known(g, w, n);
}

/* The word the reply tokens[0..n) ends in, unfinished: its bytes in w (*len of them, at
   most WORD_BUF: a longer word's count stops there) and the position of the token its
   first byte is in; n when the reply does not end in a word byte. */
static int open_word(const Generator *g, const int32_t *tokens, int n, char *w, size_t *len) {
    char rev[WORD_BUF];
    size_t k = 0;
    int start = n;
    for (int i = n - 1; i >= 0 && !tokenizer_is_special(tokens[i]); i--) {
        const uint8_t *b = g->tok->bytes[tokens[i]];
        int j = g->tok->len[tokens[i]];
        while (j > 0 && word_byte(b[j - 1])) {
            if (k < WORD_BUF) rev[k++] = (char)b[j - 1];
            j--;
        }
        if (j < g->tok->len[tokens[i]]) start = i;
        if (j > 0) break;
    }
    for (size_t i = 0; i < k; i++) w[i] = rev[k - 1 - i];
    *len = k;
    return start;
}

/* Where token id, drawn after the reply tokens[0..n) that ends in the unfinished word
   w (len bytes, begun at position start; len 0 and start n: none), takes a word out of
   the lists: the position of the token that began that word (n: id itself), or -1 when
   each word id finishes is known and the one it leaves unfinished may still become one.
   A special token (TOK_EOT) finishes the word. */
static int word_left_after(const Generator *g, const char *w_in, size_t len, int start, int n, int id) {
    char w[WORD_BUF];
    static const uint8_t end_of_word = ' ';
    const uint8_t *b = tokenizer_is_special(id) ? &end_of_word : g->tok->bytes[id];
    int nb = tokenizer_is_special(id) ? 1 : g->tok->len[id];
    memcpy(w, w_in, len);
    for (int j = 0; j < nb; j++) {
        if (word_byte(b[j])) {
            if (len == 0) start = n;
            if (len < WORD_BUF) w[len++] = (char)b[j];
        } else if (len > 0) {
            if (!word_known(g, w, len)) return start;
            len = 0;
        }
    }
    return len > 0 && !word_may_become_known(g, w, len) ? start : -1;
}

static int word_left(const Generator *g, const int32_t *tokens, int n, int id) {
    char w[WORD_BUF];
    size_t len;
    int start = open_word(g, tokens, n, w, &len);
    return word_left_after(g, w, len, start, n, id);
}

/* ---- taking words back ---- */

typedef struct {
    int pos, id; /* token id is masked at reply position pos */
} Ban;

typedef struct {
    Ban bans[GEN_BACKOFFS];
    int n_bans;
    int spelled_from;   /* the word begun here is drawn only from tokens that keep it in the
                           lists (the backoffs at its position ran out); -1: none */
    int kept_from;      /* the start of a word kept unknown: even spelling it found no token
                           that keeps it in the lists; -1: none */
    int finish_at;      /* the position backed off to last: the word before it, checked and
                           shown already, is not to be extended there */
} Backoff;

static size_t saved_floats(const Config *c) { return 2 * (size_t)c->num_layers * c->hidden_dim + c->vocab_size; }

/* Saves (save 1) or restores (0) the state before reply position pos. */
static void saved_state(Generator *g, int pos, int save) {
    const Config *c = &g->model->config;
    size_t lh = (size_t)c->num_layers * c->hidden_dim;
    float *at = g->saved + (size_t)pos * saved_floats(c);
    float *parts[3] = {g->state.h, g->state.c, g->state.logits};
    size_t sizes[3] = {lh, lh, (size_t)c->vocab_size};
    for (int k = 0; k < 3; k++) {
        if (save) memcpy(at, parts[k], sizes[k] * sizeof(float));
        else memcpy(parts[k], at, sizes[k] * sizeof(float));
        at += sizes[k];
    }
}

/* Takes the reply back to position pos, before the token (bad) that began a word outside
   the lists. While backoffs are left (GEN_BACKOFFS_AT at pos, GEN_BACKOFFS in the reply)
   bad is masked there and the word drawn again; then the word is spelled (drawn only from
   tokens that keep it in the lists) once; 0, changing nothing, when it was spelled
   already. Masks at later positions go: what follows pos will be drawn in another
   context. */
static int back_off(Generator *g, Reply *r, Backoff *bo, int pos, int bad) {
    int at_pos = 0, kept = 0;
    for (int i = 0; i < bo->n_bans; i++) at_pos += bo->bans[i].pos == pos;
    int ban = r->backoffs < GEN_BACKOFFS && at_pos < GEN_BACKOFFS_AT;
    if (!ban && bo->spelled_from == pos) return 0;
    for (int i = 0; i < bo->n_bans; i++)
        if (bo->bans[i].pos <= pos) bo->bans[kept++] = bo->bans[i];
    bo->n_bans = kept;
    if (ban) bo->bans[bo->n_bans++] = (Ban){pos, bad};
    else bo->spelled_from = pos;
    if (bo->kept_from >= pos) bo->kept_from = -1;
    bo->finish_at = pos;
    saved_state(g, pos, 0);
    r->n = pos;
    r->backoffs++;
    return 1;
}

/* Masks in logits every token that would take a word out of the lists after the reply
   so far, while the word begun at bo->spelled_from is being drawn (see back_off). */
static void spell(const Generator *g, const Reply *r, Backoff *bo, float *logits) {
    char w[WORD_BUF];
    size_t len;
    if (bo->spelled_from < 0) return;
    int start = open_word(g, r->tokens, r->n, w, &len);
    if (r->n != bo->spelled_from && start != bo->spelled_from) { /* that word is finished */
        bo->spelled_from = -1;
        return;
    }
    for (int v = 0; v < g->model->config.vocab_size; v++)
        if (logits[v] != -INFINITY && word_left_after(g, w, len, start, r->n, v) >= 0) logits[v] = -INFINITY;
}

/* ---- replies ---- */

/* The logits and settings the draw at the reply's next position uses: the model's, with
   the turn tokens, TOK_EOT before min_tokens, the tokens backed off from there and, when
   spelling, those that leave the lists masked, and those that would go on with a word
   finished before a backoff; the tokens that go on with a word are drawn at the word
   temperature. */
static void step_inputs(Generator *g, const SamplerConfig *cfg, const Reply *r, Backoff *bo, float *logits) {
    int V = g->model->config.vocab_size;
    memcpy(logits, g->state.logits, (size_t)V * sizeof(float));
    /* Tokens never to produce inside a reply: a new turn marker would break the format. */
    logits[TOK_USER] = logits[TOK_BOT] = -INFINITY;
    if (r->n < cfg->min_tokens) logits[TOK_EOT] = -INFINITY;
    for (int i = 0; i < bo->n_bans; i++)
        if (bo->bans[i].pos == r->n) logits[bo->bans[i].id] = -INFINITY;
    spell(g, r, bo, logits);
    g->sampler.within = NULL;
    if (r->n > 0) {
        const int32_t last = r->tokens[r->n - 1];
        if (!tokenizer_is_special(last) && word_byte(g->tok->bytes[last][g->tok->len[last] - 1]))
            g->sampler.within = g->goes_on;
    }
    /* After a backoff the word drawn again began with the token that finished the word
       before, which was checked and streamed: it stays finished. */
    if (g->sampler.within && r->n == bo->finish_at)
        for (int v = 0; v < V; v++)
            if (g->goes_on[v]) logits[v] = -INFINITY;
}

/* Hands on_token the tokens no backoff can take back any more: those before the word the
   reply ends in (all of them when done). */
static void stream(const Generator *g, const Reply *r, int checking, int done, int *streamed, TokenFn on_token,
                   void *ctx) {
    char w[WORD_BUF];
    size_t len;
    int upto = done || !checking ? r->n : open_word(g, r->tokens, r->n, w, &len);
    for (; *streamed < upto; (*streamed)++)
        if (on_token) on_token(ctx, r->tokens[*streamed]);
}

/* Drops the word the reply ends in when the lists do not hold it as it is: the reply
   stops there (a stop, the length limit), so it will not be finished. */
static void drop_unfinished_word(Generator *g, Reply *r) {
    char w[WORD_BUF];
    size_t len;
    int start = open_word(g, r->tokens, r->n, w, &len);
    if (start < r->n && !word_known(g, w, len)) {
        saved_state(g, start, 0);
        r->n = start;
    }
}

void gen_reply(Generator *g, const SamplerConfig *cfg, Rng *rng, const uint8_t *mask, int max_tokens,
               Reply *r, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop) {
    const Config *c = &g->model->config;
    int V = c->vocab_size, cap = max_tokens > 0 ? max_tokens : 0, streamed = 0;
    int checking = cfg->known_words && g->words;
    memset(r, 0, sizeof *r);
    r->tokens = xmalloc((size_t)(cap + 1) * sizeof(int32_t));
    r->logprobs = xmalloc((size_t)(cap + 1) * sizeof(float));
    r->policy_logprobs = xmalloc((size_t)(cap + 1) * sizeof(float));
    float *logits = xmalloc((size_t)V * sizeof(float));
    if (checking && g->saved_cap < cap + 1) {
        free(g->saved);
        g->saved_cap = cap + 1;
        g->saved = xmalloc((size_t)g->saved_cap * saved_floats(c) * sizeof(float));
    }
    Backoff bo = {.n_bans = 0, .spelled_from = -1, .kept_from = -1, .finish_at = -1};
    for (;;) {
        if (stop && *stop) {
            r->stopped = 1;
            break;
        }
        if (r->n >= cap) break;
        if (checking) saved_state(g, r->n, 1);
        step_inputs(g, cfg, r, &bo, logits);
        int recent = r->n < 64 ? r->n : 64;
        float prob;
        int id = sampler_sample(&g->sampler, cfg, logits, r->tokens + r->n - recent, recent, mask, rng_float(rng),
                                &prob);
        int at = checking ? word_left(g, r->tokens, r->n, id) : -1;
        if (at >= 0 && at != bo.kept_from) {
            if (back_off(g, r, &bo, at, at < r->n ? r->tokens[at] : id)) continue;
            bo.kept_from = at;
            r->unknown++;
        }
        r->logprobs[r->n] = logf(prob);
        r->policy_logprobs[r->n] = log_softmax_at(g->state.logits, V, id, g->sampler.probs);
        if (id == TOK_EOT) {
            r->ended = 1;
            break;
        }
        r->tokens[r->n++] = id;
        half_step(&g->half, &g->state, id);
        r->steps++;
        stream(g, r, checking, 0, &streamed, on_token, ctx);
    }
    if (!r->ended) { /* TOK_EOT was not drawn: what the sampler would have given it here */
        if (checking) drop_unfinished_word(g, r);
        step_inputs(g, cfg, r, &bo, logits);
        int recent = r->n < 64 ? r->n : 64;
        r->logprobs[r->n] =
            logf(sampler_prob(&g->sampler, cfg, logits, r->tokens + r->n - recent, recent, mask, TOK_EOT));
        r->policy_logprobs[r->n] = log_softmax_at(g->state.logits, V, TOK_EOT, g->sampler.probs);
    }
    stream(g, r, checking, 1, &streamed, on_token, ctx);
    int32_t eot = TOK_EOT;
    gen_feed(g, &eot, 1);
    r->steps++;
    free(logits);
}

void reply_free(Reply *r) {
    free(r->tokens);
    free(r->logprobs);
    free(r->policy_logprobs);
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
