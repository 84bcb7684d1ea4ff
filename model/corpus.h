/* corpus: a corpus file as the trainer and the evaluation read it, on every MPI rank, and
   the model's figures on it (loss, perplexity, bits per byte). Beside the trainer because
   `rlchat train` validates with it as `rlchat eval` evaluates. */
#ifndef RLCHAT_CORPUS_H
#define RLCHAT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "lstm.h"
#include "tokenizer.h"

/* The encoded corpus file on every rank: rank 0 reads and encodes it and broadcasts the
   ids; alone, just the encoding. Collective. NULL everywhere when rank 0 could not read it
   (err_msg() says why there); *bytes (may be NULL) gets its length. */
int32_t *corpus_encode_shared(const Tokenizer *tok, const char *path, size_t *n, size_t *bytes);
/* Prints loss, perplexity and bits per byte of the model on a corpus file (rank 0 prints;
   every rank calls it under MPI). -1 when the file cannot be read or is too short. */
int eval_report(const Model *m, const Tokenizer *tok, const char *path, int seq);

#endif
