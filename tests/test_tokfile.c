/* test_tokfile: token files round-trip, and damaged ones are refused with a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "model/tokfile.h"
#include "model/util.h"
#include "tests/check.h"

static const char *TEXT = "hi there\nhello, how are you?\n\nwhat is your favourite movie?\ni love star wars.\n\n";

static char path[64];

/* Writes TEXT's tokens to path in two puts (training t first if it is empty); returns the
   tokens (caller frees). */
static int32_t *write_sample(Tokenizer *t, size_t *n) {
    if (!t->vocab_size) tokenizer_train(t, TEXT, strlen(TEXT), 280);
    int32_t *ids = corpus_encode(t, TEXT, strlen(TEXT), n);
    TokWriter w;
    CHECK(tokwriter_open(&w, path, t) == 0, "open: %s", err_msg());
    CHECK(tokwriter_put(&w, ids, *n / 2) == 0 && tokwriter_put(&w, ids + *n / 2, *n - *n / 2) == 0, "put");
    CHECK(tokwriter_close(&w) == 0, "close: %s", err_msg());
    return ids;
}

/* Rewrites the file with byte at changed to value (or cut to len bytes when value < 0). */
static void damage(size_t at, int value) {
    size_t len;
    char *data = read_file(path, &len);
    if (value >= 0) data[at] = (char)value;
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, value >= 0 ? len : at, f);
    fclose(f);
    free(data);
}

static void test_token_file_round_trips(void) {
    Tokenizer t = {0};
    size_t n;
    int32_t *ids = write_sample(&t, &n);
    TokFile f;
    CHECK(tokfile_open(&f, path) == 0, "open: %s", err_msg());
    CHECK(f.count == n && f.width == 2 && f.num_merges == t.num_merges, "count %zu/%zu width %d", f.count, n, f.width);
    int same = 1;
    for (size_t i = 0; i < n; i++) same &= tokfile_at(&f, i) == ids[i];
    CHECK(same, "tokens differ after the round trip");
    CHECK(!memcmp(f.merges, t.merges, (size_t)t.num_merges * 8), "merges differ");
    CHECK(tokfile_check_range(&f, 0, n, t.vocab_size) == 0, "%s", err_msg());
    CHECK(tokfile_check_range(&f, 0, n, 257) != 0, "a token past a small vocabulary was not reported");
    tokfile_close(&f);
    free(ids);
    tokenizer_free(&t);
}

static void test_damaged_token_files_are_refused(void) {
    Tokenizer t = {0};
    size_t n;
    TokFile f;
    free(write_sample(&t, &n));
    damage(TOKFILE_HEADER + 5, 0x7f); /* a merge */
    CHECK(tokfile_open(&f, path) != 0 && strstr(err_msg(), "checksum"), "corrupt merges: %s", err_msg());
    free(write_sample(&t, &n));
    damage(TOKFILE_HEADER + (size_t)t.num_merges * 8 + 3, -1); /* cut inside the tokens */
    CHECK(tokfile_open(&f, path) != 0 && strstr(err_msg(), "truncated"), "truncated: %s", err_msg());
    free(write_sample(&t, &n));
    damage(0, 'X');
    CHECK(tokfile_open(&f, path) != 0 && strstr(err_msg(), "magic"), "bad magic: %s", err_msg());
    damage(10, -1);
    CHECK(tokfile_open(&f, path) != 0, "a 10-byte file was accepted");
    CHECK(tokfile_open(&f, "/nonexistent/x.tok") != 0 && strstr(err_msg(), "/nonexistent/x.tok"), "%s", err_msg());
    tokenizer_free(&t);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/rlchat-test-tokfile.%d.tok", (int)getpid());
    RUN(test_token_file_round_trips);
    RUN(test_damaged_token_files_are_refused);
    unlink(path);
    return check_summary();
}
