/* simulate: what `rlchat simulate`'s runs (app/sim/simulate.c) and its ceiling
   (app/sim/ceiling.c) share: the prompts, the options, and the replies to the
   held-out prompts. */
#ifndef RLCHAT_SIMULATE_H
#define RLCHAT_SIMULATE_H

#include "app/sim/rater.h"
#include "rl/session.h"

#define MAX_PROMPTS 512

typedef struct {
    char *lines[MAX_PROMPTS];  /* all prompts */
    int n_train, n_heldout;    /* lines[0..n_train) rate, then held-out */
} Prompts;

typedef struct {
    const char *model, *prompts, *valid, *assets, *algo;
    int ratings, seeds, first_seed, eval_every, samples, valid_bytes, no_safety, verbose, ceiling;
    SessionConfig cfg;  /* every run's settings: the defaults with --set applied (the
                           algorithm is each run's own) */
} SimArgs;

/* The on-topic rate a rater whose base rate is p0 counts as learned: min(0.8, p0 + 0.4)
   (docs/learning.md, "How learning is measured"). */
static inline float simulate_target(float p0) { return p0 + 0.4f < 0.8f ? p0 + 0.4f : 0.8f; }

/* Samples `samples` replies to every held-out prompt (a fresh conversation each) without
   learning, into replies (prompt by prompt, "" when blocked; caller frees) and, when given,
   blocked and the reward model's features of each (reply_feature_dim floats; left as they
   are when blocked). Returns how many the rater prefers (0 without one). */
int heldout_replies(Session *s, const Prompts *p, const Rater *r, int samples, char **replies,
                    unsigned char *blocked, float *features);

/* --ceiling: samples a->ceiling base replies to each held-out prompt and prints, for each
   rater, how varied the base tilted to the target rate stays and how well the reward model
   chooses after a few ratings. 0, or 1 with err_msg() printed. */
int simulate_ceiling(const SimArgs *a, const Prompts *p, const Rater *raters, int n_raters);

#endif
