/* common: what the benchmarks share, so that they measure the same thing: the shape the
   model-core issue fixes for comparison (V4096 E256 H512 L2, batch B32 x T64), its
   training set-up on random tokens, and order statistics of timings. */
#ifndef RLCHAT_BENCH_COMMON_H
#define RLCHAT_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "model/lstm.h"
#include "model/trainer.h"

#define BENCH_BATCH 32 /* B */
#define BENCH_SEQ 64   /* T */

Config bench_shape(void);
TrainConfig bench_train_config(void);
/* Random tokens, enough for `steps` training steps plus a warm-up at B x T (*n gets the
   count); the caller frees them. */
int32_t *bench_train_tokens(int vocab_size, int steps, size_t *n);
/* Sorts v (n timings) and returns the q-quantile, v[n * q]: q = 0.5 the median, 0.95 p95. */
double bench_quantile(double *v, int n, double q);

#endif
