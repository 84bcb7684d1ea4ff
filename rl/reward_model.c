/* reward_model: kernel ridge regression of the human term on a reply's features.
   See reward_model.h. */
#include "reward_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* RMOD held examples of the base model's view alone (2H wide): a profile with it loads
   with no examples, as one saved before there was a reward model, and relearns. */
#define TAG_RMOD CKPT_TAG('R', 'M', 'D', '2')

void reward_model_build(RewardModel *m, int dim, int cap, int spare, float ridge) {
    memset(m, 0, sizeof *m);
    m->dim = dim, m->cap = cap, m->slots = cap + (spare > 0 ? spare : 0), m->ridge = ridge;
    m->x = xcalloc((size_t)m->slots * dim, sizeof(float));
    m->y = xcalloc((size_t)m->slots, sizeof(float));
    m->mean_x = xcalloc((size_t)dim, sizeof(float));
    m->w = xcalloc((size_t)dim, sizeof(float));
    m->n_blocks = 1, m->block_end[0] = dim;
    m->gram = xcalloc((size_t)RM_MAX_BLOCKS * m->slots * m->slots, sizeof(double));
    m->k = xcalloc((size_t)cap * cap, sizeof(double));
    m->kb = xcalloc((size_t)RM_MAX_BLOCKS * cap * cap, sizeof(double));
    m->linv = xcalloc((size_t)cap * cap, sizeof(double));
    m->alpha = xcalloc((size_t)cap, sizeof(double));
}

void reward_model_free(RewardModel *m) {
    free(m->x), free(m->y), free(m->mean_x), free(m->w), free(m->gram);
    free(m->k), free(m->kb), free(m->linv), free(m->alpha);
    memset(m, 0, sizeof *m);
}

/* The back-th most recent example (back >= 1). */
static int slot_of(const RewardModel *m, int back) { return (m->head + m->slots - back) % m->slots; }

static void reward_model_fit(RewardModel *m);

/* Block b's dot product of slots i and j, into gram both ways. */
static void put_gram(RewardModel *m, int b, int i, int j) {
    int start = b ? m->block_end[b - 1] : 0;
    const float *xi = m->x + (size_t)i * m->dim, *xj = m->x + (size_t)j * m->dim;
    double dot = 0;
    for (int d = start; d < m->block_end[b]; d++) dot += (double)xi[d] * xj[d];
    double *g = m->gram + (size_t)b * m->slots * m->slots;
    g[i * m->slots + j] = g[j * m->slots + i] = dot;
}

/* Stores (x, y) in the head slot and its dot products with the examples held. */
static void put_example(RewardModel *m, const float *x, float y) {
    int h = m->head;
    memcpy(m->x + (size_t)h * m->dim, x, (size_t)m->dim * sizeof(float));
    m->y[h] = y;
    m->head = (h + 1) % m->slots;
    if (m->count < m->slots) m->count++;
    for (int b = 0; b < m->n_blocks; b++)
        for (int back = 1; back <= m->count; back++) put_gram(m, b, h, slot_of(m, back));
}

void reward_model_set_blocks(RewardModel *m, int n, const int *ends) {
    m->n_blocks = n;
    memcpy(m->block_end, ends, (size_t)n * sizeof(int));
    for (int b = 0; b < n; b++)
        for (int i = 1; i <= m->count; i++)
            for (int j = 1; j <= i; j++) put_gram(m, b, slot_of(m, i), slot_of(m, j));
    reward_model_fit(m);
}

/* m->kb: each block's kernel over the n examples, centred on their mean,
   K_b,ij = scale_b (x_i - mean) . (x_j - mean), from the dot products kept in gram
   (centring them costs n^2, where the features would cost n^2 D). scale_b, into scale,
   is 1 over the block's spread, the mean of the centred kernel's diagonal (0 for a block
   the examples all agree on, which then has no say). */
static void block_kernels(RewardModel *m, int n, double *scale) {
    for (int b = 0; b < m->n_blocks; b++) {
        const double *g = m->gram + (size_t)b * m->slots * m->slots;
        double *K = m->kb + (size_t)b * m->cap * m->cap, all = 0, spread = 0;
        double *row = m->alpha; /* scratch: the gram's row means (solve sets alpha later) */
        for (int i = 0; i < n; i++) {
            row[i] = 0;
            for (int j = 0; j < n; j++) row[i] += g[slot_of(m, i + 1) * m->slots + slot_of(m, j + 1)] / n;
            all += row[i] / n;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                K[i * n + j] = g[slot_of(m, i + 1) * m->slots + slot_of(m, j + 1)] - row[i] - row[j] + all;
        for (int i = 0; i < n; i++) spread += K[i * n + i] / n;
        scale[b] = spread > 1e-12 ? 1 / spread : 0;
        for (int i = 0; i < n * n; i++) K[i] *= scale[b];
    }
}

/* The leave-one-out R^2 of the fit just solved, from its factor L, alpha and lambda. The
   fit is ridge with an unpenalised intercept, a linear smoother y^ = S y with
   S = 11'/n + K (K + lambda I)^-1 = 11'/n + I - lambda (K + lambda I)^-1, so the residual
   of example i left out is (y_i - y^_i) / (1 - S_ii) = alpha_i / (G_ii - 1 / (n lambda)),
   G = (K + lambda I)^-1 = L^-T L^-1, whose diagonal is the column sums of squares of L^-1.
   (lambda itself scales with the examples' kernel, so refitting without one would move it
   a little; the test holds the two within 0.1.) 0 with fewer than 3 examples or targets
   that all agree. */
static float loo_fit_quality(RewardModel *m, int n, double lambda) {
    const double *L = m->k;
    double *Li = m->linv, residual = 0, spread = 0;
    if (n < 3) return 0;
    for (int j = 0; j < n; j++) /* column j of L^-1 by forward substitution */
        for (int i = 0; i < n; i++) {
            double t = i == j ? 1 : 0;
            for (int p = j; p < i; p++) t -= L[i * n + p] * Li[p * n + j];
            Li[i * n + j] = i < j ? 0 : t / L[i * n + i];
        }
    for (int i = 0; i < n; i++) {
        double hii = 0, dev = m->y[slot_of(m, i + 1)] - m->mean_y;
        for (int p = i; p < n; p++) hii += Li[p * n + i] * Li[p * n + i];
        double r = m->alpha[i] / (hii - 1 / (n * lambda));
        residual += r * r, spread += dev * dev;
    }
    return spread > 1e-12 ? (float)(1 - residual / spread) : 0;
}

/* Solves (K + lambda I) alpha = y - mean_y over the n most recent examples by Cholesky,
   K the sum of the kernels of the blocks in `use` (a bit each), and returns the fit's
   leave-one-out R^2. m->k holds the factor L, m->alpha the solution. */
static float solve(RewardModel *m, int n, unsigned use) {
    double trace = 0, *K = m->k;
    for (int i = 0; i < n * n; i++) K[i] = 0;
    for (int b = 0; b < m->n_blocks; b++)
        if (use >> b & 1)
            for (int i = 0; i < n * n; i++) K[i] += m->kb[(size_t)b * m->cap * m->cap + i];
    for (int i = 0; i < n; i++) trace += K[i * n + i];
    double lambda = m->ridge * trace / n + 1e-12;
    for (int i = 0; i < n; i++) K[i * n + i] += lambda;
    /* K = L L^T in place (lower triangle); K + lambda I is positive definite. */
    for (int j = 0; j < n; j++) {
        double s = K[j * n + j];
        for (int p = 0; p < j; p++) s -= K[j * n + p] * K[j * n + p];
        K[j * n + j] = sqrt(s);
        for (int i = j + 1; i < n; i++) {
            double t = K[i * n + j];
            for (int p = 0; p < j; p++) t -= K[i * n + p] * K[j * n + p];
            K[i * n + j] = t / K[j * n + j];
        }
    }
    double *a = m->alpha;
    for (int i = 0; i < n; i++) { /* L z = y - mean_y */
        double t = m->y[slot_of(m, i + 1)] - m->mean_y;
        for (int p = 0; p < i; p++) t -= K[i * n + p] * a[p];
        a[i] = t / K[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T alpha = z */
        double t = a[i];
        for (int p = i + 1; p < n; p++) t -= K[p * n + i] * a[p];
        a[i] = t / K[i * n + i];
    }
    return loo_fit_quality(m, n, lambda);
}

/* Fits the n most recent examples with the blocks that predict them best: every
   non-empty set of blocks is solved (a few n x n systems, n <= cap), and the one with
   the highest leave-one-out R^2 is kept, all of them on a tie. Which blocks tell a
   user's taste depends on the taste (a question shows in the state, a length in the
   length), and a block that does not tell it only adds noise to the few examples there
   are. Then alpha is folded into primal weights w, so a prediction is one dot product. */
static void reward_model_fit(RewardModel *m) {
    int n = m->count < m->cap ? m->count : m->cap, D = m->dim;
    m->fitted = n;
    memset(m->mean_x, 0, (size_t)D * sizeof(float));
    memset(m->w, 0, (size_t)D * sizeof(float));
    m->mean_y = 0;
    m->loo_r2 = 0;
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
        const float *xi = m->x + (size_t)slot_of(m, i + 1) * D;
        for (int d = 0; d < D; d++) m->mean_x[d] += xi[d] / n;
        m->mean_y += m->y[slot_of(m, i + 1)] / n;
    }
    if (n < 2) return;
    double scale[RM_MAX_BLOCKS];
    block_kernels(m, n, scale);
    unsigned all = (1u << m->n_blocks) - 1;
    unsigned last = all; /* the set whose solution m->alpha holds */
    m->blocks_used = all;
    m->loo_r2 = solve(m, n, all);
    for (unsigned use = 1; use < all; use++) {
        float r2 = solve(m, n, last = use);
        if (r2 > m->loo_r2) m->loo_r2 = r2, m->blocks_used = use;
    }
    if (m->blocks_used != last) solve(m, n, m->blocks_used);
    for (int b = 0, start = 0; b < m->n_blocks; start = m->block_end[b++]) {
        if (!(m->blocks_used >> b & 1)) continue;
        for (int i = 0; i < n; i++) {
            const float *xi = m->x + (size_t)slot_of(m, i + 1) * D;
            for (int d = start; d < m->block_end[b]; d++)
                m->w[d] += (float)(m->alpha[i] * scale[b] * (xi[d] - m->mean_x[d]));
        }
    }
}

void reward_model_add(RewardModel *m, const float *x, float y) {
    put_example(m, x, y);
    reward_model_fit(m);
}

int reward_model_pop(RewardModel *m) {
    if (m->count == 0) return -1;
    m->head = slot_of(m, 1);
    m->count--;
    reward_model_fit(m);
    return 0;
}

void reward_model_clear(RewardModel *m) {
    m->count = m->head = 0;
    reward_model_fit(m);
}

float reward_model_predict(const RewardModel *m, const float *x) {
    double p = m->mean_y;
    if (m->fitted >= 2)
        for (int d = 0; d < m->dim; d++) p += (double)m->w[d] * (x[d] - m->mean_x[d]);
    return (float)p;
}

float reward_model_trust(const RewardModel *m) { return m->loo_r2 > 0 ? m->loo_r2 : 0; }

/* ---- persistence: D, count, then the examples oldest first ---- */

void reward_model_save(const RewardModel *m, Buf *b) {
    Buf s = {0};
    int32_t dim = m->dim, count = m->count;
    buf_put(&s, &dim, 4);
    buf_put(&s, &count, 4);
    for (int back = m->count; back >= 1; back--) {
        int i = slot_of(m, back);
        buf_put(&s, m->x + (size_t)i * m->dim, (size_t)m->dim * sizeof(float));
        buf_put(&s, &m->y[i], sizeof(float));
    }
    ckpt_put(b, TAG_RMOD, s.data, s.len);
    buf_free(&s);
}

int reward_model_load(RewardModel *m, const CkptFile *f) {
    size_t len;
    const uint8_t *p = ckpt_find(f, TAG_RMOD, &len);
    int32_t dim, count;
    if (!p) {
        reward_model_clear(m);
        return 0;
    }
    if (len < 8 || (memcpy(&dim, p, 4), memcpy(&count, p + 4, 4), dim != m->dim) || count < 0 ||
        count > m->slots || len != 8 + (size_t)count * ((size_t)dim + 1) * sizeof(float)) {
        err_set("%s: the reward model section does not fit this model", f->path);
        return -1;
    }
    m->count = m->head = 0;
    const uint8_t *q = p + 8;
    for (int i = 0; i < count; i++, q += ((size_t)dim + 1) * sizeof(float)) {
        float y, *x = m->mean_x; /* scratch: the file's floats need not be aligned; reward_model_fit resets it */
        memcpy(x, q, (size_t)dim * sizeof(float));
        memcpy(&y, q + (size_t)dim * sizeof(float), sizeof(float));
        put_example(m, x, y);
    }
    reward_model_fit(m);
    return 0;
}
