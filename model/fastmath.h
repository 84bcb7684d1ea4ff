/* fastmath: exp, sigmoid, tanh, a sum and a max written so that the compiler can vectorize
   the loops that call them (glibc's expf and tanhf are calls the vectorizer cannot see
   through). The LSTM cell, the softmax, the sampler and the learner's per-vocabulary passes
   spend most of their non-BLAS time here.

   The one header with function bodies in it, on purpose: they must be inlined into each
   loop to be vectorized, and a call per element (or link-time optimisation) would undo
   that.

   Accuracy: within 3e-7 relative (exp) or absolute (sigmoid, tanh) of the true value
   (tests/test_halfstep.c checks them against double precision), and right at the edges:
   exp(-inf) = 0, exp(+inf) = inf, NaN in gives NaN out, so the trainer's non-finite guard
   still sees a NaN; exp saturates at e^88 between 88 and float overflow (88.72). Every
   forward, the sampler and the learner use these same functions, so they agree with each
   other bit for bit. */
#ifndef RLCHAT_FASTMATH_H
#define RLCHAT_FASTMATH_H

#include <math.h>
#include <stdint.h>

/* e^x: x = n ln 2 + r with |r| <= ln2 / 2, e^r by Cephes' degree-6 polynomial, 2^n put
   straight into the exponent bits. */
static inline float fast_expf(float x) {
    float xc = x != x ? 0.0f : x; /* NaN: compute anything, select NaN at the end */
    xc = xc < -87.3f ? -87.3f : xc;
    xc = xc > 88.0f ? 88.0f : xc; /* keeps 2^n finite; from 88 to 88.72 it saturates */
    /* n = round(x / ln 2): adding and taking away 1.5 * 2^23 rounds to an integer in the
       default rounding mode (floorf would stop the vectorizer). */
    float n = (xc * 1.44269504089f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { uint32_t bits; float f; } scale = {.bits = (uint32_t)((int32_t)n + 127) << 23}; /* 2^n */
    float y = p * scale.f;
    y = x < -87.3f ? 0.0f : y;
    y = x > 88.72f ? __builtin_inff() : y;
    return x != x ? x : y;
}

static inline float fast_sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

/* tanh: Cephes' odd polynomial near 0 (where 1 - e^-2x would cancel), else
   (1 - e^-2|x|) / (1 + e^-2|x|) with the sign put back. */
static inline float fast_tanhf(float x) {
    float a = x < 0 ? -x : x, z = x * x;
    float small = -5.70498872745e-3f;
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    small = small * z * x + x;
    float e = fast_expf(-2.0f * a);
    float large = (1.0f - e) / (1.0f + e);
    large = x < 0 ? -large : large;
    return a < 0.625f ? small : large;
}

/* The largest of n >= 1 floats (16 interleaved maxima: vectorizable, NaN-free input). */
static inline float max_floats(const float *x, int n) {
    float acc[16], tail = x[0];
    for (int k = 0; k < 16; k++) acc[k] = x[0];
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
    for (; i < n; i++) tail = x[i] > tail ? x[i] : tail;
    for (int k = 0; k < 16; k++) tail = acc[k] > tail ? acc[k] : tail;
    return tail;
}

/* Sum of n floats in a fixed order: 16 interleaved partial sums, folded in halves, then
   the tail. The compiler vectorizes it without -ffast-math, and unlike a BLAS sum the
   order never depends on the pointer's alignment, so runs stay bit-reproducible. */
static inline float sum_floats(const float *x, int n) {
    float acc[16] = {0}, tail = 0;
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += x[i + k];
    for (; i < n; i++) tail += x[i];
    for (int w = 8; w > 0; w /= 2)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0] + tail;
}

/* log sum_i e^x_i of n >= 1 floats, shifted by their max so nothing overflows; scratch
   (n) is overwritten. Each log-softmax (sampler, learner) is x - log_sum_exp(x). */
static inline float log_sum_exp(const float *x, int n, float *scratch) {
    float top = max_floats(x, n);
    for (int i = 0; i < n; i++) scratch[i] = fast_expf(x[i] - top);
    return top + logf(sum_floats(scratch, n));
}

#endif
