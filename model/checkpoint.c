/* checkpoint: sectioned, checksummed files. See checkpoint.h for the format. */
#include "checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'R', 'L', 'C', 'H', 'A', 'T', 'C', 'K'};
#define TAG_END CKPT_TAG('E', 'N', 'D', ' ')
#define TAG_CONF CKPT_TAG('C', 'O', 'N', 'F')
#define TAG_TOKN CKPT_TAG('T', 'O', 'K', 'N')
#define TAG_WGHT CKPT_TAG('W', 'G', 'H', 'T')
#define TAG_ADAM CKPT_TAG('A', 'D', 'A', 'M')
#define SECTION_HEADER 16

/* ---- writing ---- */

void ckpt_begin(Buf *b) {
    uint32_t version = CKPT_VERSION;
    buf_put(b, MAGIC, sizeof MAGIC);
    buf_put(b, &version, 4);
}

void ckpt_put(Buf *b, uint32_t tag, const void *payload, size_t len) {
    uint32_t zero = 0;
    uint64_t n = len;
    buf_put(b, &tag, 4);
    buf_put(b, &zero, 4);
    buf_put(b, &n, 8);
    buf_put(b, payload, len);
}

void ckpt_finish(Buf *b) {
    uint32_t tag = TAG_END, zero = 0;
    uint64_t n = 4;
    buf_put(b, &tag, 4);
    buf_put(b, &zero, 4);
    buf_put(b, &n, 8);
    uint32_t crc = crc32_update(0, b->data, b->len);
    buf_put(b, &crc, 4);
}

int ckpt_write(const char *path, Buf *b) {
    ckpt_finish(b);
    int rc = write_file_atomic(path, b->data, b->len);
    buf_free(b);
    return rc;
}

/* ---- reading ---- */

/* Walks the sections once, checking each length against what is left of the file. */
static int validate(const CkptFile *f) {
    if (f->len < sizeof MAGIC + 4 + SECTION_HEADER + 4) {
        err_set("%s: not an rlchat model or profile (only %zu bytes; the file is truncated or empty)", f->path, f->len);
        return -1;
    }
    if (memcmp(f->data, MAGIC, sizeof MAGIC) != 0) {
        err_set("%s: not an rlchat model or profile (bad magic number)", f->path);
        return -1;
    }
    uint32_t version;
    memcpy(&version, f->data + 8, 4);
    if (version != CKPT_VERSION) {
        err_set("%s: format version %u, this rlchat reads version %d", f->path, version, CKPT_VERSION);
        return -1;
    }
    size_t pos = 12;
    for (;;) {
        if (f->len - pos < SECTION_HEADER) {
            err_set("%s: truncated (section header cut off at byte %zu)", f->path, pos);
            return -1;
        }
        uint32_t tag;
        uint64_t n;
        memcpy(&tag, f->data + pos, 4);
        memcpy(&n, f->data + pos + 8, 8);
        pos += SECTION_HEADER;
        if (n > f->len - pos) {
            err_set("%s: truncated (a section claims %llu bytes, %zu remain)", f->path,
                    (unsigned long long)n, f->len - pos);
            return -1;
        }
        if (tag == TAG_END) {
            if (n != 4 || pos + 4 != f->len) {
                err_set("%s: corrupt (bad end marker)", f->path);
                return -1;
            }
            uint32_t stored, actual = crc32_update(0, f->data, pos);
            memcpy(&stored, f->data + pos, 4);
            if (stored != actual) {
                err_set("%s: corrupt (checksum mismatch: stored %08x, computed %08x)", f->path, stored, actual);
                return -1;
            }
            return 0;
        }
        pos += n;
    }
}

int ckpt_open_memory(CkptFile *f, const char *name, const void *data, size_t len) {
    f->path = xstrdup(name);
    f->data = xmalloc(len);
    memcpy(f->data, data, len);
    f->len = len;
    if (validate(f) == 0) return 0;
    ckpt_close(f);
    return -1;
}

int ckpt_open(CkptFile *f, const char *path) {
    memset(f, 0, sizeof *f);
    int magic = file_starts_with(path, MAGIC, sizeof MAGIC); /* before reading a large file whole */
    if (magic < 0) return -1;
    if (magic == 0) {
        err_set("%s: not an rlchat model or profile (bad magic number, or shorter than one)", path);
        return -1;
    }
    size_t len;
    char *data = read_file(path, &len);
    if (!data) return -1;
    f->path = xstrdup(path);
    f->data = (uint8_t *)data;
    f->len = len;
    if (validate(f) == 0) return 0;
    ckpt_close(f);
    return -1;
}

void ckpt_close(CkptFile *f) {
    free(f->path);
    free(f->data);
    memset(f, 0, sizeof *f);
}

const uint8_t *ckpt_find(const CkptFile *f, uint32_t tag, size_t *len) {
    size_t pos = 12;
    while (pos + SECTION_HEADER <= f->len) { /* validated already, so lengths are in bounds */
        uint32_t t;
        uint64_t n;
        memcpy(&t, f->data + pos, 4);
        memcpy(&n, f->data + pos + 8, 8);
        if (t == TAG_END) break;
        if (t == tag) {
            if (len) *len = n;
            return f->data + pos + SECTION_HEADER;
        }
        pos += SECTION_HEADER + n;
    }
    return NULL;
}

/* ---- the model's sections ---- */

void ckpt_put_model(Buf *b, const Model *m, const Tokenizer *t, int fp16) {
    int32_t conf[6] = {m->config.vocab_size, m->config.embed_dim, m->config.hidden_dim,
                       m->config.num_layers, fp16 ? 1 : 0, m->config.tied};
    ckpt_put(b, TAG_CONF, conf, sizeof conf);
    Buf tok = {0};
    int32_t nm = t->num_merges;
    buf_put(&tok, &nm, 4);
    buf_put(&tok, t->merges, (size_t)nm * 2 * sizeof(int32_t));
    ckpt_put(b, TAG_TOKN, tok.data, tok.len);
    buf_free(&tok);
    if (!fp16) {
        ckpt_put(b, TAG_WGHT, m->param_block, m->num_params * sizeof(float));
        return;
    }
    uint16_t *half = xmalloc(m->num_params * sizeof(uint16_t));
    floats_to_halves(half, m->param_block, m->num_params);
    ckpt_put(b, TAG_WGHT, half, m->num_params * sizeof(uint16_t));
    free(half);
}

int ckpt_get_model(const CkptFile *f, Model *m, Tokenizer *t) {
    size_t len;
    int32_t conf[6];
    const uint8_t *p = ckpt_find(f, TAG_CONF, &len);
    if (!p || len != sizeof conf) {
        err_set("%s: no model configuration in the file", f->path);
        return -1;
    }
    memcpy(conf, p, sizeof conf);
    Config c = {.vocab_size = conf[0], .embed_dim = conf[1], .hidden_dim = conf[2], .num_layers = conf[3],
                .tied = conf[5]};
    if (conf[4] != 0 && conf[4] != 1) {
        err_set("%s: unknown weight type %d", f->path, conf[4]);
        return -1;
    }
    p = ckpt_find(f, TAG_TOKN, &len);
    int32_t nm;
    if (!p || len < 4 || (memcpy(&nm, p, 4), nm < 0) || (size_t)nm > (len - 4) / 8 || len != 4 + (size_t)nm * 8) {
        err_set("%s: tokenizer section missing or malformed", f->path);
        return -1;
    }
    if (TOK_FIRST_MERGE + nm != c.vocab_size) {
        err_set("%s: tokenizer has %d tokens but the model has %d", f->path, TOK_FIRST_MERGE + nm, c.vocab_size);
        return -1;
    }
    size_t width = conf[4] ? 2 : 4, n_params = model_num_params(c);
    if (n_params == 0) {
        err_set("%s: %s", f->path, err_msg());
        return -1;
    }
    p = ckpt_find(f, TAG_WGHT, &len);
    if (!p || len != n_params * width) { /* before model_build allocates for the size claimed */
        err_set("%s: weights missing or of the wrong size (%zu bytes, expected %zu)", f->path, p ? len : 0,
                n_params * width);
        return -1;
    }
    model_build(m, c);
    if (width == 4) memcpy(m->param_block, p, len);
    else halves_to_floats(m->param_block, p, m->num_params);
    int32_t *merges = xmalloc((size_t)nm * 8 + 1);
    const uint8_t *tp = ckpt_find(f, TAG_TOKN, NULL);
    memcpy(merges, tp + 4, (size_t)nm * 8);
    int rc = tokenizer_from_merges(t, merges, nm);
    free(merges);
    if (rc != 0) {
        err_set("%s: bad tokenizer: %s", f->path, err_msg());
        model_free(m);
        return -1;
    }
    return 0;
}

void ckpt_put_adam(Buf *b, const Adam *a) {
    Buf s = {0};
    int64_t head[2] = {a->step, a->skipped};
    float hyper[4] = {a->beta1, a->beta2, a->eps, a->weight_decay};
    uint64_t n = a->n;
    buf_put(&s, head, sizeof head);
    buf_put(&s, hyper, sizeof hyper);
    buf_put(&s, &n, 8);
    buf_put(&s, a->m, a->n * sizeof(float));
    buf_put(&s, a->v, a->n * sizeof(float));
    ckpt_put(b, TAG_ADAM, s.data, s.len);
    buf_free(&s);
}

int ckpt_get_adam(const CkptFile *f, Adam *a) {
    size_t len;
    const uint8_t *p = ckpt_find(f, TAG_ADAM, &len);
    size_t fixed = 16 + 16 + 8;
    uint64_t n;
    if (!p || len < fixed || (memcpy(&n, p + 32, 8), n != a->n) || len != fixed + 2 * n * sizeof(float)) {
        err_set("%s: no optimizer state for this model", f->path);
        return -1;
    }
    int64_t head[2];
    float hyper[4];
    memcpy(head, p, 16);
    memcpy(hyper, p + 16, 16);
    a->step = head[0], a->skipped = head[1];
    a->beta1 = hyper[0], a->beta2 = hyper[1], a->eps = hyper[2], a->weight_decay = hyper[3];
    memcpy(a->m, p + fixed, n * sizeof(float));
    memcpy(a->v, p + fixed + n * sizeof(float), n * sizeof(float));
    return 0;
}

int model_load(const char *path, Model *m, Tokenizer *t) {
    CkptFile f;
    if (ckpt_open(&f, path) != 0) return -1;
    int rc = ckpt_get_model(&f, m, t);
    ckpt_close(&f);
    return rc;
}
