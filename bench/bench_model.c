/* bench_model: the model core's speed on the benchmark shape (V4096 E256 H512 L2, B32 T64)
   with random weights and tokens, printed as `name value unit` lines:
   sgemm peak, training tokens/s, generation tokens/s at batch 1 (with sampling; half and
   full precision weights), and the
   time of a rating-sized update (forward + backward + Adam on 64 tokens at batch 1). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"
#include "model/adam.h"
#include "model/halfstep.h"
#include "model/lstm.h"
#include "model/sampler.h"
#include "model/trainer.h"
#include "model/util.h"

static double sgemm_peak_gflops(void) {
    int n = 2048;
    float *a = xcalloc((size_t)n * n, 4), *b = xcalloc((size_t)n * n, 4), *c = xcalloc((size_t)n * n, 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double t = now_seconds();
    int reps = 4;
    for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    t = now_seconds() - t;
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n * reps / t / 1e9;
}

/* FLOPs of one training token (forward + backward = 3x the forward's matrix products). */
static double train_flops_per_token(const Config *c) {
    double H = c->hidden_dim, E = c->embed_dim, V = c->vocab_size, f = 0;
    for (int l = 0; l < c->num_layers; l++) f += 2 * 4 * H * ((l ? H : E) + H);
    f += 2 * H * V;
    return 3 * f;
}

int main(int argc, char **argv) {
    Config c = bench_shape();
    int B = BENCH_BATCH, T = BENCH_SEQ, steps = argc > 1 ? atoi(argv[1]) : 12;
    Model m;
    model_build(&m, c);
    model_init_weights(&m, 1);
    double peak = sgemm_peak_gflops();
    printf("sgemm_peak_gflops %.1f GFLOP/s\n", peak);

    /* Training throughput. */
    size_t n;
    int32_t *tokens = bench_train_tokens(c.vocab_size, steps, &n);
    TrainConfig tc = bench_train_config();
    Trainer tr;
    trainer_build(&tr, &m, &tc, tokens, n);
    trainer_step(&tr); /* warm-up: page in buffers, spin up BLAS threads */
    double t0 = now_seconds();
    for (int s = 0; s < steps; s++) trainer_step(&tr);
    double dt = now_seconds() - t0, tps = (double)steps * B * T / dt;
    printf("train_tokens_per_s %.0f tokens/s\n", tps);
    printf("train_gflops %.1f GFLOP/s\n", tps * train_flops_per_token(&c) / 1e9);
    printf("train_fraction_of_peak %.2f ratio\n", tps * train_flops_per_token(&c) / 1e9 / peak);

    /* Generation at batch 1 with sampling: the chat's path (half-precision weights over two
       threads, halfstep.h), then the fp32 step for comparison. */
    StepState st;
    Sampler sm;
    HalfModel hm;
    step_build(&st, &c);
    sampler_build(&sm, c.vocab_size);
    half_build(&hm, &m);
    SamplerConfig sc = {.temperature = 0.8f, .top_k = 0, .top_p = 0.9f, .repetition_penalty = 1.2f};
    Rng r;
    rng_seed(&r, 2);
    int gen = 2000;
    for (int path = 0; path < 2; path++) {
        int tok = 1;
        int32_t recent[64] = {0};
        step_reset(&st, &c);
        t0 = now_seconds();
        for (int i = 0; i < gen; i++) {
            if (path == 0) half_step(&hm, &st, tok);
            else lstm_step(&m, &st, tok);
            tok = sampler_sample(&sm, &sc, st.logits, recent, 64, NULL, rng_float(&r), NULL);
            recent[i % 64] = tok;
        }
        printf("%s %.0f tokens/s\n", path == 0 ? "gen_tokens_per_s" : "gen_fp32_tokens_per_s",
               gen / (now_seconds() - t0));
    }
    /* A message fed before its reply (half_feed): the state of each token, the next-token
       scores of the last only, so no output layer or sampling for the rest. */
    int32_t *prompt = xmalloc((size_t)gen * sizeof(int32_t));
    for (int i = 0; i < gen; i++) prompt[i] = 1 + (int32_t)(rng_u32(&r) % (uint32_t)(c.vocab_size - 1));
    step_reset(&st, &c);
    t0 = now_seconds();
    half_feed(&hm, &st, prompt, gen);
    printf("prompt_feed_tokens_per_s %.0f tokens/s\n", gen / (now_seconds() - t0));
    free(prompt);
    half_free(&hm);

    /* A rating-sized update: forward, softmax, backward and Adam over 64 tokens at batch 1. */
    Acts a;
    LstmState s1;
    Adam adam;
    acts_build(&a, &c, 1, 64);
    state_build(&s1, &c, 1);
    adam_build(&adam, m.num_params);
    enum { REPS = 30 };
    double times[REPS];
    for (int k = 0; k < REPS; k++) {
        t0 = now_seconds();
        lstm_forward(&m, &a, tokens, 1, 64, &s1);
        int cnt;
        float loss = xent_forward(&m, &a, tokens + 1, &cnt);
        model_zero_grad(&m);
        xent_backward(&m, &a, tokens + 1, 1.0f / cnt);
        lstm_backward(&m, &a, tokens);
        adam_step(&adam, m.param_block, m.grad_block, 1e-5f, 1, loss, NULL);
        times[k] = (now_seconds() - t0) * 1e3;
    }
    printf("update_ms_median %.2f ms\n", bench_quantile(times, REPS, 0.5));
    printf("update_ms_p95 %.2f ms\n", bench_quantile(times, REPS, 0.95));
    adam_free(&adam);
    state_free(&s1);
    acts_free(&a);
    sampler_free(&sm);
    step_free(&st);
    trainer_free(&tr);
    free(tokens);
    model_free(&m);
    return 0;
}
