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
    int min_tokens;           /* gen_reply: no TOK_EOT before this many tokens (0 = off) */
} SamplerConfig;

typedef struct {
    int vocab_size;    /* V */
    float *probs;      /* (V) scratch */
    int32_t *order;    /* (V) scratch: candidate ids, the kept ones first */
} Sampler;

void sampler_build(Sampler *s, int vocab_size);
void sampler_free(Sampler *s);
/* Samples from logits (V; modified in place). recent (n_recent ids) get the repetition
   penalty; mask (V, may be NULL) marks ids never to sample. coin is uniform in [0, 1).
   *prob_out (may be NULL) gets the probability of the chosen id under the final
   (tempered, truncated) distribution. */
int sampler_sample(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent,
                   int n_recent, const uint8_t *mask, float coin, float *prob_out);
/* log softmax(logits)[id], untempered; scratch (V) is overwritten, logits are not. */
float log_softmax_at(const float *logits, int V, int id, float *scratch);

#endif
