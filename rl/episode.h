/* episode: a rated reply as the learner sees it, and the passes over it that a rating
   update is made of: its log-probabilities under the policy and the base model, its KL to
   the base, and the gradient of its share of the loss (learner.h gives the loss).

   The passes run on a lane: the activations and scratch they need. An update runs its
   episodes on two lanes at once, one whole on each core (learner.c). The first lane adds
   its gradients into the policy's own block; the second into a block of its own (a view
   of the policy, sharing its weights), which the learner folds into the policy's. An
   episode can also be split between the cores (lane_backward's parts), on the first lane:
   so an update of one episode, or an odd one out, still has both. */
#ifndef RLCHAT_EPISODE_H
#define RLCHAT_EPISODE_H

#include <stdint.h>

#include "model/lstm.h"
#include "model/parallel.h"

#define MAX_EPISODE 256 /* T capacity of one pass: reply tokens + TOK_EOT */

/* One rated reply. */
typedef struct {
    float *ctx_h, *ctx_c;   /* (L, H) the policy's conversation state before TOK_BOT was fed */
    float *ref_h, *ref_c;   /* (L, H) the base model's state at the same point (for the KL) */
    int32_t *tokens;        /* (n) the reply; TOK_EOT is appended as the last action */
    float *behaviour_lp;    /* (n + 1) log-probabilities when sampled (TOK_EOT included);
                               NULL: taken as the policy's own at update time */
    int n;                  /* reply tokens, without TOK_EOT; at most MAX_EPISODE - 1 */
    float *ref_logp;        /* (n + 1, V) the base model's log-probabilities along the reply,
                               computed once (lane_fill_ref) since the base never changes;
                               NULL until then */
    float *features;        /* (reply_feature_dim) the reward model's input, with ref_logp:
                               the base model's top-layer h along the reply (its mean, then
                               its last value) */
    float reward;           /* R, set when rated */
} Episode;

/* What one episode's pass measured: sums over its steps. */
typedef struct {
    float kl, entropy, logprob;
    float entropy_gap;        /* sum of max(0, H_ref,t - H_t): the floor's loss (0 without it) */
} EpisodeTerms;

/* The passes' activations and scratch: what they need besides the weights. */
typedef struct {
    Model *model;             /* the policy, or view: where the gradients go */
    Model view;               /* a second lane's: the policy's weights, its own gradient block */
    const Model *ref;         /* the frozen base model */
    Acts acts, ref_acts;      /* B = 1, T = MAX_EPISODE */
    LstmState st, ref_st;     /* scratch states */
    int32_t in[MAX_EPISODE], tg[MAX_EPISODE];
    float *probs[TEAM_PARTS], *scratch[TEAM_PARTS]; /* (V) each, one per part of a team */
    EpisodeTerms steps[MAX_EPISODE]; /* lane_backward's per step, summed in step order */
    int used;                 /* ran a pass in this update (a view's block needs folding in) */
} Lane;

/* How one episode's share of the loss is weighed. */
typedef struct {
    float advantage;          /* A */
    float beta, eta;          /* KL and entropy weights */
    int entropy_floor;        /* LearnerConfig.entropy_floor */
    int ppo;                  /* 1: the policy term is PPO's clipped ratio against
                                 e->behaviour_lp (when there); 0: REINFORCE's A */
    float ppo_eps;            /* the ratio's clip */
} EpisodeWeights;

/* Episodes: built from a context state and a reply; the learner copies what it keeps. */
int reply_feature_dim(const Config *c); /* 2H */
void episode_init(Episode *e, const Config *c, const StepState *policy_ctx, const StepState *ref_ctx,
                  const int32_t *tokens, const float *behaviour_lp, int n);
void episode_free(Episode *e);
void episode_copy(Episode *dst, const Episode *src, const Config *c);

/* own_gradient 0: the lane adds into the policy's gradient block; 1: into a view's. */
void lane_build(Lane *ln, Model *policy, const Model *ref, int own_gradient);
void lane_free(Lane *ln);

/* The base model's log-probabilities along e, (n + 1, V): e's cache, or this lane's
   scratch, valid until its next pass. */
const float *lane_ref_logprobs(Lane *ln, const Episode *e);
/* Fills e->ref_logp and e->features with one pass of the base model, if not there yet. */
void lane_fill_ref(Lane *ln, Episode *e);
/* Sum of log pi(reply + TOK_EOT | context) under the policy; its mean KL to the base per
   token in *mean_kl when not NULL. */
float lane_logprob(Lane *ln, const Episode *e, float *mean_kl);
/* Mean log-probability per token under the base model. */
float lane_ref_logprob(Lane *ln, const Episode *e);
/* Backpropagates e's share of the loss, ADDING into the lane's gradient block. Written
   as part `part` of `parts` (parallel.h): alone, (0, 1); in a team, each part calls it
   with the same arguments and does its share of the steps' rows and of the LSTM's passes
   (lstm_forward_part). The result does not depend on which: the sums over steps are
   made in step order either way. Every part returns the same terms. */
EpisodeTerms lane_backward(Lane *ln, const Episode *e, const EpisodeWeights *w, int part, int parts);
/* That loss at the current weights, in double and without the PPO ratio (for tests). */
double lane_loss(Lane *ln, const Episode *e, const EpisodeWeights *w);

#endif
