/* tokenizer: byte-level BPE, lossless on every byte string (invalid UTF-8 included).
   Ids 0..255 are the raw bytes; 256..258 are the turn tokens; merge i makes id 259 + i.
   Text is first split into chunks (an optional leading space plus a run of letters, or of
   digits, or of other symbols; runs of white space), so merges never cross a word. */
#ifndef RLCHAT_TOKENIZER_H
#define RLCHAT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define TOK_USER 256        /* starts a user utterance */
#define TOK_BOT 257         /* starts a bot utterance */
#define TOK_EOT 258         /* ends either */
#define TOK_FIRST_MERGE 259 /* id of the first merged token */

typedef struct {
    int vocab_size;       /* V = TOK_FIRST_MERGE + num_merges */
    int num_merges;       /* learned merges */
    int32_t *merges;      /* (num_merges, 2): the pair of ids merge i joins, in rank order */
    uint8_t **bytes;      /* (V): the bytes each token stands for (specials: a display name) */
    int *len;             /* (V): length of bytes[id] */
    void *pair_rank;      /* private: hash from (left,right) to merge rank, for encoding */
    void *cache;          /* private: chunk -> ids cache (encoding is then mostly lookups) */
} Tokenizer;

/* Learns merges from text until the vocabulary has vocab_size ids (>= 259). */
int tokenizer_train(Tokenizer *t, const char *text, size_t len, int vocab_size);
/* Builds a tokenizer from a saved merge list (as stored in a checkpoint); checks every id.
   Returns -1 with err_msg() on a bad list. */
int tokenizer_from_merges(Tokenizer *t, const int32_t *merges, int num_merges);
void tokenizer_free(Tokenizer *t);

/* Encodes len bytes of text (no special tokens produced) into a new array the caller frees.
   *n gets the count. Never fails on any bytes. */
int32_t *tokenizer_encode(const Tokenizer *t, const char *text, size_t len, size_t *n);
/* Appends the bytes of token id to out (special tokens append nothing). */
void tokenizer_decode_append(const Tokenizer *t, int id, char **out, size_t *out_len, size_t *out_cap);
/* True for the three turn tokens. */
int tokenizer_is_special(int id);

/* Reads a corpus file (one utterance a line, speakers alternating, a blank line between
   dialogues) and encodes it as one stream: each utterance is wrapped as
   TOK_USER ... TOK_EOT for the dialogue's first speaker and TOK_BOT ... TOK_EOT for the
   second, alternating. Returns a new array (caller frees), *n the count and *bytes (may
   be NULL) the file's length; NULL with err_msg() naming the file when it cannot be read. */
int32_t *corpus_encode_file(const Tokenizer *t, const char *path, size_t *n, size_t *bytes);
/* The same on text already in memory. */
int32_t *corpus_encode(const Tokenizer *t, const char *text, size_t len, size_t *n);

#endif
