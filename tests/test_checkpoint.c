/* test_checkpoint: model files round-trip, and every damaged file is rejected cleanly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* A file that claims a huge model (a vocabulary of 2^20 at width 8192: 32 GB of floats)
   with a right checksum is refused by its sizes, before anything of that size is
   allocated: the allocation would end the process. */
static void test_model_claiming_a_huge_size_is_refused_before_allocating(void) {
    Buf b = {0};
    int32_t nm = (1 << 20) - TOK_FIRST_MERGE;
    int32_t conf[6] = {1 << 20, 8192, 8192, 2, 0, 0};
    Buf tok = {0};
    buf_put(&tok, &nm, 4);
    int32_t *merges = xcalloc((size_t)nm * 2, sizeof(int32_t));
    buf_put(&tok, merges, (size_t)nm * 8);
    free(merges);
    ckpt_begin(&b);
    ckpt_put(&b, CKPT_TAG('C', 'O', 'N', 'F'), conf, sizeof conf);
    ckpt_put(&b, CKPT_TAG('T', 'O', 'K', 'N'), tok.data, tok.len);
    ckpt_put(&b, CKPT_TAG('W', 'G', 'H', 'T'), conf, sizeof conf);
    ckpt_finish(&b);
    CkptFile f;
    Model m;
    Tokenizer t;
    CHECK(ckpt_open_memory(&f, "giant", b.data, b.len) == 0, "well-formed container refused: %s", err_msg());
    CHECK(ckpt_get_model(&f, &m, &t) != 0 && strstr(err_msg(), "wrong size"), "huge claim: %s", err_msg());
    ckpt_close(&f);
    buf_free(&tok);
    buf_free(&b);
}

/* A message that wraps the last one, err_set("%s: %s", path, err_msg()), reads it whole. */
static void test_an_error_can_wrap_the_last_error(void) {
    err_set("bad tokenizer: merge %d refers to %d", 5, 5000);
    err_set("%s: %s", "tok.model", err_msg());
    CHECK(!strcmp(err_msg(), "tok.model: bad tokenizer: merge 5 refers to 5000"), "wrapped message: %s", err_msg());
}

/* A folder or a FIFO named as a model is refused at once, never waited on, and a large
   file that is not a model is refused by its first bytes. */
static void test_a_folder_fifo_or_large_stranger_is_refused_as_a_model(void) {
    char dir[] = "/tmp/rlchat_odd_XXXXXX", fifo[256], big[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(fifo, sizeof fifo, "%s/f.model", dir);
    snprintf(big, sizeof big, "%s/big.model", dir);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    FILE *g = fopen(big, "wb");
    CHECK(g && fseek(g, 1L << 30, SEEK_SET) == 0 && fputc('x', g) != EOF && fclose(g) == 0, "sparse file");
    Model m;
    Tokenizer t;
    CHECK(model_load(dir, &m, &t) != 0 && strstr(err_msg(), "folder"), "folder: %s", err_msg());
    CHECK(model_load(fifo, &m, &t) != 0 && strstr(err_msg(), "not a regular file"), "fifo: %s", err_msg());
    CHECK(model_load(big, &m, &t) != 0 && strstr(err_msg(), "magic"), "1 GB stranger: %s", err_msg());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* A save through a symbolic link replaces the file it points to and keeps the link; a
   save onto something that is not a file (here /dev/null) is refused, not replaced. */
static void test_save_follows_a_link_and_refuses_a_device(void) {
    char dir[] = "/tmp/rlchat_link_XXXXXX", real[256], link[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(real, sizeof real, "%s/real.model", dir);
    snprintf(link, sizeof link, "%s/link.model", dir);
    CHECK(write_file_atomic(real, "old", 3) == 0 && symlink("real.model", link) == 0, "setup: %s", err_msg());
    CHECK(write_file_atomic(link, "new!", 4) == 0, "save through the link: %s", err_msg());
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced by a file");
    CHECK(stat(real, &st) == 0 && st.st_size == 4, "the link's target was not written");
    CHECK(write_file_atomic("/dev/null", "x", 1) != 0 && strstr(err_msg(), "not a regular file"),
          "saving onto /dev/null: %s", err_msg());
    CHECK(lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is no longer a device");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* A save killed before its rename leaves NAME.tmp.PID; the next save of NAME removes it once
   its process is gone, and leaves a live process's temporary, other files' and strangers'. */
static void test_a_save_removes_temporaries_that_killed_saves_left(void) {
    char dir[] = "/tmp/rlchat_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0); /* its PID now names no process */
    const char *names[] = {"m.model.tmp.%d", "m.model.tmp.1", "other.model.tmp.%d", "m.model.tmp.x%d"};
    int gone[] = {1, 0, 0, 0};
    char paths[4][300], path[256];
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, names[i], (int)child);
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, name);
        FILE *f = fopen(paths[i], "w");
        if (f) fclose(f);
    }
    snprintf(path, sizeof path, "%s/m.model", dir);
    CHECK(write_file_atomic(path, "x", 1) == 0, "save failed: %s", err_msg());
    for (int i = 0; i < 4; i++) {
        struct stat st;
        CHECK((stat(paths[i], &st) != 0) == gone[i], "%s %s", paths[i], gone[i] ? "was left" : "was removed");
        unlink(paths[i]);
    }
    /* A folder the program owns is swept of every dead process's temporaries. */
    snprintf(paths[0], sizeof paths[0], "%s/p.profile.tmp.%d", dir, (int)child);
    FILE *f = fopen(paths[0], "w");
    if (f) fclose(f);
    CHECK(remove_stale_temps(dir, NULL) == 1, "the sweep of the folder removed nothing");
    unlink(path);
    rmdir(dir);
}

int main(void) {
    RUN(test_checkpoint_round_trips_weights_and_tokenizer);
    RUN(test_half_precision_weights_load_within_rounding);
    RUN(test_checkpoint_rejects_every_truncation);
    RUN(test_checkpoint_rejects_single_byte_corruptions);
    RUN(test_model_with_wrong_sizes_is_refused);
    RUN(test_save_is_atomic_and_leaves_no_temp_file);
    RUN(test_save_that_runs_out_of_space_keeps_the_old_file);
    RUN(test_a_save_removes_temporaries_that_killed_saves_left);
    RUN(test_model_claiming_a_huge_size_is_refused_before_allocating);
    RUN(test_an_error_can_wrap_the_last_error);
    RUN(test_a_folder_fifo_or_large_stranger_is_refused_as_a_model);
    RUN(test_save_follows_a_link_and_refuses_a_device);
    return check_summary();
}
