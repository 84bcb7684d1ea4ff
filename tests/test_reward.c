/* test_reward: the reward's terms point the right way and stay in [-1, 1]: stars map onto
   [-1, 1], fluency follows the base model's log-probability, standardising centres a
   profile's habitual rating, informativeness ranks empty, looping and stock replies below
   an ordinary one, and the total is the weighted sum of clipped terms. */
#include <math.h>
#include <string.h>

#include "rl/reward.h"
#include "tests/check.h"

static void test_stars_map_onto_minus_one_to_one(void) {
    float want[7] = {-1, -1, -0.5f, 0, 0.5f, 1, 1}; /* stars 0..6: out of range is clamped */
    for (int s = 0; s <= 6; s++)
        CHECK(human_from_stars(s) == want[s], "%d stars -> %g, want %g", s, human_from_stars(s), want[s]);
}

/* A user who rates everything good still tells good from usual: after many +1s a +1 is
   worth little and a -1 a lot. */
static void test_standardising_centres_a_habitual_rating(void) {
    RunningStat st;
    running_stat_init(&st);
    float first = human_standardised(&st, 1);
    for (int i = 0; i < 30; i++) human_standardised(&st, 1);
    RunningStat keep = st;
    float usual = human_standardised(&st, 1), rare = human_standardised(&keep, -1);
    CHECK(first > 0.9f, "the first +1 is worth %g (the prior keeps it near its raw value)", first);
    CHECK(usual < 0.3f && rare == -1, "after 30 good ratings: +1 -> %g, -1 -> %g", usual, rare);
}

/* Base-model fluency: about -2.5 nats a token is a fluent reply, -6 gibberish. */
static void test_fluency_maps_the_base_log_probability_onto_minus_one_to_one(void) {
    CHECK(fluency_from_logprob(-6) == -1 && fluency_from_logprob(-1) == 1, "ends: %g, %g", fluency_from_logprob(-6),
          fluency_from_logprob(-1));
    CHECK(fluency_from_logprob(-2.5f) > fluency_from_logprob(-4.5f), "a likelier reply is not more fluent");
    CHECK(fluency_from_logprob(-20) == -1 && fluency_from_logprob(0) == 1, "not clipped to [-1, 1]");
}

static void test_informativeness_ranks_empty_looping_stock_and_repeated_replies_lower(void) {
    int32_t ordinary[8] = {10, 11, 12, 13, 14, 15, 16, 17}, looping[8] = {10, 11, 10, 11, 10, 11, 10, 11};
    int32_t ok[1] = {20};
    const char *hiking = "i went hiking with my dog last weekend";
    float fine = informativeness_score(ordinary, 8, hiking, 0);
    CHECK(informativeness_score(ordinary, 0, "", 0) == -1, "an empty reply is not -1");
    CHECK(informativeness_score(looping, 8, "la la la la la la la la", 0) < fine - 0.5f,
          "a looping reply is not lower");
    CHECK(informativeness_score(ok, 1, "Okay.", 0) < fine - 0.5f, "a stock reply is not lower");
    /* The same reply, when the last replies already held all or some of its bigrams. */
    float said_before = informativeness_score(ordinary, 8, hiking, 1);
    float partly = informativeness_score(ordinary, 8, hiking, 0.3f);
    CHECK(said_before < fine - 0.5f, "a reply said before is not lower: %.2f against %.2f", said_before, fine);
    CHECK(said_before < partly && partly < fine, "not monotone in the repeated fraction: %.2f, %.2f, %.2f", fine,
          partly, said_before);
}

static void test_total_is_the_weighted_sum_of_clipped_terms(void) {
    RewardTerms t = {.human = 3, .fluency = -0.5f, .relevance = 0.25f, .informativeness = -7, .safety = 0};
    RewardWeights w = reward_default_weights();
    reward_combine(&t, &w);
    float want = w.human * 1 + w.fluency * -0.5f + w.relevance * 0.25f + w.informativeness * -1 + w.safety * 0;
    CHECK(t.human == 1 && t.informativeness == -1, "terms not clipped: human %g, informativeness %g", t.human,
          t.informativeness);
    CHECK(fabsf(t.total - want) < 1e-6f, "total %g, want %g", t.total, want);
}

int main(void) {
    RUN(test_stars_map_onto_minus_one_to_one);
    RUN(test_standardising_centres_a_habitual_rating);
    RUN(test_fluency_maps_the_base_log_probability_onto_minus_one_to_one);
    RUN(test_informativeness_ranks_empty_looping_stock_and_repeated_replies_lower);
    RUN(test_total_is_the_weighted_sum_of_clipped_terms);
    return check_summary();
}
