/* checkpoint: the file format for models, optimizer state and anything else that must
   survive a restart (training position, learner state, profile data).

   A file is: the magic "RLCHATCK", a u32 format version, then sections, each a u32 tag,
   a u32 zero, a u64 payload length and the payload; the last section is "END " whose
   4-byte payload is the CRC-32 of every byte before it. All integers little-endian.
   Reading checks the magic, the version, every length against the file's size and the
   checksum before any section is used, so no byte pattern can make it read out of bounds.

   Model sections: CONF (V, E, H, L, weight type 0 f32 / 1 f16, tied), TOKN (BPE merges), WGHT (the parameter
   block as f32 or f16), ADAM (optimizer state). Other rooms add their own tags. */
#ifndef RLCHAT_CHECKPOINT_H
#define RLCHAT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "half.h"
#include "lstm.h"
#include "tokenizer.h"
#include "util.h"

#define CKPT_VERSION 1
#define CKPT_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

typedef struct {
    char *path;      /* the file's name, for messages */
    uint8_t *data;   /* the whole file */
    size_t len;      /* its size */
} CkptFile;

/* ---- writing: start, add sections, finish (adds END), then save atomically ---- */
void ckpt_begin(Buf *b);
void ckpt_put(Buf *b, uint32_t tag, const void *payload, size_t len);
void ckpt_finish(Buf *b);
int ckpt_write(const char *path, Buf *b);  /* ckpt_finish + write_file_atomic; frees b */

/* ---- reading ---- */
int ckpt_open(CkptFile *f, const char *path);                       /* validates all */
int ckpt_open_memory(CkptFile *f, const char *name, const void *data, size_t len);
void ckpt_close(CkptFile *f);
/* The payload of the first section with tag, or NULL; *len gets its size. */
const uint8_t *ckpt_find(const CkptFile *f, uint32_t tag, size_t *len);

/* ---- the model's sections ---- */
void ckpt_put_model(Buf *b, const Model *m, const Tokenizer *t, int fp16);
/* Builds m and t from the file's CONF, TOKN and WGHT; -1 with err_msg() naming the file. */
int ckpt_get_model(const CkptFile *f, Model *m, Tokenizer *t);
void ckpt_put_adam(Buf *b, const Adam *a);
/* Fills an Adam built for the model's size; -1 when absent or of the wrong size. */
int ckpt_get_adam(const CkptFile *f, Adam *a);

/* Loads a model file in one call (the common case). */
int model_load(const char *path, Model *m, Tokenizer *t);

#endif
