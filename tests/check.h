/* check: the whole test framework. CHECK counts a failure and says where; each test binary
   ends with check_summary(), whose last line is "N passed, N failed" and whose return value
   is the exit status (non-zero when anything failed). */
#ifndef RLCHAT_CHECK_H
#define RLCHAT_CHECK_H

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

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
