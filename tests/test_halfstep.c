/* test_halfstep: the generation step on half-precision weights against the fp32 step, the
   two-thread team it runs on, and the vectorizable math both forwards share. */
#include <math.h>
#include <string.h>

#include "model/fastmath.h"
#include "model/half.h"
#include "model/halfstep.h"
#include "model/lstm.h"
#include "model/parallel.h"
#include "model/util.h"
#include "tests/check.h"

/* Rounds every weight to the nearest half, so the half copy holds exactly the same values. */
static void round_to_halves(Model *m) {
    for (size_t i = 0; i < m->num_params; i++) m->param_block[i] = half_to_float(float_to_half(m->param_block[i]));
    m->version++;
}

/* Largest |a - b| over the logits after each of n steps of both steps on the same tokens. */
static double step_difference(const Config *c, uint64_t seed, int round, int n) {
    Model m;
    model_build(&m, *c);
    model_init_weights(&m, seed);
    if (round) round_to_halves(&m);
    HalfModel hm;
    half_build(&hm, &m);
    StepState full, half;
    step_build(&full, c);
    step_build(&half, c);
    Rng r;
    rng_seed(&r, seed + 1);
    double worst = 0;
    for (int t = 0; t < n; t++) {
        int tok = (int)(rng_u32(&r) % c->vocab_size);
        lstm_step(&m, &full, tok);
        half_step(&hm, &half, tok);
        for (int v = 0; v < c->vocab_size; v++) worst = fmax(worst, fabs(full.logits[v] - half.logits[v]));
        for (int i = 0; i < c->num_layers * c->hidden_dim; i++)
            worst = fmax(worst, fmax(fabs(full.h[i] - half.h[i]), fabs(full.c[i] - half.c[i])));
    }
    step_free(&full);
    step_free(&half);
    half_free(&hm);
    model_free(&m);
    return worst;
}

static void test_half_step_matches_fp32_step_on_half_weights(void) {
    /* Shapes with odd sizes exercise the kernels' tails and the uneven split of units. */
    Config shapes[] = {{.vocab_size = 300, .embed_dim = 32, .hidden_dim = 64, .num_layers = 2},
                       {.vocab_size = 37, .embed_dim = 5, .hidden_dim = 7, .num_layers = 3},
                       {.vocab_size = 261, .embed_dim = 24, .hidden_dim = 24, .num_layers = 1, .tied = 1},
                       {.vocab_size = 1000, .embed_dim = 40, .hidden_dim = 130, .num_layers = 2}};
    for (int k = 0; k < 4; k++) {
        double d = step_difference(&shapes[k], 10 + k, 1, 12);
        CHECK(d < 1e-5, "shape %d: half step differs from the fp32 step on the same weights by %.3g", k, d);
    }
}

static void test_half_step_is_close_to_fp32_weights(void) {
    Config c = {.vocab_size = 500, .embed_dim = 32, .hidden_dim = 96, .num_layers = 2};
    double d = step_difference(&c, 3, 0, 20);
    CHECK(d > 0, "rounding to halves changed nothing: the test does not see the half path");
    CHECK(d < 2e-3, "half step far from the fp32 weights' step: %.3g", d);
}

/* Two states of one model, about to read the same random tokens by two routes, which must
   leave them bit for bit alike. */
typedef struct {
    Config c;
    Model m;
    HalfModel hm;
    StepState a, b;
    int32_t tokens[64];
    int n;
} TwoRoutes;

static void two_routes_open(TwoRoutes *t, uint64_t weight_seed, uint64_t token_seed, int n) {
    t->c = (Config){.vocab_size = 300, .embed_dim = 20, .hidden_dim = 36, .num_layers = 2};
    model_build(&t->m, t->c);
    model_init_weights(&t->m, weight_seed);
    half_build(&t->hm, &t->m);
    step_build(&t->a, &t->c);
    step_build(&t->b, &t->c);
    Rng r;
    rng_seed(&r, token_seed);
    t->n = n;
    for (int i = 0; i < n; i++) t->tokens[i] = (int32_t)(rng_u32(&r) % (uint32_t)t->c.vocab_size);
}

/* The state and the last token's logits, compared; then freed. */
static void two_routes_agree(TwoRoutes *t, const char *routes) {
    size_t hc = (size_t)t->c.num_layers * t->c.hidden_dim * sizeof(float);
    CHECK(!memcmp(t->a.h, t->b.h, hc) && !memcmp(t->a.c, t->b.c, hc), "%s: the states differ", routes);
    CHECK(!memcmp(t->a.logits, t->b.logits, (size_t)t->c.vocab_size * sizeof(float)), "%s: last logits differ", routes);
    step_free(&t->a);
    step_free(&t->b);
    half_free(&t->hm);
    model_free(&t->m);
}

/* Feeding a message leaves the state, and the last token's logits, exactly as stepping
   through it does: only the logits nobody reads are skipped. */
static void test_feed_leaves_what_stepping_leaves(void) {
    TwoRoutes t;
    two_routes_open(&t, 4, 5, 17);
    for (int i = 0; i < t.n; i++) half_step(&t.hm, &t.a, t.tokens[i]);
    half_feed(&t.hm, &t.b, t.tokens, t.n);
    two_routes_agree(&t, "stepped, fed");
}

/* A message fed in chunks (the session looks at the stop flag between them) leaves the state
   and the last logits bit for bit as one feed does. */
static void test_feeding_in_chunks_leaves_what_one_feed_leaves(void) {
    TwoRoutes t;
    two_routes_open(&t, 6, 7, 50);
    half_feed(&t.hm, &t.a, t.tokens, t.n);
    for (int i = 0; i < t.n; i += 16) half_feed(&t.hm, &t.b, t.tokens + i, t.n - i < 16 ? t.n - i : 16);
    two_routes_agree(&t, "fed whole, fed in chunks");
}

static void test_half_copy_follows_the_model_version(void) {
    Config c = {.vocab_size = 50, .embed_dim = 8, .hidden_dim = 12, .num_layers = 2};
    Model m;
    model_build(&m, c);
    model_init_weights(&m, 4);
    round_to_halves(&m);
    HalfModel hm;
    half_build(&hm, &m);
    StepState a, b;
    step_build(&a, &c);
    step_build(&b, &c);
    for (size_t i = 0; i < m.num_params; i++) m.param_block[i] *= -0.5f; /* exact in halves */
    m.version++;
    half_step(&hm, &a, 3);
    lstm_step(&m, &b, 3);
    double worst = 0;
    for (int v = 0; v < c.vocab_size; v++) worst = fmax(worst, fabs(a.logits[v] - b.logits[v]));
    CHECK(worst < 1e-6, "the half copy did not follow an update: logits differ by %.3g", worst);
    step_free(&a);
    step_free(&b);
    half_free(&hm);
    model_free(&m);
}

typedef struct {
    int hits[2];
    int before_barrier[2], after_barrier_saw[2];
} TeamProbe;

static void probe_part(void *ctx, int part, int parts) {
    TeamProbe *p = ctx;
    p->hits[part]++;
    p->before_barrier[part] = 1;
    team_barrier();
    p->after_barrier_saw[part] = parts == 1 ? 1 : p->before_barrier[1 - part];
}

static void test_team_runs_both_parts_and_barrier_holds(void) {
    if (parallel_cores() < 2) { /* one core: the caller runs the one part (test_parallel) */
        printf("skipped: this process may use one core\n");
        return;
    }
    TeamProbe p;
    memset(&p, 0, sizeof p);
    int ok = 1;
    for (int i = 0; i < 2000; i++) {
        p.before_barrier[0] = p.before_barrier[1] = 0;
        parallel_team(probe_part, &p);
        ok &= p.after_barrier_saw[0] == 1 && p.after_barrier_saw[1] == 1;
    }
    CHECK(p.hits[0] == 2000 && p.hits[1] == 2000, "parts ran %d and %d times of 2000", p.hits[0], p.hits[1]);
    CHECK(ok, "a part went past the barrier before the other reached it");
}

static void test_fast_math_against_double(void) {
    double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
        double e = exp((double)x);
        worst_exp = fmax(worst_exp, fabs(fast_expf(x) - e) / e);
    }
    for (float x = -30.0f; x < 30.0f; x += 0.00173f) {
        worst_sig = fmax(worst_sig, fabs(fast_sigmoidf(x) - 1.0 / (1.0 + exp(-(double)x))));
        worst_tanh = fmax(worst_tanh, fabs(fast_tanhf(x) - tanh((double)x)));
    }
    CHECK(worst_exp < 3e-7, "fast_expf relative error %.3g", worst_exp);
    CHECK(worst_sig < 2e-7, "fast_sigmoidf error %.3g", worst_sig);
    CHECK(worst_tanh < 3e-7, "fast_tanhf error %.3g", worst_tanh);
    CHECK(fast_expf(-INFINITY) == 0 && fast_expf(-200) == 0, "exp of very negative is not 0");
    CHECK(isinf(fast_expf(INFINITY)) && isinf(fast_expf(200)), "exp of very large is not inf");
    CHECK(isnan(fast_expf(NAN)) && isnan(fast_sigmoidf(NAN)) && isnan(fast_tanhf(NAN)), "NaN did not propagate");
    CHECK(fast_tanhf(-40) == -1 && fast_tanhf(40) == 1 && fast_tanhf(0) == 0, "tanh edges");
    float x[37];
    double ref = 0;
    for (int i = 0; i < 37; i++) x[i] = 1.0f / (float)(i + 1), ref += x[i];
    CHECK(fabs(sum_floats(x, 37) - ref) < 1e-6, "sum_floats %g vs %g", sum_floats(x, 37), ref);
}

int main(void) {
    RUN(test_half_step_matches_fp32_step_on_half_weights);
    RUN(test_half_step_is_close_to_fp32_weights);
    RUN(test_feed_leaves_what_stepping_leaves);
    RUN(test_feeding_in_chunks_leaves_what_one_feed_leaves);
    RUN(test_half_copy_follows_the_model_version);
    RUN(test_team_runs_both_parts_and_barrier_holds);
    RUN(test_fast_math_against_double);
    return check_summary();
}
