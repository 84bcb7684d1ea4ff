/* tokfile: a corpus tokenized once (`rlchat tokenize`), for training on corpora larger
   than memory (`rlchat train --tokens`). The file is memory-mapped, so a process reads
   only the pages of the positions it trains on.

   Layout, little-endian: the magic "RLCHATTK", u32 version, u32 width (bytes per token:
   2 when the vocabulary fits in uint16, else 4), u64 count (tokens), u32 num_merges,
   u32 CRC-32 of the 28 bytes before it and of the merges; then the tokenizer's merges
   (num_merges, 2) as int32, so the file says which tokenizer made it; then count tokens.
   The file's length must be exactly that. The tokens carry no checksum (a checksum would
   make every rank read all of them); tokfile_check_range bounds each id instead. */
#ifndef RLCHAT_TOKFILE_H
#define RLCHAT_TOKFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

#define TOKFILE_VERSION 1
#define TOKFILE_HEADER 32 /* bytes before the merges */

typedef struct {
    char *path;            /* for messages */
    const uint8_t *map;    /* the whole file, read-only */
    size_t map_len;        /* its length */
    int width;             /* bytes per token: 2 or 4 */
    size_t count;          /* tokens */
    int num_merges;        /* the tokenizer's merges ... */
    const int32_t *merges; /* (num_merges, 2), inside map */
    const void *tokens;    /* (count) of width bytes, inside map */
} TokFile;

/* Maps path and checks the header, the merges' checksum and the length; -1 with
   err_msg() naming the file. */
int tokfile_open(TokFile *f, const char *path);
void tokfile_close(TokFile *f);
/* Token i of the stream. */
int32_t tokfile_at(const TokFile *f, size_t i);
/* -1 with err_msg() when a token in [begin, end) is not below vocab_size. */
int tokfile_check_range(const TokFile *f, size_t begin, size_t end, int vocab_size);

/* Writing, streamed: open (PATH.tmp.PID beside path), put ids any number of times, then
   close (fixes the count, fsyncs, renames over path) or abort (removes the temporary). */
typedef struct {
    char *path, *tmp;  /* the final name and the temporary */
    int fd;            /* the temporary, open for writing */
    int width;         /* 2 or 4 */
    uint64_t count;    /* tokens written so far */
    int num_merges;    /* the tokenizer's merges, for the header's checksum ... */
    int32_t *merges;   /* (num_merges, 2), a copy */
    uint8_t *buf;      /* conversion buffer */
    size_t buf_cap;    /* its size in bytes */
} TokWriter;

int tokwriter_open(TokWriter *w, const char *path, const Tokenizer *t);
int tokwriter_put(TokWriter *w, const int32_t *ids, size_t n);
int tokwriter_close(TokWriter *w);
void tokwriter_abort(TokWriter *w);

#endif
