/* bench_dist: data-parallel training speed on the benchmark shape (V4096 E256 H512 L2,
   global batch B32 T64) with random weights and tokens, run under mpirun by bench/run.sh.
   Rank 0 prints `name value unit` lines: training tokens/s and the step time for this
   number of ranks and BLAS threads, and, with several ranks, the time and bandwidth of
   one allreduce of the gradient block (the figures of docs/distributed.md's scaling table). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/common.h"
#include "model/distributed.h"
#include "model/lstm.h"
#include "model/trainer.h"
#include "model/util.h"

int main(int argc, char **argv) {
    dist_init();
    int rank = dist_rank(), world = dist_world(), threads = openblas_get_num_threads();
    Config c = bench_shape();
    int B = BENCH_BATCH, T = BENCH_SEQ, steps = argc > 1 ? atoi(argv[1]) : 12, reps = 20;
    Model m;
    model_build(&m, c);
    if (rank == 0) model_init_weights(&m, 1);
    dist_bcast(m.param_block, m.num_params * sizeof(float)); /* as rlchat train starts */
    size_t n;
    int32_t *tokens = bench_train_tokens(c.vocab_size, steps, &n);
    TrainConfig tc = bench_train_config();
    Trainer tr;
    if (trainer_build_shard(&tr, &m, &tc, tokens, 4, n, rank, world) != 0) {
        fprintf(stderr, "bench_dist: %s\n", err_msg());
        dist_abort(1);
    }
    trainer_step(&tr); /* warm-up: page in buffers, spin up BLAS threads */
    dist_barrier();
    double t0 = now_seconds();
    for (int s = 0; s < steps; s++) trainer_step(&tr);
    dist_barrier();
    double dt = now_seconds() - t0;
    const char *rs = world > 1 ? "ranks" : "rank", *ts = threads > 1 ? "threads" : "thread";
    if (rank == 0) {
        printf("train_tokens_per_s_%d%s_%d%s %.0f tokens/s\n", world, rs, threads, ts, (double)steps * B * T / dt);
        printf("step_ms_%d%s_%d%s %.1f ms\n", world, rs, threads, ts, 1e3 * dt / steps);
    }
    if (world > 1) {
        double *times = xmalloc(reps * sizeof(double));
        for (int k = 0; k < reps; k++) {
            dist_barrier();
            double a = now_seconds();
            dist_allreduce_sum(m.grad_block, m.num_params);
            times[k] = now_seconds() - a;
        }
        double bytes = (double)m.num_params * sizeof(float), med = bench_quantile(times, reps, 0.5);
        if (rank == 0) {
            printf("grad_bytes %.0f bytes\n", bytes);
            printf("allreduce_ms_%d%s %.2f ms\n", world, rs, 1e3 * med);
            printf("allreduce_gbytes_per_s %.2f GB/s\n", bytes / med / 1e9);
        }
        free(times);
    }
    trainer_free(&tr);
    free(tokens);
    model_free(&m);
    dist_finalize();
    return 0;
}
