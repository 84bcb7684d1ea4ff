/* test_tilt: the tilted policy's rate, the tilt that gives a rate, and its KL to the base,
   against their definitions. */
#include <math.h>

#include "app/sim/tilt.h"
#include "tests/check.h"

static const float P[] = {0.0f, 0.02f, 0.1f, 0.5f, 0.9f};
#define N ((int)(sizeof P / sizeof *P))

static void test_no_tilt_is_the_base(void) {
    float w[N];
    float rate = tilt_rate(P, N, 0, w);
    CHECK(fabsf(rate - (0.0f + 0.02f + 0.1f + 0.5f + 0.9f) / N) < 1e-6f, "rate %.6f at c = 0", rate);
    for (int i = 0; i < N; i++) CHECK(w[i] == P[i], "w %.6f for p %.6f at c = 0", w[i], P[i]);
    CHECK(fabsf(tilt_kl(P, w, N, 0)) < 1e-7f, "KL %.3g at c = 0", tilt_kl(P, w, N, 0));
}

static void test_the_tilt_found_gives_the_rate(void) {
    float w[N], last = -1;
    for (float c = 0; c <= 10; c += 0.5f) {
        float rate = tilt_rate(P, N, c, w);
        CHECK(rate > last, "the rate does not rise with c: %.4f then %.4f at %.1f", last, rate, c);
        last = rate;
    }
    for (float rate = 0.35f; rate < 0.79f; rate += 0.1f) {
        float c = tilt_for_rate(P, N, rate, 30, w);
        float got = tilt_rate(P, N, c, w);
        CHECK(c > 0 && fabsf(got - rate) < 1e-5f, "tilt %.4f gives %.6f, not %.6f", c, got, rate);
    }
    /* The message whose base never gives a liked reply stays at 0: at most 4/5. */
    CHECK(tilt_for_rate(P, N, 0.81f, 30, w) == -1, "a rate over 4/5 reached");
}

/* The tilted policy gives every liked reply e^c / Z times its base probability and every
   other 1 / Z times, so its KL is that of the two-point distributions (w, 1 - w) against
   (p, 1 - p). */
static void test_kl_is_the_two_point_kl(void) {
    float w[N];
    for (float c = 0.5f; c <= 6; c += 1.1f) {
        tilt_rate(P, N, c, w);
        double want = 0;
        for (int i = 0; i < N; i++) {
            if (P[i] == 0) continue; /* w = 0: 0 log 0 + 1 log 1 */
            want += w[i] * log(w[i] / P[i]) + (1 - w[i]) * log((1 - w[i]) / (1 - P[i]));
        }
        want /= N;
        float kl = tilt_kl(P, w, N, c);
        CHECK(fabs(kl - want) < 1e-5 * (1 + want) && kl > 0, "KL %.6f against %.6f at c = %.1f", kl, want, c);
    }
}

int main(void) {
    RUN(test_no_tilt_is_the_base);
    RUN(test_the_tilt_found_gives_the_rate);
    RUN(test_kl_is_the_two_point_kl);
    return check_summary();
}
