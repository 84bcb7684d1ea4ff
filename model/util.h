/* util: the small things every room needs.
   - errors: a function that fails returns -1 (or NULL) and leaves a message here that
     the caller can show; the message names the file and the fault.
   - checked allocation: x* wrappers never return NULL; on failure they print where and exit.
   - files: whole-file reads, atomic writes (temp file, fsync, rename, fsync the folder).
   - a seeded random number generator, so runs are reproducible.
   - checksums, a hash for tables and features, and a monotonic clock. */
#ifndef RLCHAT_UTIL_H
#define RLCHAT_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* ---- errors ---- */
void err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);             /* the last message set in this thread */

/* ---- checked allocation ---- */
void *xmalloc_at(size_t n, const char *where);
void *xcalloc_at(size_t count, size_t size, const char *where);
/* Zeroed now, every page written (calloc's fresh pages are mapped only when first
   touched): for blocks an interactive update walks, so that the first one does not pay
   for their page faults (it took twice as long as the next ones). */
void *xzalloc_at(size_t n, const char *where);
void *xrealloc_at(void *p, size_t n, const char *where);
char *xstrdup_at(const char *s, const char *where);
#define XSTR2(x) #x
#define XSTR(x) XSTR2(x)
#define xmalloc(n) xmalloc_at((n), __FILE__ ":" XSTR(__LINE__))
#define xcalloc(c, s) xcalloc_at((c), (s), __FILE__ ":" XSTR(__LINE__))
#define xzalloc(n) xzalloc_at((n), __FILE__ ":" XSTR(__LINE__))
#define xrealloc(p, n) xrealloc_at((p), (n), __FILE__ ":" XSTR(__LINE__))
#define xstrdup(s) xstrdup_at((s), __FILE__ ":" XSTR(__LINE__))
/* Called by the x* wrappers before they exit on out-of-memory (the screen sets it to
   restore the terminal). */
extern void (*fatal_hook)(void);

/* ---- files ---- */
/* Reads a whole regular file into a NUL-terminated buffer the caller frees; *len excludes
   the NUL. A folder, FIFO or device is refused (NULL with err_msg()), never waited on. */
char *read_file(const char *path, size_t *len);
/* Opens a file to read as a stream (a FIFO too, as `cat` would); a folder is refused.
   NULL with err_msg(). */
FILE *open_stream(const char *path);
/* 1 if both paths exist and name the same file (an output that would overwrite an input). */
int same_file(const char *a, const char *b);
/* 1 if the regular file at path begins with the n (<= 64) bytes of prefix, 0 if not, -1
   with err_msg() if it cannot be read: a format checked before a large file is read. */
int file_starts_with(const char *path, const void *prefix, size_t n);
/* Writes len bytes to path atomically: PATH.tmp.PID in the same folder, fsync, rename over
   path, fsync the folder. On any failure the old file is untouched and the temp removed.
   A symbolic link's target is replaced, not the link; a path that is not a regular file
   (a folder, device, FIFO) is refused. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* Removes the temporaries in dir that killed saves left (write_file_atomic's "NAME.tmp.PID"
   of a process that no longer runs), those of NAME = of only, or all when of is NULL (for
   a folder the program owns); returns how many. write_file_atomic sweeps its target's. */
int remove_stale_temps(const char *dir, const char *of);
/* Writes all n bytes to fd, retrying short writes and EINTR; -1 (errno set) on failure. */
int write_all(int fd, const void *data, size_t n);
/* fsyncs the folder that holds path, so a rename into it lasts; -1 if it cannot. */
int fsync_folder_of(const char *path);

/* ---- byte buffer (grows as it is written) ---- */
typedef struct {
    uint8_t *data;  /* bytes written so far */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated */
} Buf;
void buf_put(Buf *b, const void *p, size_t n);
void buf_free(Buf *b);

/* ---- random numbers (xoshiro-style, 64-bit state) ---- */
typedef struct { uint64_t s; } Rng;
void rng_seed(Rng *r, uint64_t seed);
uint32_t rng_u32(Rng *r);
float rng_float(Rng *r);               /* uniform in [0, 1) */
float rng_normal(Rng *r);              /* standard normal */
void rng_shuffle(Rng *r, int *a, int n); /* a uniformly random order of a[0..n) (Fisher-Yates) */

/* ---- checksums, hashing, time ---- */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n); /* start with 0 */
/* FNV-1a of n bytes, continuing from h: start with FNV1A_SEED (the offset basis), or with
   it xor a salt to keep kinds of keys apart. The classifier's feature buckets are these
   hashes, so they must never change. */
#define FNV1A_SEED 2166136261u
uint32_t fnv1a(uint32_t h, const void *data, size_t n);
double now_seconds(void);              /* monotonic */

#endif
