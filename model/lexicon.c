/* lexicon: words and sets of them. See lexicon.h. */
#include "lexicon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAGIC_LINE "# rlchat words 1"

/* ---- words ---- */

int word_byte(int c) { return c == '\'' || c >= 0x80 || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

int word_next(const char *text, size_t len, size_t *pos, const char **word, size_t *n) {
    size_t i = *pos;
    while (i < len) {
        while (i < len && !word_byte((unsigned char)text[i])) i++;
        size_t start = i;
        while (i < len && word_byte((unsigned char)text[i])) i++;
        size_t end = i;
        while (start < end && text[start] == '\'') start++;
        while (end > start && text[end - 1] == '\'') end--;
        if (end > start) {
            *pos = i, *word = text + start, *n = end - start;
            return 1;
        }
    }
    *pos = i;
    return 0;
}

/* ---- the set: open addressing over lower-cased byte strings ---- */

static void lower(char *dst, const char *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
}

static uint64_t hash_word(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* The slot that holds the lower-cased w, or the empty slot where it would go. */
static size_t find_slot(const Lexicon *x, const char *w, size_t n) {
    size_t i = (size_t)hash_word(w, n) & (x->cap - 1);
    for (;; i = (i + 1) & (x->cap - 1)) {
        uint32_t off = x->offset[i];
        if (!off) return i;
        const char *e = x->pool + off - 1;
        if (!memcmp(e, w, n) && e[n] == 0) return i;
    }
}

static void grow(Lexicon *x) {
    size_t old_cap = x->cap;
    uint32_t *old_off = x->offset, *old_count = x->count;
    x->cap = old_cap ? old_cap * 2 : 1024;
    x->offset = xcalloc(x->cap, sizeof(uint32_t));
    x->count = xcalloc(x->cap, sizeof(uint32_t));
    for (size_t i = 0; i < old_cap; i++)
        if (old_off[i]) {
            const char *e = x->pool + old_off[i] - 1;
            size_t j = find_slot(x, e, strlen(e));
            x->offset[j] = old_off[i], x->count[j] = old_count[i];
        }
    free(old_off);
    free(old_count);
}

/* The slot of the lower-cased w, made when missing. */
static size_t insert(Lexicon *x, const char *w, size_t n) {
    if (2 * (x->entries + 1) > x->cap) grow(x);
    size_t i = find_slot(x, w, n);
    if (x->offset[i]) return i;
    if (x->pool_len + n + 1 > x->pool_cap) {
        x->pool_cap = (x->pool_len + n + 1) * 2;
        x->pool = xrealloc(x->pool, x->pool_cap);
    }
    memcpy(x->pool + x->pool_len, w, n);
    x->pool[x->pool_len + n] = 0;
    x->offset[i] = (uint32_t)x->pool_len + 1;
    x->pool_len += n + 1;
    x->entries++;
    return i;
}

void lexicon_build(Lexicon *x, int prefixes) {
    memset(x, 0, sizeof *x);
    x->prefixes = prefixes;
    grow(x);
}

void lexicon_free(Lexicon *x) {
    free(x->pool);
    free(x->offset);
    free(x->count);
    memset(x, 0, sizeof *x);
}

void lexicon_clear(Lexicon *x) {
    memset(x->offset, 0, x->cap * sizeof(uint32_t));
    memset(x->count, 0, x->cap * sizeof(uint32_t));
    x->pool_len = x->entries = x->words = 0;
}

void lexicon_add(Lexicon *x, const char *word, size_t n) {
    char w[WORD_MAX];
    if (n == 0 || n > WORD_MAX) return;
    lower(w, word, n);
    if (x->prefixes)
        for (size_t k = 1; k < n; k++) insert(x, w, k);
    size_t i = insert(x, w, n);
    if (x->count[i]++ == 0) x->words++;
}

void lexicon_add_text(Lexicon *x, const char *text, size_t len) {
    size_t pos = 0, n;
    const char *w;
    while (word_next(text, len, &pos, &w, &n)) lexicon_add(x, w, n);
}

uint32_t lexicon_count(const Lexicon *x, const char *word, size_t n) {
    char w[WORD_MAX];
    if (n == 0 || n > WORD_MAX || !x->cap) return 0;
    lower(w, word, n);
    size_t i = find_slot(x, w, n);
    return x->offset[i] ? x->count[i] : 0;
}

int lexicon_has_prefix(const Lexicon *x, const char *word, size_t n) {
    char w[WORD_MAX];
    if (n > WORD_MAX || !x->cap) return 0;
    if (n == 0) return x->words > 0;
    lower(w, word, n);
    return x->offset[find_slot(x, w, n)] != 0;
}

/* ---- the word list file ---- */

/* The next line of text[*pos..len) without its newline; *pos moves past it. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *n) {
    const char *line = text + *pos;
    const char *nl = memchr(line, '\n', len - *pos);
    *n = nl ? (size_t)(nl - line) : len - *pos;
    *pos += *n + (nl ? 1 : 0);
    return line;
}

int lexicon_load(Lexicon *x, const char *path) {
    size_t len, pos = 0, n, lineno = 0, words = 0;
    char *text = read_file(path, &len);
    uint32_t crc = 0;
    int ended = 0;
    if (!text) return -1;
    if (len < sizeof MAGIC_LINE || memcmp(text, MAGIC_LINE "\n", sizeof MAGIC_LINE)) {
        err_set("%s: not an rlchat word list (it should begin with \"%s\")", path, MAGIC_LINE);
        goto err;
    }
    while (pos < len && !ended) {
        const char *line = next_line(text, len, &pos, &n);
        lineno++;
        if (n > 0 && line[0] == '#') {
            unsigned long want_words;
            unsigned want_crc;
            if (sscanf(line, "# %lu words, crc32 %x", &want_words, &want_crc) == 2) {
                if (want_words != words || want_crc != crc) {
                    err_set("%s: %zu words read, crc32 %08x, where its last line says %lu and %08x: the file "
                            "was cut or edited; rebuild it with `rlchat words`", path, words, crc, want_words, want_crc);
                    goto err;
                }
                ended = 1;
            }
            continue;
        }
        size_t at = 0, wn;
        const char *w;
        if (!word_next(line, n, &at, &w, &wn) || w != line || wn != n || n > WORD_MAX) {
            err_set("%s:%zu: not a word (one word a line, letters and apostrophes, at most %d bytes)", path, lineno,
                    WORD_MAX);
            goto err;
        }
        crc = crc32_update(crc, line, n + 1); /* the newline too */
        lexicon_add(x, w, wn);
        words++;
    }
    if (!ended) {
        err_set("%s: no \"# N words, crc32 X\" last line: the file was cut; rebuild it with `rlchat words`", path);
        goto err;
    }
    free(text);
    return 0;
err:
    free(text);
    return -1;
}

static int by_bytes(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int lexicon_save(const Lexicon *x, uint32_t min_count, const char *header, const char *path) {
    const char **list = xmalloc((x->words ? x->words : 1) * sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < x->cap; i++)
        if (x->offset[i] && x->count[i] >= min_count && x->count[i] > 0) list[n++] = x->pool + x->offset[i] - 1;
    qsort(list, n, sizeof *list, by_bytes);
    Buf b = {0};
    uint32_t crc = 0;
    buf_put(&b, MAGIC_LINE "\n", sizeof MAGIC_LINE);
    if (header) buf_put(&b, header, strlen(header));
    for (size_t i = 0; i < n; i++) {
        size_t start = b.len;
        buf_put(&b, list[i], strlen(list[i]));
        buf_put(&b, "\n", 1);
        crc = crc32_update(crc, b.data + start, b.len - start);
    }
    char tail[64];
    int k = snprintf(tail, sizeof tail, "# %zu words, crc32 %08x\n", n, crc);
    buf_put(&b, tail, (size_t)k);
    int rc = write_file_atomic(path, b.data, b.len);
    buf_free(&b);
    free(list);
    return rc;
}
