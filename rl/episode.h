/* episode: a rated reply as the learner sees it, and the passes over it that a rating
   update is made of: its log-probabilities under the policy and the base model, its KL to
   the base, and the gradient of its share of the loss (learner.h gives the loss).

   The passes run on a PassScratch: the activations and scratch they need. An update's episodes
   run as one packed batch (pass_backward: each step has a row for each episode still
   running, none for padding), and the batch is split between the two cores: a reply is
   tens of tokens, and one product over all the update's rows packs the weights once,
   where one per episode packs them again each time. */
#ifndef RLCHAT_EPISODE_H
#define RLCHAT_EPISODE_H

#include <stdint.h>

#include "model/lstm.h"
#include "model/parallel.h"

#define MAX_EPISODE 256 /* T capacity of one pass: reply tokens + TOK_EOT */
#define MAX_BATCH 8     /* episodes in one batch */
#define BATCH_ROWS 512  /* rows of a batch, the sum of its T's (one MAX_EPISODE episode fits) */

/* One rated reply. */
typedef struct {
    float *ctx_h, *ctx_c;   /* (L, H) the policy's conversation state before TOK_BOT was fed */
    float *ref_h, *ref_c;   /* (L, H) the base model's state at the same point (for the KL) */
    int32_t *tokens;        /* (n) the reply; TOK_EOT is appended as the last action
                               unless the reply was cut */
    float *behaviour_lp;    /* (n + 1) log-probabilities of the distribution each token was
                               drawn from (Reply.logprobs: tempered, truncated, masked; TOK_EOT
                               included, -INFINITY where it was not drawn and could not have
                               been); NULL: taken as the policy's own at update time */
    float *policy_lp;       /* (n + 1) the policy's own untempered log-probabilities when it
                               was sampled (Reply.policy_logprobs); NULL: not known */
    int n;                  /* reply tokens, without TOK_EOT; at most MAX_EPISODE - 1 */
    int cut;                /* 1 if the policy did not end the reply itself (a stop, the
                               length limit, or episode_init's cap): its TOK_EOT is then not an
                               action, and the learner's passes stop after y_n
                               (episode_steps) */
    float *ref_logp;        /* (n + 1, V) the base model's log-probabilities along the reply,
                               computed once (pass_fill_ref) since the base never changes;
                               NULL until then */
    float *features;        /* (reply_feature_dim) the reward model's input, with ref_logp:
                               the base model's top-layer h along the reply (its mean, then
                               its last value), the tokens it holds, its length */
    float reward;           /* R, set when rated */
} Episode;

/* What one episode's pass measured: sums over its steps. */
typedef struct {
    float kl, entropy, logprob;
    float entropy_gap;        /* sum of max(0, H_ref,t - H_t): the floor's loss (0 without it) */
} EpisodeTerms;

/* The passes' activations and scratch: what they need besides the weights. */
typedef struct {
    Model *model;             /* the policy: where the gradients go */
    const Model *ref;         /* the frozen base model */
    Acts acts;                /* the policy's: up to BATCH_ROWS rows (B <= MAX_BATCH) */
    Acts ref_acts;            /* the base model's: B = 1, T = MAX_EPISODE */
    LstmState st, ref_st;     /* scratch states, B = MAX_BATCH and 1 */
    int32_t inputs[MAX_BATCH * MAX_EPISODE], targets[MAX_BATCH * MAX_EPISODE]; /* (B, T) row-major: a
                                 packed batch's B x T may exceed its rows */
    float *probs[TEAM_PARTS], *scratch[TEAM_PARTS]; /* (V) each, one per part of a team */
    EpisodeTerms steps[BATCH_ROWS]; /* pass_backward's per row, summed in step order */
} PassScratch;

/* How one episode's share of the loss is weighed. */
typedef struct {
    float advantage;          /* A */
    float beta, eta;          /* KL and entropy weights */
    int entropy_floor;        /* LearnerConfig.entropy_floor */
    int ppo;                  /* 1: the policy term is PPO's clipped ratio against
                                 e->behaviour_lp (where finite); 0: REINFORCE's A */
    float ppo_eps;            /* the ratio's clip */
} EpisodeWeights;

/* One episode of a batch: its weights in the loss, and what its pass measured. */
typedef struct {
    const Episode *e;
    EpisodeWeights w;
    EpisodeTerms terms;
} EpisodeJob;

/* Episodes: built from a context state and a reply; the learner copies what it keeps. */
#define REPLY_FEATURE_BLOCKS 3
int reply_feature_dim(const Config *c); /* 2H + V + 1 */
/* Where each block of the features ends (ends: REPLY_FEATURE_BLOCKS ints): the base
   model's state, the tokens held, the length. Returns REPLY_FEATURE_BLOCKS. */
int reply_feature_blocks(const Config *c, int *ends);
void episode_init(Episode *e, const Config *c, const StepState *policy_ctx, const StepState *ref_ctx,
                  const int32_t *tokens, const float *behaviour_lp, const float *policy_lp, int n);
void episode_free(Episode *e);
void episode_copy(Episode *dst, const Episode *src, const Config *c);
/* The steps the learner trains on: the reply's tokens, and TOK_EOT when the policy chose
   it (n + 1, or n when cut). */
int episode_steps(const Episode *e);

void pass_build(PassScratch *ln, Model *policy, const Model *ref);
void pass_free(PassScratch *ln);

/* The base model's log-probabilities along e, (n + 1, V): e's cache, or this scratch's
   scratch, valid until its next pass. */
const float *pass_ref_logprobs(PassScratch *ln, const Episode *e);
/* Fills e->ref_logp and e->features with one pass of the base model, if not there yet. */
void pass_fill_ref(PassScratch *ln, Episode *e);
/* Sum of log pi(y_t | context) over the episode's steps under the policy; its mean KL to
   the base per step in *mean_kl when not NULL (0 and 0 with no steps). */
float pass_logprob(PassScratch *ln, const Episode *e, float *mean_kl);
/* Mean log-probability per token of reply + TOK_EOT under the base model (the closing
   TOK_EOT counts even for a cut reply: this judges the text, it trains nothing). */
float pass_ref_logprob(PassScratch *ln, const Episode *e);
/* Sum of log pi_base(y_t) over the episode's steps, to set beside pass_logprob's. */
float pass_ref_logprob_sum(PassScratch *ln, const Episode *e);
/* Backpropagates the jobs' shares of the loss, ADDING into the policy's gradient block,
   and sets each job's terms. They run as one packed batch, longest first (episode_steps
   never more than the job's before, and at least 1): at most MAX_BATCH, with at most
   BATCH_ROWS rows, the sum of their steps (pass_batch_fits); each job whose weights need
   the base model's log-probabilities must have them cached (pass_fill_ref). Written as part `part` of `parts` (parallel.h): alone, (0, 1); in a
   team, each part calls it with the same arguments and does its share of the rows and
   of the LSTM's passes (lstm_forward_part). The terms are summed in step order either
   way. */
void pass_backward(PassScratch *ln, EpisodeJob *const *jobs, int n, int part, int parts);
int pass_batch_fits(int episodes, int rows);
/* Whether w needs the base model's log-probabilities. */
int weights_need_ref(const EpisodeWeights *w);
/* That loss at the current weights, in double and without the PPO ratio (for tests). */
double pass_loss(PassScratch *ln, const Episode *e, const EpisodeWeights *w);

#endif
