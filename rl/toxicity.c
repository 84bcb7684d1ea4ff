/* toxicity: hashed n-gram logistic regression. See toxicity.h for the features and the file. */
#include "rl/toxicity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"

#define TOX_MAX_FEATS 8192   /* features kept per text; a reply has a few hundred */
#define TOX_HEADER 20        /* magic, version, bits, threshold, bias */

/* ---- features ---- */

/* Is the word at w (n bytes) a negation? After normalisation "don't" is "don t": a lone
   "t" after a word ending in n counts. */
static int negates(const char *w, size_t n, const char *prev, size_t prev_n) {
    static const char *NEG[] = {"not", "no", "never", "nor", "nobody", "nothing", "none", "neither",
                                "dont", "cant", "wont", "isnt", "arent", "doesnt", "didnt", "shouldnt", NULL};
    if (n == 1 && w[0] == 't') return prev_n > 0 && prev[prev_n - 1] == 'n';
    for (int k = 0; NEG[k]; k++)
        if (strlen(NEG[k]) == n && !memcmp(NEG[k], w, n)) return 1;
    return 0;
}

#define NEG_SCOPE 3 /* words after a negation that also get a negated feature */

/* Fills idx with the bucket of every feature of norm; returns how many (<= TOX_MAX_FEATS).
   Features: each word, each pair of words, the character 3- to 5-grams of each word, and
   for the few words after a negation, the word marked as negated (Pang et al. 2002), so
   that "don't hate" and "hate" can weigh differently. Each kind salts the hash's seed, so
   a word and a 3-gram with the same bytes fall in different buckets. */
static int features(const char *norm, size_t len, int bits, uint32_t *idx) {
    uint32_t mask = (1u << bits) - 1;
    int n = 0, negated = 0;
    size_t i = 0, prev_start = 0, prev_len = 0;
    int have_prev = 0;
    char pad[72];
    while (i < len && n < TOX_MAX_FEATS - 64) {
        while (i < len && norm[i] == ' ') i++;
        size_t s = i;
        while (i < len && norm[i] != ' ') i++;
        size_t wl = i - s;
        if (!wl) break;
        idx[n++] = fnv1a(FNV1A_SEED ^ 0x01, norm + s, wl) & mask;
        if (negated > 0) {
            idx[n++] = fnv1a(FNV1A_SEED ^ 0x03, norm + s, wl) & mask;
            negated--;
        }
        if (negates(norm + s, wl, norm + prev_start, have_prev ? prev_len : 0)) negated = NEG_SCOPE;
        if (have_prev) {
            uint32_t h = fnv1a(FNV1A_SEED ^ 0x02, norm + prev_start, prev_len);
            h = fnv1a(h, " ", 1);
            idx[n++] = fnv1a(h, norm + s, wl) & mask;
        }
        /* character n-grams of " word ", words cut at 64 bytes */
        size_t pl = wl > 64 ? 64 : wl;
        pad[0] = ' ';
        memcpy(pad + 1, norm + s, pl);
        pad[pl + 1] = ' ';
        for (size_t k = 3; k <= 5; k++)
            for (size_t j = 0; j + k <= pl + 2 && n < TOX_MAX_FEATS; j++)
                idx[n++] = fnv1a(FNV1A_SEED ^ (uint32_t)(0x10 + k), pad + j, k) & mask;
        prev_start = s, prev_len = wl, have_prev = 1;
    }
    return n;
}

static float sigmoidf(float z) {
    if (z >= 0) return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* ---- model ---- */

void tox_init(Toxicity *t, int bits) {
    t->bits = bits;
    t->threshold = 0.5f;
    t->bias = 0;
    t->w = xcalloc((size_t)1 << bits, sizeof(float));
}

void tox_free(Toxicity *t) {
    free(t->w);
    t->w = NULL;
}

float tox_score(const Toxicity *t, const char *norm, size_t len) {
    uint32_t idx[TOX_MAX_FEATS];
    int n = features(norm, len, t->bits, idx);
    float z = 0;
    for (int i = 0; i < n; i++) z += t->w[idx[i]];
    if (n) z /= sqrtf((float)n);
    return sigmoidf(t->bias + z);
}

/* ---- training ---- */

/* AdaGrad on the log loss: each coordinate's step shrinks with its summed squared
   gradients, so rare n-grams (most of them) still learn from their few examples. L2 is
   applied only to the coordinates an example touches, which keeps a step O(features). */
void tox_train(Toxicity *t, const ToxTrainConfig *cfg, char *const *texts, const uint8_t *labels,
               const float *weights, int n) {
    size_t D = (size_t)1 << t->bits;
    float *G = xcalloc(D, sizeof(float));
    float Gb = 0;
    int *order = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    uint32_t *idx = xmalloc(TOX_MAX_FEATS * sizeof(uint32_t));
    Rng rng;
    rng_seed(&rng, cfg->seed);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int ep = 0; ep < cfg->epochs; ep++) {
        rng_shuffle(&rng, order, n);
        for (int k = 0; k < n; k++) {
            int e = order[k];
            int m = features(texts[e], strlen(texts[e]), t->bits, idx);
            float scale = m ? 1.0f / sqrtf((float)m) : 0;
            float z = 0;
            for (int i = 0; i < m; i++) z += t->w[idx[i]];
            float p = sigmoidf(t->bias + z * scale);
            float g = (p - (float)labels[e]) * (weights ? weights[e] : 1.0f);
            Gb += g * g;
            t->bias -= cfg->lr * g / sqrtf(Gb + 1e-6f);
            for (int i = 0; i < m; i++) {
                uint32_t f = idx[i];
                float gf = g * scale + cfg->l2 * t->w[f];
                G[f] += gf * gf;
                t->w[f] -= cfg->lr * gf / sqrtf(G[f] + 1e-6f);
            }
        }
    }
    free(idx);
    free(order);
    free(G);
}

/* ---- file ---- */

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_f32(uint8_t *p, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(p, v);
}
static float get_f32(const uint8_t *p) {
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

int tox_save(const Toxicity *t, const char *path) {
    size_t D = (size_t)1 << t->bits;
    int finite = isfinite(t->threshold) && isfinite(t->bias);
    for (size_t i = 0; i < D && finite; i++) finite = isfinite(t->w[i]);
    if (!finite) { /* training diverged: keep the classifier that is there */
        err_set("%s: not saved: the classifier's weights are not finite numbers", path);
        return -1;
    }
    size_t size = TOX_HEADER + 4 * D + 4;
    uint8_t *b = xmalloc(size);
    put_u32(b, TOX_MAGIC);
    put_u32(b + 4, TOX_VERSION);
    put_u32(b + 8, (uint32_t)t->bits);
    put_f32(b + 12, t->threshold);
    put_f32(b + 16, t->bias);
    for (size_t i = 0; i < D; i++) put_f32(b + TOX_HEADER + 4 * i, t->w[i]);
    put_u32(b + size - 4, crc32_update(0, b, size - 4));
    int rc = write_file_atomic(path, b, size);
    free(b);
    return rc;
}

int tox_load_bytes(Toxicity *t, const uint8_t *b, size_t len, const char *name) {
    if (len < TOX_HEADER + 4) {
        err_set("%s: %zu bytes is too short for a classifier file", name, len);
        return -1;
    }
    if (get_u32(b) != TOX_MAGIC) {
        err_set("%s: not a classifier file (bad magic number)", name);
        return -1;
    }
    if (get_u32(b + 4) != TOX_VERSION) {
        err_set("%s: classifier file version %u, this program reads %u", name, get_u32(b + 4), TOX_VERSION);
        return -1;
    }
    uint32_t bits = get_u32(b + 8);
    if (bits < 4 || bits > 24) {
        err_set("%s: bad bucket count 2^%u", name, bits);
        return -1;
    }
    size_t D = (size_t)1 << bits;
    if (len != TOX_HEADER + 4 * D + 4) {
        err_set("%s: %zu bytes, expected %zu for 2^%u buckets (truncated?)", name, len, TOX_HEADER + 4 * D + 4, bits);
        return -1;
    }
    if (crc32_update(0, b, len - 4) != get_u32(b + len - 4)) {
        err_set("%s: checksum mismatch (corrupt file); retrain with `rlchat safety-train`", name);
        return -1;
    }
    float thr = get_f32(b + 12), bias = get_f32(b + 16);
    if (!isfinite(thr) || !isfinite(bias) || thr < 0 || thr > 1) {
        err_set("%s: bad threshold or bias", name);
        return -1;
    }
    float *w = xmalloc(D * sizeof(float));
    for (size_t i = 0; i < D; i++) {
        w[i] = get_f32(b + TOX_HEADER + 4 * i);
        if (!isfinite(w[i])) {
            free(w);
            err_set("%s: weight %zu is not a finite number", name, i);
            return -1;
        }
    }
    t->bits = (int)bits;
    t->threshold = thr;
    t->bias = bias;
    t->w = w;
    return 0;
}

int tox_load(Toxicity *t, const char *path) {
    size_t len;
    char *data = read_file(path, &len);
    if (!data) return -1;
    int rc = tox_load_bytes(t, (const uint8_t *)data, len, path);
    free(data);
    return rc;
}
