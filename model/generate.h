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
#include "lexicon.h"
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
    const Lexicon *words;   /* not owned: the words a reply may use besides the user's (with
                               prefixes); NULL: any word */
    Lexicon said;           /* the words of the user's messages since gen_reset, with prefixes */
    float *saved;           /* (saved_cap, 2 L H + V) the state before each reply position:
                               h, c, logits, so that a word can be taken back exactly */
    int saved_cap;          /* positions saved has room for */
    uint8_t *goes_on;       /* (V) 1 for the tokens that begin with a word byte: after one,
                               they go on with the word */
} Generator;

/* Called with each sampled token as it is produced (for streaming). */
typedef void (*TokenFn)(void *ctx, int token);

/* A sampled reply. Its log-probabilities are those of the distribution each token was
   actually drawn from: the behaviour policy of an importance ratio. */
typedef struct {
    int32_t *tokens;   /* (n) the reply, without the final TOK_EOT */
    float *logprobs;   /* (n + 1) log of the probability the sampler drew each token with:
                          the model's logits after the repetition penalty, the masks (turn
                          tokens, the caller's mask, TOK_EOT before min_tokens, the first
                          tokens of words backed off from at that position), the
                          temperature, min-p, top-k and top-p, renormalised; then TOK_EOT's
                          under the same processing where the reply ended: drawn when
                          ended, otherwise what the sampler would have given it where the
                          reply was cut or stopped (-INFINITY when it was not a candidate) */
    float *policy_logprobs; /* (n + 1) log softmax of the model's own logits at each token
                          and at the closing TOK_EOT, untempered and unmasked: what the
                          policy itself says of the reply */
    int n;             /* tokens in the reply */
    int ended;         /* 1 if the model itself ended the reply with TOK_EOT */
    int stopped;       /* 1 if *stop interrupted it */
    int backoffs;      /* words taken back because the word lists do not hold them */
    int unknown;       /* words kept although the lists do not hold them (nothing else was left) */
    int steps;         /* model steps the reply took, taken-back tokens and TOK_EOT included */
} Reply;

/* Chat sampling defaults (chosen by measuring replies: see README) and reply length cap. */
#define CHAT_MAX_TOKENS 60
SamplerConfig chat_sampler_defaults(void);

void gen_build(Generator *g, const Model *m, const Tokenizer *t);
void gen_free(Generator *g);
void gen_reset(Generator *g);                       /* a new conversation */
/* The word list replies are held to (not owned; NULL: none), built with prefixes. */
void gen_set_words(Generator *g, const Lexicon *words);
/* Adds the words of a user's message to those a reply may use (gen_feed_user does it). */
void gen_hear(Generator *g, const char *text, size_t len);
/* Feeds a user turn (any bytes). */
void gen_feed_user(Generator *g, const char *text, size_t len);
/* Feeds tokens as they are, e.g. a reply chosen elsewhere followed by TOK_EOT. */
void gen_feed(Generator *g, const int32_t *tokens, int n);
/* Samples a reply of at most max_tokens into r (reply_free releases it); mask (V, may be
   NULL) marks ids never to sample; stop (may be NULL) is polled between tokens. The
   reply and its TOK_EOT are fed into the state.
   With cfg->known_words and a word list, a word that leaves the list and the words heard
   (a token makes it no prefix of theirs, or finishes it unknown) is taken back: the state
   returns, bit for bit, to before the token that began it, and that token is masked
   there before the word is drawn again. When GEN_BACKOFFS_AT backoffs at the position
   (or GEN_BACKOFFS in the reply) are spent, the word is spelled: drawn again only from
   tokens that keep it in the lists. A word is kept unknown only when no such token is
   left. on_token sees only tokens no backoff can take back: a word's tokens once it is
   finished. A stop or the length limit drops an unfinished word the lists do not hold. */
#define GEN_BACKOFFS_AT 8
#define GEN_BACKOFFS 32
void gen_reply(Generator *g, const SamplerConfig *cfg, Rng *rng, const uint8_t *mask, int max_tokens,
               Reply *r, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop);
void reply_free(Reply *r);
/* The reply's text (caller frees), NUL-terminated; raw model bytes, not yet screen-safe. */
char *reply_text(const Tokenizer *t, const Reply *r);

#endif
