/* adam: the optimizer, one loop over the model's gradient block, plus global gradient-norm
   clipping and the guard that skips a step whose loss or gradients are not finite. */
#ifndef RLCHAT_ADAM_H
#define RLCHAT_ADAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n;            /* floats in the parameter block */
    float *m;            /* (n) first moment, same layout as the parameters */
    float *v;            /* (n) second moment */
    int64_t step;        /* steps taken (bias correction) */
    int64_t skipped;     /* steps refused because something was not finite */
    float beta1, beta2;  /* moment decay rates, 0.9 and 0.999 by default */
    float eps;           /* 1e-8 */
    float weight_decay;  /* decoupled (AdamW); 0 = plain Adam */
    int clear_grad;      /* 1: zero each gradient once used, sparing a separate zeroing pass */
    int nonfinite;       /* set by a step that produced a weight that is not finite */
} Adam;

void adam_build(Adam *a, size_t n);
void adam_free(Adam *a);
void adam_reset(Adam *a);
/* Global L2 norm of the gradient block; NaN or Inf if any element is not finite. */
float grad_norm(const float *grad, size_t n);
/* One step: skips (returns 0, counts it) when loss or the gradient norm is not finite;
   otherwise clips the gradient to clip (<= 0: no clipping), updates and returns 1.
   *norm_out (may be NULL) gets the gradient norm before clipping. With beta1 = 0 the
   first moment is the gradient itself, and m is neither read nor written. */
int adam_step(Adam *a, float *params, float *grad, float lr, float clip, float loss, float *norm_out);

#endif
