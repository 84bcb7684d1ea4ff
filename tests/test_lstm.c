/* test_lstm: the model's forward and backward, checked against central finite differences
   and against a PyTorch fixture (tests/make_fixture.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "model/parallel.h"
#include "model/util.h"
#include "tests/check.h"

/* ---- helpers ---- */

static void random_tokens(int32_t *x, int n, int V, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = (int32_t)(rng_u32(&r) % V);
}

/* Mean cross-entropy of the model on inputs/targets (B,T) from a zero state. */
static float loss_of(const Model *m, Acts *a, const int32_t *in, const int32_t *tg, int B, int T) {
    LstmState s;
    state_build(&s, &m->config, B);
    lstm_forward(m, a, in, B, T, &s);
    float loss = xent_forward(m, a, tg, NULL);
    state_free(&s);
    return loss;
}

/* Relative error of two vectors: |a - b| / (|a| + |b|), the usual gradient-check measure. */
static double rel_error(const double *a, const double *b, int n) {
    double diff = 0, sa = 0, sb = 0;
    for (int i = 0; i < n; i++) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        sa += a[i] * a[i];
        sb += b[i] * b[i];
    }
    return sqrt(diff) / (sqrt(sa) + sqrt(sb) + 1e-12);
}

static const char *current_label = "";

/* Checks the analytic gradient of one parameter group (count floats at offset) against
   central differences on up to 40 sampled entries. */
static void check_group(Model *m, Acts *a, const int32_t *in, const int32_t *tg, int B, int T,
                        const float *group, size_t count, const char *name) {
    size_t off = (size_t)(group - m->param_block);
    double analytic[40] = {0}, numeric[40] = {0};
    int n = count < 40 ? (int)count : 40;
    Rng r;
    rng_seed(&r, off);
    for (int k = 0; k < n; k++) {
        size_t i = off + (count <= 40 ? (size_t)k : rng_u32(&r) % count);
        float keep = m->param_block[i], h = 1e-2f;
        m->param_block[i] = keep + h;
        double up = loss_of(m, a, in, tg, B, T);
        m->param_block[i] = keep - h;
        double down = loss_of(m, a, in, tg, B, T);
        m->param_block[i] = keep;
        numeric[k] = (up - down) / (2 * h);
        analytic[k] = m->grad_block[i];
    }
    /* The loss is a float near 2.5, so a central difference carries noise of about
       1e-7 * 2.5 / h per entry; where the gradients themselves are that small (deep
       layers), an absolute floor decides instead of the relative error. */
    double err = rel_error(analytic, numeric, n), rms = 0;
    for (int k = 0; k < n; k++) rms += (analytic[k] - numeric[k]) * (analytic[k] - numeric[k]);
    rms = sqrt(rms / n);
    CHECK(err < 2e-2 || rms < 5e-5, "%s (%s): gradient differs from finite differences, relative error %.3g, rms %.3g",
          name, current_label, err, rms);
}

/* ---- tests ---- */

/* The whole model's gradient through several time steps, every parameter group. */
static void check_model_gradients(Config c, int B, int T, const char *label) {
    Model m;
    Acts a;
    model_build(&m, c);
    model_init_weights(&m, 7);
    for (size_t i = 0; i < m.num_params; i++) m.param_block[i] *= 4; /* livelier gradients */
    acts_build(&a, &c, B, T);
    int32_t in[64], tg[64];
    random_tokens(in, B * T, c.vocab_size, 1);
    random_tokens(tg, B * T, c.vocab_size, 2);
    tg[1] = -1; /* an ignored target */
    int count;
    LstmState s;
    state_build(&s, &c, B);
    lstm_forward(&m, &a, in, B, T, &s);
    xent_forward(&m, &a, tg, &count);
    state_free(&s);
    model_zero_grad(&m);
    xent_backward(&m, &a, tg, 1.0f / count);
    lstm_backward(&m, &a, in);
    Params *p = &m.params;
    int H = c.hidden_dim;
    current_label = label;
    check_group(&m, &a, in, tg, B, T, p->embedding, (size_t)c.vocab_size * c.embed_dim, "embedding");
    for (int l = 0; l < c.num_layers; l++) {
        int in_dim = l ? H : c.embed_dim;
        check_group(&m, &a, in, tg, B, T, p->w_ih[l], (size_t)4 * H * in_dim, "w_ih");
        check_group(&m, &a, in, tg, B, T, p->w_hh[l], (size_t)4 * H * H, "w_hh");
        check_group(&m, &a, in, tg, B, T, p->bias[l], (size_t)4 * H, "bias");
    }
    if (!c.tied) check_group(&m, &a, in, tg, B, T, p->out_w, (size_t)c.vocab_size * H, "out_w");
    check_group(&m, &a, in, tg, B, T, p->out_b, c.vocab_size, "out_b");
    acts_free(&a);
    model_free(&m);
}

static void test_every_parameter_gradient_matches_finite_differences(void) {
    check_model_gradients((Config){.vocab_size = 13, .embed_dim = 4, .hidden_dim = 5, .num_layers = 2}, 2, 6, "B=2");
    check_model_gradients((Config){.vocab_size = 13, .embed_dim = 4, .hidden_dim = 5, .num_layers = 2}, 1, 7, "B=1");
    check_model_gradients((Config){.vocab_size = 11, .embed_dim = 5, .hidden_dim = 5, .num_layers = 3, .tied = 1},
                          2, 5, "tied, 3 layers");
}

static void test_softmax_cross_entropy_gradient_matches_finite_differences(void) {
    Config c = {.vocab_size = 7, .embed_dim = 3, .hidden_dim = 3, .num_layers = 1};
    Model m;
    Acts a;
    model_build(&m, c);
    acts_build(&a, &c, 1, 1);
    a.B = a.T = 1;
    a.step_start[1] = 1; /* one row, as a forward of one step leaves it */
    float logits[7] = {0.3f, -1.2f, 2.0f, 0.1f, 0.0f, -0.4f, 1.1f};
    int32_t y = 4;
    double analytic[7], numeric[7];
    memcpy(a.logits, logits, sizeof logits);
    xent_forward(&m, &a, &y, NULL);
    xent_backward(&m, &a, &y, 1.0f);
    for (int v = 0; v < 7; v++) analytic[v] = a.logits[v];
    for (int v = 0; v < 7; v++) {
        float h = 1e-3f;
        memcpy(a.logits, logits, sizeof logits);
        a.logits[v] += h;
        double up = xent_forward(&m, &a, &y, NULL);
        memcpy(a.logits, logits, sizeof logits);
        a.logits[v] -= h;
        double down = xent_forward(&m, &a, &y, NULL);
        numeric[v] = (up - down) / (2 * h);
    }
    double err = rel_error(analytic, numeric, 7);
    CHECK(err < 1e-3, "softmax cross-entropy gradient relative error %.3g", err);
    acts_free(&a);
    model_free(&m);
}

static int read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

static void test_forward_and_backward_match_pytorch_fixture(void) {
    FILE *f = fopen("tests/fixtures/lstm_small.bin", "rb");
    CHECK(f != NULL, "cannot open tests/fixtures/lstm_small.bin (run from the repo root)");
    if (!f) return;
    int32_t hdr[6];
    read_exact(f, hdr, sizeof hdr);
    Config c = {.vocab_size = hdr[0], .embed_dim = hdr[1], .hidden_dim = hdr[2], .num_layers = hdr[3]};
    int B = hdr[4], T = hdr[5], N = B * T, V = c.vocab_size;
    Model m;
    Acts a;
    model_build(&m, c);
    acts_build(&a, &c, B, T);
    int32_t *in = xmalloc(N * sizeof(int32_t)), *tg = xmalloc(N * sizeof(int32_t));
    float *ref_logits = xmalloc((size_t)N * V * sizeof(float)), *ref_grad = xmalloc(m.num_params * 4);
    float ref_loss;
    int ok = read_exact(f, in, N * 4) && read_exact(f, tg, N * 4) &&
             read_exact(f, m.param_block, m.num_params * 4) && read_exact(f, ref_logits, (size_t)N * V * 4) &&
             read_exact(f, &ref_loss, 4) && read_exact(f, ref_grad, m.num_params * 4);
    fclose(f);
    CHECK(ok, "fixture is truncated");
    LstmState s;
    state_build(&s, &c, B);
    lstm_forward(&m, &a, in, B, T, &s);
    double worst = 0;
    for (int i = 0; i < N * V; i++) {
        double d = fabs(a.logits[i] - ref_logits[i]) / (fabs(ref_logits[i]) + 1e-3);
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-4, "logits differ from PyTorch: max relative difference %.3g", worst);
    int count;
    float loss = xent_forward(&m, &a, tg, &count);
    CHECK(fabsf(loss - ref_loss) / ref_loss < 1e-5, "loss %.7f, PyTorch %.7f", loss, ref_loss);
    model_zero_grad(&m);
    xent_backward(&m, &a, tg, 1.0f / count);
    lstm_backward(&m, &a, in);
    worst = 0;
    for (size_t i = 0; i < m.num_params; i++) {
        double d = fabs(m.grad_block[i] - ref_grad[i]) / (fabs(ref_grad[i]) + 1e-4);
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-3, "gradients differ from PyTorch: max relative difference %.3g", worst);
    double num = 0, den = 0;
    for (size_t i = 0; i < m.num_params; i++) {
        num += (m.grad_block[i] - ref_grad[i]) * (m.grad_block[i] - ref_grad[i]);
        den += ref_grad[i] * ref_grad[i];
    }
    CHECK(sqrt(num / den) < 1e-4, "gradient block differs from PyTorch: relative norm %.3g", sqrt(num / den));
    state_free(&s);
    free(in), free(tg), free(ref_logits), free(ref_grad);
    acts_free(&a);
    model_free(&m);
}

static void test_single_step_matches_sequence_forward(void) {
    Config c = {.vocab_size = 300, .embed_dim = 8, .hidden_dim = 16, .num_layers = 2};
    int T = 9;
    Model m;
    Acts a;
    StepState st;
    LstmState s;
    model_build(&m, c);
    model_init_weights(&m, 3);
    acts_build(&a, &c, 1, T);
    state_build(&s, &c, 1);
    step_build(&st, &c);
    int32_t in[9];
    random_tokens(in, T, c.vocab_size, 5);
    lstm_forward(&m, &a, in, 1, T, &s);
    double worst = 0;
    for (int t = 0; t < T; t++) {
        lstm_step(&m, &st, in[t]);
        for (int v = 0; v < c.vocab_size; v++) {
            double d = fabs(st.logits[v] - a.logits[(size_t)t * c.vocab_size + v]);
            worst = d > worst ? d : worst;
        }
    }
    CHECK(worst < 1e-5, "step logits differ from sequence logits by %.3g", worst);
    CHECK(fabsf(st.h[c.hidden_dim + 3] - s.h[c.hidden_dim + 3]) < 1e-6, "final states differ");
    step_free(&st);
    state_free(&s);
    acts_free(&a);
    model_free(&m);
}

static void test_state_carries_across_batches(void) {
    Config c = {.vocab_size = 40, .embed_dim = 6, .hidden_dim = 7, .num_layers = 2};
    Model m;
    Acts a;
    LstmState whole, halves;
    model_build(&m, c);
    model_init_weights(&m, 11);
    acts_build(&a, &c, 2, 8);
    state_build(&whole, &c, 2);
    state_build(&halves, &c, 2);
    int32_t in[16], first[8], second[8];
    random_tokens(in, 16, c.vocab_size, 9);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 4; t++) first[b * 4 + t] = in[b * 8 + t], second[b * 4 + t] = in[b * 8 + 4 + t];
    lstm_forward(&m, &a, in, 2, 8, &whole);
    float last_whole = a.logits[(size_t)(7 * 2 + 1) * c.vocab_size + 5];
    lstm_forward(&m, &a, first, 2, 4, &halves);
    lstm_forward(&m, &a, second, 2, 4, &halves);
    float last_halves = a.logits[(size_t)(3 * 2 + 1) * c.vocab_size + 5];
    CHECK(fabsf(last_whole - last_halves) < 1e-5, "carried state differs: %g vs %g", last_whole, last_halves);
    state_free(&whole);
    state_free(&halves);
    acts_free(&a);
    model_free(&m);
}

/* What one part of a team runs: the forward or the backward of one sequence. */
typedef struct {
    Model *m;
    Acts *a;
    const int32_t *in;
    int B, T, backward;
    LstmState *state;
    const int *lengths; /* NULL, or a packed batch's */
} PartPass;

static void pass_part(void *ctx, int part, int parts) {
    PartPass *p = ctx;
    if (p->backward) lstm_backward_part(p->m, p->a, p->in, part, parts);
    else lstm_forward_part(p->m, p->a, p->in, p->B, p->T, p->lengths, p->state, part, parts);
}

/* The learner splits a batch's forward and backward between the two cores (units of the
   recurrence, rows of the products). That must give what one thread gives: the logits,
   the final state and every gradient. Odd sizes, so the parts' shares are uneven, one
   model so small that the second part has no units at all, and batches on both sides of
   SGEMV_ROWS (lstm.c). */
static void check_team_matches_one_thread(Config c, int B, int T) {
    Model m;
    Acts a;
    model_build(&m, c);
    model_init_weights(&m, 5);
    acts_build(&a, &c, B, T);
    int32_t in[64], tg[64];
    random_tokens(in, B * T, c.vocab_size, 30);
    random_tokens(tg, B * T, c.vocab_size, 31);
    size_t nl = (size_t)B * T * c.vocab_size, ns = (size_t)c.num_layers * B * c.hidden_dim;
    float *logits[2], *grads[2], *state_h[2];
    for (int team = 0; team < 2; team++) {
        LstmState s;
        state_build(&s, &c, B);
        for (size_t i = 0; i < ns; i++) s.h[i] = 0.1f * (float)(i % 7) - 0.3f, s.c[i] = 0.05f * (float)(i % 5);
        model_zero_grad(&m);
        PartPass p = {&m, &a, in, B, T, 0, &s, NULL};
        if (team) parallel_team(pass_part, &p);
        else lstm_forward(&m, &a, in, B, T, &s);
        logits[team] = xmalloc(nl * sizeof(float));
        memcpy(logits[team], a.logits, nl * sizeof(float));
        state_h[team] = xmalloc(ns * sizeof(float));
        memcpy(state_h[team], s.h, ns * sizeof(float));
        int count;
        xent_forward(&m, &a, tg, &count);
        xent_backward(&m, &a, tg, 1.0f / count);
        p.backward = 1;
        if (team) parallel_team(pass_part, &p);
        else lstm_backward(&m, &a, in);
        grads[team] = xmalloc(m.num_params * sizeof(float));
        memcpy(grads[team], m.grad_block, m.num_params * sizeof(float));
        state_free(&s);
    }
    double dl = check_relative_gap(logits[1], logits[0], nl), ds = check_relative_gap(state_h[1], state_h[0], ns);
    double dg = check_relative_gap(grads[1], grads[0], m.num_params);
    CHECK(dl < 1e-6 && ds < 1e-6, "H %d B %d T %d: the team's logits / final h differ by %.3g / %.3g (relative)",
          c.hidden_dim, B, T, dl, ds);
    CHECK(dg < 1e-5, "H %d B %d T %d: the team's gradient differs by %.3g (relative)", c.hidden_dim, B, T, dg);
    for (int team = 0; team < 2; team++) free(logits[team]), free(grads[team]), free(state_h[team]);
    acts_free(&a);
    model_free(&m);
}

static void test_a_team_of_two_computes_what_one_thread_does(void) {
    check_team_matches_one_thread((Config){.vocab_size = 23, .embed_dim = 10, .hidden_dim = 10, .num_layers = 2,
                                           .tied = 1}, 1, 9);
    check_team_matches_one_thread((Config){.vocab_size = 37, .embed_dim = 6, .hidden_dim = 12, .num_layers = 3},
                                  2, 7);
    check_team_matches_one_thread((Config){.vocab_size = 11, .embed_dim = 4, .hidden_dim = 4, .num_layers = 1}, 1, 3);
    check_team_matches_one_thread((Config){.vocab_size = 19, .embed_dim = 8, .hidden_dim = 16, .num_layers = 2}, 6,
                                  5); /* past SGEMV_ROWS: the recurrence as sgemm */
}

/* A packed batch (lengths longest first) must compute for each sequence what a pass over
   it alone computes: its logits at each step, its state after its last step, and, with
   each row's cross-entropy, the sum of their gradients. With one thread and with a team,
   with sequences of one length among others, and past SGEMV_ROWS. */
static void check_packed_matches_alone(Config c, int B, const int *lengths, int team) {
    int T = lengths[0], V = c.vocab_size, H = c.hidden_dim, L = c.num_layers;
    Model m;
    Acts packed, alone;
    LstmState s, s1;
    model_build(&m, c);
    model_init_weights(&m, 8);
    acts_build(&packed, &c, B, T);
    acts_build(&alone, &c, 1, T);
    state_build(&s, &c, B);
    state_build(&s1, &c, 1);
    int32_t in[64], tg[64], in1[16], tg1[16];
    random_tokens(in, B * T, V, 40);
    random_tokens(tg, B * T, V, 41);
    size_t ns = (size_t)L * B * H;
    for (size_t i = 0; i < ns; i++) s.h[i] = 0.07f * (float)(i % 9) - 0.3f, s.c[i] = 0.04f * (float)(i % 6);
    float *start_h = xmalloc(ns * sizeof(float)), *start_c = xmalloc(ns * sizeof(float));
    memcpy(start_h, s.h, ns * sizeof(float));
    memcpy(start_c, s.c, ns * sizeof(float));
    model_zero_grad(&m);
    PartPass p = {&m, &packed, in, B, T, 0, &s, lengths};
    if (team) parallel_team(pass_part, &p);
    else lstm_forward_part(&m, &packed, in, B, T, lengths, &s, 0, 1);
    int rows = 0;
    for (int b = 0; b < B; b++) rows += lengths[b];
    CHECK(packed.step_start[T] == rows, "B %d: %d rows, not the %d of the lengths", B, packed.step_start[T], rows);
    float *logits = xmalloc((size_t)rows * V * sizeof(float));
    memcpy(logits, packed.logits, (size_t)rows * V * sizeof(float));
    xent_forward(&m, &packed, tg, NULL);
    xent_backward(&m, &packed, tg, 1.0f);
    p.backward = 1;
    if (team) parallel_team(pass_part, &p);
    else lstm_backward(&m, &packed, in);
    float *grads = xmalloc(m.num_params * sizeof(float));
    memcpy(grads, m.grad_block, m.num_params * sizeof(float));
    double worst_logit = 0, worst_state = 0;
    model_zero_grad(&m);
    for (int b = 0; b < B; b++) {
        int n = lengths[b];
        for (int t = 0; t < n; t++) in1[t] = in[b * T + t], tg1[t] = tg[b * T + t];
        for (int l = 0; l < L; l++) {
            memcpy(s1.h + (size_t)l * H, start_h + ((size_t)l * B + b) * H, (size_t)H * sizeof(float));
            memcpy(s1.c + (size_t)l * H, start_c + ((size_t)l * B + b) * H, (size_t)H * sizeof(float));
        }
        lstm_forward(&m, &alone, in1, 1, n, &s1);
        for (int t = 0; t < n; t++)
            worst_logit = fmax(worst_logit, check_relative_gap(logits + ((size_t)packed.step_start[t] + b) * V,
                                                               alone.logits + (size_t)t * V, (size_t)V));
        for (int l = 0; l < L; l++) {
            worst_state = fmax(worst_state, check_relative_gap(s.h + ((size_t)l * B + b) * H, s1.h + (size_t)l * H, H));
            worst_state = fmax(worst_state, check_relative_gap(s.c + ((size_t)l * B + b) * H, s1.c + (size_t)l * H, H));
        }
        xent_forward(&m, &alone, tg1, NULL);
        xent_backward(&m, &alone, tg1, 1.0f);
        lstm_backward(&m, &alone, in1); /* adds: the sum over the sequences */
    }
    double dg = check_relative_gap(grads, m.grad_block, m.num_params);
    CHECK(worst_logit < 1e-6 && worst_state < 1e-6, "B %d%s: packed logits / final states differ by %.3g / %.3g",
          B, team ? ", team" : "", worst_logit, worst_state);
    CHECK(dg < 1e-5, "B %d%s: the packed batch's gradient differs from the sum by %.3g (relative)", B,
          team ? ", team" : "", dg);
    free(start_h), free(start_c), free(logits), free(grads);
    state_free(&s), state_free(&s1);
    acts_free(&packed), acts_free(&alone);
    model_free(&m);
}

static void test_a_packed_batch_computes_each_sequence_as_alone(void) {
    Config small = {.vocab_size = 17, .embed_dim = 6, .hidden_dim = 10, .num_layers = 2};
    Config tied = {.vocab_size = 13, .embed_dim = 8, .hidden_dim = 8, .num_layers = 3, .tied = 1};
    const int three[3] = {7, 4, 1}, six[6] = {9, 9, 6, 6, 3, 2}, same[2] = {5, 5};
    for (int team = 0; team < 2; team++) {
        check_packed_matches_alone(small, 3, three, team);
        check_packed_matches_alone(tied, 6, six, team); /* past SGEMV_ROWS */
        check_packed_matches_alone(small, 2, same, team);
    }
}

int main(void) {
    RUN(test_every_parameter_gradient_matches_finite_differences);
    RUN(test_softmax_cross_entropy_gradient_matches_finite_differences);
    RUN(test_forward_and_backward_match_pytorch_fixture);
    RUN(test_a_packed_batch_computes_each_sequence_as_alone);
    RUN(test_single_step_matches_sequence_forward);
    RUN(test_state_carries_across_batches);
    RUN(test_a_team_of_two_computes_what_one_thread_does);
    return check_summary();
}
