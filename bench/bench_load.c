/* bench_load: how long the shipped model takes to load (median of 20 loads, each
   validating the checksum and widening fp16 weights) and the process's peak memory. */
#include <stdio.h>
#include <sys/resource.h>

#include "bench/common.h"
#include "model/checkpoint.h"

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "assets/rlchat.model";
    double ms[20];
    for (int i = 0; i < 20; i++) {
        Model m;
        Tokenizer t;
        double t0 = now_seconds();
        if (model_load(path, &m, &t) != 0) {
            fprintf(stderr, "bench_load: %s\n", err_msg());
            return 1;
        }
        ms[i] = (now_seconds() - t0) * 1e3;
        model_free(&m);
        tokenizer_free(&t);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("load_ms %.1f ms\nload_peak_rss_mb %.1f MB\n", bench_quantile(ms, 20, 0.5), ru.ru_maxrss / 1024.0);
    return 0;
}
