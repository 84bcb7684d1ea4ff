/* halfstep: the generation step, lstm_step's twin, on a half-precision copy of the weights
   and split over two threads.

   At batch 1 a step is matrix-vector products: every weight is read once per token and
   the time is the time to stream them (23 MB a token in fp32 at the benchmark shape, more
   than the caches hold). Half precision halves that traffic; the CPU widens the halves in
   hardware as it reads them (F16C / AVX-512). The shipped model is stored in fp16, so
   until the first update the copy is exact. The model's version tells when the fp32
   weights moved (after a rating) and the copy is refreshed before the next step.

   Each thread takes half of the units of every layer (their four gate rows and their
   cell), then half of the vocabulary's logits: one barrier per layer. */
#ifndef RLCHAT_HALFSTEP_H
#define RLCHAT_HALFSTEP_H

#include <stdint.h>

#include "lstm.h"

typedef struct {
    const Model *model;                /* not owned: the fp32 weights this copies */
    uint64_t version;                  /* model->version when copied */
    uint16_t *gates_w[MAX_LAYERS];     /* (G, In + H): row r is [w_ih row r | w_hh row r] */
    uint16_t *out_w;                   /* (V, H) */
    float *z[MAX_LAYERS + 1];          /* layer l's input [x ; h_prev]; z[L] is the top h */
    float *c_new, *tanh_c;             /* (H) scratch for the cell */
} HalfModel;

void half_build(HalfModel *hm, const Model *m);
void half_free(HalfModel *hm);
/* lstm_step on the half-precision weights, refreshed first if the model changed. */
void half_step(HalfModel *hm, StepState *s, int token);
/* n tokens in turn, the logits made for the last only: the output layer is about a third
   of a step, and a message's tokens need only the state they leave. */
void half_feed(HalfModel *hm, StepState *s, const int32_t *tokens, int n);

#endif
