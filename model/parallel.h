/* parallel: splits a loop over [0, n) between the calling thread and one helper thread,
   for the memory-bound whole-model passes (Adam, snapshots, zeroing) that one core cannot
   saturate. The machine this targets has two cores; small n runs on the caller alone. */
#ifndef RLCHAT_PARALLEL_H
#define RLCHAT_PARALLEL_H

#include <stddef.h>

typedef void (*RangeFn)(void *ctx, size_t begin, size_t end);

/* The cores this process may run on (its CPU affinity), counted once. With one, nothing
   below starts a thread and OpenBLAS is held to one thread: a second thread would only
   take turns with the first. */
int parallel_cores(void);

/* Calls fn(ctx, begin, end) on disjoint ranges covering [0, n); returns when all are done. */
void parallel_for(size_t n, RangeFn fn, void *ctx);
/* memcpy of n floats, split the same way. */
void parallel_copy(float *dst, const float *src, size_t n);
/* Calls fn(ctx, part, 2) on the calling thread (part 0) and on a helper thread that
   stays alive between calls (part 1); returns when both are done. For work made of
   short phases, such as a generation step (three phases of tens of microseconds),
   where starting a thread per call would cost as much as the work. Calls from several
   threads take turns. Inside fn, team_barrier() waits until both parts reach it. */
#define TEAM_PARTS 2 /* the caller and the helper */
typedef void (*PartFn)(void *ctx, int part, int parts);
void parallel_team(PartFn fn, void *ctx);
void team_barrier(void);
/* team_barrier() when there is a team to wait for (parts > 1): a function written as one
   part of `parts` runs alone with parts = 1, where there is no other part to meet. */
void team_meet(int parts);
/* Part `part`'s share [*begin, *end) of [0, n) split into `parts`, on multiples of 4 (so
   that rows and units stay aligned for the vector loops). */
void part_range(int n, int part, int parts, int *begin, int *end);

/* Holds OpenBLAS to one thread for the rest of the process. For a process that splits its
   work between the cores itself: after a threaded call OpenBLAS's threads spin for up to
   a tenth of a second, and a team's parts running meanwhile lose their cores to them. */
void parallel_blas_serial(void);

#endif
