/* learner: one policy-gradient update per rated reply.

   loss = -A * sum_t log pi(y_t) + beta * sum_t KL(pi(.|s_t) || pi_ref(.|s_t)) - eta * sum_t H(pi(.|s_t))

   A = R - baseline: none (reinforce), a running mean (baseline), or the running mean plus
   a value head on the LSTM state (actor-critic, full). beta adapts toward a KL target.
   "full" adds replay: self-imitation of a past reply that beat the critic's expectation by
   more than imitate_above, and a recent rated reply with a PPO-clipped importance ratio
   against the stored behaviour log-probabilities; and, when given, unrated candidates from
   the same context whose reward a reward model guessed (leave-one-out advantages). A
   preference between two replies is a DPO update. A rating or a preference can be undone
   bit for bit, with the safety penalties after it; a non-finite update rolls back to the
   last good weights. An update's episodes (the rated reply, candidates, replays) are
   backpropagated as one packed batch whose work is split between the cores by the learner
   itself, so building a learner holds OpenBLAS to one thread from then on
   (parallel_blas_serial).
   Between updates the policy's gradient block is all zero (each Adam step clears it). */
#ifndef RLCHAT_LEARNER_H
#define RLCHAT_LEARNER_H

#include <stdint.h>

#include "model/adam.h"
#include "model/checkpoint.h"
#include "model/lstm.h"
#include "rl/episode.h"

typedef enum { ALGO_REINFORCE, ALGO_BASELINE, ALGO_ACTOR_CRITIC, ALGO_FULL } Algo;

typedef struct {
    Algo algo;          /* which parts are on (see above) */
    float lr;           /* Adam step size of a rating update */
    float clip;         /* global gradient-norm clip */
    float kl_beta;      /* initial KL weight beta */
    float kl_target;    /* per-token KL that beta adapts toward */
    float entropy;      /* entropy bonus eta */
    int entropy_floor;  /* 1: the bonus acts only where the policy's entropy fell below the
                           base model's at the same step (learner.c, entropy_weight) */
    int replay;         /* past episodes replayed with each update (full only) */
    int self_imitation; /* ... of which this many imitate a reply that beat the critic */
    float imitate_above; /* ... by more than this (R - V; the rating is standardised) */
    int replay_tokens;  /* ... while the update's tokens, the rated reply's included, stay
                           within this: it bounds the update's time on long replies */
    float ppo_eps;      /* importance-ratio clip of replayed episodes */
    float dpo_beta;     /* temperature of the preference (DPO) loss */
    float critic_lr;    /* step size of the value head */
    int candidates;     /* replies the user did not see, sampled from the rated reply's context
                           and scored by the reward model, learned from with each rating (full
                           only; session.c samples them) */
    float candidate_weight; /* their advantages' scale, against the rated reply's 1 */
    int undo_depth;     /* ratings and preferences that can be undone */
} LearnerConfig;

typedef struct {
    float loss;         /* the surrogate loss of the update */
    float advantage;    /* A = R - baseline; for a preference, DPO's push on the chosen
                           reply, b sigmoid(-z) (learner_prefer) */
    float baseline;     /* the baseline used */
    float kl;           /* mean per-token KL to the reference on this reply, measured on
                           the way, before the step (session_reply_logprob gives it after) */
    float entropy;      /* mean per-token entropy */
    float logprob_before; /* sum log pi(reply) before the update */
    float grad_norm;    /* before clipping */
    float beta;         /* KL weight after adaptation */
    double ms;          /* wall time of the whole update */
    int rolled_back;    /* 1 if non-finite values forced a rollback */
    int replayed;       /* past episodes replayed in this update */
    int candidates;     /* unrated candidates learned from in this update */
} UpdateStats;

/* Checksums of the learner's state part by part: what an undo must restore. */
typedef struct {
    uint32_t weights;   /* the policy's parameters */
    uint32_t optimizer; /* Adam's v, steps and refused steps */
    uint32_t critic;    /* the value head, the running baseline, beta, the update count */
    uint32_t rng;       /* the generator that picks replays */
    uint32_t replay;    /* the replay buffer: each episode's tokens, reward, contexts and
                           cached log-probabilities, newest first */
    int undoable;       /* learner_undo_available */
} LearnerDigest;

typedef struct Learner Learner;

LearnerConfig learner_default_config(void);
const char *algo_name(Algo a);
int algo_from_name(const char *name, Algo *out); /* -1 on an unknown name */

/* The learner updates policy in place (it does not own it); reference is the frozen base. */
Learner *learner_new(Model *policy, const Model *reference, const LearnerConfig *cfg);
void learner_free(Learner *l);
LearnerConfig *learner_config(Learner *l);

/* Computes e->ref_logp if it is not there yet (one forward pass of the base model). */
void learner_fill_ref(Learner *l, Episode *e);

/* The fraction of the reply's token bigrams found in the last `recent` rated replies. */
float learner_recent_overlap(const Learner *l, const int32_t *tokens, int n, int recent);
/* The critic's estimate for a context: the running mean of rewards plus the value head. */
float learner_value(Learner *l, const float *ctx_h);
/* Sum of log pi(y_t | context) over the episode's steps (episode_steps: the reply, and
   TOK_EOT unless it was cut) under the policy, and its mean KL to the base. */
float learner_logprob(Learner *l, const Episode *e, float *mean_kl);
/* Mean log-probability per token under the reference model (the fluency reward's input). */
float learner_ref_logprob(Learner *l, const Episode *e);
/* ... and its sum over the episode's steps, to set beside learner_logprob's (DPO's and the
   session's log-ratios to the base). */
float learner_ref_logprob_sum(Learner *l, const Episode *e);
/* The mean over e's steps of log pi(y_t) - log pi_base(y_t), log pi from logp (n + 1, the
   policy's per step, e.g. when it sampled e): how far the policy has moved toward e per
   step, which does not grow with e's length. 0 when e has no steps. */
float learner_mean_log_ratio(Learner *l, const Episode *e, const float *logp);
/* One update for a rated episode (e->reward set). Keeps it for replay. 0, or -1 if rolled back. */
int learner_update(Learner *l, const Episode *e, UpdateStats *st);
/* The same, with k unrated candidates from the same context whose reward was predicted
   (cands[i].reward set, ref filled): each is pushed by trust * candidate_weight * (its
   reward minus the mean of the rest of the group, the rated reply included), leave-one-out.
   trust in [0, 1]: how far the predictions can be believed. */
int learner_update_group(Learner *l, const Episode *e, const Episode *cands, int k, float trust, UpdateStats *st);
/* A safety penalty: e->reward (negative) used as the advantage itself, with no baseline;
   the episode is neither replayed nor shown to the critic. It takes no place in undo's
   reach: only undoing the rating or preference before it undoes it. */
int learner_penalise(Learner *l, const Episode *e, UpdateStats *st);
/* A DPO update: chosen preferred over rejected (same context). */
int learner_prefer(Learner *l, const Episode *chosen, const Episode *rejected, UpdateStats *st);
/* The user's own version of a reply (written) preferred over the reply shown: the same
   preference step plus the written reply's likelihood. Undone like a preference. */
int learner_teach(Learner *l, const Episode *written, const Episode *shown, UpdateStats *st);
/* Reverts the last rating or preference update, and the penalties after it, bit for bit:
   the weights, the optimizer, the critic, the random generator and the replay buffer return
   to what they were before it. -1 when there is nothing to undo (undo_depth back). */
int learner_undo(Learner *l);
int learner_undo_available(const Learner *l); /* ratings and preferences undo can reach */

/* Checksums of what an undo must restore (tests). */
void learner_digest(const Learner *l, LearnerDigest *d);
/* Updates taken so far (undone ones excluded). */
int64_t learner_updates(const Learner *l);

/* For tests and diagnostics: the loss of one episode at the current weights,
   -advantage * sum log pi + beta * sum KL - eta * sum H (with the entropy floor,
   + eta * sum max(0, H_ref - H)), and its gradient, ADDED into
   the policy's gradient block. */
double learner_episode_loss(Learner *l, const Episode *e, float advantage, float beta, float eta);
void learner_episode_gradient(Learner *l, const Episode *e, float advantage, float beta, float eta);
/* The same for n episodes with their advantages, made as an update makes it: as packed
   batches, split between the cores. */
void learner_batch_gradient(Learner *l, const Episode *const *es, const float *advantages, int n, float beta,
                            float eta);

/* Profile persistence: optimizer, beta, baseline and value head as checkpoint sections. */
void learner_save(const Learner *l, Buf *b);
int learner_load(Learner *l, const CkptFile *f); /* -1 with err_msg() on a mismatch */

#endif
