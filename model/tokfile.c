/* tokfile: tokenized corpora on disk. See tokfile.h for the format. */
#include "tokfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char MAGIC[8] = {'R', 'L', 'C', 'H', 'A', 'T', 'T', 'K'};

/* The 28 header bytes before the checksum. */
static void header_put(uint8_t *h, int width, uint64_t count, int num_merges) {
    uint32_t version = TOKFILE_VERSION, w = (uint32_t)width, nm = (uint32_t)num_merges;
    memcpy(h, MAGIC, 8);
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &w, 4);
    memcpy(h + 16, &count, 8);
    memcpy(h + 24, &nm, 4);
}

/* ---- reading ---- */

int tokfile_open(TokFile *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    const uint16_t one = 1;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        err_set("%s: cannot open: %s", path, strerror(errno));
        goto err;
    }
    if (*(const uint8_t *)&one != 1) {
        err_set("%s: token files are little-endian and this machine is not", path);
        goto err;
    }
    if ((size_t)st.st_size < TOKFILE_HEADER) {
        err_set("%s: not a token file (only %lld bytes)", path, (long long)st.st_size);
        goto err;
    }
    f->map_len = (size_t)st.st_size;
    void *map = mmap(NULL, f->map_len, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        err_set("%s: cannot map: %s", path, strerror(errno));
        goto err;
    }
    close(fd);
    fd = -1;
    f->map = map;
    uint32_t version, width, nm, crc;
    uint64_t count;
    memcpy(&version, f->map + 8, 4);
    memcpy(&width, f->map + 12, 4);
    memcpy(&count, f->map + 16, 8);
    memcpy(&nm, f->map + 24, 4);
    memcpy(&crc, f->map + 28, 4);
    if (memcmp(f->map, MAGIC, 8) != 0) {
        err_set("%s: not a token file (bad magic number; make one with rlchat tokenize)", path);
        goto err;
    }
    if (version != TOKFILE_VERSION || (width != 2 && width != 4) || nm > (1u << 24)) {
        err_set("%s: token file version %u width %u merges %u; this rlchat reads version %d, width 2 or 4",
                path, version, width, nm, TOKFILE_VERSION);
        goto err;
    }
    size_t head = TOKFILE_HEADER + (size_t)nm * 8;
    if (f->map_len < head || count != (f->map_len - head) / width || (f->map_len - head) % width) {
        err_set("%s: truncated or padded: %zu bytes for %llu tokens of %u bytes after %zu bytes of header",
                path, f->map_len, (unsigned long long)count, width, head);
        goto err;
    }
    uint32_t sum = crc32_update(crc32_update(0, f->map, 28), f->map + TOKFILE_HEADER, (size_t)nm * 8);
    if (sum != crc) {
        err_set("%s: the header or the tokenizer in it is corrupt (checksum mismatch)", path);
        goto err;
    }
    f->width = (int)width;
    f->count = (size_t)count;
    f->num_merges = (int)nm;
    f->merges = (const int32_t *)(f->map + TOKFILE_HEADER);
    f->tokens = f->map + head;
    return 0;
err:
    if (fd >= 0) close(fd);
    tokfile_close(f);
    return -1;
}

void tokfile_close(TokFile *f) {
    if (f->map) munmap((void *)f->map, f->map_len);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int32_t tokfile_at(const TokFile *f, size_t i) {
    return f->width == 2 ? ((const uint16_t *)f->tokens)[i] : ((const int32_t *)f->tokens)[i];
}

int tokfile_check_range(const TokFile *f, size_t begin, size_t end, int vocab_size) {
    for (size_t i = begin; i < end && i < f->count; i++) {
        int32_t id = tokfile_at(f, i);
        if (id < 0 || id >= vocab_size) {
            err_set("%s: token %zu is %d, outside the vocabulary of %d", f->path, i, id, vocab_size);
            return -1;
        }
    }
    return 0;
}

/* ---- writing ---- */

int tokwriter_open(TokWriter *w, const char *path, const Tokenizer *t) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->path = xstrdup(path);
    w->num_merges = t->num_merges;
    w->merges = xmalloc((size_t)t->num_merges * 8 + 1);
    memcpy(w->merges, t->merges, (size_t)t->num_merges * 8);
    w->tmp = xmalloc(strlen(path) + 32);
    sprintf(w->tmp, "%s.tmp.%d", path, (int)getpid());
    w->width = t->vocab_size <= 65536 ? 2 : 4;
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w->fd < 0) {
        err_set("%s: cannot create %s: %s", path, w->tmp, strerror(errno));
        tokwriter_abort(w);
        return -1;
    }
    uint8_t head[TOKFILE_HEADER] = {0}; /* the count and checksum are filled in at close */
    if (write_all(w->fd, head, sizeof head) != 0 ||
        write_all(w->fd, t->merges, (size_t)t->num_merges * 8) != 0) {
        err_set("%s: write failed: %s", w->tmp, strerror(errno));
        tokwriter_abort(w);
        return -1;
    }
    return 0;
}

int tokwriter_put(TokWriter *w, const int32_t *ids, size_t n) {
    size_t bytes = n * (size_t)w->width;
    const void *out = ids;
    if (w->width == 2) {
        if (bytes > w->buf_cap) w->buf = xrealloc(w->buf, w->buf_cap = bytes);
        uint16_t *d = (uint16_t *)w->buf;
        for (size_t i = 0; i < n; i++) d[i] = (uint16_t)ids[i];
        out = w->buf;
    }
    if (write_all(w->fd, out, bytes) != 0) {
        err_set("%s: write failed: %s (disk full?)", w->tmp, strerror(errno));
        return -1;
    }
    w->count += n;
    return 0;
}

int tokwriter_close(TokWriter *w) {
    uint8_t head[TOKFILE_HEADER];
    header_put(head, w->width, w->count, w->num_merges);
    uint32_t crc = crc32_update(crc32_update(0, head, 28), w->merges, (size_t)w->num_merges * 8);
    memcpy(head + 28, &crc, 4);
    if (pwrite(w->fd, head, sizeof head, 0) != (ssize_t)sizeof head || fsync(w->fd) != 0) goto err;
    if (close(w->fd) != 0) {
        w->fd = -1;
        goto err;
    }
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) goto err;
    fsync_folder_of(w->path); /* best effort, as write_file_atomic */
    free(w->tmp);
    w->tmp = NULL;
    tokwriter_abort(w); /* frees the rest */
    return 0;
err:
    err_set("%s: save failed (%s); the previous file, if any, is untouched", w->path, strerror(errno ? errno : EIO));
    tokwriter_abort(w);
    return -1;
}

void tokwriter_abort(TokWriter *w) {
    if (w->fd >= 0) close(w->fd);
    if (w->tmp) unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->buf);
    free(w->merges);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}
