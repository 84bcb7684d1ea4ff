/* tokenize: `rlchat tokenize`, a corpus encoded once with a model's tokenizer into a
   token file (model/tokfile.h) for `rlchat train --tokens`. The corpus is read in chunks
   cut at empty lines (dialogue boundaries, where corpus_encode starts afresh), so the
   stream is the one `train --corpus` would make and memory stays bounded by the chunk
   size (plus the longest dialogue) however large the corpus. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/options.h"
#include "model/checkpoint.h"
#include "model/tokfile.h"
#include "model/util.h"

/* Length of the longest prefix of text[0, n) that ends just after an empty line ("\n\n"
   or "\n\r\n"), or 0 when there is none. */
static size_t last_dialogue_end(const char *text, size_t n) {
    for (size_t i = n; i >= 2; i--) {
        if (text[i - 1] != '\n') continue;
        if (text[i - 2] == '\n') return i;
        if (i >= 3 && text[i - 2] == '\r' && text[i - 3] == '\n') return i;
    }
    return 0;
}

static void show_progress(double done, double total, size_t tokens, double started, int tty, int last) {
    double secs = now_seconds() - started, rate = secs > 0 ? done / secs : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "%stokenize: %5.1f%% %.1f of %.1f MB, %.1f MB/s, %zu tokens, ETA %.0fs%s",
            tty ? "\r" : "", total > 0 ? 100 * done / total : 100.0, done / 1e6, total / 1e6, rate / 1e6, tokens,
            eta, tty && !last ? " " : "\n");
}

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) { interrupted = sig; }

int cli_tokenize(int argc, char **argv) {
    const char *corpus = NULL, *model_path = NULL, *out = NULL;
    int chunk_kb = 8192;
    const Option opts[] = {
        {"--corpus", OPT_STRING, &corpus, "corpus file in rlchat's format (required)"},
        {"--model", OPT_STRING, &model_path, "model (or checkpoint) whose tokenizer to use (required)"},
        {"--out", OPT_STRING, &out, "token file to write (required), for train --tokens"},
        {"--chunk-kb", OPT_INT, &chunk_kb, "text read at a time, in KiB (8192); bounds the memory used"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat tokenize --corpus FILE --model FILE --out FILE.tok";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!corpus || !model_path || !out) {
        fprintf(stderr, "rlchat: tokenize needs --corpus, --model and --out\nusage: %s\n", usage);
        return 2;
    }
    if (chunk_kb < 1) {
        fprintf(stderr, "rlchat: --chunk-kb must be at least 1\n");
        return 2;
    }
    if (same_file(out, corpus) || same_file(out, model_path)) {
        fprintf(stderr, "rlchat: --out %s would overwrite an input\n", out);
        return 2;
    }
    Model m = {0};
    Tokenizer tok = {0};
    TokWriter w = {.fd = -1};
    FILE *fp = NULL;
    char *buf = NULL;
    int status = 1;
    if (model_load(model_path, &m, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    struct stat st;
    fp = open_stream(corpus);
    if (!fp || fstat(fileno(fp), &st) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    if (tokwriter_open(&w, out, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    signal(SIGINT, on_interrupt); /* stopped: the partial file and its temp are removed */
    signal(SIGTERM, on_interrupt);
    size_t cap = (size_t)chunk_kb * 1024, have = 0, done_bytes = 0;
    buf = xmalloc(cap);
    int tty = isatty(2), eof = 0;
    double started = now_seconds(), last_report = started;
    while (!eof || have > 0) {
        if (interrupted) {
            fprintf(stderr, "\nrlchat: interrupted; %s was not written\n", out);
            goto done;
        }
        if (!eof) {
            size_t got = fread(buf + have, 1, cap - have, fp);
            if (got == 0 && ferror(fp)) {
                fprintf(stderr, "rlchat: %s: read failed: %s\n", corpus, strerror(errno));
                goto done;
            }
            eof = got < cap - have;
            have += got;
        }
        size_t cut = eof ? have : last_dialogue_end(buf, have);
        if (cut == 0) { /* one dialogue longer than the buffer: read more of it */
            buf = xrealloc(buf, cap *= 2);
            continue;
        }
        size_t n;
        int32_t *ids = corpus_encode(&tok, buf, cut, &n);
        int wrc = tokwriter_put(&w, ids, n);
        free(ids);
        if (wrc != 0) {
            fprintf(stderr, "\nrlchat: %s\n", err_msg());
            goto done;
        }
        memmove(buf, buf + cut, have - cut);
        have -= cut;
        done_bytes += cut;
        double now = now_seconds();
        if (now - last_report > (tty ? 0.5 : 10.0)) {
            show_progress((double)done_bytes, (double)st.st_size, (size_t)w.count, started, tty, 0);
            last_report = now;
        }
    }
    show_progress((double)done_bytes, (double)st.st_size, (size_t)w.count, started, tty, 1);
    unsigned long long count = w.count;
    int width = w.width;
    if (tokwriter_close(&w) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    printf("tokens %llu\nwidth %d bytes/token\nbytes %zu\n", count, width, done_bytes);
    status = 0;
done:
    tokwriter_abort(&w);
    if (fp) fclose(fp);
    free(buf);
    tokenizer_free(&tok);
    model_free(&m);
    return status;
}
