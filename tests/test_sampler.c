/* test_sampler: argmax at temperature 0, truncation (against a sorted reference), masking,
   penalties, determinism, min-p, the word temperature, and sampler_prob. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/fastmath.h"
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

/* The reference for the nucleus: sort everything, keep the top k, then the shortest
   prefix whose mass reaches p (the definition the quickselect must reproduce). */
static const double *ref_p;
static int ref_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (ref_p[x] != ref_p[y]) return ref_p[x] < ref_p[y] ? 1 : -1;
    return x - y;
}

static void test_nucleus_matches_a_sorted_reference(void) {
    Sampler s;
    sampler_build(&s, V);
    Rng r;
    rng_seed(&r, 21);
    int checked = 0, wrong_set = 0, wrong_prob = 0;
    for (int trial = 0; trial < 60; trial++) {
        float logits[V], work[V];
        double p[V], z = 0;
        float spread = 0.5f + 4.0f * rng_float(&r);
        for (int v = 0; v < V; v++) logits[v] = spread * (rng_float(&r) - 0.5f);
        if (trial % 3 == 0) /* ties */
            for (int v = 0; v < V; v += 7) logits[v] = 1.0f;
        SamplerConfig c = {.temperature = 1, .top_p = trial % 4 == 3 ? 1 : 0.2f + 0.75f * rng_float(&r),
                           .top_k = trial % 5 == 1 ? 1 + (int)(rng_u32(&r) % 40) : 0};
        /* The probabilities as the sampler computes them (its own exp), for the reference. */
        float top = logits[0];
        for (int v = 1; v < V; v++) top = logits[v] > top ? logits[v] : top;
        for (int v = 0; v < V; v++) z += (p[v] = fast_expf(logits[v] - top));
        for (int v = 0; v < V; v++) p[v] /= z;
        int order[V];
        for (int v = 0; v < V; v++) order[v] = v;
        ref_p = p;
        qsort(order, V, sizeof(int), ref_desc);
        int keep = c.top_k > 0 ? c.top_k : V;
        double mass = 0;
        if (c.top_p < 1)
            for (int i = 0; i < keep; i++)
                if ((mass += p[order[i]]) >= c.top_p - 1e-6) {
                    keep = i + 1;
                    break;
                }
        uint8_t in_nucleus[V] = {0};
        double kept_mass = 0;
        for (int i = 0; i < keep; i++) in_nucleus[order[i]] = 1, kept_mass += p[order[i]];
        /* Coins across [0, 1): every sample must be in the nucleus with its renormalised
           probability, and every nucleus member must come up. */
        int seen[V] = {0};
        for (int i = 0; i < 4000; i++) {
            memcpy(work, logits, sizeof work);
            float prob;
            int id = sampler_sample(&s, &c, work, NULL, 0, NULL, (i + 0.5f) / 4000, &prob);
            wrong_set += !in_nucleus[id];
            wrong_prob += fabs(prob - p[id] / kept_mass) > 1e-4;
            seen[id]++;
            checked++;
        }
        for (int v = 0; v < V; v++)
            if (in_nucleus[v] && p[v] / kept_mass > 2.0 / 4000) wrong_set += !seen[v];
    }
    CHECK(wrong_set == 0, "%d samples outside the reference nucleus (or members never drawn)", wrong_set);
    CHECK(wrong_prob == 0, "%d reported probabilities off", wrong_prob);
    CHECK(checked == 240000, "ran %d samples", checked);
    sampler_free(&s);
}


/* sampler_prob gives the probability sampler_sample draws with, for every id. */
static void test_sampler_prob_is_the_draws_probability(void) {
    Sampler s;
    sampler_build(&s, V);
    Rng r;
    rng_seed(&r, 5);
    uint8_t within[V];
    for (int v = 0; v < V; v++) within[v] = v % 3 == 0;
    int wrong = 0, bad_sum = 0;
    for (int trial = 0; trial < 40; trial++) {
        float logits[V], work[V];
        for (int v = 0; v < V; v++) logits[v] = 3.0f * (rng_float(&r) - 0.5f);
        SamplerConfig c = {.temperature = 0.5f + rng_float(&r), .top_p = trial % 2 ? 0.9f : 1, .min_p = trial % 3 ? 0.05f : 0,
                           .repetition_penalty = 1, .word_temperature = trial % 4 ? 0.6f : 0};
        s.within = trial % 5 ? within : NULL;
        double total = 0;
        for (int v = 0; v < V; v++) {
            memcpy(work, logits, sizeof work);
            total += sampler_prob(&s, &c, work, NULL, 0, NULL, v);
        }
        bad_sum += fabs(total - 1) > 1e-4;
        for (int i = 0; i < 50; i++) {
            float prob;
            memcpy(work, logits, sizeof work);
            int id = sampler_sample(&s, &c, work, NULL, 0, NULL, (i + 0.5f) / 50, &prob);
            memcpy(work, logits, sizeof work);
            wrong += sampler_prob(&s, &c, work, NULL, 0, NULL, id) != prob;
        }
    }
    CHECK(wrong == 0, "%d draws whose probability sampler_prob does not give", wrong);
    CHECK(bad_sum == 0, "%d distributions do not sum to 1", bad_sum);
    s.within = NULL;
    sampler_free(&s);
}

static void test_min_p_keeps_the_tokens_near_the_likeliest(void) {
    Sampler s;
    sampler_build(&s, V);
    float logits[V], work[V];
    fill(logits); /* 42: e^5, 7: e^4, the rest near 1 */
    SamplerConfig c = {.temperature = 1, .top_p = 1, .min_p = 0.3f};
    int kept = 0;
    for (int v = 0; v < V; v++) {
        memcpy(work, logits, sizeof work);
        kept += sampler_prob(&s, &c, work, NULL, 0, NULL, v) > 0;
    }
    memcpy(work, logits, sizeof work);
    float p7 = sampler_prob(&s, &c, work, NULL, 0, NULL, 7);
    CHECK(kept == 2, "min-p 0.3 kept %d tokens, not 42 and 7", kept);
    CHECK(fabsf(p7 - 1 / (1 + expf(1))) < 1e-5f, "token 7 has %g after renormalising", p7);
    sampler_free(&s);
}

/* The tokens that go on with a word keep, as a group, the mass the temperature gives
   them; inside the group the word temperature sets the odds. */
static void test_word_temperature_keeps_the_groups_mass(void) {
    Sampler s;
    sampler_build(&s, V);
    float logits[V], work[V];
    uint8_t within[V] = {0};
    for (int v = 0; v < V; v++) logits[v] = (float)(v % 7) * 0.3f;
    within[10] = within[11] = within[12] = 1;
    SamplerConfig plain = {.temperature = 1, .top_p = 1}, word = plain;
    word.word_temperature = 0.25f;
    double group_plain = 0, group_word = 0, p[3];
    for (int k = 0; k < 3; k++) {
        memcpy(work, logits, sizeof work);
        s.within = NULL;
        group_plain += sampler_prob(&s, &plain, work, NULL, 0, NULL, 10 + k);
        memcpy(work, logits, sizeof work);
        s.within = within;
        group_word += (p[k] = sampler_prob(&s, &word, work, NULL, 0, NULL, 10 + k));
    }
    CHECK(fabs(group_plain - group_word) < 1e-6, "the group's mass moved: %g against %g", group_word, group_plain);
    double want = exp((logits[12] - logits[11]) / 0.25);
    CHECK(fabs(p[2] / p[1] - want) < 1e-3 * want, "odds %g inside the group, not %g", p[2] / p[1], want);
    s.within = NULL;
    sampler_free(&s);
}

int main(void) {
    RUN(test_temperature_zero_is_argmax);
    RUN(test_masked_tokens_are_never_sampled);
    RUN(test_top_k_one_and_tiny_top_p_pick_the_best);
    RUN(test_repetition_penalty_lowers_recent_tokens);
    RUN(test_sampling_follows_the_distribution_and_is_seeded);
    RUN(test_nucleus_matches_a_sorted_reference);
    RUN(test_sampler_prob_is_the_draws_probability);
    RUN(test_min_p_keeps_the_tokens_near_the_likeliest);
    RUN(test_word_temperature_keeps_the_groups_mass);
    return check_summary();
}
