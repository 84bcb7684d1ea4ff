/* test_sampler: argmax at temperature 0, truncation, masking, penalties, determinism. */
#include <math.h>
#include <string.h>

#include "model/sampler.h"
#include "model/util.h"
#include "tests/check.h"

#define V 300

static void fill(float *logits) {
    for (int v = 0; v < V; v++) logits[v] = -(float)v * 0.01f; /* id 0 most likely */
    logits[42] = 5.0f;
    logits[7] = 4.0f;
}

static void test_temperature_zero_is_argmax(void) {
    Sampler s;
    sampler_build(&s, V);
    float logits[V];
    fill(logits);
    SamplerConfig c = {.temperature = 0, .top_p = 1};
    CHECK(sampler_sample(&s, &c, logits, NULL, 0, NULL, 0.99f, NULL) == 42, "argmax not chosen");
    sampler_free(&s);
}

static void test_masked_tokens_are_never_sampled(void) {
    Sampler s;
    sampler_build(&s, V);
    uint8_t mask[V] = {0};
    mask[42] = mask[7] = 1;
    SamplerConfig c = {.temperature = 1.5f, .top_p = 1};
    Rng r;
    rng_seed(&r, 3);
    int hits = 0;
    for (int i = 0; i < 2000; i++) {
        float logits[V];
        fill(logits);
        int id = sampler_sample(&s, &c, logits, NULL, 0, mask, rng_float(&r), NULL);
        hits += id == 42 || id == 7;
    }
    CHECK(hits == 0, "masked tokens sampled %d times", hits);
    sampler_free(&s);
}

static void test_top_k_one_and_tiny_top_p_pick_the_best(void) {
    Sampler s;
    sampler_build(&s, V);
    float logits[V];
    SamplerConfig k1 = {.temperature = 1, .top_k = 1, .top_p = 1};
    SamplerConfig p = {.temperature = 1, .top_p = 0.01f};
    for (int i = 0; i < 50; i++) {
        fill(logits);
        CHECK(sampler_sample(&s, &k1, logits, NULL, 0, NULL, i / 50.0f, NULL) == 42, "top-k 1 broke");
        fill(logits);
        CHECK(sampler_sample(&s, &p, logits, NULL, 0, NULL, i / 50.0f, NULL) == 42, "top-p 0.01 broke");
    }
    SamplerConfig k2 = {.temperature = 1, .top_k = 2, .top_p = 1};
    int seen_other = 0;
    for (int i = 0; i < 100; i++) {
        fill(logits);
        int id = sampler_sample(&s, &k2, logits, NULL, 0, NULL, i / 100.0f, NULL);
        CHECK(id == 42 || id == 7, "top-k 2 sampled id %d", id);
        seen_other |= id == 7;
    }
    CHECK(seen_other, "top-k 2 never sampled the second token");
    sampler_free(&s);
}

static void test_repetition_penalty_lowers_recent_tokens(void) {
    Sampler s;
    sampler_build(&s, V);
    float logits[V];
    fill(logits);
    int32_t recent[3] = {42, 42, 42};
    SamplerConfig c = {.temperature = 0, .top_p = 1, .repetition_penalty = 2.0f};
    CHECK(sampler_sample(&s, &c, logits, recent, 3, NULL, 0.5f, NULL) == 7, "penalised token still argmax");
    CHECK(fabsf(logits[42] - 2.5f) < 1e-6f, "penalty applied more than once: %g", logits[42]);
    sampler_free(&s);
}

static void test_sampling_follows_the_distribution_and_is_seeded(void) {
    Sampler s;
    sampler_build(&s, V);
    SamplerConfig c = {.temperature = 1, .top_p = 1};
    Rng r1, r2;
    rng_seed(&r1, 9);
    rng_seed(&r2, 9);
    int count42 = 0, same = 1;
    for (int i = 0; i < 4000; i++) {
        float a[V], b[V];
        fill(a);
        fill(b);
        int x = sampler_sample(&s, &c, a, NULL, 0, NULL, rng_float(&r1), NULL);
        int y = sampler_sample(&s, &c, b, NULL, 0, NULL, rng_float(&r2), NULL);
        same &= x == y;
        count42 += x == 42;
    }
    float logits[V];
    fill(logits);
    double z = 0;
    for (int v = 0; v < V; v++) z += exp(logits[v]);
    double expect = exp(5.0) / z, got = count42 / 4000.0;
    CHECK(fabs(got - expect) < 0.03, "frequency %.3f, probability %.3f", got, expect);
    CHECK(same, "same seed gave different samples");
    sampler_free(&s);
}

int main(void) {
    RUN(test_temperature_zero_is_argmax);
    RUN(test_masked_tokens_are_never_sampled);
    RUN(test_top_k_one_and_tiny_top_p_pick_the_best);
    RUN(test_repetition_penalty_lowers_recent_tokens);
    RUN(test_sampling_follows_the_distribution_and_is_seeded);
    return check_summary();
}
