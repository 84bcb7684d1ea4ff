/* lstm: the policy network. Embedding, L stacked LSTM layers, linear output over the
   vocabulary. One contiguous float block holds every parameter; the gradients (and Adam's
   m and v, see adam.h) use the same layout, so whole-model operations are one loop.

   Dimension letters, used in every shape comment:
     B batch, T time steps, V vocabulary, E embedding width, H hidden width, L layers,
     G = 4H gate pre-activations (PyTorch's order: input i, forget f, cell g, output o),
     N rows of a batch, stored time-major: step t's rows are contiguous for the
     recurrence's matrix product. Sequences of one length: N = T*B, row t*B + b. A packed
     batch (lengths given, longest first, as PyTorch's pack_padded_sequence): step t has a
     row for each sequence still running, so N is the sum of the lengths and no row is
     padding. */
#ifndef RLCHAT_LSTM_H
#define RLCHAT_LSTM_H

#include <stddef.h>
#include <stdint.h>

#define MAX_LAYERS 4
#define MAX_WIDTH 8192 /* the largest E and H */

typedef struct {
    int vocab_size; /* V */
    int embed_dim;  /* E */
    int hidden_dim; /* H */
    int num_layers; /* L, 1..MAX_LAYERS */
    int tied;       /* 1: the output layer reuses the embedding (needs E == H; Press & Wolf 2017) */
} Config;

typedef struct {
    float *embedding;        /* (V, E) */
    float *w_ih[MAX_LAYERS]; /* (G, E) for layer 0, (G, H) above */
    float *w_hh[MAX_LAYERS]; /* (G, H) */
    float *bias[MAX_LAYERS]; /* (G): PyTorch's b_ih + b_hh */
    float *out_w;            /* (V, H); when tied, the same floats as embedding */
    float *out_b;            /* (V) */
} Params;

typedef struct {
    Config config;
    size_t num_params;   /* floats in each block */
    float *param_block;  /* (num_params) */
    float *grad_block;   /* (num_params), same layout */
    Params params;       /* views into param_block */
    Params grads;        /* views into grad_block */
    uint64_t version;    /* bumped by every change of the weights after they are first set
                            (an update, an undo, a reset): copies of them, such as the
                            generator's half-precision weights, compare it to stay current */
} Model;

/* Recurrent state carried between batches or turns: h and c of every layer. */
typedef struct {
    int batch;  /* B */
    float *h;   /* (L, B, H) */
    float *c;   /* (L, B, H) */
} LstmState;

/* What forward stores for backward, sized for up to max_batch x max_time. */
typedef struct {
    int max_batch, max_time;  /* capacity */
    int B, T;                 /* shape of the last forward */
    int *step_start;          /* (T+1) step t's rows are step_start[t] .. step_start[t+1]-1,
                                 one for each sequence still running (the first b, as they
                                 come longest first); step_start[T] = N */
    float *emb;               /* (N, E) embedded inputs */
    float *gates[MAX_LAYERS]; /* (N, G) activated gates i, f, g, o */
    float *h[MAX_LAYERS];     /* (B + N, H): the initial state, then each row's output */
    float *c[MAX_LAYERS];     /* (B + N, H) */
    float *tanh_c[MAX_LAYERS];/* (N, H) */
    float *logits;            /* (N, V): logits, then probabilities, then d loss/d logits */
    float *losses;            /* (N) per-row cross-entropy (0 where the target is ignored) */
    float *d_gates;           /* (N, G) scratch for backward */
    float *d_h;               /* (N, H) gradient arriving from above */
    float *d_x;               /* (N, max(E, H)) gradient for the layer below */
    float *d_h_next, *d_c_next; /* (B, H) recurrent gradients */
    float *h_prev;            /* (N, H) backward's scratch for a packed batch: the state
                                 entering each row's step, in row order */
} Acts;

/* ---- building ---- */
int model_build(Model *m, Config c);   /* -1 with err_msg() on a nonsensical config */
/* The floats a model of config c has, without building it; 0 with err_msg() on a
   nonsensical config. A file's weights are checked against it before any allocation. */
size_t model_num_params(Config c);
void model_init_weights(Model *m, uint64_t seed);
void model_free(Model *m);
void model_zero_grad(Model *m);
void acts_build(Acts *a, const Config *c, int max_batch, int max_time);
void acts_free(Acts *a);
void state_build(LstmState *s, const Config *c, int batch);
void state_zero(LstmState *s, const Config *c);
void state_copy(LstmState *dst, const LstmState *src, const Config *c);
void state_free(LstmState *s);

/* ---- sequence forward and backward (training, rating updates) ---- */
/* Runs inputs (B, T, row-major) from *state and leaves logits in a->logits (time-major);
   *state becomes the final state, ready for the next batch (truncated BPTT). */
void lstm_forward(const Model *m, Acts *a, const int32_t *inputs, int B, int T, LstmState *state);
/* Softmax and cross-entropy against targets (B, T); a target < 0 is ignored. Turns
   a->logits into probabilities; returns the mean loss over counted targets and their count. */
float xent_forward(const Model *m, Acts *a, const int32_t *targets, int *count);
/* Turns the probabilities into d(mean loss)/d logits in place, each row scaled by scale. */
void xent_backward(const Model *m, Acts *a, const int32_t *targets, float scale);
/* Backpropagates a->logits (read as d loss/d logits) through time; ADDS into m->grads. */
void lstm_backward(Model *m, Acts *a, const int32_t *inputs);
/* The same two passes split between the parts of a team (parallel.h), for a batch too
   small for its products alone to keep two cores busy (a rating update's few replies):
   each part calls them with the same arguments and does its share, the units of the
   recurrence and rows (or columns) of the products, meeting the other where it needs the
   other's results. Every part returns at a team_barrier, so what follows may read
   anything they wrote. The results do not depend on the timing; with parts = 1 they are
   lstm_forward and lstm_backward.
   lengths (B), or NULL for T each, makes the batch a packed one: sequence b runs lengths[b]
   steps (1..T, none longer than the one before it, T = lengths[0]), its inputs past that
   are not read, and row b of *state becomes its state after its last step. */
void lstm_forward_part(const Model *m, Acts *a, const int32_t *inputs, int B, int T, const int *lengths,
                       LstmState *state, int part, int parts);
void lstm_backward_part(Model *m, Acts *a, const int32_t *inputs, int part, int parts);

/* ---- one step at batch 1 (generation) ---- */
typedef struct {
    float *h, *c;  /* (L, H) the conversation's state */
    float *gates;  /* (G + 2H) scratch: gates, new c, tanh c */
    float *logits; /* (V) output of the last step */
} StepState;
void step_build(StepState *s, const Config *c);
void step_reset(StepState *s, const Config *c);
void step_free(StepState *s);
void step_copy(StepState *dst, const StepState *src, const Config *c); /* h, c and logits */
/* Feeds one token; leaves the next-token logits in s->logits. */
void lstm_step(const Model *m, StepState *s, int token);
/* The LSTM cell on n units, shared by every forward (see lstm.c): g holds four gate blocks
   `stride` floats apart and gets their activations; c_now, tanh_c and h_now get the new
   state. No two of the arrays may overlap. */
void lstm_cell_forward(int n, int stride, float *g, const float *c_prev, float *c_now, float *tanh_c,
                       float *h_now);

#endif
