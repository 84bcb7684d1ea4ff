/* parallel: see parallel.h. A thread per call costs tens of microseconds, against
   milliseconds of work on the sizes this is used for. */
#include "parallel.h"

#include <pthread.h>
#include <string.h>

#define MIN_SPLIT (1 << 16) /* below this, one thread is faster than starting another */

typedef struct {
    RangeFn fn;
    void *ctx;
    size_t begin, end;
} Range;

static void *run_range(void *arg) {
    Range *r = arg;
    r->fn(r->ctx, r->begin, r->end);
    return NULL;
}

void parallel_for(size_t n, RangeFn fn, void *ctx) {
    pthread_t helper;
    size_t half = n / 2 & ~(size_t)15; /* keep chunks aligned to 64 bytes of floats */
    Range second = {fn, ctx, half, n};
    if (n < MIN_SPLIT || pthread_create(&helper, NULL, run_range, &second) != 0) {
        fn(ctx, 0, n);
        return;
    }
    fn(ctx, 0, half);
    pthread_join(helper, NULL);
}

typedef struct {
    float *dst;
    const float *src;
} CopyJob;

static void copy_range(void *ctx, size_t begin, size_t end) {
    CopyJob *j = ctx;
    memcpy(j->dst + begin, j->src + begin, (end - begin) * sizeof(float));
}

void parallel_copy(float *dst, const float *src, size_t n) {
    CopyJob j = {dst, src};
    parallel_for(n, copy_range, &j);
}
