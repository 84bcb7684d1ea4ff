/* sampler: picks the next token from logits. Temperature 0 means argmax; the random number
   is an argument, so a test (or a seeded run) is deterministic. */
#ifndef RLCHAT_SAMPLER_H
#define RLCHAT_SAMPLER_H

#include <stdint.h>

typedef struct {
    float temperature;        /* 0 = argmax; 1 = the model's own distribution */
    int top_k;                /* keep the k most likely tokens; 0 = all */
    float top_p;              /* keep the smallest set whose mass reaches p; 1 = all */
    float repetition_penalty; /* > 1 discourages tokens seen recently (CTRL-style); 1 = off */
    float min_p;              /* keep tokens at least min_p times as likely as the likeliest; 0 = off */
    int min_tokens;           /* gen_reply: no TOK_EOT before this many tokens (0 = off) */
    float word_temperature;   /* temperature among the tokens that go on with a word (Sampler.within);
                                 0 = temperature */
    int known_words;          /* gen_reply: resample words its word lists do not hold (1) or not (0) */
} SamplerConfig;

typedef struct {
    int vocab_size;    /* V */
    float *probs;      /* (V) scratch */
    int32_t *order;    /* (V) scratch: candidate ids, the kept ones first */
    float *key;        /* (V) scratch for the word temperature */
    const uint8_t *within; /* (V) or NULL: the tokens the next draw takes at word_temperature,
                          as a group that keeps the probability the temperature gives it */
} Sampler;

void sampler_build(Sampler *s, int vocab_size);
void sampler_free(Sampler *s);
/* Samples from logits (V; modified in place). recent (n_recent ids) get the repetition
   penalty; mask (V, may be NULL) marks ids never to sample. coin is uniform in [0, 1).
   *prob_out (may be NULL) gets the probability of the chosen id under the final
   (tempered, truncated) distribution. */
int sampler_sample(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent,
                   int n_recent, const uint8_t *mask, float coin, float *prob_out);
/* The probability sampler_sample would draw id with from the same arguments (0 when id
   is not a candidate); logits are modified in place as there. */
float sampler_prob(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent, int n_recent,
                   const uint8_t *mask, int id);
/* log softmax(logits)[id], untempered; scratch (V) is overwritten, logits are not. */
float log_softmax_at(const float *logits, int V, int id, float *scratch);

#endif
