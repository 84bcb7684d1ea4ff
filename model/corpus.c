/* corpus: see corpus.h. */
#include "corpus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "distributed.h"
#include "trainer.h"
#include "util.h"

int32_t *corpus_encode_shared(const Tokenizer *tok, const char *path, size_t *n, size_t *bytes) {
    uint64_t size[2] = {UINT64_MAX, 0}; /* tokens (UINT64_MAX: rank 0 could not read it), bytes */
    int32_t *ids = NULL;
    if (dist_rank() == 0) {
        size_t count, len;
        if ((ids = corpus_encode_file(tok, path, &count, &len))) size[0] = count, size[1] = len;
    }
    dist_bcast(size, sizeof size);
    if (size[0] == UINT64_MAX) return NULL;
    if (!ids) ids = xmalloc((size_t)size[0] * sizeof(int32_t) + 1);
    dist_bcast(ids, (size_t)size[0] * sizeof(int32_t));
    *n = (size_t)size[0];
    if (bytes) *bytes = (size_t)size[1];
    return ids;
}

/* Loss, perplexity and bits per byte of the model on a corpus file. Under MPI every rank
   calls it: the 16 evaluation streams are shared out between the ranks and the sums
   reduced; alone, it is the whole evaluation. */
int eval_report(const Model *m, const Tokenizer *tok, const char *path, int seq) {
    int rank = dist_rank(), world = dist_world();
    size_t n, bytes;
    int32_t *ids = corpus_encode_shared(tok, path, &n, &bytes);
    if (!ids || n < 2) {
        if (rank == 0) fprintf(stderr, ids ? "rlchat: %s: too short to evaluate\n" : "rlchat: %s\n", ids ? path : err_msg());
        free(ids);
        return -1;
    }
    int B = 16, first = dist_share_begin(B, rank, world), nb = dist_share_begin(B, rank + 1, world) - first;
    size_t count;
    double sums[2];
    sums[0] = evaluate_shard(m, ids, n, B, seq, first, nb, &count);
    sums[1] = (double)count;
    dist_allreduce_sum_f64(sums, 2);
    free(ids);
    /* Bits per byte counts every byte of the file, newlines included: the turn tokens
       stand for them, so the figure compares with byte-level models on the same file. */
    if (rank == 0)
        printf("loss %.4f nats/token\nperplexity %.2f per token\nbits_per_byte %.4f bits/byte\n"
               "tokens %.0f\nbytes %zu\n", sums[0] / sums[1], exp(sums[0] / sums[1]),
               nats_to_bits_per_byte(sums[0], bytes), sums[1], bytes);
    fflush(stdout);
    return 0;
}
