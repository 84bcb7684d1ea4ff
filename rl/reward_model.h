/* reward_model: predicts the human term of the reward for a reply nobody rated, from the
   replies that were rated. The critic (learner.c) says how good a context is; this says how
   good a reply is, so candidates the user never saw can be scored and learned from.

   Kernel ridge regression with a linear kernel on a reply's features (episode.h: the base
   model's view of it, the tokens it holds, its length). The base is frozen, so a reply's
   features never change and old examples stay valid. With tens of examples in thousands
   of dimensions the dual form is the cheap one: an n x n system, n the examples kept (at
   most cap). Features are centred on the examples' mean. They come in blocks, each
   divided by its spread over the examples (its mean squared distance from their mean), so
   each block has the same say whatever its width or scale, and the fit uses the set of
   blocks that best predicts the examples left out one at a time; the ridge is relative to
   the kernel's mean diagonal, so it means the same at any width. */
#ifndef RLCHAT_REWARD_MODEL_H
#define RLCHAT_REWARD_MODEL_H

#include "model/checkpoint.h"

#define RM_MAX_BLOCKS 4

typedef struct {
    int dim;       /* D: features per reply */
    int cap;       /* examples the fit uses: the most recent */
    int slots;     /* examples held: cap + spare, so an undone example's predecessor is
                      still there after reward_model_pop */
    float ridge;   /* lambda = ridge * mean diagonal of the kernel */
    int n_blocks;  /* feature blocks (1 unless reward_model_set_blocks) */
    int block_end[RM_MAX_BLOCKS]; /* where each ends: block b is [block_end[b-1], block_end[b]) */
    int count;     /* examples held (<= slots) */
    int head;      /* ring slot of the next example */
    float *x;      /* (slots, D) features */
    float *y;      /* (slots) targets */
    /* the fit, redone after each change (reward_model_fit) */
    int fitted;    /* examples the fit below used */
    float *mean_x; /* (D) the examples' mean feature */
    double mean_y; /* their mean target */
    double *gram;  /* (RM_MAX_BLOCKS, slots, slots) each block's dot products x_i . x_j of
                      the slots held, the new example's made as it comes: a refit centres
                      them instead of going over the features again */
    float *w;      /* (D) primal weights: sum_i alpha_i (x_i - mean_x) over the spread of
                      each feature's block */
    float loo_r2;  /* how well it predicts an example it did not see: 1 - the squared
                      leave-one-out residuals over the targets' variance (ridge has them in
                      closed form, alpha_i / [(K + lambda I)^-1]_ii); at most 1, 0 with fewer
                      than 3 examples or targets that all agree; the best over the sets of
                      blocks tried, so a little optimistic */
    unsigned blocks_used; /* the blocks the fit uses, a bit each: the set with the best
                             leave-one-out R^2 */
    double *k;     /* (cap, cap) scratch: kernel, then its Cholesky factor L */
    double *kb;    /* (RM_MAX_BLOCKS, cap, cap) scratch: each block's kernel */
    double *linv;  /* (cap, cap) scratch: L^-1 */
    double *alpha; /* (cap) scratch */
} RewardModel;

void reward_model_build(RewardModel *m, int dim, int cap, int spare, float ridge);
void reward_model_free(RewardModel *m);
/* Splits the D features into n blocks (n <= RM_MAX_BLOCKS, ends ascending, the last D),
   and refits. */
void reward_model_set_blocks(RewardModel *m, int n, const int *ends);
/* Adds (x, y), dropping the oldest example when all slots are full, and refits. */
void reward_model_add(RewardModel *m, const float *x, float y);
/* Removes the most recent example (undo) and refits; -1 when there is none. */
int reward_model_pop(RewardModel *m);
void reward_model_clear(RewardModel *m);
/* The predicted target of x: the examples' mean when there are fewer than two. */
float reward_model_predict(const RewardModel *m, const float *x);
/* How far its guesses can be believed: loo_r2, 0 until it predicts better than the mean.
   The session weighs the candidates' pushes by it and shows the best of K once it is > 0. */
float reward_model_trust(const RewardModel *m);

/* Profile persistence: the examples as a checkpoint section (the fit is recomputed). */
void reward_model_save(const RewardModel *m, Buf *b);
/* A profile without the section (saved before there was one) loads as no examples;
   a malformed section is -1 with err_msg(), and m is left as it was. */
int reward_model_load(RewardModel *m, const CkptFile *f);

#endif
