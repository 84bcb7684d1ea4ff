/* lstm: forward and backward of the embedding, the LSTM stack, the output layer and the
   softmax cross-entropy, each forward with its backward right below it. The big products
   (input projections of a whole sequence, the output layer, the weight gradients) are one
   cblas_sgemm each; only the recurrence steps through time. See lstm.h for shapes. */
#include "lstm.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "parallel.h"
#include "util.h"

#define G(H) (4 * (H))

static int layer_in(const Config *c, int l) { return l == 0 ? c->embed_dim : c->hidden_dim; }

/* ---- building ---- */

/* Points a Params at consecutive slices of block; returns how many floats it spans. */
static size_t params_layout(Params *p, const Config *c, float *block) {
    size_t off = 0;
    int V = c->vocab_size, E = c->embed_dim, H = c->hidden_dim;
#define TAKE(field, count) (p->field = block ? block + off : NULL, off += (size_t)(count))
    TAKE(embedding, (size_t)V * E);
    for (int l = 0; l < c->num_layers; l++) {
        TAKE(w_ih[l], (size_t)G(H) * layer_in(c, l));
        TAKE(w_hh[l], (size_t)G(H) * H);
        TAKE(bias[l], G(H));
    }
    if (c->tied) p->out_w = p->embedding; /* gradients from both uses add up in one place */
    else TAKE(out_w, (size_t)V * H);
    TAKE(out_b, V);
#undef TAKE
    return off;
}

size_t model_num_params(Config c) {
    if (c.vocab_size < 2 || c.vocab_size > (1 << 20) || c.embed_dim < 1 || c.embed_dim > MAX_WIDTH ||
        c.hidden_dim < 1 || c.hidden_dim > MAX_WIDTH || c.num_layers < 1 || c.num_layers > MAX_LAYERS ||
        (c.tied != 0 && c.tied != 1) || (c.tied && c.embed_dim != c.hidden_dim)) {
        err_set("bad model size: vocab %d, embed %d, hidden %d, layers %d%s", c.vocab_size, c.embed_dim,
                c.hidden_dim, c.num_layers, c.tied ? ", tied (needs embed = hidden)" : "");
        return 0;
    }
    Params layout;
    return params_layout(&layout, &c, NULL);
}

int model_build(Model *m, Config c) {
    memset(m, 0, sizeof *m);
    if (model_num_params(c) == 0) return -1;
    m->config = c;
    m->num_params = params_layout(&m->params, &c, NULL);
    m->param_block = xcalloc(m->num_params, sizeof(float));
    m->grad_block = xzalloc(m->num_params * sizeof(float));
    params_layout(&m->params, &c, m->param_block);
    params_layout(&m->grads, &c, m->grad_block);
    return 0;
}

/* PyTorch's LSTM init, uniform in +-1/sqrt(H); a small embedding; forget-gate bias 1 so
   early training remembers (Jozefowicz et al. 2015). */
void model_init_weights(Model *m, uint64_t seed) {
    const Config *c = &m->config;
    Rng rng;
    rng_seed(&rng, seed);
    float k = 1.0f / sqrtf((float)c->hidden_dim);
    for (size_t i = 0; i < m->num_params; i++) m->param_block[i] = (2 * rng_float(&rng) - 1) * k;
    size_t ne = (size_t)c->vocab_size * c->embed_dim;
    for (size_t i = 0; i < ne; i++) m->params.embedding[i] = (2 * rng_float(&rng) - 1) * 0.1f;
    for (int l = 0; l < c->num_layers; l++)
        for (int j = 0; j < c->hidden_dim; j++) m->params.bias[l][c->hidden_dim + j] = 1.0f;
}

void model_free(Model *m) {
    free(m->param_block);
    free(m->grad_block);
    memset(m, 0, sizeof *m);
}

void model_zero_grad(Model *m) { memset(m->grad_block, 0, m->num_params * sizeof(float)); }

void acts_build(Acts *a, const Config *c, int max_batch, int max_time) {
    memset(a, 0, sizeof *a);
    size_t B = (size_t)max_batch, T = (size_t)max_time, N = B * T;
    size_t V = (size_t)c->vocab_size, E = (size_t)c->embed_dim, H = (size_t)c->hidden_dim;
    a->max_batch = max_batch;
    a->max_time = max_time;
    a->step_start = xzalloc((N + 1) * sizeof(int)); /* a packed batch may have T up to N */
    a->emb = xzalloc(N * E * sizeof(float));
    for (int l = 0; l < c->num_layers; l++) {
        a->gates[l] = xzalloc(N * G(H) * sizeof(float));
        a->h[l] = xzalloc((T + 1) * B * H * sizeof(float));
        a->c[l] = xzalloc((T + 1) * B * H * sizeof(float));
        a->tanh_c[l] = xzalloc(N * H * sizeof(float));
    }
    a->logits = xzalloc(N * V * sizeof(float));
    a->losses = xzalloc(N * sizeof(float));
    a->d_gates = xzalloc(N * G(H) * sizeof(float));
    a->d_h = xzalloc(N * H * sizeof(float));
    a->d_x = xzalloc(N * (E > H ? E : H) * sizeof(float));
    a->d_h_next = xzalloc(B * H * sizeof(float));
    a->d_c_next = xzalloc(B * H * sizeof(float));
    a->h_prev = xzalloc(N * H * sizeof(float));
}

void acts_free(Acts *a) {
    free(a->step_start);
    free(a->emb);
    for (int l = 0; l < MAX_LAYERS; l++) {
        free(a->gates[l]);
        free(a->h[l]);
        free(a->c[l]);
        free(a->tanh_c[l]);
    }
    free(a->logits);
    free(a->losses);
    free(a->d_gates);
    free(a->d_h);
    free(a->d_x);
    free(a->d_h_next);
    free(a->d_c_next);
    free(a->h_prev);
    memset(a, 0, sizeof *a);
}

void state_build(LstmState *s, const Config *c, int batch) {
    size_t n = (size_t)c->num_layers * batch * c->hidden_dim;
    s->batch = batch;
    s->h = xcalloc(n, sizeof(float));
    s->c = xcalloc(n, sizeof(float));
}

void state_zero(LstmState *s, const Config *c) {
    size_t n = (size_t)c->num_layers * s->batch * c->hidden_dim;
    memset(s->h, 0, n * sizeof(float));
    memset(s->c, 0, n * sizeof(float));
}

void state_copy(LstmState *dst, const LstmState *src, const Config *c) {
    size_t n = (size_t)c->num_layers * src->batch * c->hidden_dim;
    memcpy(dst->h, src->h, n * sizeof(float));
    memcpy(dst->c, src->c, n * sizeof(float));
}

void state_free(LstmState *s) {
    free(s->h);
    free(s->c);
    memset(s, 0, sizeof *s);
}

/* ---- the rows of a batch ---- */

/* Sets a's shape and step_start for B sequences of lengths (NULL: T each): step t has a row
   for each sequence longer than t, and since they come longest first, those are b < its
   count. */
static void set_steps(Acts *a, const int *lengths, int B, int T) {
    a->B = B;
    a->T = T;
    a->step_start[0] = 0;
    for (int t = 0, running = B; t < T; t++) {
        while (lengths && running > 0 && lengths[running - 1] <= t) running--;
        a->step_start[t + 1] = a->step_start[t] + running;
    }
}

static int step_rows(const Acts *a, int t) { return a->step_start[t + 1] - a->step_start[t]; }

/* The row of h[l] and c[l] where the state entering step t begins: the initial state's
   B rows come first, then each row's output. */
static size_t state_row(const Acts *a, int t) { return t == 0 ? 0 : (size_t)a->B + a->step_start[t - 1]; }

/* ---- embedding ---- */

/* emb (N, E) <- rows of the table for inputs (B, T), reordered into the batch's rows. */
static void embedding_forward(const Model *m, Acts *a, const int32_t *inputs) {
    int E = m->config.embed_dim, T = a->T;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < step_rows(a, t); b++)
            memcpy(a->emb + ((size_t)a->step_start[t] + b) * E,
                   m->params.embedding + (size_t)inputs[b * T + t] * E, E * sizeof(float));
}

/* d embedding[token] += d_emb row, for each position whose token is in [v0, v1). */
static void embedding_backward(Model *m, const Acts *a, const float *d_emb, const int32_t *inputs, int v0, int v1) {
    int E = m->config.embed_dim, T = a->T;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < step_rows(a, t); b++) {
            int token = inputs[b * T + t];
            if (token < v0 || token >= v1) continue;
            float *dst = m->grads.embedding + (size_t)token * E;
            const float *src = d_emb + ((size_t)a->step_start[t] + b) * E;
            for (int e = 0; e < E; e++) dst[e] += src[e];
        }
}

/* ---- one LSTM layer ---- */

/* The cell for n units. g holds the pre-activations in four blocks `stride` apart (input,
   forget, candidate, output gates) and is overwritten with the activations, which the
   backward reuses; then c_now = f c_prev + i g, tanh_c = tanh(c_now), h_now = o tanh_c.
   restrict and fastmath.h let the compiler vectorize it. */
void lstm_cell_forward(int n, int stride, float *restrict g, const float *restrict c_prev,
                       float *restrict c_now, float *restrict tanh_c, float *restrict h_now) {
    float *gi = g, *gf = g + stride, *gg = g + 2 * stride, *go = g + 3 * stride;
    for (int j = 0; j < n; j++) {
        float i = fast_sigmoidf(gi[j]), f = fast_sigmoidf(gf[j]);
        float cand = fast_tanhf(gg[j]), o = fast_sigmoidf(go[j]);
        gi[j] = i, gf[j] = f, gg[j] = cand, go[j] = o;
        float cn = f * c_prev[j] + i * cand, tcn = fast_tanhf(cn);
        c_now[j] = cn, tanh_c[j] = tcn, h_now[j] = o * tcn;
    }
}

/* Its backward: from the activations g, c_prev and tanh_c of the forward, the gradient
   arriving at h (from above, dh_above, and from the next step, dh_next) and at c (dc, which
   is updated in place to the gradient for the previous step), the gradient of the four
   pre-activation blocks, dg, laid out as g is (n units, blocks `stride` apart). */
static void cell_backward(int n, int stride, const float *restrict g, const float *restrict c_prev,
                          const float *restrict tanh_c, const float *restrict dh_above,
                          const float *restrict dh_next, float *restrict dg, float *restrict dc_io) {
    const float *gi = g, *gf = g + stride, *gg = g + 2 * stride, *go = g + 3 * stride;
    float *di = dg, *df = dg + stride, *dgg = dg + 2 * stride, *dgo = dg + 3 * stride;
    for (int j = 0; j < n; j++) {
        float i = gi[j], f = gf[j], cand = gg[j], o = go[j], tc = tanh_c[j];
        float dh = dh_above[j] + dh_next[j];
        float dc = dc_io[j] + dh * o * (1 - tc * tc);
        di[j] = dc * cand * i * (1 - i);
        df[j] = dc * c_prev[j] * f * (1 - f);
        dgg[j] = dc * i * (1 - cand * cand);
        dgo[j] = dh * tc * o * (1 - o);
        dc_io[j] = dc * f;
    }
}

/* Up to this many rows, a matrix product runs as one matrix-vector product per row: with
   OpenBLAS 0.3.21 on one core, a 1280 x 320 product took 46 us for one row as sgemv, but
   232 us for two rows as sgemm and 288 for three; at four, 180 us either way. */
#define SGEMV_ROWS 4

/* The rows of the four gate blocks that belong to units [u0, u1), in a matrix with one row
   per gate pre-activation (G rows of `cols`): gates[:, those rows] += x w[those rows]^T
   for x (n, cols), gates (n, G). A part that has every unit does it in one product. */
static void unit_rows_product(int H, int u0, int u1, int n, int cols, const float *x, const float *w, float *gates) {
    int blocks = u1 - u0 == H ? 1 : 4, rows = u1 - u0 == H ? G(H) : u1 - u0;
    for (int q = 0; q < blocks; q++) {
        size_t r = (size_t)q * H + u0;
        if (n <= SGEMV_ROWS)
            for (int i = 0; i < n; i++)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, w + r * cols, cols, x + (size_t)i * cols,
                            1, 1.0f, gates + (size_t)i * G(H) + r, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, rows, cols, 1.0f, x, cols, w + r * cols, cols,
                        1.0f, gates + r, G(H));
    }
}

/* x (N, In) -> the rows' outputs in h[l] (N, H) after the initial state (already set):
   this part's units [u0, u1) of every step, meeting the other part after each step, whose
   h the recurrence reads whole. */
static void layer_forward(const Model *m, Acts *a, int l, const float *x, int part, int parts) {
    const Config *c = &m->config;
    int H = c->hidden_dim, In = layer_in(c, l), T = a->T, N = a->step_start[T], u0, u1;
    part_range(H, part, parts, &u0, &u1);
    float *gates = a->gates[l];
    /* Input projection for the whole batch at once: gates = x W_ih^T + bias. */
    for (int r = 0; r < N; r++)
        for (int q = 0; q < 4; q++)
            memcpy(gates + (size_t)r * G(H) + q * H + u0, m->params.bias[l] + q * H + u0,
                   (size_t)(u1 - u0) * sizeof(float));
    unit_rows_product(H, u0, u1, N, In, x, m->params.w_ih[l], gates);
    for (int t = 0; t < T; t++) {
        int B = step_rows(a, t);
        float *g = gates + (size_t)a->step_start[t] * G(H);
        const float *h_prev = a->h[l] + state_row(a, t) * H;
        const float *c_prev = a->c[l] + state_row(a, t) * H;
        float *h_now = a->h[l] + state_row(a, t + 1) * H;
        float *c_now = a->c[l] + state_row(a, t + 1) * H;
        float *tc = a->tanh_c[l] + (size_t)a->step_start[t] * H;
        /* The recurrence: gates += h_{t-1} W_hh^T. */
        unit_rows_product(H, u0, u1, B, H, h_prev, m->params.w_hh[l], g);
        for (int b = 0; b < B; b++) {
            size_t k = (size_t)b * H + u0;
            lstm_cell_forward(u1 - u0, H, g + (size_t)b * G(H) + u0, c_prev + k, c_now + k, tc + k, h_now + k);
        }
        team_meet(parts);
    }
}

/* The state entering each row's step, in row order (N, H), for the weight gradient of
   the recurrence: h[l] itself when every sequence runs all T steps, else gathered into
   a->h_prev, each part its share of the steps, meeting the other before it returns. */
static const float *rows_h_prev(Acts *a, int l, int H, int part, int parts) {
    int T = a->T, t0, t1;
    if (a->step_start[T] == a->B * T) return a->h[l];
    part_range(T, part, parts, &t0, &t1);
    for (int t = t0; t < t1; t++)
        memcpy(a->h_prev + (size_t)a->step_start[t] * H, a->h[l] + state_row(a, t) * H,
               (size_t)step_rows(a, t) * H * sizeof(float));
    team_meet(parts);
    return a->h_prev;
}

/* d_h (N, H) arriving from above -> grads of this layer, and d_x (N, In) for the layer
   below. Walks time in reverse; the gradient into the initial state is dropped
   (truncated BPTT). Each part steps its units [u0, u1) back through time, meeting the
   other after each step, since d h_{t-1} of a unit takes the gate gradients of all of
   them; then the weight gradients (rows of G) and d_x (rows of N) are split. In a packed
   batch a sequence's last step finds d h_next and d c_next still zero: the steps after
   it had fewer rows and never wrote its row. */
static void layer_backward(Model *m, Acts *a, int l, const float *x, const float *d_h, float *d_x, int part,
                           int parts) {
    const Config *c = &m->config;
    int T = a->T, H = c->hidden_dim, In = layer_in(c, l), N = a->step_start[T], u0, u1, g0, g1, r0, r1;
    part_range(H, part, parts, &u0, &u1);
    float *dg = a->d_gates, *dh_next = a->d_h_next, *dc_next = a->d_c_next;
    for (int b = 0; b < a->B; b++) {
        memset(dh_next + (size_t)b * H + u0, 0, (size_t)(u1 - u0) * sizeof(float));
        memset(dc_next + (size_t)b * H + u0, 0, (size_t)(u1 - u0) * sizeof(float));
    }
    for (int t = T - 1; t >= 0; t--) {
        int B = step_rows(a, t);
        size_t row = (size_t)a->step_start[t];
        const float *gt = a->gates[l] + row * G(H);
        const float *c_prev = a->c[l] + state_row(a, t) * H;
        const float *tc = a->tanh_c[l] + row * H;
        const float *dh_above = d_h + row * H;
        float *dgt = dg + row * G(H);
        for (int b = 0; b < B; b++) {
            size_t k = (size_t)b * H + u0, kg = (size_t)b * G(H) + u0;
            cell_backward(u1 - u0, H, gt + kg, c_prev + k, tc + k, dh_above + k, dh_next + k, dgt + kg,
                          dc_next + k);
        }
        team_meet(parts);
        if (t > 0 && B <= SGEMV_ROWS) /* d h_{t-1} = d gates_t W_hh, this part's columns */
            for (int b = 0; b < B; b++)
                cblas_sgemv(CblasRowMajor, CblasTrans, G(H), u1 - u0, 1.0f, m->params.w_hh[l] + u0, H,
                            dgt + (size_t)b * G(H), 1, 0.0f, dh_next + (size_t)b * H + u0, 1);
        else if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, u1 - u0, G(H), 1.0f, dgt, G(H),
                        m->params.w_hh[l] + u0, H, 0.0f, dh_next + u0, H);
    }
    const float *h_prev = rows_h_prev(a, l, H, part, parts);
    /* Weight gradients for the whole batch at once, this part's rows of G. */
    part_range(G(H), part, parts, &g0, &g1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g1 - g0, H, N, 1.0f, dg + g0, G(H), h_prev, H, 1.0f,
                m->grads.w_hh[l] + (size_t)g0 * H, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g1 - g0, In, N, 1.0f, dg + g0, G(H), x, In, 1.0f,
                m->grads.w_ih[l] + (size_t)g0 * In, In);
    float *dbias = m->grads.bias[l];
    for (int r = 0; r < N; r++) {
        const float *row = dg + (size_t)r * G(H);
        for (int j = g0; j < g1; j++) dbias[j] += row[j];
    }
    part_range(N, part, parts, &r0, &r1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, In, G(H), 1.0f, dg + (size_t)r0 * G(H), G(H),
                m->params.w_ih[l], In, 0.0f, d_x + (size_t)r0 * In, In);
    team_meet(parts);
}

/* ---- the whole network ---- */

/* The input of layer l: the embeddings, or the h of the layer below (rows 1..T). */
static const float *layer_input(const Acts *a, int l, int H) {
    return l == 0 ? a->emb : a->h[l - 1] + (size_t)a->B * H;
}

void lstm_forward(const Model *m, Acts *a, const int32_t *inputs, int B, int T, LstmState *state) {
    lstm_forward_part(m, a, inputs, B, T, NULL, state, 0, 1);
}

void lstm_backward(Model *m, Acts *a, const int32_t *inputs) { lstm_backward_part(m, a, inputs, 0, 1); }

/* Copies each sequence's state after its last step (packed: lengths[b] - 1) into row b of
   the carried state (L, B, H). */
static void save_final_state(const Acts *a, const int *lengths, LstmState *state, int L, int H) {
    size_t BH = (size_t)a->B * H;
    for (int l = 0; l < L; l++)
        for (int b = 0; b < a->B; b++) {
            size_t from = (state_row(a, lengths ? lengths[b] : a->T) + b) * H, to = l * BH + (size_t)b * H;
            memcpy(state->h + to, a->h[l] + from, (size_t)H * sizeof(float));
            memcpy(state->c + to, a->c[l] + from, (size_t)H * sizeof(float));
        }
}

void lstm_forward_part(const Model *m, Acts *a, const int32_t *inputs, int B, int T, const int *lengths,
                       LstmState *state, int part, int parts) {
    const Config *c = &m->config;
    int H = c->hidden_dim, V = c->vocab_size, r0, r1;
    size_t BH = (size_t)B * H;
    if (part == 0) {
        assert(!lengths || lengths[0] == T); /* the caller's promise (lstm.h) */
        for (int b = 1; lengths && b < B; b++) assert(lengths[b] >= 1 && lengths[b] <= lengths[b - 1]);
        set_steps(a, lengths, B, T);
        embedding_forward(m, a, inputs);
        for (int l = 0; l < c->num_layers; l++) {
            memcpy(a->h[l], state->h + l * BH, BH * sizeof(float));
            memcpy(a->c[l], state->c + l * BH, BH * sizeof(float));
        }
    }
    team_meet(parts);
    for (int l = 0; l < c->num_layers; l++) layer_forward(m, a, l, layer_input(a, l, H), part, parts);
    if (part == 0) save_final_state(a, lengths, state, c->num_layers, H);
    /* Output layer for the whole batch, this part's rows: logits = h_top W_out^T + b_out. */
    part_range(a->step_start[T], part, parts, &r0, &r1);
    const float *top = a->h[c->num_layers - 1] + BH;
    for (int r = r0; r < r1; r++) memcpy(a->logits + (size_t)r * V, m->params.out_b, V * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, V, H, 1.0f, top + (size_t)r0 * H, H,
                m->params.out_w, H, 1.0f, a->logits + (size_t)r0 * V, V);
    team_meet(parts);
}

void lstm_backward_part(Model *m, Acts *a, const int32_t *inputs, int part, int parts) {
    const Config *c = &m->config;
    int H = c->hidden_dim, V = c->vocab_size, N = a->step_start[a->T], L = c->num_layers, v0, v1, r0, r1;
    const float *top = a->h[L - 1] + (size_t)a->B * H;
    part_range(V, part, parts, &v0, &v1);
    part_range(N, part, parts, &r0, &r1);
    /* Output layer: dW_out += dlogits^T h_top and db_out += sum of rows (this part's rows
       of V), d h_top = dlogits W_out (this part's rows of N). */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, v1 - v0, H, N, 1.0f, a->logits + v0, V, top, H, 1.0f,
                m->grads.out_w + (size_t)v0 * H, H);
    for (int r = 0; r < N; r++) {
        const float *row = a->logits + (size_t)r * V;
        for (int v = v0; v < v1; v++) m->grads.out_b[v] += row[v];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, H, V, 1.0f, a->logits + (size_t)r0 * V, V,
                m->params.out_w, H, 0.0f, a->d_h + (size_t)r0 * H, H);
    team_meet(parts);
    for (int l = L - 1; l >= 0; l--) {
        layer_backward(m, a, l, layer_input(a, l, H), a->d_h, a->d_x, part, parts);
        if (l > 0) memcpy(a->d_h + (size_t)r0 * H, a->d_x + (size_t)r0 * H, (size_t)(r1 - r0) * H * sizeof(float));
        team_meet(parts);
    }
    /* This part's rows of the embedding: with tied weights the same rows of dW_out it
       wrote above, so no two parts write one row. */
    embedding_backward(m, a, a->d_x, inputs, v0, v1);
    team_meet(parts);
}

/* ---- softmax cross-entropy ---- */

float xent_forward(const Model *m, Acts *a, const int32_t *targets, int *count) {
    int T = a->T, V = m->config.vocab_size;
    double total = 0;
    int n = 0;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < step_rows(a, t); b++) {
            size_t r = (size_t)a->step_start[t] + b;
            float *row = a->logits + r * V;
            float mx = max_floats(row, V);
            for (int v = 0; v < V; v++) row[v] = fast_expf(row[v] - mx);
            float inv = 1.0f / sum_floats(row, V);
            for (int v = 0; v < V; v++) row[v] *= inv;
            int y = targets[b * T + t];
            a->losses[r] = 0;
            if (y >= 0) {
                a->losses[r] = -logf(row[y] > 1e-30f ? row[y] : 1e-30f);
                total += a->losses[r];
                n++;
            }
        }
    if (count) *count = n;
    return n ? (float)(total / n) : 0.0f;
}

void xent_backward(const Model *m, Acts *a, const int32_t *targets, float scale) {
    int T = a->T, V = m->config.vocab_size;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < step_rows(a, t); b++) {
            float *row = a->logits + ((size_t)a->step_start[t] + b) * V;
            int y = targets[b * T + t];
            if (y < 0) {
                memset(row, 0, V * sizeof(float));
                continue;
            }
            for (int v = 0; v < V; v++) row[v] *= scale;
            row[y] -= scale;
        }
}

/* ---- one step at batch 1 ---- */

void step_build(StepState *s, const Config *c) {
    s->h = xcalloc((size_t)c->num_layers * c->hidden_dim, sizeof(float));
    s->c = xcalloc((size_t)c->num_layers * c->hidden_dim, sizeof(float));
    s->gates = xmalloc((G((size_t)c->hidden_dim) + 2 * (size_t)c->hidden_dim) * sizeof(float));
    s->logits = xcalloc(c->vocab_size, sizeof(float));
}

void step_reset(StepState *s, const Config *c) {
    memset(s->h, 0, (size_t)c->num_layers * c->hidden_dim * sizeof(float));
    memset(s->c, 0, (size_t)c->num_layers * c->hidden_dim * sizeof(float));
}

void step_free(StepState *s) {
    free(s->h);
    free(s->c);
    free(s->gates);
    free(s->logits);
    memset(s, 0, sizeof *s);
}

void step_copy(StepState *dst, const StepState *src, const Config *c) {
    size_t n = (size_t)c->num_layers * c->hidden_dim * sizeof(float);
    memcpy(dst->h, src->h, n);
    memcpy(dst->c, src->c, n);
    memcpy(dst->logits, src->logits, (size_t)c->vocab_size * sizeof(float));
}

/* Matrix-vector products: at batch 1 sgemv is several times faster than a one-row sgemm. */
void lstm_step(const Model *m, StepState *s, int token) {
    const Config *c = &m->config;
    int H = c->hidden_dim;
    const float *x = m->params.embedding + (size_t)token * c->embed_dim;
    for (int l = 0; l < c->num_layers; l++) {
        float *h = s->h + (size_t)l * H, *cs = s->c + (size_t)l * H, *g = s->gates;
        memcpy(g, m->params.bias[l], G(H) * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasNoTrans, G(H), layer_in(c, l), 1.0f, m->params.w_ih[l],
                    layer_in(c, l), x, 1, 1.0f, g, 1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, G(H), H, 1.0f, m->params.w_hh[l], H, h, 1, 1.0f, g, 1);
        float *c_new = g + G(H), *tanh_c = c_new + H;
        lstm_cell_forward(H, H, g, cs, c_new, tanh_c, h);
        memcpy(cs, c_new, H * sizeof(float));
        x = h;
    }
    memcpy(s->logits, m->params.out_b, c->vocab_size * sizeof(float));
    cblas_sgemv(CblasRowMajor, CblasNoTrans, c->vocab_size, H, 1.0f, m->params.out_w, H, x, 1, 1.0f,
                s->logits, 1);
}
