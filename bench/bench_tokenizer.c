/* bench_tokenizer: encoding speed of the BPE tokenizer on 1 MB of text. Prints one line,
   "tokenize_mb_per_s X MB/s". Uses the shared validation corpus when it is there (run from
   the repository root, beside ../shared), else made-up text, so it also runs in a fresh clone.
   The tokenizer is trained on the same text first (a second or less); only encoding is timed. */
#include "model/tokenizer.h"
#include "model/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_BYTES (1 << 20)
#define BENCH_VOCAB 4096

/* Fills 1 MB with made-up text: words from a 2000-word made-up lexicon drawn with a roughly
   Zipfian (log-uniform rank) law, so repeats are as common as in real text. A stand-in for
   when no corpus is present. */
static char *made_up_text(void) {
    enum { WORDS = 2000, MAXW = 10 };
    static char lexicon[WORDS][MAXW + 1];
    Rng r;
    rng_seed(&r, 1);
    for (int w = 0; w < WORDS; w++) {
        int n = 1 + (int)(rng_u32(&r) % MAXW);
        for (int i = 0; i < n; i++) lexicon[w][i] = (char)('a' + rng_u32(&r) % 26);
        lexicon[w][n] = 0;
    }
    char *text = xmalloc(BENCH_BYTES);
    size_t i = 0;
    while (i < BENCH_BYTES) {
        int w = (int)expf(rng_float(&r) * logf((float)WORDS)) - 1;
        const char *word = lexicon[w < 0 ? 0 : w >= WORDS ? WORDS - 1 : w];
        for (size_t k = 0; word[k] && i < BENCH_BYTES; k++) text[i++] = word[k];
        if (i < BENCH_BYTES) text[i++] = rng_u32(&r) % 12 ? ' ' : '\n';
    }
    return text;
}

/* 1 MB of the corpus, repeated if the file is shorter; NULL when it cannot be read. */
static char *corpus_text(const char *path) {
    size_t len;
    char *file = read_file(path, &len);
    if (!file || len == 0) {
        free(file);
        return NULL;
    }
    char *text = xmalloc(BENCH_BYTES);
    for (size_t i = 0; i < BENCH_BYTES; i += len)
        memcpy(text + i, file, BENCH_BYTES - i < len ? BENCH_BYTES - i : len);
    free(file);
    return text;
}

int main(void) {
    char *text = corpus_text("../shared/data/corpus/valid.txt");
    if (!text) text = made_up_text();
    Tokenizer t;
    if (tokenizer_train(&t, text, BENCH_BYTES / 4, BENCH_VOCAB) != 0) {
        fprintf(stderr, "bench_tokenizer: %s\n", err_msg());
        free(text);
        return 1;
    }
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        Tokenizer fresh; /* cold chunk cache each time, as a new session would have */
        if (tokenizer_from_merges(&fresh, t.merges, t.num_merges) != 0) break;
        size_t n;
        double t0 = now_seconds();
        int32_t *ids = tokenizer_encode(&fresh, text, BENCH_BYTES, &n);
        double dt = now_seconds() - t0;
        if (dt < best) best = dt;
        free(ids);
        tokenizer_free(&fresh);
    }
    printf("tokenize_mb_per_s %.1f MB/s\n", BENCH_BYTES / 1e6 / best);
    tokenizer_free(&t);
    free(text);
    return 0;
}
