/* parallel: splits a loop over [0, n) between the calling thread and one helper thread,
   for the memory-bound whole-model passes (Adam, snapshots, zeroing) that one core cannot
   saturate. The machine this targets has two cores; small n runs on the caller alone. */
#ifndef RLCHAT_PARALLEL_H
#define RLCHAT_PARALLEL_H

#include <stddef.h>

typedef void (*RangeFn)(void *ctx, size_t begin, size_t end);

/* Calls fn(ctx, begin, end) on disjoint ranges covering [0, n); returns when all are done. */
void parallel_for(size_t n, RangeFn fn, void *ctx);
/* memcpy of n floats, split the same way. */
void parallel_copy(float *dst, const float *src, size_t n);

#endif
