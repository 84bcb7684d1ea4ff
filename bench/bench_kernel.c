/* bench_kernel: the OpenBLAS kernel this machine and environment select (its core name,
   e.g. Haswell, Zen, SkylakeX, Cooperlake), which bench/run.sh prints beside every figure:
   the same build runs other kernels, at other speeds, under OPENBLAS_CORETYPE. */
#include <cblas.h>
#include <stdio.h>

int main(void) {
    printf("openblas_kernel %s name\n", openblas_get_corename());
    return 0;
}
