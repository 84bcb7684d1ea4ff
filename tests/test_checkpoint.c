/* test_checkpoint: model files round-trip, and every damaged file is rejected cleanly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "tests/check.h"

static const char *TEXT = "hello there, how are you today?\nfine thanks, and you?\n\nhi\nhello\n";

/* A small model and tokenizer serialised to memory. */
static void small_file(Buf *b, Model *m, Tokenizer *t, int fp16) {
    tokenizer_train(t, TEXT, strlen(TEXT), 280);
    Config c = {.vocab_size = t->vocab_size, .embed_dim = 4, .hidden_dim = 6, .num_layers = 2};
    model_build(m, c);
    model_init_weights(m, 5);
    memset(b, 0, sizeof *b);
    ckpt_begin(b);
    ckpt_put_model(b, m, t, fp16);
    ckpt_finish(b);
}

static void test_checkpoint_round_trips_weights_and_tokenizer(void) {
    Buf b;
    Model m, m2;
    Tokenizer t, t2;
    small_file(&b, &m, &t, 0);
    CkptFile f;
    CHECK(ckpt_open_memory(&f, "mem", b.data, b.len) == 0, "valid file rejected: %s", err_msg());
    CHECK(ckpt_get_model(&f, &m2, &t2) == 0, "model not read: %s", err_msg());
    CHECK(m2.num_params == m.num_params && !memcmp(m.param_block, m2.param_block, m.num_params * 4),
          "weights differ after a round trip");
    CHECK(t2.num_merges == t.num_merges && !memcmp(t.merges, t2.merges, (size_t)t.num_merges * 8),
          "merges differ after a round trip");
    ckpt_close(&f);
    model_free(&m2);
    tokenizer_free(&t2);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

static void test_half_precision_weights_load_within_rounding(void) {
    Buf b;
    Model m, m2;
    Tokenizer t, t2;
    small_file(&b, &m, &t, 1);
    CkptFile f;
    CHECK(ckpt_open_memory(&f, "mem", b.data, b.len) == 0 && ckpt_get_model(&f, &m2, &t2) == 0,
          "fp16 file rejected: %s", err_msg());
    float worst = 0;
    for (size_t i = 0; i < m.num_params; i++) {
        float d = fabsf(m.param_block[i] - m2.param_block[i]) / (fabsf(m.param_block[i]) + 1e-6f);
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-3f, "fp16 weights off by %g relative", worst);
    float values[] = {0.0f, 1.0f, -2.5f, 65504.0f, 1e-7f, 3.14159f};
    for (int i = 0; i < 6; i++) {
        float back = half_to_float(float_to_half(values[i]));
        CHECK(fabsf(back - values[i]) <= fabsf(values[i]) * 1e-3f + 1e-7f, "half(%g) = %g", values[i], back);
    }
    ckpt_close(&f);
    model_free(&m2);
    tokenizer_free(&t2);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

static void test_checkpoint_rejects_every_truncation(void) {
    Buf b;
    Model m;
    Tokenizer t;
    small_file(&b, &m, &t, 0);
    int accepted = 0;
    for (size_t len = 0; len < b.len; len++) {
        CkptFile f;
        if (ckpt_open_memory(&f, "cut", b.data, len) == 0) {
            accepted++;
            ckpt_close(&f);
        } else if (strstr(err_msg(), "cut") == NULL) {
            accepted++; /* the message must name the file */
        }
    }
    CHECK(accepted == 0, "%d truncated files accepted or unnamed", accepted);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

static void test_checkpoint_rejects_single_byte_corruptions(void) {
    Buf b;
    Model m;
    Tokenizer t;
    small_file(&b, &m, &t, 0);
    int accepted = 0;
    uint8_t *copy = xmalloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= (uint8_t)(1 + i % 255);
        CkptFile f;
        if (ckpt_open_memory(&f, "bad", copy, b.len) == 0) {
            accepted++;
            ckpt_close(&f);
        }
    }
    CHECK(accepted == 0, "%d corrupted files accepted", accepted);
    free(copy);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

/* A file whose checksum is right but whose contents lie must still be refused. */
static void test_model_with_wrong_sizes_is_refused(void) {
    Buf b = {0};
    int32_t conf[6] = {4096, 8, 8, 2, 0, 0};
    int32_t nm = 0;
    ckpt_begin(&b);
    ckpt_put(&b, CKPT_TAG('C', 'O', 'N', 'F'), conf, sizeof conf);
    ckpt_put(&b, CKPT_TAG('T', 'O', 'K', 'N'), &nm, 4);
    ckpt_finish(&b);
    CkptFile f;
    Model m;
    Tokenizer t;
    CHECK(ckpt_open_memory(&f, "liar", b.data, b.len) == 0, "well-formed container refused");
    CHECK(ckpt_get_model(&f, &m, &t) != 0, "model with missing weights accepted");
    CHECK(strstr(err_msg(), "liar") != NULL, "message does not name the file: %s", err_msg());
    ckpt_close(&f);
    buf_free(&b);
}

/* The old file still loads, the folder holds nothing but it, and the folder goes away. */
static void check_old_file_survives_alone(const char *dir, const char *path) {
    Model m;
    Tokenizer t;
    CHECK(model_load(path, &m, &t) == 0, "old file damaged by a failed save: %s", err_msg());
    model_free(&m);
    tokenizer_free(&t);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0, "temporary files left behind in %s", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

static void test_save_is_atomic_and_leaves_no_temp_file(void) {
    char dir[] = "/tmp/rlchat_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/m.model", dir);
    Buf b;
    Model m, m2;
    Tokenizer t, t2;
    small_file(&b, &m, &t, 0);
    CHECK(write_file_atomic(path, b.data, b.len) == 0, "save failed: %s", err_msg());
    CHECK(model_load(path, &m2, &t2) == 0, "saved file does not load: %s", err_msg());
    model_free(&m2);
    tokenizer_free(&t2);
    /* A save into a folder that does not exist fails cleanly and keeps the old file. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/m.model", dir);
    CHECK(write_file_atomic(bad, b.data, b.len) != 0, "save into a missing folder claimed success");
    check_old_file_survives_alone(dir, path);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

/* A disk that fills during a save: RLIMIT_FSIZE makes write() fail part way, as ENOSPC
   would. The old file must survive untouched and no temporary may be left. */
static void test_save_that_runs_out_of_space_keeps_the_old_file(void) {
    char dir[] = "/tmp/rlchat_full_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/m.model", dir);
    Buf b;
    Model m;
    Tokenizer t;
    small_file(&b, &m, &t, 0);
    CHECK(write_file_atomic(path, b.data, b.len) == 0, "first save failed: %s", err_msg());
    struct rlimit old, small = {.rlim_cur = b.len / 2, .rlim_max = RLIM_INFINITY};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small);
    int rc = write_file_atomic(path, b.data, b.len);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK(rc != 0, "a save that could not be written claimed success");
    CHECK(strstr(err_msg(), "m.model") != NULL, "message does not name the file: %s", err_msg());
    check_old_file_survives_alone(dir, path);
    model_free(&m);
    tokenizer_free(&t);
    buf_free(&b);
}

int main(void) {
    RUN(test_checkpoint_round_trips_weights_and_tokenizer);
    RUN(test_half_precision_weights_load_within_rounding);
    RUN(test_checkpoint_rejects_every_truncation);
    RUN(test_checkpoint_rejects_single_byte_corruptions);
    RUN(test_model_with_wrong_sizes_is_refused);
    RUN(test_save_is_atomic_and_leaves_no_temp_file);
    RUN(test_save_that_runs_out_of_space_keeps_the_old_file);
    return check_summary();
}
