/* check: the whole test framework. CHECK counts a failure and says where; each test binary
   ends with check_summary(), whose last line is "N passed, N failed" and whose return value
   is the exit status (non-zero when anything failed). */
#ifndef RLCHAT_CHECK_H
#define RLCHAT_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

static int check_passed = 0, check_failed = 0;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            check_passed++;                                                     \
        } else {                                                                \
            check_failed++;                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

/* Runs one test function, naming it so a failure is easy to place. */
#define RUN(test)                                                               \
    do {                                                                        \
        int before = check_failed;                                              \
        test();                                                                 \
        printf("%s %s\n", check_failed == before ? "ok  " : "FAIL", #test);     \
    } while (0)

/* Largest |x - y| over n floats, relative to the largest |y|: how far two computations of
   the same array (a gradient made two ways) are apart. */
static inline double check_relative_gap(const float *x, const float *y, size_t n) {
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - y[i]);
        worst = d > worst ? d : worst;
        scale = fabs(y[i]) > scale ? fabs(y[i]) : scale;
    }
    return worst / scale;
}

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
