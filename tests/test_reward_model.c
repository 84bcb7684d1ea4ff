/* test_reward_model: the kernel ridge regression that scores unseen replies fits a linear
   target from few examples, weighs blocks of features alike and keeps those that tell,
   says the mean when it knows too little, fits only the most recent examples, forgets
   exactly on undo, and survives a profile round trip (a missing section is an empty
   model, a malformed one is refused and changes nothing). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"
#include "rl/reward_model.h"
#include "tests/check.h"

#define D 24

static void random_x(Rng *r, float *x) {
    for (int d = 0; d < D; d++) x[d] = 2 * rng_float(r) - 1;
}

/* The target the tests fit: a fixed linear function plus an offset. */
static float target(const float *x) {
    double y = 0.5;
    for (int d = 0; d < D; d++) y += (d % 3 == 0 ? 0.3 : -0.1) * x[d];
    return (float)y;
}

/* Adds n examples at random points: the target's value there, or y when target is 0. */
static void add_random(RewardModel *m, Rng *r, int n, int use_target, float y) {
    float x[D];
    for (int i = 0; i < n; i++) random_x(r, x), reward_model_add(m, x, use_target ? target(x) : y);
}

#define FIRST 4 /* the features of the first block in the block tests */

/* The share of the target's variance (about its offset 0.5) that m leaves unexplained on
   200 new points, the first FIRST features multiplied by `first` as m's examples were. */
static double unexplained(const RewardModel *m, Rng *r, float (*target_of)(const float *), float first) {
    double err = 0, var = 0;
    float x[D];
    for (int i = 0; i < 200; i++) {
        random_x(r, x);
        float y = target_of(x);
        for (int d = 0; d < FIRST; d++) x[d] *= first;
        double e = reward_model_predict(m, x) - y, c = y - 0.5;
        err += e * e, var += c * c;
    }
    return err / var;
}

static void test_fits_a_linear_target_from_few_examples(void) {
    RewardModel m;
    reward_model_build(&m, D, 32, 4, 0.01f);
    Rng r;
    rng_seed(&r, 3);
    add_random(&m, &r, 32, 1, 0);
    double e = unexplained(&m, &r, target, 1);
    /* 32 examples in 24 dimensions: a near-exact fit, far better than the mean (ratio 1). */
    CHECK(e < 0.05, "unexplained variance on new points %.3f of the target's", e);
    reward_model_free(&m);
}

/* The block tests' target: the first 4 features alone, the other 20 noise to it. */
static float target_of_first(const float *x) { return 0.5f + 0.4f * x[0] - 0.3f * x[1] + 0.2f * x[2] + 0.1f * x[3]; }

/* Split into blocks, the features of each have the same say whatever their scale (a block
   a thousand times larger predicts the same), and from 12 examples the fit keeps the
   block that tells the target, which predicts new points better than one block of all 24
   features, where the noise shares the say. */
static void test_blocks_have_equal_say_and_the_fit_keeps_the_one_that_tells(void) {
    int ends[2] = {FIRST, D};
    RewardModel blocks, scaled, whole;
    reward_model_build(&blocks, D, 16, 0, 0.1f), reward_model_build(&scaled, D, 16, 0, 0.1f), reward_model_build(&whole, D, 16, 0, 0.1f);
    reward_model_set_blocks(&blocks, 2, ends), reward_model_set_blocks(&scaled, 2, ends);
    Rng r;
    rng_seed(&r, 21);
    for (int i = 0; i < 12; i++) {
        float x[D];
        random_x(&r, x);
        float y = target_of_first(x);
        reward_model_add(&blocks, x, y), reward_model_add(&whole, x, y);
        for (int d = 0; d < FIRST; d++) x[d] *= 1000;
        reward_model_add(&scaled, x, y);
    }
    CHECK(blocks.blocks_used == 1 && scaled.blocks_used == 1, "blocks used: %u and, scaled, %u (1: the first)",
          blocks.blocks_used, scaled.blocks_used);
    Rng a, b;
    rng_seed(&a, 5), rng_seed(&b, 5);
    double e_blocks = unexplained(&blocks, &a, target_of_first, 1);
    double e_scaled = unexplained(&scaled, &b, target_of_first, 1000);
    CHECK(fabs(e_blocks - e_scaled) < 1e-3 * e_blocks + 1e-6, "unexplained %.6f, the first block scaled %.6f",
          e_blocks, e_scaled);
    rng_seed(&a, 5);
    double e_whole = unexplained(&whole, &a, target_of_first, 1);
    CHECK(e_blocks < 0.5 * e_whole, "unexplained: %.3f with blocks, %.3f as one", e_blocks, e_whole);
    reward_model_free(&blocks), reward_model_free(&scaled), reward_model_free(&whole);
}

static void test_with_too_few_examples_it_says_the_mean(void) {
    RewardModel m;
    reward_model_build(&m, D, 8, 0, 1.0f);
    float x[D] = {0}, other[D];
    for (int d = 0; d < D; d++) other[d] = (float)d;
    CHECK(reward_model_predict(&m, other) == 0, "an empty model guessed %.3f", reward_model_predict(&m, other));
    reward_model_add(&m, x, 0.75f);
    CHECK(reward_model_predict(&m, other) == 0.75f, "one example of 0.75: guessed %.3f", reward_model_predict(&m, other));
    reward_model_free(&m);
}

/* cap 4: after four examples of 0 and four of 1, only the 1s are fitted. */
static void test_fits_only_the_most_recent_examples(void) {
    RewardModel m;
    reward_model_build(&m, D, 4, 4, 1.0f);
    Rng r;
    rng_seed(&r, 5);
    add_random(&m, &r, 4, 0, 0), add_random(&m, &r, 4, 0, 1);
    float x[D];
    random_x(&r, x);
    CHECK(fabsf(reward_model_predict(&m, x) - 1) < 1e-4f, "guessed %.4f with only 1s in the window", reward_model_predict(&m, x));
    reward_model_free(&m);
}

/* After add then pop the predictions are bit for bit what they were, also when the add
   pushed the oldest example out of the fitted window (the spare slots keep it). */
static void test_pop_restores_the_fit_exactly(void) {
    RewardModel m;
    reward_model_build(&m, D, 6, 2, 0.1f);
    Rng r;
    rng_seed(&r, 7);
    float probe[D];
    random_x(&r, probe);
    add_random(&m, &r, 9, 1, 0);
    float before = reward_model_predict(&m, probe);
    add_random(&m, &r, 2, 0, -5);
    CHECK(reward_model_predict(&m, probe) != before, "two new examples changed nothing");
    CHECK(reward_model_pop(&m) == 0 && reward_model_pop(&m) == 0, "pop refused");
    CHECK(reward_model_predict(&m, probe) == before, "after two pops: %.6f, before the adds %.6f", reward_model_predict(&m, probe), before);
    reward_model_clear(&m);
    CHECK(reward_model_pop(&m) != 0, "pop of an empty model succeeded");
    reward_model_free(&m);
}

/* The closed-form leave-one-out R^2 against refitting without each example in turn, on a
   noisy target it can half predict; and 0 when the targets are noise. */
static void test_leave_one_out_fit_quality_matches_refitting(void) {
    enum { N = 40 };
    float xs[N][D], ys[N];
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < N; i++) random_x(&r, xs[i]), ys[i] = target(xs[i]) + 0.6f * (rng_float(&r) - 0.5f);
    RewardModel all;
    reward_model_build(&all, D, N, 0, 0.1f);
    for (int i = 0; i < N; i++) reward_model_add(&all, xs[i], ys[i]);
    double residual = 0, spread = 0, mean = 0;
    for (int i = 0; i < N; i++) mean += ys[i] / N;
    for (int i = 0; i < N; i++) {
        RewardModel rest;
        reward_model_build(&rest, D, N, 0, 0.1f);
        for (int j = 0; j < N; j++)
            if (j != i) reward_model_add(&rest, xs[j], ys[j]);
        double e = reward_model_predict(&rest, xs[i]) - ys[i];
        residual += e * e, spread += (ys[i] - mean) * (ys[i] - mean);
        reward_model_free(&rest);
    }
    double refit = 1 - residual / spread;
    CHECK(refit > 0.2 && fabs(all.loo_r2 - refit) < 0.1, "leave-one-out R^2: closed form %.3f, refitting %.3f",
          all.loo_r2, refit);
    reward_model_clear(&all);
    for (int i = 0; i < N; i++) reward_model_add(&all, xs[i], rng_float(&r) - 0.5f);
    CHECK(all.loo_r2 < 0.1, "R^2 on noise targets: %.3f", all.loo_r2);
    reward_model_free(&all);
}

static int open_buf(CkptFile *f, Buf *b) {
    ckpt_finish(b);
    int rc = ckpt_open_memory(f, "test", b->data, b->len);
    buf_free(b);
    return rc;
}

static void test_round_trip_and_bad_sections(void) {
    RewardModel m, back;
    reward_model_build(&m, D, 8, 2, 0.1f);
    reward_model_build(&back, D, 8, 2, 0.1f);
    Rng r;
    rng_seed(&r, 9);
    float probe[D];
    random_x(&r, probe);
    add_random(&m, &r, 12, 1, 0); /* the ring has wrapped */
    Buf b = {0};
    ckpt_begin(&b);
    reward_model_save(&m, &b);
    CkptFile f;
    CHECK(open_buf(&f, &b) == 0, "reopening: %s", err_msg());
    CHECK(reward_model_load(&back, &f) == 0, "loading: %s", err_msg());
    CHECK(reward_model_predict(&back, probe) == reward_model_predict(&m, probe), "loaded model guesses %.6f, saved one %.6f",
          reward_model_predict(&back, probe), reward_model_predict(&m, probe));
    ckpt_close(&f);

    /* A section saved for another width is refused and the model is left as it was. */
    RewardModel wide;
    reward_model_build(&wide, D + 1, 8, 2, 0.1f);
    float xw[2][D + 1] = {{1}, {0, 1}};
    reward_model_add(&wide, xw[0], 1), reward_model_add(&wide, xw[1], 2);
    ckpt_begin(&b);
    reward_model_save(&wide, &b);
    CHECK(open_buf(&f, &b) == 0, "reopening: %s", err_msg());
    float kept = reward_model_predict(&back, probe);
    CHECK(reward_model_load(&back, &f) != 0, "a section of another width was accepted");
    CHECK(reward_model_predict(&back, probe) == kept, "a refused load changed the model");
    ckpt_close(&f);

    /* A profile from before the section existed loads as an empty model. */
    ckpt_begin(&b);
    CHECK(open_buf(&f, &b) == 0, "reopening: %s", err_msg());
    CHECK(reward_model_load(&back, &f) == 0 && back.count == 0, "a file without the section: %d examples", back.count);
    ckpt_close(&f);
    reward_model_free(&wide), reward_model_free(&back), reward_model_free(&m);
}

int main(void) {
    RUN(test_fits_a_linear_target_from_few_examples);
    RUN(test_with_too_few_examples_it_says_the_mean);
    RUN(test_fits_only_the_most_recent_examples);
    RUN(test_pop_restores_the_fit_exactly);
    RUN(test_leave_one_out_fit_quality_matches_refitting);
    RUN(test_blocks_have_equal_say_and_the_fit_keeps_the_one_that_tells);
    RUN(test_round_trip_and_bad_sections);
    return check_summary();
}
