/* tiny_model: the small corpus, tokenizer and 2-layer model that the trainer tests share. */
#ifndef RLCHAT_TINY_MODEL_H
#define RLCHAT_TINY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/lstm.h"
#include "model/tokenizer.h"

typedef struct {
    Tokenizer tok;  /* trained on the tiny corpus, 300 tokens at most */
    Model model;    /* E 16, H hidden, L 2, seed 1 */
    int32_t *ids;   /* (n) the corpus encoded and repeated 8 times */
    size_t n;
} TinySetup;

extern const char *TINY_CORPUS;
void tiny_setup(TinySetup *s, int hidden);
void tiny_teardown(TinySetup *s);

#endif
