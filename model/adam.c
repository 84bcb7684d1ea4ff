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
    const float *grad;
    float lr, scale, c1, c2;
} StepJob;

static void step_range(void *ctx, size_t begin, size_t end) {
    StepJob *j = ctx;
    Adam *a = j->a;
    float b1 = a->beta1, b2 = a->beta2, eps = a->eps, wd = a->weight_decay;
    for (size_t i = begin; i < end; i++) {
        float g = j->grad[i] * j->scale;
        float m = a->m[i] = b1 * a->m[i] + (1 - b1) * g;
        float v = a->v[i] = b2 * a->v[i] + (1 - b2) * g * g;
        j->params[i] -= j->lr * ((m / j->c1) / (sqrtf(v / j->c2) + eps) + wd * j->params[i]);
    }
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
    return 1;
}
