#!/bin/sh
# mpi_scaling.sh STEP_MS GRAD_BYTES [grow|fixed] [LATENCY_US]: projects data-parallel
# training of the benchmark shape (batch 32 x 64 tokens a step) over N machines like this
# one, from its measured figures (make bench: step_ms_1rank_2threads, grad_bytes), as the
# Markdown table in docs/distributed.md.
#
# After forward and backward, the gradient block is summed by a ring allreduce, which sends
# and receives 2(N-1)/N of the block per machine in 2(N-1) messages:
#     t_allreduce = 2(N-1)/N * GRAD_BYTES / bandwidth + 2(N-1) * latency
#     tokens/s    = tokens per step / (t_compute + t_allreduce)
#     efficiency  = t_compute / (t_compute + t_allreduce)
# grow (the default): each machine keeps batch 32, so --batch is 32N and t_compute = STEP_MS.
# fixed: --batch stays 32, split N ways, so t_compute = STEP_MS / N (optimistic: small
# matrix products are less efficient) and N cannot pass 32. The latency defaults to 30 us.
step_ms=${1:?usage: mpi_scaling.sh STEP_MS GRAD_BYTES [grow|fixed] [LATENCY_US]}
bytes=${2:?usage: mpi_scaling.sh STEP_MS GRAD_BYTES [grow|fixed] [LATENCY_US]}
mode=${3:-grow}
lat_us=${4:-30}
awk -v t="$step_ms" -v s="$bytes" -v mode="$mode" -v a="$lat_us" 'BEGIN {
    k = 32 * 64;
    split("10 25 100", gbit, " ");
    split("2 8 32 128", nodes, " ");
    printf "| nodes | --batch | link | allreduce | step | tokens/s | efficiency |\n";
    printf "|---|---|---|---|---|---|---|\n";
    printf "| 1 | 32 | - | 0 ms | %.0f ms | %.0f | 100%% |\n", t, k / (t / 1e3);
    for (i = 1; i <= 4; i++)
        for (j = 1; j <= 3; j++) {
            n = nodes[i];
            if (mode == "fixed" && n > 32) continue;
            c = mode == "fixed" ? t / n : t;
            tokens = mode == "fixed" ? k : n * k;
            bw = gbit[j] * 1e9 / 8;
            ar = 1e3 * (2 * (n - 1) / n * s / bw + 2 * (n - 1) * a * 1e-6);
            printf "| %d | %d | %d Gbit/s | %.1f ms | %.0f ms | %.0f | %.0f%% |\n", n, tokens / 64, gbit[j],
                   ar, c + ar, tokens / ((c + ar) / 1e3), 100 * c / (c + ar);
        }
}'
