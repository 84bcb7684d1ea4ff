/* toxicity: a small linear classifier for what a word list misses. Input is text already
   normalised by safety_normalize (lower-case words, single spaces). Features are hashed into
   D = 2^bits buckets: word unigrams, word bigrams, character 3..5-grams of " word "
   (the spaces mark word edges), and the three words after a negation marked as negated
   (version 2); every occurrence adds its weight and the sum is scaled by
   1/sqrt(number of features), so long and short texts score alike. The model is
   logistic regression: p(offensive) = sigmoid(bias + sum_f w[f]).

   File (little-endian), checked before use:
     u32 magic "RLTX", u32 version (2), u32 bits, f32 threshold, f32 bias,
     f32 w[D], u32 crc32 of everything before it. */
#ifndef RLCHAT_TOXICITY_H
#define RLCHAT_TOXICITY_H

#include <stddef.h>
#include <stdint.h>

#define TOX_MAGIC 0x58544c52u /* "RLTX" read as a little-endian u32 */
#define TOX_VERSION 2u

typedef struct {
    int bits;          /* D = 1 << bits buckets */
    float threshold;   /* p >= threshold blocks; tuned by the trainer on held-out chat */
    float bias;        /* intercept */
    float *w;          /* (D) weights */
} Toxicity;

typedef struct {
    int bits;          /* hash buckets, log2 (15 -> 32768) */
    int epochs;        /* passes over the data */
    float lr;          /* AdaGrad step size */
    float l2;          /* weight decay per example */
    uint64_t seed;     /* shuffling order */
} ToxTrainConfig;

/* Allocates a zero model with 2^bits buckets. */
void tox_init(Toxicity *t, int bits);
void tox_free(Toxicity *t);

/* Probability that normalised text (len bytes) is offensive. */
float tox_score(const Toxicity *t, const char *norm, size_t len);

/* Trains t (already tox_init'ed with cfg->bits) on n normalised texts with labels 0/1 and
   per-example weights (NULL: all 1). Deterministic given cfg->seed. */
void tox_train(Toxicity *t, const ToxTrainConfig *cfg, char *const *texts, const uint8_t *labels,
               const float *weights, int n);

/* Writes the model atomically. -1 with err_msg() on failure. */
int tox_save(const Toxicity *t, const char *path);
/* Reads and checks a model file (magic, version, sizes against the file length, checksum,
   finite numbers). -1 with err_msg() naming the file on any fault; t is then untouched. */
int tox_load(Toxicity *t, const char *path);
/* The same on bytes already in memory (name is used in messages). */
int tox_load_bytes(Toxicity *t, const uint8_t *data, size_t len, const char *name);

#endif
