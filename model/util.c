/* util: errors, checked allocation, atomic files, rng, crc32, clock. See util.h. */

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ---- */

static _Thread_local char err_buf[512];

/* Formats into a buffer of its own first: a message often wraps the last one,
   err_set("%s: %s", path, err_msg()), and err_buf must not be read as it is written. */
void err_set(const char *fmt, ...) {
    char msg[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(err_buf, msg, sizeof msg);
}

const char *err_msg(void) { return err_buf[0] ? err_buf : "unknown error"; }

/* ---- checked allocation ---- */

void (*fatal_hook)(void) = NULL;

static void out_of_memory(size_t n, const char *where) {
    if (fatal_hook) fatal_hook();
    fprintf(stderr, "rlchat: out of memory allocating %zu bytes at %s\n", n, where);
    exit(1);
}

/* A buffer of a page or more starts on a cache line (64 bytes), not malloc's 16, so that
   vector loops and the two cores of a team never share a line by accident; small ones keep
   malloc's, which costs less memory (docs/experiments.md, "How the defaults were reached"). */
void *xmalloc_at(size_t n, const char *where) {
    void *p = n >= 4096 ? aligned_alloc(64, (n + 63) / 64 * 64) : malloc(n ? n : 1);
    if (!p) out_of_memory(n, where);
    return p;
}

/* calloc's own alignment: calloc leaves the pages of a buffer that are never used
   untouched, where an aligned buffer would have to be zeroed by hand. */
void *xcalloc_at(size_t count, size_t size, const char *where) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size, where);
    return p;
}

void *xzalloc_at(size_t n, const char *where) {
    void *p = xmalloc_at(n, where);
    memset(p, 0, n);
    return p;
}

void *xrealloc_at(void *p, size_t n, const char *where) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n, where);
    return q;
}

char *xstrdup_at(const char *s, const char *where) {
    size_t n = strlen(s) + 1;
    char *d = xmalloc_at(n, where);
    memcpy(d, s, n);
    return d;
}

/* ---- files ---- */

/* Opens path for reading if it is a regular file. O_NONBLOCK so that a FIFO named by
   mistake is refused instead of waiting forever for a writer. -1 with err_msg(). */
static int open_regular(const char *path, struct stat *st) {
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        err_set("%s: cannot read: %s", path, S_ISDIR(st->st_mode) ? "it is a folder" : "not a regular file");
        close(fd);
        return -1;
    }
    return fd;
}

FILE *open_stream(const char *path) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        err_set("%s: cannot read: %s", path, f ? "it is a folder" : strerror(errno));
        if (f) fclose(f);
        return NULL;
    }
    return f;
}

int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int file_starts_with(const char *path, const void *prefix, size_t n) {
    struct stat st;
    int fd = open_regular(path, &st);
    if (fd < 0) return -1;
    char head[64];
    ssize_t got = n <= sizeof head ? read(fd, head, n) : -1;
    close(fd);
    return got == (ssize_t)n && memcmp(head, prefix, n) == 0;
}

char *read_file(const char *path, size_t *len) {
    struct stat st;
    int fd = open_regular(path, &st);
    if (fd < 0) return NULL;
    size_t size = (size_t)st.st_size, got = 0;
    char *data = xmalloc(size + 1);
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            err_set("%s: cannot read: %s", path, r < 0 ? strerror(errno) : "the file shrank while it was read");
            free(data);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    data[size] = 0;
    if (len) *len = size;
    return data;
}

int write_all(int fd, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fsync_folder_of(const char *path) {
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_then_rename(const char *path, const char *tmp, const void *data, size_t len) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        err_set("%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) goto err;
    if (close(fd) != 0) { fd = -1; goto err; }
    fd = -1;
    if (rename(tmp, path) != 0) goto err;
    fsync_folder_of(path); /* best effort: some file systems refuse it on folders */
    return 0;
err:
    err_set("%s: save failed (%s); the previous file, if any, is untouched", path,
            strerror(errno ? errno : EIO));
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

/* A temporary "NAME.tmp.PID" (NAME = of, when given) whose process is gone: a save killed
   before its rename. A PID in use again by another process keeps its file for now. */
static int is_stale_temp(const char *name, const char *of) {
    const char *mark = strstr(name, ".tmp.");
    if (!mark || (of && (strlen(of) != (size_t)(mark - name) || strncmp(name, of, strlen(of)) != 0))) return 0;
    char *end;
    long pid = strtol(mark + 5, &end, 10);
    if (*end || end == mark + 5 || pid <= 0 || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int remove_stale_temps(const char *dir, const char *of) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d));)
        if (is_stale_temp(e->d_name, of) && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
            unlink(path) == 0)
            removed++;
    closedir(d);
    return removed;
}

/* The rename replaces whatever is at path, so it goes to a regular file or nowhere: a
   symbolic link is followed (its target is replaced, the link stays), and a device, a
   FIFO or a folder is refused rather than replaced by a file. */
int write_file_atomic(const char *path, const void *data, size_t len) {
    char tmp[4096], *target = realpath(path, NULL);
    struct stat st = {0};
    if (target && (stat(target, &st) != 0 || !S_ISREG(st.st_mode))) {
        err_set("%s: not saved: %s", path, S_ISDIR(st.st_mode) ? "it is a folder" : "not a regular file");
        free(target);
        return -1;
    }
    if (target) path = target;
    char *folder = xstrdup(path), *name = xstrdup(path);
    remove_stale_temps(dirname(folder), basename(name));
    free(folder), free(name);
    int rc = snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < (int)sizeof tmp ? 0 : -1;
    if (rc == 0) rc = write_then_rename(path, tmp, data, len);
    else err_set("%s: path too long", path);
    free(target);
    return rc;
}

/* ---- byte buffer ---- */

void buf_put(Buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- random numbers: splitmix64, small and good enough for sampling and init ---- */

void rng_seed(Rng *r, uint64_t seed) { r->s = seed ^ 0x9E3779B97F4A7C15ull; }

static uint64_t rng_u64(Rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t rng_u32(Rng *r) { return (uint32_t)(rng_u64(r) >> 32); }

float rng_float(Rng *r) { return (float)(rng_u64(r) >> 40) / 16777216.0f; }

float rng_normal(Rng *r) {
    float u1 = rng_float(r), u2 = rng_float(r);
    if (u1 < 1e-7f) u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

void rng_shuffle(Rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_u32(r) % (uint32_t)(i + 1)), t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

/* ---- crc32 (IEEE), slicing by 8: eight table lookups per 8 bytes instead of one per
   byte, which keeps checksumming a model file well under the load-time budget ---- */

static uint32_t crc_table[8][256];

static void crc_tables_build(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_tables_build);
    const uint8_t *p = data;
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); /* little-endian, as every machine rlchat targets */
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
              crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
              crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t fnv1a(uint32_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
