/* common: see common.h. */
#include "bench/common.h"

#include <stdlib.h>

#include "model/util.h"

Config bench_shape(void) {
    Config c = {.vocab_size = 4096, .embed_dim = 256, .hidden_dim = 512, .num_layers = 2};
    return c;
}

TrainConfig bench_train_config(void) {
    TrainConfig tc = {.batch = BENCH_BATCH, .seq = BENCH_SEQ, .lr = 1e-3f, .lr_min_frac = 0.1f, .warmup = 10,
                      .clip = 1, .total_steps = 1000};
    return tc;
}

int32_t *bench_train_tokens(int vocab_size, int steps, size_t *n) {
    *n = (size_t)BENCH_BATCH * (BENCH_SEQ * (steps + 2) + 1);
    int32_t *tokens = xmalloc(*n * sizeof(int32_t));
    Rng r;
    rng_seed(&r, 2);
    for (size_t i = 0; i < *n; i++) tokens[i] = (int32_t)(rng_u32(&r) % (uint32_t)vocab_size);
    return tokens;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    int i = (int)(n * q);
    return v[i < n ? i : n - 1];
}
