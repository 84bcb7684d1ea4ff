/* tiny_model: see tiny_model.h. */
#include "tests/tiny_model.h"

#include <stdlib.h>
#include <string.h>

#include "model/util.h"

const char *TINY_CORPUS =
    "hi there\nhello, how are you?\ni am fine, thanks.\ngood to hear.\n\n"
    "what is your favourite movie?\ni love star wars.\nme too!\n\n"
    "do you like music?\nyes, rock music mostly.\n\n";

void tiny_setup(TinySetup *s, int hidden) {
    tokenizer_train(&s->tok, TINY_CORPUS, strlen(TINY_CORPUS), 300);
    Config c = {.vocab_size = s->tok.vocab_size, .embed_dim = 16, .hidden_dim = hidden, .num_layers = 2};
    model_build(&s->model, c);
    model_init_weights(&s->model, 1);
    /* Repeat the corpus so the streams have something to chew on. */
    size_t n;
    int32_t *one = corpus_encode(&s->tok, TINY_CORPUS, strlen(TINY_CORPUS), &n);
    s->n = n * 8;
    s->ids = xmalloc(s->n * sizeof(int32_t));
    for (int k = 0; k < 8; k++) memcpy(s->ids + k * n, one, n * sizeof(int32_t));
    free(one);
}

void tiny_teardown(TinySetup *s) {
    free(s->ids);
    model_free(&s->model);
    tokenizer_free(&s->tok);
}
