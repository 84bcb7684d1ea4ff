/* halfstep: see halfstep.h. */
#include "halfstep.h"

#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__F16C__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include "half.h"
#include "parallel.h"
#include "util.h"

#define G(H) (4 * (H))

static int layer_in(const Config *c, int l) { return l == 0 ? c->embed_dim : c->hidden_dim; }

static void copy_weights(HalfModel *hm) {
    const Model *m = hm->model;
    const Config *c = &m->config;
    int H = c->hidden_dim;
    for (int l = 0; l < c->num_layers; l++) {
        int in = layer_in(c, l);
        for (int r = 0; r < G(H); r++) {
            uint16_t *row = hm->gates_w[l] + (size_t)r * (in + H);
            floats_to_halves(row, m->params.w_ih[l] + (size_t)r * in, in);
            floats_to_halves(row + in, m->params.w_hh[l] + (size_t)r * H, H);
        }
    }
    floats_to_halves(hm->out_w, m->params.out_w, (size_t)c->vocab_size * H);
    hm->version = m->version;
}

void half_build(HalfModel *hm, const Model *m) {
    memset(hm, 0, sizeof *hm);
    hm->model = m;
    const Config *c = &m->config;
    int H = c->hidden_dim;
    for (int l = 0; l < c->num_layers; l++) {
        hm->gates_w[l] = xmalloc((size_t)G(H) * (layer_in(c, l) + H) * sizeof(uint16_t));
        hm->z[l] = xcalloc((size_t)layer_in(c, l) + H, sizeof(float));
    }
    hm->z[c->num_layers] = xcalloc(H, sizeof(float));
    hm->out_w = xmalloc((size_t)c->vocab_size * H * sizeof(uint16_t));
    hm->c_new = xcalloc(H, sizeof(float));
    hm->tanh_c = xcalloc(H, sizeof(float));
    copy_weights(hm);
}

void half_free(HalfModel *hm) {
    for (int l = 0; l < MAX_LAYERS; l++) free(hm->gates_w[l]);
    for (int l = 0; l <= MAX_LAYERS; l++) free(hm->z[l]);
    free(hm->out_w);
    free(hm->c_new);
    free(hm->tanh_c);
    memset(hm, 0, sizeof *hm);
}

/* s[i] = w_i[0..k) . x[0..k) for four consecutive rows w0 + i * cols, over the longest
   head k the CPU's vectors cover; returns k (0 without hardware widening). The halves are
   widened in registers, and the four rows share each load of x. */
static int dot4_head(const uint16_t *w0, int cols, const float *x, float s[4]) {
    const uint16_t *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
    int k = 0;
#if defined(__AVX512F__)
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 16 <= cols; k += 16) {
        __m512 xv = _mm512_loadu_ps(x + k);
        a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w0 + k))), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w1 + k))), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w2 + k))), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w3 + k))), xv, a3);
    }
    s[0] = _mm512_reduce_add_ps(a0), s[1] = _mm512_reduce_add_ps(a1);
    s[2] = _mm512_reduce_add_ps(a2), s[3] = _mm512_reduce_add_ps(a3);
#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (; k + 8 <= cols; k += 8) {
        __m256 xv = _mm256_loadu_ps(x + k);
        acc[0] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + k))), xv, acc[0]);
        acc[1] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w1 + k))), xv, acc[1]);
        acc[2] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w2 + k))), xv, acc[2]);
        acc[3] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w3 + k))), xv, acc[3]);
    }
    for (int i = 0; i < 4; i++) {
        float lane[8];
        _mm256_storeu_ps(lane, acc[i]);
        s[i] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }
#else
    (void)w1, (void)w2, (void)w3, (void)x;
    s[0] = s[1] = s[2] = s[3] = 0;
#endif
    return k;
}

/* y[r] = bias[r] + w[r] . x for the rows [r0, r1) of a half matrix with `cols` columns:
   four rows at a time, the vector head in dot4_head and the tail here. */
static void half_rows(const uint16_t *w, int cols, const float *x, const float *bias, float *y, int r0, int r1) {
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint16_t *w0 = w + (size_t)r * cols;
        float s[4];
        for (int k = dot4_head(w0, cols, x, s); k < cols; k++)
            for (int i = 0; i < 4; i++) s[i] += half_to_float(w0[(size_t)i * cols + k]) * x[k];
        for (int i = 0; i < 4; i++) y[r + i] = bias[r + i] + s[i];
    }
    for (; r < r1; r++) { /* the last rows when r1 - r0 is not a multiple of 4 */
        const uint16_t *wr = w + (size_t)r * cols;
        float s = 0;
        for (int k = 0; k < cols; k++) s += half_to_float(wr[k]) * x[k];
        y[r] = bias[r] + s;
    }
}

typedef struct {
    HalfModel *hm;
    StepState *s;
    int logits;  /* 0: the state only (a token fed whose next-token scores nobody reads) */
} StepJob;

/* One thread's share of a step: its units of every layer (gate rows, then cell), then its
   share of the logits. h of layer l lands in z[l + 1], the input of the layer above. */
static void step_part(void *ctx, int part, int parts) {
    StepJob *job = ctx;
    HalfModel *hm = job->hm;
    StepState *s = job->s;
    const Model *m = hm->model;
    const Config *c = &m->config;
    int H = c->hidden_dim, L = c->num_layers, u0, u1, v0, v1;
    part_range(H, part, parts, &u0, &u1); /* multiples of 4: half_rows' block */
    for (int l = 0; l < L; l++) {
        for (int q = 0; q < 4; q++)
            half_rows(hm->gates_w[l], layer_in(c, l) + H, hm->z[l], m->params.bias[l], s->gates,
                      q * H + u0, q * H + u1);
        float *cl = s->c + (size_t)l * H;
        lstm_cell_forward(u1 - u0, H, s->gates + u0, cl + u0, hm->c_new + u0, hm->tanh_c + u0,
                          hm->z[l + 1] + u0);
        memcpy(cl + u0, hm->c_new + u0, (size_t)(u1 - u0) * sizeof(float));
        team_barrier(); /* the layer above reads all of h */
    }
    if (!job->logits) return;
    part_range(c->vocab_size, part, parts, &v0, &v1);
    half_rows(hm->out_w, H, hm->z[L], m->params.out_b, s->logits, v0, v1);
}

/* Copies the weights again if the model's version moved since. */
static void half_sync(HalfModel *hm) {
    if (hm->version != hm->model->version) copy_weights(hm);
}

static void step(HalfModel *hm, StepState *s, int token, int logits) {
    const Model *m = hm->model;
    const Config *c = &m->config;
    int H = c->hidden_dim, L = c->num_layers;
    half_sync(hm);
    memcpy(hm->z[0], m->params.embedding + (size_t)token * c->embed_dim, c->embed_dim * sizeof(float));
    for (int l = 0; l < L; l++) memcpy(hm->z[l] + layer_in(c, l), s->h + (size_t)l * H, H * sizeof(float));
    StepJob job = {hm, s, logits};
    parallel_team(step_part, &job);
    for (int l = 0; l < L; l++) memcpy(s->h + (size_t)l * H, hm->z[l + 1], H * sizeof(float));
}

void half_step(HalfModel *hm, StepState *s, int token) { step(hm, s, token, 1); }

void half_feed(HalfModel *hm, StepState *s, const int32_t *tokens, int n) {
    for (int i = 0; i < n; i++) step(hm, s, tokens[i], i == n - 1);
}
