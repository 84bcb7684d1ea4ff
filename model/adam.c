/* adam: AdamW with global-norm clipping and a non-finite guard. See adam.h. */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

float grad_norm(const float *grad, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)grad[i] * grad[i];
    return (float)sqrt(sum);
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
    float c1 = 1.0f - powf(a->beta1, (float)a->step), c2 = 1.0f - powf(a->beta2, (float)a->step);
    float b1 = a->beta1, b2 = a->beta2, eps = a->eps, wd = a->weight_decay;
    for (size_t i = 0; i < a->n; i++) {
        float g = grad[i] * scale;
        float m = a->m[i] = b1 * a->m[i] + (1 - b1) * g;
        float v = a->v[i] = b2 * a->v[i] + (1 - b2) * g * g;
        params[i] -= lr * ((m / c1) / (sqrtf(v / c2) + eps) + wd * params[i]);
    }
    return 1;
}
