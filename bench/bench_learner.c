/* bench_learner: the time of one rating update of the full learner (reward-weighted
   policy gradient, exact KL against the base, entropy, replay, Adam, undo snapshot; the
   base model's pass over the reply is made before, as the session makes it when the
   reply is sampled) on 40-token replies, and on 30- and 60-token ones (an update's
   episodes: one, two or three, as its 96-token budget lets replay in), on replies of 60
   and 15 tokens in turn (a long reply batched with short ones, as `simulate`'s topic
   rater makes them), and of one with two scored candidates (`/set candidates 2`) on
   20-token replies; and the reward model's refit, which a rating adds to its update:
   `bench_learner MODEL_FILE` on that model, or `bench_learner E H L V [TIED]` on a random one
   of that shape; printed as `name value unit` lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"
#include "model/checkpoint.h"
#include "model/lstm.h"
#include "rl/learner.h"
#include "rl/reward_model.h"
#include "rl/session.h"

/* An episode of n random tokens (above the byte range) from ctx, with reward R. */
static void random_episode(Episode *e, const Config *c, const StepState *ctx, Rng *r, int n, float reward) {
    int32_t reply[64];
    for (int i = 0; i < n; i++) reply[i] = 300 + (int32_t)(rng_u32(r) % (uint32_t)(c->vocab_size - 300));
    episode_init(e, c, ctx, ctx, reply, NULL, NULL, n);
    e->reward = reward;
}

enum { REPS = 40 };

/* The default learner on policy, its weights reset to base's. */
static Learner *fresh_learner(Model *policy, const Model *base) {
    memcpy(policy->param_block, base->param_block, base->num_params * sizeof(float));
    LearnerConfig lc = learner_default_config();
    return learner_new(policy, base, &lc);
}

/* ms[REPS]: the times of REPS rating updates of replies of n and n_odd tokens in turn,
   rewards alternating, by a learner new on a policy reset to the base (so replay draws on
   replies of those lengths). Returns the mean number of episodes an update backpropagated
   (the rated one + replay). */
static double time_updates(Model *policy, const Model *base, const StepState *ctx, Rng *r, int n, int n_odd,
                           double *ms) {
    double episodes = 0;
    Learner *l = fresh_learner(policy, base);
    for (int k = 0; k < REPS; k++) {
        Episode e;
        random_episode(&e, &policy->config, ctx, r, k % 2 ? n_odd : n, k % 2 ? 1.0f : -1.0f);
        learner_fill_ref(l, &e); /* the session does it when the reply is sampled */
        UpdateStats st;
        learner_update(l, &e, &st);
        ms[k] = st.ms;
        episodes += (1.0 + st.replayed) / REPS;
        episode_free(&e);
    }
    learner_free(l);
    return episodes;
}

/* The reward model's refit after a rating (reward_model_add, its examples held), on the features of
   20-token replies: the session's own model (session_build_reward_model: the three
   blocks), and beside it one as large on the base model's state alone, the features before
   the tokens and the length were added. */
static void time_reward_model(Learner *l, const Config *c, const StepState *ctx, Rng *r) {
    int held = SESSION_RM_EXAMPLES, n = held + REPS, dim = reply_feature_dim(c), ends[REPLY_FEATURE_BLOCKS];
    reply_feature_blocks(c, ends);
    float *x = xmalloc((size_t)n * dim * sizeof(float));
    for (int i = 0; i < n; i++) {
        Episode e;
        random_episode(&e, c, ctx, r, 20, 0);
        learner_fill_ref(l, &e);
        memcpy(x + (size_t)i * dim, e.features, (size_t)dim * sizeof(float));
        episode_free(&e);
    }
    for (int k = 0; k < 2; k++) {
        RewardModel m;
        if (k) reward_model_build(&m, ends[0], held, 0, SESSION_RM_RIDGE); /* the state comes first */
        else session_build_reward_model(&m, c, 0);
        double ms[REPS];
        for (int i = 0; i < n; i++) {
            double t0 = now_seconds();
            reward_model_add(&m, x + (size_t)i * dim, i % 3 ? 1.0f : -1.0f);
            if (i >= held) ms[i - held] = (now_seconds() - t0) * 1e3;
        }
        const char *name = k ? "reward_model_fit_state_only" : "reward_model_fit";
        printf("%s_ms_median %.2f ms\n%s_ms_p95 %.2f ms\n", name, bench_quantile(ms, REPS, 0.5), name,
               bench_quantile(ms, REPS, 0.95));
        reward_model_free(&m);
    }
    free(x);
}

int main(int argc, char **argv) {
    Config c = bench_shape();
    if (argc >= 5) c = (Config){.embed_dim = atoi(argv[1]), .hidden_dim = atoi(argv[2]), .num_layers = atoi(argv[3]),
                                .vocab_size = atoi(argv[4]), .tied = argc > 5 && atoi(argv[5])};
    Model base, policy;
    Tokenizer tok = {0};
    if (argc == 2) {
        if (model_load(argv[1], &base, &tok) != 0) {
            fprintf(stderr, "bench_learner: %s\n", err_msg());
            return 1;
        }
        c = base.config;
    } else {
        model_build(&base, c);
        model_init_weights(&base, 1);
    }
    if (model_build(&policy, c) != 0) {
        fprintf(stderr, "bench_learner: %s\n", err_msg());
        return 1;
    }
    StepState ctx;
    step_build(&ctx, &c);
    Rng r;
    rng_seed(&r, 3);
    static const struct {
        int tokens, tokens_odd;
        const char *name;
    } runs[] = {{40, 40, "learner_update"},
                {30, 30, "learner_update_30_tokens"},
                {60, 60, "learner_update_60_tokens"},
                {60, 15, "learner_update_60_15_tokens"}};
    for (int i = 0; i < 4; i++) {
        double ms[REPS], episodes = time_updates(&policy, &base, &ctx, &r, runs[i].tokens, runs[i].tokens_odd, ms);
        printf("%s_ms_median %.1f ms\n", runs[i].name, bench_quantile(ms, REPS, 0.5));
        printf("%s_ms_p95 %.1f ms\n", runs[i].name, bench_quantile(ms, REPS, 0.95));
        printf("%s_episodes_mean %.2f count\n", runs[i].name, episodes);
    }
    Learner *l = fresh_learner(&policy, &base);
    double cand_ms[REPS];
    for (int k = 0; k < REPS; k++) {
        Episode e, cands[2];
        random_episode(&e, &c, &ctx, &r, 20, k % 2 ? 1.0f : -1.0f);
        learner_fill_ref(l, &e);
        for (int i = 0; i < 2; i++) {
            random_episode(&cands[i], &c, &ctx, &r, 20, i ? 0.5f : -0.5f);
            learner_fill_ref(l, &cands[i]); /* done with the reply, before the rating */
        }
        UpdateStats st;
        learner_update_group(l, &e, cands, 2, 1, &st);
        cand_ms[k] = st.ms;
        episode_free(&e), episode_free(&cands[0]), episode_free(&cands[1]);
    }
    printf("learner_update_2_candidates_ms_median %.1f ms\n", bench_quantile(cand_ms, REPS, 0.5));
    printf("learner_update_2_candidates_ms_p95 %.1f ms\n", bench_quantile(cand_ms, REPS, 0.95));
    time_reward_model(l, &c, &ctx, &r);
    printf("learner_params %zu count\n", policy.num_params);
    step_free(&ctx);
    learner_free(l);
    model_free(&policy);
    model_free(&base);
    tokenizer_free(&tok);
    return 0;
}
