/* generate: the chat format on top of the step forward (halfstep.h: the half-precision
   copy of the weights follows the model's version). A user message is fed as
   TOK_USER text TOK_EOT TOK_BOT; a reply is sampled token by token until TOK_EOT (or a
   length limit, after which TOK_EOT is fed anyway), so the LSTM state carries the whole
   conversation from turn to turn. */
#ifndef RLCHAT_GENERATE_H
#define RLCHAT_GENERATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "halfstep.h"
#include "lstm.h"
#include "sampler.h"
#include "tokenizer.h"
#include "util.h"

typedef struct {
    const Model *model;     /* not owned */
    const Tokenizer *tok;   /* not owned */
    StepState state;        /* the conversation so far */
    Sampler sampler;        /* scratch for sampling */
    HalfModel half;         /* the model's weights in half precision, for the steps */
} Generator;

/* Called with each sampled token as it is produced (for streaming). */
typedef void (*TokenFn)(void *ctx, int token);

typedef struct {
    int32_t *tokens;   /* (n) the reply, without the final TOK_EOT */
    float *logprobs;   /* (n + 1) log-probability of each token, then of the closing
                          TOK_EOT, under the model's untempered distribution at the time
                          (the behaviour policy of importance ratios) */
    int n;             /* tokens in the reply */
    int ended;         /* 1 if the model itself ended the reply with TOK_EOT */
    int stopped;       /* 1 if *stop interrupted it */
} Reply;

/* Chat sampling defaults (chosen by measuring replies: see README) and reply length cap. */
#define CHAT_MAX_TOKENS 60
SamplerConfig chat_sampler_defaults(void);

void gen_build(Generator *g, const Model *m, const Tokenizer *t);
void gen_free(Generator *g);
void gen_reset(Generator *g);                       /* a new conversation */
/* Feeds a user turn (any bytes). */
void gen_feed_user(Generator *g, const char *text, size_t len);
/* Feeds tokens as they are, e.g. a reply chosen elsewhere followed by TOK_EOT. */
void gen_feed(Generator *g, const int32_t *tokens, int n);
/* Samples a reply of at most max_tokens into r (reply_free releases it); mask (V, may be
   NULL) marks ids never to sample; stop (may be NULL) is polled between tokens. The
   reply and its TOK_EOT are fed into the state. */
void gen_reply(Generator *g, const SamplerConfig *cfg, Rng *rng, const uint8_t *mask, int max_tokens,
               Reply *r, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop);
void reply_free(Reply *r);
/* The reply's text (caller frees), NUL-terminated; raw model bytes, not yet screen-safe. */
char *reply_text(const Tokenizer *t, const Reply *r);

#endif
