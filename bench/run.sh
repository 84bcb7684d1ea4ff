#!/bin/sh
# make bench: rlchat's figures beside PyTorch's on the same shapes, as `name value unit`.
# Run it on a quiet machine: both share the same two cores.
# Every figure is followed by the OpenBLAS kernel it ran on ([Zen], [Haswell], ...): the
# machine and OPENBLAS_CORETYPE choose it, and it can change a figure twofold.
build=${1:-build}
model=${MODEL:-assets/rlchat.model}
kernel=$("$build/bench/bench_kernel" | awk '{ print $2 }')
[ -n "$OPENBLAS_CORETYPE" ] && kernel="$kernel, forced by OPENBLAS_CORETYPE"
kernel_beside() { awk -v k="$kernel" '/^#/ || NF < 3 { print; next } { print $0 " [" k "]" }'; }
echo "# OpenBLAS kernel: $kernel"
echo "# model core on the benchmark shape V4096 E256 H512 L2 B32 T64, 2 threads"
"$build/bench/bench_model" | kernel_beside | tee /tmp/rlchat_bench.$$
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    # Debian's PyTorch links the same libopenblas, so it runs the same kernel.
    echo "# PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), same shapes, 2 threads"
    /usr/bin/python3 bench/torch_peer.py 2 | kernel_beside | tee -a /tmp/rlchat_bench.$$
    awk '{v[$1] = $2}
         END {
           if (v["torch_train_tokens_per_s"] > 0)
             printf "train_speedup_vs_torch %.2f x\n", v["train_tokens_per_s"] / v["torch_train_tokens_per_s"];
           if (v["torch_gen_tokens_per_s"] > 0)
             printf "gen_speedup_vs_torch %.2f x\n", v["gen_tokens_per_s"] / v["torch_gen_tokens_per_s"];
           if (v["torch_update_ms_median"] > 0)
             printf "update_speedup_vs_torch %.2f x\n", v["torch_update_ms_median"] / v["update_ms_median"];
         }' /tmp/rlchat_bench.$$
else
    echo "# PyTorch peer skipped: Debian's python3-torch is not installed (apt-get install python3-torch)"
fi
rm -f /tmp/rlchat_bench.$$
if [ -f "$model" ]; then
    echo "# the shipped model ($model)"
    "$build/bench/bench_load" "$model" | kernel_beside
    "$build/bench/bench_learner" "$model" | kernel_beside
else
    echo "# $model not found: load and learner figures skipped"
fi
for b in "$build"/bench/bench_tokenizer "$build"/bench/bench_safety; do
    [ -x "$b" ] && "$b" | kernel_beside
done

# ---- data parallel over MPI (make MPI=1); skipped without mpirun or the MPI build ----
mpibench=build-mpi/bench/bench_dist
if [ -x "$mpibench" ] && command -v mpirun >/dev/null 2>&1; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # containers run as root
    echo "# data parallel, same shape and global batch: 1 rank x 2 threads, then 2 ranks x 1 thread"
    mpirun -np 1 --bind-to none -x OPENBLAS_NUM_THREADS=2 "$mpibench" | kernel_beside | tee /tmp/rlchat_mpi.$$
    mpirun -np 2 --bind-to core -x OPENBLAS_NUM_THREADS=1 "$mpibench" | kernel_beside | tee -a /tmp/rlchat_mpi.$$
    awk '{v[$1] = $2}
         END {
           if (v["train_tokens_per_s_1rank_2threads"] > 0)
             printf "ranks_vs_threads %.2f x (2 ranks x 1 thread over 1 rank x 2 threads; target 0.9)\n",
                    v["train_tokens_per_s_2ranks_1thread"] / v["train_tokens_per_s_1rank_2threads"];
         }' /tmp/rlchat_mpi.$$
    rm -f /tmp/rlchat_mpi.$$
else
    echo "# data parallel skipped: needs mpirun and build-mpi/ (apt-get install openmpi-bin libopenmpi-dev)"
fi
exit 0
