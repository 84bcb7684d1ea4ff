/* test_learner: the rating update moves the model the right way, its KL and entropy
   gradients match finite differences, undo is exact, replay (self-imitation included) and
   preferences work, the entropy floor acts only below the base's entropy, and a non-finite
   update rolls back. All on a tiny random model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/generate.h"
#include "model/tokenizer.h"
#include "rl/learner.h"
#include "tests/check.h"

static const char *TEXT = "hi there, how are you?\ni am fine thanks. and you?\nwhat music do you like?\nrock, mostly.\n";

typedef struct {
    Tokenizer tok;
    Model base, policy;
    Learner *l;
    StepState ctx, ref_ctx;
} Fixture;

static void fixture(Fixture *f, Algo algo, float lr) {
    tokenizer_train(&f->tok, TEXT, strlen(TEXT), 300);
    Config c = {.vocab_size = f->tok.vocab_size, .embed_dim = 8, .hidden_dim = 12, .num_layers = 2};
    model_build(&f->base, c);
    model_init_weights(&f->base, 4);
    model_build(&f->policy, c);
    memcpy(f->policy.param_block, f->base.param_block, f->base.num_params * sizeof(float));
    LearnerConfig lc = learner_default_config();
    lc.algo = algo;
    lc.lr = lr;
    f->l = learner_new(&f->policy, &f->base, &lc);
    /* A context: the state after a user turn. */
    step_build(&f->ctx, &c);
    step_build(&f->ref_ctx, &c);
    int32_t prompt[4] = {TOK_USER, 'h', 'i', TOK_EOT};
    for (int i = 0; i < 4; i++) lstm_step(&f->base, &f->ctx, prompt[i]), lstm_step(&f->base, &f->ref_ctx, prompt[i]);
}

static void fixture_free(Fixture *f) {
    learner_free(f->l);
    step_free(&f->ctx);
    step_free(&f->ref_ctx);
    model_free(&f->policy);
    model_free(&f->base);
    tokenizer_free(&f->tok);
}

static void episode(Fixture *f, Episode *e, const char *reply, float reward) {
    size_t n;
    int32_t *ids = tokenizer_encode(&f->tok, reply, strlen(reply), &n);
    episode_init(e, &f->policy.config, &f->ctx, &f->ref_ctx, ids, NULL, NULL, (int)n);
    e->reward = reward;
    free(ids);
}

static void test_positive_reward_raises_and_negative_lowers_the_reply_logprob(void) {
    for (int sign = -1; sign <= 1; sign += 2)
        for (Algo a = ALGO_REINFORCE; a <= ALGO_FULL; a++) {
            Fixture f;
            fixture(&f, a, 1e-2f);
            Episode e;
            episode(&f, &e, "rock, mostly.", (float)sign);
            float before = learner_logprob(f.l, &e, NULL);
            UpdateStats st;
            CHECK(learner_update(f.l, &e, &st) == 0, "update failed: %s", err_msg());
            float after = learner_logprob(f.l, &e, NULL);
            CHECK(sign > 0 ? after > before : after < before, "%s, reward %+d: log-probability %.4f -> %.4f",
                  algo_name(a), sign, before, after);
            episode_free(&e);
            fixture_free(&f);
        }
}

/* Central differences of learner_episode_loss against learner_episode_gradient, with the
   policy moved away from the base so the KL term is not at its minimum. */
static void test_kl_and_entropy_gradients_match_finite_differences(void) {
    /* advantage, beta, eta, entropy floor */
    float settings[5][4] = {{0, 1.0f, 0, 0}, {0, 0, 1.0f, 0}, {0.7f, 0.5f, 0.3f, 0},
                            {0, 0, 1.0f, 1}, {0.7f, 0.5f, 0.3f, 1}};
    const char *names[5] = {"KL", "entropy", "all terms", "entropy below the base's", "all terms, entropy floor"};
    for (int s = 0; s < 5; s++) {
        Fixture f;
        fixture(&f, ALGO_FULL, 1e-2f);
        learner_config(f.l)->entropy_floor = (int)settings[s][3];
        Rng r;
        rng_seed(&r, 8);
        for (size_t i = 0; i < f.policy.num_params; i++) { /* peaked distributions: gradients well above float rounding */
            f.base.param_block[i] *= 5;
            f.policy.param_block[i] = f.base.param_block[i] + 0.5f * (rng_float(&r) - 0.5f);
        }
        Episode e;
        episode(&f, &e, "i am fine", 0);
        float adv = settings[s][0], beta = settings[s][1], eta = settings[s][2];
        model_zero_grad(&f.policy);
        learner_episode_gradient(f.l, &e, adv, beta, eta);
        double an[60], nu[60], diff = 0, sa = 0, sb = 0;
        for (int k = 0; k < 60; k++) {
            size_t i = rng_u32(&r) % f.policy.num_params;
            if (k < 20) i = (size_t)(f.policy.params.out_w - f.policy.param_block) + rng_u32(&r) % 1000;
            float keep = f.policy.param_block[i], h = 1e-2f;
            f.policy.param_block[i] = keep + h;
            double up = learner_episode_loss(f.l, &e, adv, beta, eta);
            f.policy.param_block[i] = keep - h;
            double down = learner_episode_loss(f.l, &e, adv, beta, eta);
            f.policy.param_block[i] = keep;
            an[k] = f.policy.grad_block[i];
            nu[k] = (up - down) / (2 * h);
            diff += (an[k] - nu[k]) * (an[k] - nu[k]), sa += an[k] * an[k], sb += nu[k] * nu[k];
        }
        double rel = sqrt(diff) / (sqrt(sa) + sqrt(sb) + 1e-12);
        CHECK(rel < 2e-2, "%s gradient: relative error %.3g against finite differences", names[s], rel);
        CHECK(sa > 1e-12, "%s gradient is zero", names[s]);
        episode_free(&e);
        fixture_free(&f);
    }
}

/* An update backpropagates its episodes as one packed batch, and splits a list longer
   than a batch holds: the gradient must be the sum of the episodes' own,
   with the KL and entropy terms on (so the base model's pass is needed too). Three
   replies; eleven (two batches); and a full batch of eight whose first reply is long
   enough that eight times its length is more rows than a batch has. */
static void test_a_batch_gives_the_sum_of_its_episodes_gradients(void) {
    const char *replies[3] = {"rock, mostly.", "i am fine thanks. and you?", "hi"};
    char long_reply[1200] = "";
    while (strlen(long_reply) < 1000) strcat(long_reply, "well, i think it is mostly rock and some jazz. ");
    static const struct {
        int n, with_long;
    } cases[] = {{3, 0}, {11, 0}, {8, 1}};
    for (int k = 0; k < 3; k++) {
        int n = cases[k].n, with_long = cases[k].with_long;
        Fixture f;
        fixture(&f, ALGO_FULL, 1e-2f);
        Episode es[11];
        const Episode *ptrs[11];
        float adv[11];
        for (int i = 0; i < n; i++) {
            episode(&f, &es[i], with_long && i == 0 ? long_reply : replies[i % 3], 0);
            if (with_long && i == 0) CHECK(es[0].n > BATCH_ROWS / n, "the long reply has only %d tokens", es[0].n);
            ptrs[i] = &es[i];
            adv[i] = 0.7f - 0.3f * (float)i;
        }
        size_t np = f.policy.num_params;
        float *sum = xcalloc(np, sizeof(float));
        for (int i = 0; i < n; i++) {
            model_zero_grad(&f.policy);
            learner_episode_gradient(f.l, &es[i], adv[i], 0.5f, 0.3f);
            for (size_t p = 0; p < np; p++) sum[p] += f.policy.grad_block[p];
        }
        model_zero_grad(&f.policy);
        learner_batch_gradient(f.l, ptrs, adv, n, 0.5f, 0.3f);
        double gap = check_relative_gap(f.policy.grad_block, sum, np);
        CHECK(gap < 1e-5, "%d episodes: the batch's gradient differs from the sum by %.3g (relative)", n, gap);
        free(sum);
        for (int i = 0; i < n; i++) episode_free(&es[i]);
        fixture_free(&f);
    }
}

static void test_undo_restores_the_weights_bit_for_bit(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    float *start = xmalloc(f.policy.num_params * sizeof(float));
    memcpy(start, f.policy.param_block, f.policy.num_params * sizeof(float));
    Episode e1, e2;
    episode(&f, &e1, "rock, mostly.", 1);
    episode(&f, &e2, "hi there", -1);
    UpdateStats st;
    learner_update(f.l, &e1, &st);
    float *mid = xmalloc(f.policy.num_params * sizeof(float));
    memcpy(mid, f.policy.param_block, f.policy.num_params * sizeof(float));
    learner_update(f.l, &e2, &st);
    CHECK(memcmp(mid, f.policy.param_block, f.policy.num_params * sizeof(float)) != 0, "second update changed nothing");
    CHECK(learner_undo(f.l) == 0, "undo refused");
    CHECK(!memcmp(mid, f.policy.param_block, f.policy.num_params * sizeof(float)), "first undo not exact");
    CHECK(learner_undo(f.l) == 0, "second undo refused");
    CHECK(!memcmp(start, f.policy.param_block, f.policy.num_params * sizeof(float)), "second undo not exact");
    CHECK(learner_undo(f.l) != 0, "undo with nothing to undo succeeded");
    CHECK(learner_updates(f.l) == 0, "update count not restored");
    free(start), free(mid);
    episode_free(&e1), episode_free(&e2);
    fixture_free(&f);
}

static void test_preference_raises_the_chosen_reply_over_the_rejected(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    Episode a, b;
    episode(&f, &a, "rock, mostly.", 0);
    episode(&f, &b, "i am fine thanks.", 0);
    float gap_before = learner_logprob(f.l, &a, NULL) - learner_logprob(f.l, &b, NULL);
    UpdateStats st;
    CHECK(learner_prefer(f.l, &a, &b, &st) == 0, "preference update failed: %s", err_msg());
    float gap_after = learner_logprob(f.l, &a, NULL) - learner_logprob(f.l, &b, NULL);
    CHECK(gap_after > gap_before, "chosen-minus-rejected log-probability %.4f -> %.4f", gap_before, gap_after);
    episode_free(&a), episode_free(&b);
    fixture_free(&f);
}

/* Moves the policy away from the base by a uniform nudge of +-amount/2 on every weight. */
static void nudge_policy(Fixture *f, float amount, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < f->policy.num_params; i++) f->policy.param_block[i] += amount * (rng_float(&r) - 0.5f);
    f->policy.version++;
}

/* log pi - log pi_base over reply e, summed: DPO's implicit reward over b. */
static float log_ratio(Fixture *f, const Episode *e) {
    return learner_logprob(f->l, e, NULL) - learner_ref_logprob_sum(f->l, e);
}

/* DPO's loss is softplus(-z), z = b (log-ratio of the chosen - of the rejected). Far on
   either side it must stay finite: at z = -100 (the policy far from the preference) about
   100, with a full push toward the chosen reply; at z = +100 about 0, with a push that
   is not against it. b is set to land z where wanted. */
static void test_preference_loss_is_finite_far_on_either_side(void) {
    for (int side = -1; side <= 1; side += 2) {
        Fixture f;
        fixture(&f, ALGO_FULL, 1e-3f);
        nudge_policy(&f, 0.5f, 11);
        Episode a, b;
        episode(&f, &a, "rock, mostly.", 0);
        episode(&f, &b, "i am fine thanks.", 0);
        float d = log_ratio(&f, &a) - log_ratio(&f, &b), want = 100.0f * (float)side;
        Episode *chosen = d * want > 0 ? &a : &b, *rejected = chosen == &a ? &b : &a;
        learner_config(f.l)->dpo_beta = fabsf(want / d);
        float gap_before = learner_logprob(f.l, chosen, NULL) - learner_logprob(f.l, rejected, NULL);
        UpdateStats st;
        int rc = learner_prefer(f.l, chosen, rejected, &st);
        float gap_after = learner_logprob(f.l, chosen, NULL) - learner_logprob(f.l, rejected, NULL);
        CHECK(rc == 0 && !st.rolled_back, "z = %+.0f: the update was refused (%s)", want, err_msg());
        CHECK(isfinite(st.loss) && fabsf(st.loss - (side < 0 ? 100.0f : 0.0f)) < 0.1f,
              "z = %+.0f: loss %g, want %g", want, st.loss, side < 0 ? 100.0 : 0.0);
        if (side < 0)
            CHECK(st.advantage > 0.99f * learner_config(f.l)->dpo_beta && gap_after > gap_before,
                  "z = -100: push %g on the chosen reply, its lead %.4f -> %.4f", st.advantage, gap_before, gap_after);
        else
            CHECK(st.advantage >= 0 && st.advantage < 1e-30f, "z = +100: push %g on the chosen reply, want about 0",
                  st.advantage);
        episode_free(&a), episode_free(&b);
        fixture_free(&f);
    }
}

/* The weights' displacement sum |w - w0| after a first update of reward `reward` on the
   same reply (REINFORCE: the advantage is the reward, no KL, no entropy), and the largest
   single move in *largest; *norm gets the gradient's norm. */
static double first_update_moves(float reward, float lr, double *largest, float *norm) {
    Fixture f;
    fixture(&f, ALGO_REINFORCE, lr);
    float *start = xmalloc(f.policy.num_params * sizeof(float));
    memcpy(start, f.policy.param_block, f.policy.num_params * sizeof(float));
    Episode e;
    episode(&f, &e, "rock, mostly.", reward);
    UpdateStats st;
    CHECK(learner_update(f.l, &e, &st) == 0, "update failed: %s", err_msg());
    double moved = 0;
    *largest = 0, *norm = st.grad_norm;
    for (size_t i = 0; i < f.policy.num_params; i++) {
        double d = fabs((double)f.policy.param_block[i] - start[i]);
        moved += d;
        *largest = d > *largest ? d : *largest;
    }
    free(start);
    episode_free(&e);
    fixture_free(&f);
    return moved;
}

/* Adam from v = 0 makes a weight's first step lr sign(g) whatever g's size, so a rating's
   first update moved every weight by lr and the advantage's size did nothing. Two
   gradients 10 times apart (rewards 0.02 and 0.2, both below the clip) must move the
   weights by amounts about 10 times apart, and no weight by more than lr. */
static void test_the_first_update_follows_the_gradients_size(void) {
    const float lr = 1e-3f;
    double largest_small, largest_big;
    float norm_small, norm_big;
    double small = first_update_moves(0.02f, lr, &largest_small, &norm_small);
    double big = first_update_moves(0.2f, lr, &largest_big, &norm_big);
    CHECK(norm_big < learner_default_config().clip, "the larger gradient's norm %.3g is clipped", norm_big);
    CHECK(fabs(norm_big / norm_small - 10) < 0.01, "gradient norms %.4g and %.4g, not 10 times apart", norm_small,
          norm_big);
    CHECK(big > 5 * small, "the weights moved %.4g in all for the small gradient and %.4g for the 10 times larger",
          small, big);
    CHECK(largest_small <= lr * 1.0001 && largest_big <= lr * 1.0001, "the largest moves, %.4g and %.4g, exceed lr %g",
          largest_small, largest_big, lr);
}

/* ---- the clipped-ratio (PPO) path ---- */

/* log pi(y_t | s_t) along e under model m, step by step from e's context (n + 1 values,
   TOK_EOT last): the slow, obvious reference for the batched pass. */
static void step_logprobs(const Model *m, const Episode *e, double *out) {
    const Config *c = &m->config;
    size_t nh = (size_t)c->num_layers * c->hidden_dim;
    StepState st;
    step_build(&st, c);
    memcpy(st.h, e->ctx_h, nh * sizeof(float));
    memcpy(st.c, e->ctx_c, nh * sizeof(float));
    int in = TOK_BOT;
    for (int t = 0; t <= e->n; t++) {
        lstm_step(m, &st, in);
        int y = t < e->n ? e->tokens[t] : TOK_EOT;
        double max = st.logits[0], sum = 0;
        for (int v = 1; v < c->vocab_size; v++) max = st.logits[v] > max ? st.logits[v] : max;
        for (int v = 0; v < c->vocab_size; v++) sum += exp(st.logits[v] - max);
        out[t] = st.logits[y] - max - log(sum);
        in = y;
    }
    step_free(&st);
}

/* PPO's clipped surrogate, -sum_t min(r_t A, clip(r_t, 1 - eps, 1 + eps) A) with
   r_t = pi(y_t) / behaviour(y_t), at the policy's current weights. */
static double ppo_surrogate(const Model *m, const Episode *e, double adv, double eps) {
    double lp[MAX_EPISODE], loss = 0;
    step_logprobs(m, e, lp);
    for (int t = 0; t <= e->n; t++) {
        double r = exp(lp[t] - e->behaviour_lp[t]), rc = r < 1 - eps ? 1 - eps : r > 1 + eps ? 1 + eps : r;
        loss -= fmin(r * adv, rc * adv);
    }
    return loss;
}

/* The PPO job's gradient, from a pass scratch of its own, in the policy's (zeroed) gradient block. */
static void ppo_gradient(Fixture *f, const Episode *e, float adv, float eps) {
    PassScratch ln;
    pass_build(&ln, &f->policy, &f->base);
    EpisodeJob job = {.e = e, .w = {.advantage = adv, .ppo = 1, .ppo_eps = eps}}, *jobs = &job;
    model_zero_grad(&f->policy);
    pass_backward(&ln, &jobs, 1, 0, 1);
    pass_free(&ln);
}

/* A replayed episode's ratio against the probabilities it was sampled with is clipped at
   1 +- eps: where the policy has already moved past the clip in the advantage's direction
   the token's gradient is zero, elsewhere it is A r times REINFORCE's. The behaviour
   log-probabilities put a third of the ratios at 1.1 (inside the clip), a third past the
   clip on the advantage's side (1.5 for A > 0, 0.5 for A < 0) and a third past it on the
   other side, where the min keeps the unclipped term; the gradient must match finite
   differences of the surrogate. With every ratio past the clip on the advantage's side,
   the gradient is exactly zero. */
static void test_ppo_clip_zeroes_the_gradient_of_tokens_past_it(void) {
    const float eps = 0.2f;
    for (int sign = -1; sign <= 1; sign += 2) {
        float adv = 0.8f * (float)sign, outside = sign > 0 ? 1.5f : 0.5f, other_side = sign > 0 ? 0.5f : 1.5f;
        float ratios[3] = {1.1f, outside, other_side};
        for (int all = 0; all <= 1; all++) {
            Fixture f;
            fixture(&f, ALGO_FULL, 1e-2f);
            nudge_policy(&f, 0.5f, 3);
            Episode e;
            episode(&f, &e, "i am fine", 0);
            double lp[MAX_EPISODE];
            step_logprobs(&f.policy, &e, lp);
            e.behaviour_lp = xmalloc((size_t)(e.n + 1) * sizeof(float));
            for (int t = 0; t <= e.n; t++) e.behaviour_lp[t] = (float)(lp[t] - log(all ? outside : ratios[t % 3]));
            ppo_gradient(&f, &e, adv, eps);
            double norm = 0;
            for (size_t i = 0; i < f.policy.num_params; i++) norm += (double)f.policy.grad_block[i] * f.policy.grad_block[i];
            if (all) {
                CHECK(norm == 0, "A = %+.1f, every ratio %.1f: gradient norm %.3g, want 0", adv, outside, sqrt(norm));
            } else {
                Rng r;
                rng_seed(&r, 5);
                double diff = 0, sa = 0, sb = 0;
                for (int k = 0; k < 60; k++) {
                    size_t i = rng_u32(&r) % f.policy.num_params;
                    if (k < 20) i = (size_t)(f.policy.params.out_w - f.policy.param_block) + rng_u32(&r) % 1000;
                    float keep = f.policy.param_block[i], h = 1e-2f;
                    f.policy.param_block[i] = keep + h;
                    double up = ppo_surrogate(&f.policy, &e, adv, eps);
                    f.policy.param_block[i] = keep - h;
                    double down = ppo_surrogate(&f.policy, &e, adv, eps);
                    f.policy.param_block[i] = keep;
                    double an = f.policy.grad_block[i], nu = (up - down) / (2 * h);
                    diff += (an - nu) * (an - nu), sa += an * an, sb += nu * nu;
                }
                double rel = sqrt(diff) / (sqrt(sa) + sqrt(sb) + 1e-12);
                CHECK(rel < 2e-2 && sa > 1e-12, "A = %+.1f, ratios 1.1, %.1f and %.1f: relative error %.3g against "
                      "finite differences of the clipped surrogate (gradient norm %.3g)", adv, outside, other_side, rel,
                      sqrt(norm));
            }
            episode_free(&e);
            fixture_free(&f);
        }
    }
}

/* A reply stopped by the user or cut at the length limit ends with a TOK_EOT the policy
   never chose: its steps are the reply's tokens only. Its log-probability is the
   reference's sum without the last step, and its gradient (REINFORCE's, A = 0.8) matches
   finite differences of -A sum_{t<n} log pi(y_t): training the TOK_EOT would add the
   step that the reference leaves out. A reply cut before its first token has nothing to
   learn from and an update on it leaves the weights alone. */
static void test_a_cut_reply_is_not_taught_to_end_where_it_was_cut(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    nudge_policy(&f, 0.5f, 7);
    Episode e;
    episode(&f, &e, "rock, mostly.", 0);
    double lp[MAX_EPISODE], whole = 0, cut = 0;
    step_logprobs(&f.policy, &e, lp);
    for (int t = 0; t <= e.n; t++) whole += lp[t], cut += t < e.n ? lp[t] : 0;
    float ended_lp = learner_logprob(f.l, &e, NULL);
    e.cut = 1;
    float cut_lp = learner_logprob(f.l, &e, NULL);
    CHECK(episode_steps(&e) == e.n, "a cut reply of %d tokens has %d steps", e.n, episode_steps(&e));
    CHECK(fabs(ended_lp - whole) < 1e-3 && fabs(cut_lp - cut) < 1e-3,
          "log-probability %.5f (want %.5f), cut %.5f (want %.5f, without TOK_EOT)", ended_lp, whole, cut_lp, cut);
    const float adv = 0.8f;
    model_zero_grad(&f.policy);
    learner_episode_gradient(f.l, &e, adv, 0, 0);
    Rng r;
    rng_seed(&r, 9);
    double diff = 0, sa = 0, sb = 0;
    for (int k = 0; k < 60; k++) {
        size_t i = rng_u32(&r) % f.policy.num_params;
        if (k < 20) i = (size_t)(f.policy.params.out_w - f.policy.param_block) + rng_u32(&r) % 1000;
        float keep = f.policy.param_block[i], h = 1e-2f;
        double sum[2];
        for (int side = 0; side < 2; side++) {
            f.policy.param_block[i] = keep + (side ? -h : h);
            step_logprobs(&f.policy, &e, lp);
            sum[side] = 0;
            for (int t = 0; t < e.n; t++) sum[side] -= adv * lp[t];
        }
        f.policy.param_block[i] = keep;
        double an = f.policy.grad_block[i], nu = (sum[0] - sum[1]) / (2 * h);
        diff += (an - nu) * (an - nu), sa += an * an, sb += nu * nu;
    }
    double rel = sqrt(diff) / (sqrt(sa) + sqrt(sb) + 1e-12);
    CHECK(rel < 2e-2 && sa > 1e-12, "cut reply: relative error %.3g against finite differences of its tokens' "
          "log-probabilities alone", rel);
    model_zero_grad(&f.policy);
    Episode empty;
    episode(&f, &empty, "", 1);
    empty.cut = 1;
    float *start = xmalloc(f.policy.num_params * sizeof(float));
    memcpy(start, f.policy.param_block, f.policy.num_params * sizeof(float));
    UpdateStats st;
    CHECK(learner_update(f.l, &empty, &st) == 0, "update on a reply stopped before its first token: %s", err_msg());
    CHECK(!memcmp(start, f.policy.param_block, f.policy.num_params * sizeof(float)),
          "a reply stopped before its first token moved the weights");
    free(start);
    episode_free(&empty);
    episode_free(&e);
    fixture_free(&f);
}

/* The session's chooser ranks replies by learner_mean_log_ratio. Two replies whose every
   token the policy finds e^0.3 times likelier than the base score the same, however long
   each is (a sum would put the longer ahead by 0.3 a token); a short reply the policy
   moved further toward per token wins over a long one. */
static void test_the_chooser_score_does_not_favour_length(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    Episode e[2];
    episode(&f, &e[0], "hi", 0);
    episode(&f, &e[1], "what music do you like? rock, mostly. and you?", 0);
    float score[2], higher = 0;
    int V = f.policy.config.vocab_size;
    for (int k = 0; k < 2; k++) {
        learner_fill_ref(f.l, &e[k]);
        float lp[MAX_EPISODE];
        for (int t = 0; t <= e[k].n; t++) {
            int y = t < e[k].n ? e[k].tokens[t] : TOK_EOT;
            lp[t] = e[k].ref_logp[(size_t)t * V + y] + 0.3f;
        }
        score[k] = learner_mean_log_ratio(f.l, &e[k], lp);
        if (k == 0) {
            for (int t = 0; t <= e[k].n; t++) lp[t] += 0.05f;
            higher = learner_mean_log_ratio(f.l, &e[k], lp);
        }
    }
    CHECK(e[1].n > 4 * e[0].n, "the long reply has %d tokens, the short %d", e[1].n, e[0].n);
    CHECK(fabsf(score[0] - 0.3f) < 1e-4f && fabsf(score[1] - 0.3f) < 1e-4f,
          "the same log-ratio a token scores %.5f on %d tokens and %.5f on %d (want 0.3 both)", score[0], e[0].n,
          score[1], e[1].n);
    CHECK(higher > score[1], "0.35 a token on the short reply scores %.5f, 0.3 on the long %.5f", higher, score[1]);
    episode_free(&e[0]), episode_free(&e[1]);
    fixture_free(&f);
}

/* n updates on a reply rewarded exactly as the critic expects (advantage 0), so that only
   replay moves the model; st holds the last one's stats. */
static void neutral_updates(Fixture *f, const char *reply, int n, UpdateStats *st) {
    for (int k = 0; k < n; k++) {
        Episode neutral;
        episode(f, &neutral, reply, 0);
        neutral.reward = learner_value(f->l, neutral.ctx_h);
        learner_update(f->l, &neutral, st);
        episode_free(&neutral);
    }
}

/* With replay on, a well-rewarded reply keeps gaining from later, neutral updates. */
static void test_replay_keeps_pushing_a_rewarded_reply(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    learner_config(f.l)->replay = 4;
    learner_config(f.l)->kl_beta = 0;
    learner_config(f.l)->entropy = 0;
    Episode good;
    episode(&f, &good, "rock, mostly.", 1);
    UpdateStats st;
    learner_update(f.l, &good, &st);
    float after_first = learner_logprob(f.l, &good, NULL);
    neutral_updates(&f, "hi", 3, &st);
    float after_replay = learner_logprob(f.l, &good, NULL);
    CHECK(after_replay > after_first, "replayed reply log-probability %.4f -> %.4f", after_first, after_replay);
    episode_free(&good);
    fixture_free(&f);
}

/* With one liked reply among disliked ones, self-imitation replays the liked one (the only
   one above the critic's expectation) and random replay mostly the others: after the same
   neutral updates, the liked reply has gained more with self-imitation on. With nothing
   above expectation, the slot falls back to random replay. */
static float liked_reply_gain(int self_imitation, int *replayed_without_liked) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    LearnerConfig *c = learner_config(f.l);
    c->replay = 1, c->self_imitation = self_imitation, c->kl_beta = 0, c->entropy = 0;
    UpdateStats st;
    Episode liked, disliked;
    const char *others[] = {"hi", "and you?", "what music do you like?"};
    for (int k = 0; k < 3; k++) {
        episode(&f, &disliked, others[k], -1);
        learner_update(f.l, &disliked, &st);
        episode_free(&disliked);
    }
    neutral_updates(&f, "i am fine thanks.", 1, &st);
    *replayed_without_liked = st.replayed;
    episode(&f, &liked, "rock, mostly.", 1.5f); /* beats the critic by more than imitate_above */
    learner_update(f.l, &liked, &st);
    float before = learner_logprob(f.l, &liked, NULL);
    neutral_updates(&f, "i am fine thanks.", 6, &st);
    float gain = learner_logprob(f.l, &liked, NULL) - before;
    episode_free(&liked);
    fixture_free(&f);
    return gain;
}

static void test_self_imitation_replays_the_reply_that_beat_the_critic(void) {
    int fallback_on, fallback_off;
    float with = liked_reply_gain(1, &fallback_on), without = liked_reply_gain(0, &fallback_off);
    CHECK(with > 0 && with > without, "liked reply's log-probability gain: %.4f with self-imitation, %.4f without", with,
          without);
    CHECK(fallback_on == 1 && fallback_off == 1, "replayed %d / %d with nothing above expectation", fallback_on,
          fallback_off);
}

/* Unrated candidates move by their reward against the mean of the rest of the group: with
   the rated reply exactly as expected (advantage 0), a candidate scored above it gains and
   one scored below loses; a group whose rewards all agree moves nothing. */
static void test_candidates_move_by_their_leave_one_out_advantage(void) {
    for (int score = -1; score <= 1; score++) { /* below, agreeing (0: two candidates), above */
        Fixture f;
        fixture(&f, ALGO_FULL, 1e-2f);
        LearnerConfig *c = learner_config(f.l);
        c->kl_beta = 0, c->entropy = 0, c->replay = 0; /* isolate the candidates' term */
        Episode rated, cands[2];
        episode(&f, &rated, "i am fine", 0);
        rated.reward = learner_value(f.l, rated.ctx_h);
        episode(&f, &cands[0], "rock, mostly.", rated.reward + (float)score);
        episode(&f, &cands[1], "what music do you like?", rated.reward);
        int k = score == 0 ? 2 : 1;
        float before = learner_logprob(f.l, &cands[0], NULL);
        float *start = xmalloc(f.policy.num_params * sizeof(float));
        memcpy(start, f.policy.param_block, f.policy.num_params * sizeof(float));
        UpdateStats st;
        CHECK(learner_update_group(f.l, &rated, cands, k, 1, &st) == 0, "update failed: %s", err_msg());
        CHECK(st.candidates == k, "%d candidates learned from, expected %d", st.candidates, k);
        float after = learner_logprob(f.l, &cands[0], NULL);
        if (score == 0)
            CHECK(!memcmp(start, f.policy.param_block, f.policy.num_params * sizeof(float)),
                  "a group whose rewards agree moved the weights");
        else
            CHECK(score > 0 ? after > before : after < before,
                  "candidate scored %+d against the rated reply: %.4f -> %.4f", score, before, after);
        free(start);
        episode_free(&rated), episode_free(&cands[0]), episode_free(&cands[1]);
        fixture_free(&f);
    }
}

/* Undoing a preference (or a penalty) leaves the replay buffer alone: only a rating's undo
   takes its episode back out. */
static void test_undoing_a_preference_keeps_the_rated_reply_for_replay(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    learner_config(f.l)->replay = 1, learner_config(f.l)->self_imitation = 0;
    Episode rated, a, b;
    episode(&f, &rated, "rock, mostly.", 1);
    episode(&f, &a, "hi there", 0);
    episode(&f, &b, "and you?", 0);
    UpdateStats st;
    learner_update(f.l, &rated, &st);
    learner_prefer(f.l, &a, &b, &st);
    CHECK(learner_undo(f.l) == 0, "undo of the preference refused");
    neutral_updates(&f, "i am fine", 1, &st);
    CHECK(st.replayed == 1, "after undoing a preference, a rating replayed %d episodes (the buffer lost one)",
          st.replayed);
    episode_free(&rated), episode_free(&a), episode_free(&b);
    fixture_free(&f);
}

/* Replays stop at the token budget, so that a long reply's update stays short. */
static void test_replay_stays_within_the_token_budget(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    learner_config(f.l)->replay = 2;
    int got[3], tokens = 0;
    for (int budget = 0; budget < 3; budget++) {
        Episode e;
        UpdateStats st;
        episode(&f, &e, "rock, mostly.", 1);
        tokens = e.n + 1;
        /* all three fit, then the rated reply and one replay, then the rated reply alone */
        learner_config(f.l)->replay_tokens = (3 - budget) * tokens;
        for (int k = 0; k < 3; k++) learner_update(f.l, &e, &st);
        got[budget] = st.replayed;
        episode_free(&e);
    }
    CHECK(got[0] == 2 && got[1] == 1 && got[2] == 0, "replayed %d, %d, %d with budgets of 3, 2, 1 replies of %d tokens",
          got[0], got[1], got[2], tokens);
    fixture_free(&f);
}

/* A critic that has learned to expect worse than -1 here must not turn a safety penalty
   into a reward: a penalty always pushes the blocked reply down. */
static void test_penalty_lowers_the_blocked_reply_even_when_expected(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    Episode other, blocked;
    UpdateStats st;
    learner_config(f.l)->kl_beta = 0; /* isolate the policy-gradient term */
    learner_config(f.l)->entropy = 0;
    learner_config(f.l)->replay = 0;
    learner_config(f.l)->critic_lr = 0.5f; /* a fast critic learns the expectation in 30 */
    for (int k = 0; k < 30; k++) {
        episode(&f, &other, "hi there", -3);
        learner_update(f.l, &other, &st);
        episode_free(&other);
    }
    episode(&f, &blocked, "rock, mostly.", -1);
    CHECK(learner_value(f.l, blocked.ctx_h) < -1.5f, "critic did not learn to expect -3 (%.3f)",
          learner_value(f.l, blocked.ctx_h));
    float before = learner_logprob(f.l, &blocked, NULL);
    CHECK(learner_penalise(f.l, &blocked, &st) == 0, "penalty refused");
    float after = learner_logprob(f.l, &blocked, NULL);
    CHECK(after < before, "penalised reply log-probability %.4f -> %.4f", before, after);
    episode_free(&blocked);
    fixture_free(&f);
}

/* The critic must converge to the reward whatever the width of the state it reads (plain
   SGD on a 64-wide state of large activations diverges). */
static void test_value_head_converges_on_a_wide_saturated_state(void) {
    Fixture f;
    tokenizer_train(&f.tok, TEXT, strlen(TEXT), 300);
    Config c = {.vocab_size = f.tok.vocab_size, .embed_dim = 8, .hidden_dim = 64, .num_layers = 1};
    model_build(&f.base, c);
    model_init_weights(&f.base, 4);
    model_build(&f.policy, c);
    memcpy(f.policy.param_block, f.base.param_block, f.base.num_params * sizeof(float));
    LearnerConfig lc = learner_default_config();
    lc.lr = 1e-6f;        /* the policy barely moves: this is about the critic */
    lc.critic_lr = 0.5f;  /* fast enough to converge in 60 (the default is slower on purpose) */
    f.l = learner_new(&f.policy, &f.base, &lc);
    step_build(&f.ctx, &c);
    step_build(&f.ref_ctx, &c);
    for (int j = 0; j < c.hidden_dim; j++) f.ctx.h[j] = 0.95f;
    UpdateStats st;
    for (int k = 0; k < 60; k++) {
        Episode e;
        episode(&f, &e, "hi", 0.8f);
        learner_update(f.l, &e, &st);
        episode_free(&e);
    }
    float v = learner_value(f.l, f.ctx.h);
    CHECK(isfinite(v) && fabsf(v - 0.8f) < 0.05f, "value %.4f after 60 rewards of 0.8", v);
    fixture_free(&f);
}

static void test_nan_in_the_loss_rolls_back_and_learning_goes_on(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-2f);
    float *start = xmalloc(f.policy.num_params * sizeof(float));
    memcpy(start, f.policy.param_block, f.policy.num_params * sizeof(float));
    Episode bad, good;
    episode(&f, &bad, "rock", NAN);
    UpdateStats st;
    CHECK(learner_update(f.l, &bad, &st) != 0 && st.rolled_back, "NaN update not rolled back");
    CHECK(!memcmp(start, f.policy.param_block, f.policy.num_params * sizeof(float)), "weights changed by a NaN update");
    episode(&f, &good, "rock", 1);
    float before = learner_logprob(f.l, &good, NULL);
    CHECK(learner_update(f.l, &good, &st) == 0, "update after rollback failed");
    CHECK(learner_logprob(f.l, &good, NULL) > before, "no learning after a rollback");
    for (size_t i = 0; i < f.policy.num_params; i++)
        if (!isfinite(f.policy.param_block[i])) {
            CHECK(0, "non-finite weight at %zu", i);
            break;
        }
    free(start);
    episode_free(&bad), episode_free(&good);
    fixture_free(&f);
}

/* A rolled-back rating leaves nothing behind, even once the replay buffer is full and
   the rating's episode had already displaced its oldest entry. */
static void test_a_rollback_leaves_the_whole_learner_as_it_was(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    UpdateStats st;
    const char *replies[] = {"hi", "and you?", "rock, mostly.", "i am fine thanks."};
    for (int k = 0; k < 34; k++) { /* more than the buffer holds */
        Episode e;
        episode(&f, &e, replies[k % 4], k % 3 ? 1.0f : -1.0f);
        learner_update(f.l, &e, &st);
        episode_free(&e);
    }
    LearnerDigest before, after;
    learner_digest(f.l, &before);
    Episode bad;
    episode(&f, &bad, "what music do you like?", NAN);
    CHECK(learner_update(f.l, &bad, &st) != 0 && st.rolled_back, "NaN update not rolled back");
    learner_digest(f.l, &after);
    CHECK(after.weights == before.weights && after.optimizer == before.optimizer && after.critic == before.critic,
          "the rollback changed the weights, Adam or the critic");
    CHECK(after.replay == before.replay && after.rng == before.rng && after.undoable == before.undoable,
          "the rollback left the replay buffer (%d), the generator (%d) or undo's reach (%d) changed",
          after.replay != before.replay, after.rng != before.rng, after.undoable != before.undoable);
    episode_free(&bad);
    fixture_free(&f);
}

/* The entropy floor pushes only where the policy is surer than the base: a policy flatter
   than the base gets no entropy gradient at all, a sharper one is moved back toward the
   base's entropy. */
static void test_entropy_floor_acts_only_on_a_policy_surer_than_the_base(void) {
    for (int sharper = 0; sharper <= 1; sharper++) {
        Fixture f;
        fixture(&f, ALGO_FULL, 1e-2f);
        float scale = sharper ? 3.0f : 0.3f; /* larger weights, more peaked distributions */
        for (size_t i = 0; i < f.policy.num_params; i++) f.policy.param_block[i] = f.base.param_block[i] * scale;
        learner_config(f.l)->entropy_floor = 1;
        Episode e;
        episode(&f, &e, "i am fine", 0);
        double gap = learner_episode_loss(f.l, &e, 0, 0, 1); /* sum max(0, H_ref - H) */
        model_zero_grad(&f.policy);
        learner_episode_gradient(f.l, &e, 0, 0, 1);
        double norm = 0;
        for (size_t i = 0; i < f.policy.num_params; i++)
            norm += (double)f.policy.grad_block[i] * f.policy.grad_block[i];
        if (!sharper) {
            CHECK(gap == 0 && norm == 0, "flatter policy: entropy gap %.3g, gradient norm %.3g (want 0)", gap,
                  sqrt(norm));
        } else {
            for (size_t i = 0; i < f.policy.num_params; i++) f.policy.param_block[i] -= 0.05f * f.policy.grad_block[i];
            double after = learner_episode_loss(f.l, &e, 0, 0, 1);
            CHECK(gap > 0.1 && after < gap, "sharper policy: entropy gap %.4f -> %.4f (want it positive, then smaller)",
                  gap, after);
        }
        episode_free(&e);
        fixture_free(&f);
    }
}

/* The history the informativeness term reads: the bigrams of the last rated replies, which
   an undone rating leaves. */
static void test_recent_overlap_counts_the_bigrams_of_the_last_rated_replies(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    Episode said, other;
    episode(&f, &said, "what music do you like?", 1);
    episode(&f, &other, "hi there, how are you?", 1);
    CHECK(learner_recent_overlap(f.l, said.tokens, said.n, 16) == 0, "a learner with no ratings finds an overlap");
    UpdateStats st;
    CHECK(learner_update(f.l, &said, &st) == 0, "update failed: %s", err_msg());
    float same = learner_recent_overlap(f.l, said.tokens, said.n, 16);
    float different = learner_recent_overlap(f.l, other.tokens, other.n, 16);
    CHECK(same == 1, "a repeated reply overlaps %.2f, not 1", same);
    CHECK(different < 0.5f, "a different reply overlaps %.2f", different);
    CHECK(learner_update(f.l, &other, &st) == 0, "update failed: %s", err_msg());
    CHECK(learner_recent_overlap(f.l, said.tokens, said.n, 1) < same, "the window of 1 still sees the older reply");
    CHECK(learner_undo(f.l) == 0 && learner_undo(f.l) == 0, "undo failed");
    CHECK(learner_recent_overlap(f.l, said.tokens, said.n, 16) == 0, "an undone rating is still in the history");
    episode_free(&said);
    episode_free(&other);
    fixture_free(&f);
}

/* The policy term's gradient of e under w, alone, into a new array (num_params). */
static float *ppo_pass_gradient(Fixture *f, PassScratch *ln, const Episode *e, float advantage, int ppo) {
    EpisodeJob j = {.e = e, .w = {.advantage = advantage, .ppo = ppo, .ppo_eps = 0.2f}};
    EpisodeJob *jobs[1] = {&j};
    model_zero_grad(&f->policy);
    pass_backward(ln, jobs, 1, 0, 1);
    float *g = xmalloc(f->policy.num_params * sizeof(float));
    memcpy(g, f->policy.grad_block, f->policy.num_params * sizeof(float));
    return g;
}

/* Replay's PPO term weighs each step by r = pi / mu, mu the distribution the token was
   drawn from (behaviour_lp): r = 1 is REINFORCE's gradient, mu e times pi scales it by
   1/e for a positive advantage and clips it to nothing for a negative one, and a
   TOK_EOT the sampler could not have drawn (mu = 0) counts as r = 1, not as infinite. */
static void test_ppo_ratio_is_taken_against_the_sampled_distribution(void) {
    Fixture f;
    fixture(&f, ALGO_FULL, 1e-3f);
    Episode e;
    episode(&f, &e, "rock, mostly.", 0);
    int T = e.n + 1, V = f.policy.config.vocab_size;
    float *own = xmalloc((size_t)T * sizeof(float)), *scratch = xmalloc((size_t)V * sizeof(float));
    StepState st;
    step_build(&st, &f.policy.config);
    step_copy(&st, &f.ctx, &f.policy.config);
    lstm_step(&f.policy, &st, TOK_BOT); /* the context is the state before the reply's TOK_BOT */
    for (int t = 0; t < T; t++) {
        int y = t < e.n ? e.tokens[t] : TOK_EOT;
        own[t] = log_softmax_at(st.logits, V, y, scratch);
        lstm_step(&f.policy, &st, y);
    }
    PassScratch ln;
    pass_build(&ln, &f.policy, &f.base);
    size_t np = f.policy.num_params;
    float *reinforce = ppo_pass_gradient(&f, &ln, &e, 0.8f, 0);
    e.behaviour_lp = xmalloc((size_t)T * sizeof(float));
    memcpy(e.behaviour_lp, own, (size_t)T * sizeof(float));
    float *same = ppo_pass_gradient(&f, &ln, &e, 0.8f, 1);
    for (int t = 0; t < T; t++) e.behaviour_lp[t] = own[t] + 1;
    float *wider = ppo_pass_gradient(&f, &ln, &e, 0.8f, 1), *clipped = ppo_pass_gradient(&f, &ln, &e, -0.8f, 1);
    memcpy(e.behaviour_lp, own, (size_t)T * sizeof(float));
    e.behaviour_lp[e.n] = -INFINITY;
    float *undrawn = ppo_pass_gradient(&f, &ln, &e, 0.8f, 1);
    for (size_t p = 0; p < np; p++) wider[p] *= expf(1);
    double max_clipped = 0;
    for (size_t p = 0; p < np; p++) max_clipped = fmax(max_clipped, fabsf(clipped[p]));
    CHECK(check_relative_gap(same, reinforce, np) < 1e-4, "r = 1: %.3g from REINFORCE",
          check_relative_gap(same, reinforce, np));
    CHECK(check_relative_gap(wider, reinforce, np) < 1e-4, "r = 1/e: %.3g from REINFORCE / e",
          check_relative_gap(wider, reinforce, np));
    CHECK(max_clipped == 0, "a clipped ratio still moves a weight by %.3g", max_clipped);
    CHECK(check_relative_gap(undrawn, reinforce, np) < 1e-4, "an undrawn TOK_EOT: %.3g from REINFORCE",
          check_relative_gap(undrawn, reinforce, np));
    free(reinforce), free(same), free(wider), free(clipped), free(undrawn), free(own), free(scratch);
    pass_free(&ln);
    step_free(&st);
    episode_free(&e);
    fixture_free(&f);
}

int main(void) {
    RUN(test_positive_reward_raises_and_negative_lowers_the_reply_logprob);
    RUN(test_kl_and_entropy_gradients_match_finite_differences);
    RUN(test_a_batch_gives_the_sum_of_its_episodes_gradients);
    RUN(test_ppo_ratio_is_taken_against_the_sampled_distribution);
    RUN(test_the_first_update_follows_the_gradients_size);
    RUN(test_undo_restores_the_weights_bit_for_bit);
    RUN(test_preference_raises_the_chosen_reply_over_the_rejected);
    RUN(test_preference_loss_is_finite_far_on_either_side);
    RUN(test_ppo_clip_zeroes_the_gradient_of_tokens_past_it);
    RUN(test_a_cut_reply_is_not_taught_to_end_where_it_was_cut);
    RUN(test_the_chooser_score_does_not_favour_length);
    RUN(test_replay_keeps_pushing_a_rewarded_reply);
    RUN(test_replay_stays_within_the_token_budget);
    RUN(test_candidates_move_by_their_leave_one_out_advantage);
    RUN(test_recent_overlap_counts_the_bigrams_of_the_last_rated_replies);
    RUN(test_undoing_a_preference_keeps_the_rated_reply_for_replay);
    RUN(test_self_imitation_replays_the_reply_that_beat_the_critic);
    RUN(test_penalty_lowers_the_blocked_reply_even_when_expected);
    RUN(test_value_head_converges_on_a_wide_saturated_state);
    RUN(test_entropy_floor_acts_only_on_a_policy_surer_than_the_base);
    RUN(test_nan_in_the_loss_rolls_back_and_learning_goes_on);
    RUN(test_a_rollback_leaves_the_whole_learner_as_it_was);
    return check_summary();
}
