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
    a->v = xcalloc(n, sizeof(float));
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

static void norm_range(void *ctx, size_t begin, size_t end) {
    NormJob *j = ctx;
    double sum = 0;
    for (size_t i = begin; i < end; i++) sum += (double)j->grad[i] * j->grad[i];
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

/* One fused pass: moments, weights, the finiteness check and (optionally) clearing the
   gradient, so the parameter-sized arrays are streamed through memory once. */
static void step_range(void *ctx, size_t begin, size_t end) {
    StepJob *j = ctx;
    Adam *a = j->a;
    float b1 = a->beta1, b2 = a->beta2, eps = a->eps, wd = a->weight_decay, lr = j->lr;
    float *p = j->params, *g = j->grad, *mm = a->m, *vv = a->v;
    int bad = 0, clear = a->clear_grad;
    for (size_t i = begin; i < end; i++) {
        float gi = g[i] * j->scale, m = gi;
        if (clear) g[i] = 0;
        if (b1 != 0) m = mm[i] = b1 * mm[i] + (1 - b1) * gi;
        float v = vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
        p[i] -= lr * ((m / j->c1) / (sqrtf(v / j->c2) + eps) + wd * p[i]);
        bad |= !isfinite(p[i]);
    }
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
