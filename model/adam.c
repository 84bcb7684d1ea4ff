/* adam: AdamW with global-norm clipping and a non-finite guard. See adam.h. */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "util.h"

void adam_build(Adam *a, size_t n) {
    memset(a, 0, sizeof *a);
    a->n = n;
    a->m = xcalloc(n, sizeof(float));
    a->v = xzalloc(n * sizeof(float)); /* m may go unused (beta1 = 0); v never does */
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
}

void adam_free(Adam *a) {
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void adam_reset(Adam *a) {
    memset(a->m, 0, a->n * sizeof(float));
    memset(a->v, 0, a->n * sizeof(float));
    a->step = 0;
}

/* ---- the two halves of a step, each run by parallel_for ---- */

typedef struct {
    const float *grad;
    double sums[2]; /* one partial sum per half (parallel_for makes at most two) */
} NormJob;

/* Sum of squares in double (16 interleaved partial sums, which the compiler vectorizes;
   a single running sum could not be reordered). */
static void norm_range(void *ctx, size_t begin, size_t end) {
    NormJob *j = ctx;
    const float *restrict g = j->grad;
    double acc[16] = {0}, sum = 0;
    size_t i = begin;
    for (; i + 16 <= end; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += (double)g[i + k] * g[i + k];
    for (; i < end; i++) sum += (double)g[i] * g[i];
    for (int k = 0; k < 16; k++) sum += acc[k];
    j->sums[begin > 0] = sum;
}

float grad_norm(const float *grad, size_t n) {
    NormJob j = {.grad = grad};
    parallel_for(n, norm_range, &j);
    return (float)sqrt(j.sums[0] + j.sums[1]);
}

typedef struct {
    Adam *a;
    float *params;
    float *grad;
    float lr, scale, c1, c2;
    int bad[2];  /* per half: a weight came out not finite */
} StepJob;

/* One fused pass over [begin, end): moments, weights, the finiteness check and (optionally)
   clearing the gradient, so the parameter-sized arrays are streamed through memory once.
   use_m and clear are constants at each call below, so the compiler makes four loops
   without branches inside, and restrict lets it vectorize them. */
static inline int adam_span(const StepJob *j, size_t begin, size_t end, int use_m, int clear) {
    const Adam *a = j->a;
    const float b1 = a->beta1, b2 = a->beta2, eps = a->eps, wd = a->weight_decay;
    const float lr = j->lr, scale = j->scale, c1 = j->c1, c2 = j->c2;
    float *restrict p = j->params, *restrict g = j->grad, *restrict mm = a->m, *restrict vv = a->v;
    int bad = 0;
    for (size_t i = begin; i < end; i++) {
        float gi = g[i] * scale, m = gi;
        if (clear) g[i] = 0;
        if (use_m) m = mm[i] = b1 * mm[i] + (1 - b1) * gi;
        float v = vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
        float w = p[i] - lr * ((m / c1) / (sqrtf(v / c2) + eps) + wd * p[i]);
        p[i] = w;
        bad |= !isfinite(w);
    }
    return bad;
}

static void step_range(void *ctx, size_t begin, size_t end) {
    StepJob *j = ctx;
    int use_m = j->a->beta1 != 0, clear = j->a->clear_grad, bad;
    if (use_m) bad = clear ? adam_span(j, begin, end, 1, 1) : adam_span(j, begin, end, 1, 0);
    else bad = clear ? adam_span(j, begin, end, 0, 1) : adam_span(j, begin, end, 0, 0);
    j->bad[begin > 0] = bad;
}

int adam_step(Adam *a, float *params, float *grad, float lr, float clip, float loss, float *norm_out) {
    float norm = grad_norm(grad, a->n);
    if (norm_out) *norm_out = norm;
    if (!isfinite(loss) || !isfinite(norm)) {
        a->skipped++;
        return 0;
    }
    float scale = (clip > 0 && norm > clip) ? clip / norm : 1.0f;
    a->step++;
    StepJob j = {.a = a, .params = params, .grad = grad, .lr = lr, .scale = scale,
                 .c1 = 1.0f - powf(a->beta1, (float)a->step), .c2 = 1.0f - powf(a->beta2, (float)a->step)};
    parallel_for(a->n, step_range, &j);
    a->nonfinite = j.bad[0] | j.bad[1];
    return 1;
}
