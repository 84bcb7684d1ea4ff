/* reward: R = w_h*human + w_f*fluency + w_r*relevance + w_i*informativeness + w_s*safety,
   every term clipped to [-1, 1]. The human term dominates by default; the automatic terms
   keep the model fluent, on topic, informative and safe between ratings. */
#ifndef RLCHAT_REWARD_H
#define RLCHAT_REWARD_H

#include <stdint.h>

#include "model/lstm.h"
#include "model/tokenizer.h"

typedef struct {
    float human;            /* the rating, standardised per profile */
    float fluency;          /* mean log-probability under the frozen base model, normalised */
    float relevance;        /* cosine of mean base embeddings of the message and the reply */
    float informativeness;  /* penalises empty, generic, repetitive or overlong replies, and
                               ones that repeat the last replies */
    float safety;           /* -1 when the filter blocked the reply, else 0 */
    float total;            /* the weighted sum */
} RewardTerms;

typedef struct {
    float human, fluency, relevance, informativeness, safety; /* weights of the terms */
} RewardWeights;

/* Running mean and variance (Welford), seeded with a prior so the first ratings are not
   standardised to nothing. */
typedef struct {
    double n;     /* observations, prior included */
    double mean;  /* running mean */
    double m2;    /* sum of squared deviations */
} RunningStat;

RewardWeights reward_default_weights(void); /* human 1, fluency 0.1, relevance 0.1, informativeness 0.3, safety 1 */
void running_stat_init(RunningStat *s);     /* prior: 4 observations, mean 0, variance 1 */
void running_stat_add(RunningStat *s, double x);
double running_stat_std(const RunningStat *s);

/* A rating key as a raw human score in [-1, 1]: good +1, bad -1, stars 1..5 -> -1..1. */
float human_from_stars(int stars);
/* A raw human score standardised against the profile's statistics, clipped to [-1, 1]. */
float human_z(const RunningStat *s, float raw);
/* The same, then adds the score to the statistics. */
float human_standardised(RunningStat *s, float raw);
/* Fluency from the reply's mean log-probability per token under the base model. */
float fluency_from_logprob(float mean_logprob);
/* Relevance: cosine of the mean base-model embeddings of the two token lists. */
float relevance_score(const Model *base, const int32_t *message, int n_message, const int32_t *reply, int n_reply);
/* Informativeness of a reply (tokens and text): empty -1; repeated n-grams, generic stock
   replies, lengths far from typical and repeating earlier replies lower it. repeated: the
   fraction of its token bigrams that recent replies already hold (learner_recent_overlap). */
float informativeness_score(const int32_t *reply, int n, const char *text, float repeated);
/* Clips every term and fills terms->total. */
void reward_combine(RewardTerms *terms, const RewardWeights *w);

#endif
