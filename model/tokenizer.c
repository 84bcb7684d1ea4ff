/* tokenizer: byte-level BPE. See tokenizer.h for the contract.

   Text is cut into chunks (see chunk_len) and merges never cross a chunk, so a chunk can be
   encoded on its own and cached. Chunks are capped at MAX_CHUNK bytes: that bounds the work
   of encoding one chunk (the naive rank search is quadratic in its length) and the length of
   any token, which is what lets tokenizer_from_merges reject merge lists that would build
   absurdly long tokens. Training and encoding cut text the same way, so they agree.

   Training counts unique chunks once, then keeps pair counts up to date incrementally: a
   merge only revisits the words that contain the merged pair (each pair keeps a list of the
   words it occurs in), and the best pair comes from a max-heap with lazy deletion. */
#include "tokenizer.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNK 64              /* longest chunk, in bytes; longer runs are cut */
#define MAX_MERGES (1 << 20)      /* sanity bound for vocab_size and saved merge lists */
#define CACHE_SLOTS (1 << 16)     /* chunk cache: open-addressing slots (power of two) */
#define CACHE_MAX (CACHE_SLOTS / 2) /* cache entries before the cache is cleared */

static const char *special_names[3] = {"<user>", "<bot>", "<eot>"};

/* ---- chunking ---- */

enum { C_SPACE, C_LETTER, C_DIGIT, C_OTHER };

/* Bytes >= 0x80 count as letters, so a UTF-8 sequence stays inside its word. */
static int byte_class(uint8_t c) {
    if (c == ' ' || (c >= '\t' && c <= '\r')) return C_SPACE;
    if (c >= 0x80 || ((c | 32) >= 'a' && (c | 32) <= 'z')) return C_LETTER;
    if (c >= '0' && c <= '9') return C_DIGIT;
    return C_OTHER;
}

/* Length of the chunk starting at s (n >= 1 bytes available): a single space followed by a
   run of letters, digits or other symbols, or such a run alone, or a run of white space. A
   run of white space before a word leaves its last space to the word (as in GPT-2), so
   "a  b" is "a", " ", " b" and " b" is the same token wherever it appears. */
static size_t chunk_len(const uint8_t *s, size_t n) {
    size_t i = 0;
    int c = byte_class(s[0]);
    if (c == C_SPACE) {
        if (s[0] == ' ' && n > 1 && byte_class(s[1]) != C_SPACE) {
            i = 1;
            c = byte_class(s[1]);
        } else {
            while (i < n && i < MAX_CHUNK && byte_class(s[i]) == C_SPACE) i++;
            if (i > 1 && i < n && s[i - 1] == ' ' && byte_class(s[i]) != C_SPACE) i--;
            return i;
        }
    }
    while (i < n && i < MAX_CHUNK && byte_class(s[i]) == c) i++;
    return i;
}

static uint64_t hash_bytes(const uint8_t *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* ---- pair map: (left, right) -> int, open addressing ---- */

#define PAIR_EMPTY UINT64_MAX

typedef struct {
    uint64_t *keys; /* (cap) left << 32 | right, PAIR_EMPTY when free */
    int32_t *vals;  /* (cap) */
    size_t cap;     /* a power of two */
    size_t n;       /* keys in use */
} PairMap;

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

static size_t pair_slot(uint64_t key, size_t cap) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static void pm_init(PairMap *m, size_t cap) {
    m->cap = 16;
    while (m->cap < cap) m->cap *= 2;
    m->keys = xmalloc(m->cap * sizeof *m->keys);
    m->vals = xmalloc(m->cap * sizeof *m->vals);
    memset(m->keys, 0xFF, m->cap * sizeof *m->keys);
    m->n = 0;
}

static void pm_free(PairMap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The value for key, or -1 when absent. */
static int32_t pm_get(const PairMap *m, uint64_t key) {
    for (size_t i = pair_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) return m->vals[i];
        if (m->keys[i] == PAIR_EMPTY) return -1;
    }
}

static void pm_put(PairMap *m, uint64_t key, int32_t val) {
    if (2 * (m->n + 1) > m->cap) { /* keep the load under one half */
        PairMap bigger;
        pm_init(&bigger, m->cap * 2);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != PAIR_EMPTY) pm_put(&bigger, m->keys[i], m->vals[i]);
        pm_free(m);
        *m = bigger;
    }
    size_t i = pair_slot(key, m->cap);
    while (m->keys[i] != PAIR_EMPTY && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == PAIR_EMPTY) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
}

/* ---- growing id array ---- */

typedef struct {
    int32_t *data;
    size_t n, cap;
} Ids;

static void ids_reserve(Ids *b, size_t more) {
    if (b->n + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + more) cap *= 2;
    b->data = xrealloc(b->data, cap * sizeof *b->data);
    b->cap = cap;
}

static void ids_push(Ids *b, int32_t id) {
    ids_reserve(b, 1);
    b->data[b->n++] = id;
}

/* ---- chunk cache: chunk bytes -> ids, bounded (cleared when full) ---- */

typedef struct {
    uint64_t hash;    /* hash_bytes of the chunk, never 0; 0 marks a free slot */
    uint32_t key_off; /* offset of the chunk's bytes in Cache.keys */
    uint32_t ids_off; /* offset of its ids in Cache.ids */
    uint8_t key_len;  /* chunk length (<= MAX_CHUNK) */
    uint8_t n_ids;    /* number of ids (<= key_len) */
} CacheSlot;

typedef struct {
    CacheSlot *slots; /* (CACHE_SLOTS) */
    size_t n;         /* entries in use */
    uint8_t *keys;    /* chunk bytes of every entry, back to back */
    size_t keys_len, keys_cap;
    int32_t *ids;     /* ids of every entry, back to back */
    size_t ids_len, ids_cap;
} Cache;

static Cache *cache_new(void) {
    Cache *c = xcalloc(1, sizeof *c);
    c->slots = xcalloc(CACHE_SLOTS, sizeof *c->slots);
    return c;
}

static void cache_free(Cache *c) {
    if (!c) return;
    free(c->slots);
    free(c->keys);
    free(c->ids);
    free(c);
}

/* Finds the slot for chunk s: the matching entry, or the free slot where it belongs. */
static CacheSlot *cache_slot(Cache *c, const uint8_t *s, size_t n, uint64_t h) {
    for (size_t i = h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
        CacheSlot *e = &c->slots[i];
        if (e->hash == 0) return e;
        if (e->hash == h && e->key_len == n && memcmp(c->keys + e->key_off, s, n) == 0) return e;
    }
}

static void cache_add(Cache *c, CacheSlot *e, const uint8_t *s, size_t n, uint64_t h,
                      const int32_t *ids, size_t n_ids) {
    if (c->keys_len + n > c->keys_cap) {
        c->keys_cap = c->keys_cap ? 2 * c->keys_cap : 1 << 16;
        c->keys = xrealloc(c->keys, c->keys_cap);
    }
    if (c->ids_len + n_ids > c->ids_cap) {
        c->ids_cap = c->ids_cap ? 2 * c->ids_cap : 1 << 16;
        c->ids = xrealloc(c->ids, c->ids_cap * sizeof *c->ids);
    }
    e->hash = h;
    e->key_off = (uint32_t)c->keys_len;
    e->ids_off = (uint32_t)c->ids_len;
    e->key_len = (uint8_t)n;
    e->n_ids = (uint8_t)n_ids;
    memcpy(c->keys + c->keys_len, s, n);
    memcpy(c->ids + c->ids_len, ids, n_ids * sizeof *ids);
    c->keys_len += n;
    c->ids_len += n_ids;
    c->n++;
}

static void cache_clear(Cache *c) {
    memset(c->slots, 0, CACHE_SLOTS * sizeof *c->slots);
    c->n = c->keys_len = c->ids_len = 0;
}

/* ---- building a tokenizer from its merges ---- */

void tokenizer_free(Tokenizer *t) {
    if (t->bytes)
        for (int i = 0; i < t->vocab_size; i++) free(t->bytes[i]);
    free(t->bytes);
    free(t->len);
    free(t->merges);
    if (t->pair_rank) {
        pm_free(t->pair_rank);
        free(t->pair_rank);
    }
    cache_free(t->cache);
    memset(t, 0, sizeof *t);
}

int tokenizer_from_merges(Tokenizer *t, const int32_t *merges, int num_merges) {
    memset(t, 0, sizeof *t);
    if (num_merges < 0 || num_merges > MAX_MERGES || (num_merges > 0 && !merges)) {
        err_set("tokenizer: bad merge count %d (expected 0..%d)", num_merges, MAX_MERGES);
        return -1;
    }
    int V = TOK_FIRST_MERGE + num_merges;
    t->len = xcalloc((size_t)V, sizeof *t->len);
    t->bytes = xcalloc((size_t)V, sizeof *t->bytes);
    t->vocab_size = V; /* set now so tokenizer_free releases whatever was built */
    for (int id = 0; id < 256; id++) {
        t->bytes[id] = xmalloc(1);
        t->bytes[id][0] = (uint8_t)id;
        t->len[id] = 1;
    }
    for (int k = 0; k < 3; k++) {
        t->len[256 + k] = (int)strlen(special_names[k]);
        t->bytes[256 + k] = (uint8_t *)xstrdup(special_names[k]);
    }
    PairMap *ranks = xcalloc(1, sizeof *ranks);
    pm_init(ranks, 2 * (size_t)num_merges + 16);
    t->pair_rank = ranks;
    for (int i = 0; i < num_merges; i++) {
        int32_t a = merges[2 * i], b = merges[2 * i + 1];
        int id = TOK_FIRST_MERGE + i;
        if (a < 0 || b < 0 || a >= id || b >= id) {
            err_set("tokenizer: merge %d joins (%d, %d) but only ids below %d exist yet", i,
                    (int)a, (int)b, id);
            goto err;
        }
        if (tokenizer_is_special(a) || tokenizer_is_special(b)) {
            err_set("tokenizer: merge %d joins a turn token (%d, %d)", i, (int)a, (int)b);
            goto err;
        }
        if (t->len[a] + t->len[b] > MAX_CHUNK) {
            err_set("tokenizer: merge %d would make a token of %d bytes (at most %d)", i,
                    t->len[a] + t->len[b], MAX_CHUNK);
            goto err;
        }
        if (pm_get(ranks, pair_key(a, b)) >= 0) {
            err_set("tokenizer: merge %d repeats the pair (%d, %d)", i, (int)a, (int)b);
            goto err;
        }
        pm_put(ranks, pair_key(a, b), i);
        t->len[id] = t->len[a] + t->len[b];
        t->bytes[id] = xmalloc((size_t)t->len[id]);
        memcpy(t->bytes[id], t->bytes[a], (size_t)t->len[a]);
        memcpy(t->bytes[id] + t->len[a], t->bytes[b], (size_t)t->len[b]);
    }
    t->num_merges = num_merges;
    t->merges = xmalloc(2 * (size_t)num_merges * sizeof *t->merges);
    if (num_merges) memcpy(t->merges, merges, 2 * (size_t)num_merges * sizeof *merges);
    t->cache = cache_new();
    return 0;
err:
    tokenizer_free(t);
    return -1;
}

/* ---- encoding ---- */

int tokenizer_is_special(int id) { return id == TOK_USER || id == TOK_BOT || id == TOK_EOT; }

/* Standard BPE on one chunk: repeatedly merge every occurrence of the adjacent pair with the
   lowest rank, exactly as training applied merges. out gets at most n ids; returns the count.
   rank[i] caches the rank of (out[i], out[i+1]) so that a pass only looks up the pairs next
   to a merge; without it a long unseen chunk costs a hash lookup per pair per pass. */
static size_t bpe_chunk(const Tokenizer *t, const uint8_t *s, size_t n, int32_t *out) {
    const PairMap *ranks = t->pair_rank;
    int32_t rank[MAX_CHUNK];
    size_t from[MAX_CHUNK]; /* where out[k] came from in the last pass; SIZE_MAX if merged */
    for (size_t i = 0; i < n; i++) out[i] = s[i];
    for (size_t i = 0; i + 1 < n; i++) rank[i] = pm_get(ranks, pair_key(out[i], out[i + 1]));
    while (n >= 2) {
        int32_t best = INT32_MAX;
        size_t first = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (rank[i] >= 0 && rank[i] < best) best = rank[i], first = i;
        if (best == INT32_MAX) break;
        size_t j = first;
        for (size_t i = first; i < n; j++) { /* ranks are unique: rank best means the pair */
            if (i + 1 < n && rank[i] == best) {
                out[j] = TOK_FIRST_MERGE + best;
                from[j] = SIZE_MAX;
                i += 2;
            } else {
                out[j] = out[i];
                from[j] = i++;
            }
        }
        n = j;
        /* A pair of two untouched neighbours keeps its rank; from[k] >= k, so the in-place
           copy never reads a slot it already overwrote. */
        for (size_t k = first ? first - 1 : 0; k + 1 < n; k++) {
            size_t fk = k < first ? k : from[k];
            if (fk != SIZE_MAX && from[k + 1] == fk + 1) rank[k] = rank[fk];
            else rank[k] = pm_get(ranks, pair_key(out[k], out[k + 1]));
        }
    }
    return n;
}

/* Appends the ids of text to b. Encoding mutates the chunk cache, so a Tokenizer must not
   be used to encode from two threads at once. */
static void encode_into(const Tokenizer *t, const uint8_t *text, size_t len, Ids *b) {
    Cache *c = t->cache;
    int32_t tmp[MAX_CHUNK];
    ids_reserve(b, len / 2 + 16);
    for (size_t pos = 0; pos < len;) {
        size_t n = chunk_len(text + pos, len - pos);
        const uint8_t *s = text + pos;
        pos += n;
        if (n == 1) { /* a lone byte is its own token */
            ids_push(b, s[0]);
            continue;
        }
        uint64_t h = hash_bytes(s, n) | 1;
        CacheSlot *e = cache_slot(c, s, n, h);
        if (e->hash == 0) {
            size_t k = bpe_chunk(t, s, n, tmp);
            if (c->n >= CACHE_MAX) {
                cache_clear(c);
                e = cache_slot(c, s, n, h);
            }
            cache_add(c, e, s, n, h, tmp, k);
        }
        ids_reserve(b, e->n_ids);
        memcpy(b->data + b->n, c->ids + e->ids_off, e->n_ids * sizeof *b->data);
        b->n += e->n_ids;
    }
}

int32_t *tokenizer_encode(const Tokenizer *t, const char *text, size_t len, size_t *n) {
    Ids b = {0};
    encode_into(t, (const uint8_t *)text, len, &b);
    *n = b.n;
    return b.data ? b.data : xmalloc(sizeof(int32_t));
}

/* Keeps *out NUL-terminated as a convenience (the NUL is not counted in *out_len). */
void tokenizer_decode_append(const Tokenizer *t, int id, char **out, size_t *out_len,
                             size_t *out_cap) {
    if (id < 0 || id >= t->vocab_size || tokenizer_is_special(id)) return;
    size_t n = (size_t)t->len[id];
    if (*out_len + n + 1 > *out_cap || !*out) {
        size_t cap = *out_cap ? *out_cap : 64;
        while (cap < *out_len + n + 1) cap *= 2;
        *out = xrealloc(*out, cap);
        *out_cap = cap;
    }
    memcpy(*out + *out_len, t->bytes[id], n);
    *out_len += n;
    (*out)[*out_len] = 0;
}

/* ---- corpus ---- */

static int line_is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (byte_class((uint8_t)s[i]) != C_SPACE) return 0;
    return 1;
}

int32_t *corpus_encode(const Tokenizer *t, const char *text, size_t len, size_t *n) {
    Ids b = {0};
    int second = 0; /* does the next utterance belong to the dialogue's second speaker? */
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll && line[ll - 1] == '\r') ll--;
        if (line_is_blank(line, ll)) { /* a blank line ends the dialogue */
            second = 0;
            continue;
        }
        ids_push(&b, second ? TOK_BOT : TOK_USER);
        encode_into(t, (const uint8_t *)line, ll, &b);
        ids_push(&b, TOK_EOT);
        second = !second;
    }
    *n = b.n;
    if (!b.data) return xmalloc(sizeof(int32_t));
    return xrealloc(b.data, b.n * sizeof *b.data); /* give back the slack */
}

int32_t *corpus_encode_file(const Tokenizer *t, const char *path, size_t *n, size_t *bytes) {
    size_t len;
    char *text = read_file(path, &len); /* sets err_msg naming path */
    if (!text) return NULL;
    int32_t *ids = corpus_encode(t, text, len, n);
    free(text);
    if (bytes) *bytes = len;
    return ids;
}

/* ---- training ---- */

typedef struct {
    uint64_t key;   /* left << 32 | right */
    int64_t count;  /* occurrences in the text (each word weighted by its count) */
    int64_t pushed; /* count of this pair's newest heap entry (>= count while count > 0) */
    int32_t *words; /* words the pair has occurred in (may hold stale or repeated entries) */
    int n_words, cap_words;
    int touched;    /* last merge step that touched it, plus one */
} PairStat;

typedef struct {
    int64_t count;
    uint64_t key;
} HeapItem;

typedef struct {
    int32_t *ids;     /* ids of every unique word, back to back (shrinks in place) */
    size_t *off;      /* (W) start of word w in ids */
    int *wlen;        /* (W) current length of word w in ids */
    int64_t *wcount;  /* (W) how often word w occurs in the text */
    int *stamp;       /* (W) last merge step that visited word w, plus one */
    int nwords;
    PairMap index;    /* pair key -> index in pairs */
    PairStat *pairs;
    int npairs, cap_pairs;
    HeapItem *heap;   /* max-heap by (count desc, key asc), with stale entries */
    size_t heap_n, heap_cap;
    int *touched;     /* pairs touched in the current merge step */
    int n_touched, cap_touched;
} BpeTrainer;

/* Does heap item x come out before y? Ties go to the smaller pair, for determinism. */
static int heap_before(const HeapItem *x, const HeapItem *y) {
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}

static void heap_sift_down(BpeTrainer *tr, size_t i) {
    HeapItem *h = tr->heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < tr->heap_n && heap_before(&h[l], &h[m])) m = l;
        if (r < tr->heap_n && heap_before(&h[r], &h[m])) m = r;
        if (m == i) return;
        HeapItem tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

static void heap_push(BpeTrainer *tr, int64_t count, uint64_t key) {
    if (tr->heap_n == tr->heap_cap) {
        tr->heap_cap = tr->heap_cap ? 2 * tr->heap_cap : 1024;
        tr->heap = xrealloc(tr->heap, tr->heap_cap * sizeof *tr->heap);
    }
    size_t i = tr->heap_n++;
    tr->heap[i] = (HeapItem){count, key};
    while (i > 0 && heap_before(&tr->heap[i], &tr->heap[(i - 1) / 2])) {
        HeapItem tmp = tr->heap[i];
        tr->heap[i] = tr->heap[(i - 1) / 2];
        tr->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

static HeapItem heap_pop(BpeTrainer *tr) {
    HeapItem top = tr->heap[0];
    tr->heap[0] = tr->heap[--tr->heap_n];
    heap_sift_down(tr, 0);
    return top;
}

/* Index of the pair's stats, created (zeroed) when new. */
static int pair_stat(BpeTrainer *tr, uint64_t key) {
    int32_t p = pm_get(&tr->index, key);
    if (p >= 0) return p;
    if (tr->npairs == tr->cap_pairs) {
        tr->cap_pairs = tr->cap_pairs ? 2 * tr->cap_pairs : 4096;
        tr->pairs = xrealloc(tr->pairs, (size_t)tr->cap_pairs * sizeof *tr->pairs);
    }
    p = tr->npairs++;
    memset(&tr->pairs[p], 0, sizeof tr->pairs[p]);
    tr->pairs[p].key = key;
    pm_put(&tr->index, key, p);
    return p;
}

/* Adds (or with sign -1 removes) the pairs of word w to the counts. When adding, the word
   joins each pair's word list and each pair is marked as touched by step. */
static void count_word(BpeTrainer *tr, int w, int sign, int step) {
    const int32_t *ids = tr->ids + tr->off[w];
    int64_t c = sign * tr->wcount[w];
    for (int i = 0; i + 1 < tr->wlen[w]; i++) {
        int p = pair_stat(tr, pair_key(ids[i], ids[i + 1]));
        PairStat *ps = &tr->pairs[p];
        ps->count += c;
        if (sign < 0) continue;
        if (ps->n_words == 0 || ps->words[ps->n_words - 1] != w) {
            if (ps->n_words == ps->cap_words) {
                ps->cap_words = ps->cap_words ? 2 * ps->cap_words : 4;
                ps->words = xrealloc(ps->words, (size_t)ps->cap_words * sizeof *ps->words);
            }
            ps->words[ps->n_words++] = w;
        }
        if (ps->touched != step) {
            ps->touched = step;
            if (tr->n_touched == tr->cap_touched) {
                tr->cap_touched = tr->cap_touched ? 2 * tr->cap_touched : 1024;
                tr->touched = xrealloc(tr->touched, (size_t)tr->cap_touched * sizeof(int));
            }
            tr->touched[tr->n_touched++] = p;
        }
    }
}

/* Counts the unique chunks of text (one-byte chunks are skipped: they hold no pair). */
static void collect_words(BpeTrainer *tr, const uint8_t *text, size_t len) {
    size_t cap = 1 << 16, cap_ids = 1 << 16, n_ids = 0;
    int32_t *table = xmalloc(cap * sizeof *table); /* word index, -1 when free */
    uint64_t *hashes = NULL;
    int cap_words = 0;
    memset(table, 0xFF, cap * sizeof *table);
    tr->ids = xmalloc(cap_ids * sizeof *tr->ids);
    for (size_t pos = 0; pos < len;) {
        size_t n = chunk_len(text + pos, len - pos);
        const uint8_t *s = text + pos;
        pos += n;
        if (n < 2) continue;
        uint64_t h = hash_bytes(s, n);
        size_t i = h & (cap - 1);
        for (; table[i] >= 0; i = (i + 1) & (cap - 1)) {
            int w = table[i];
            if (hashes[w] != h || (size_t)tr->wlen[w] != n) continue;
            const int32_t *ids = tr->ids + tr->off[w];
            size_t k = 0;
            while (k < n && ids[k] == s[k]) k++;
            if (k == n) break;
        }
        if (table[i] >= 0) {
            tr->wcount[table[i]]++;
            continue;
        }
        int w = tr->nwords++;
        if (w == cap_words) {
            cap_words = cap_words ? 2 * cap_words : 4096;
            tr->off = xrealloc(tr->off, (size_t)cap_words * sizeof *tr->off);
            tr->wlen = xrealloc(tr->wlen, (size_t)cap_words * sizeof *tr->wlen);
            tr->wcount = xrealloc(tr->wcount, (size_t)cap_words * sizeof *tr->wcount);
            hashes = xrealloc(hashes, (size_t)cap_words * sizeof *hashes);
        }
        while (n_ids + n > cap_ids) {
            cap_ids *= 2;
            tr->ids = xrealloc(tr->ids, cap_ids * sizeof *tr->ids);
        }
        for (size_t k = 0; k < n; k++) tr->ids[n_ids + k] = s[k];
        tr->off[w] = n_ids;
        tr->wlen[w] = (int)n;
        tr->wcount[w] = 1;
        hashes[w] = h;
        n_ids += n;
        table[i] = w;
        if (2 * (size_t)tr->nwords > cap) { /* grow: rehash every word */
            cap *= 2;
            table = xrealloc(table, cap * sizeof *table);
            memset(table, 0xFF, cap * sizeof *table);
            for (int v = 0; v < tr->nwords; v++) {
                size_t j = hashes[v] & (cap - 1);
                while (table[j] >= 0) j = (j + 1) & (cap - 1);
                table[j] = v;
            }
        }
    }
    tr->stamp = xcalloc((size_t)tr->nwords + 1, sizeof *tr->stamp);
    free(table);
    free(hashes);
}

/* Pops heap entries until one matches its pair's current count; returns the pair's index,
   or -1 when no pair is left. An entry above the current count is stale: the newest such
   entry is pushed again with the current count, older ones are dropped. */
static int best_pair(BpeTrainer *tr) {
    while (tr->heap_n > 0) {
        HeapItem top = heap_pop(tr);
        int p = pm_get(&tr->index, top.key);
        PairStat *ps = &tr->pairs[p];
        if (ps->count <= 0) continue;
        if (top.count == ps->count) return p;
        if (top.count == ps->pushed && ps->count < top.count) {
            ps->pushed = ps->count;
            heap_push(tr, ps->count, top.key);
        }
    }
    return -1;
}

/* Applies merge (a, b) -> z to every word holding the pair, updating the counts. */
static void apply_merge(BpeTrainer *tr, int p, int32_t a, int32_t b, int32_t z, int step) {
    int32_t *words = tr->pairs[p].words; /* detached: the pair vanishes with this merge */
    int n_words = tr->pairs[p].n_words;
    tr->pairs[p].words = NULL;
    tr->pairs[p].n_words = tr->pairs[p].cap_words = 0;
    tr->n_touched = 0;
    for (int k = 0; k < n_words; k++) {
        int w = words[k];
        if (tr->stamp[w] == step) continue;
        tr->stamp[w] = step;
        int32_t *ids = tr->ids + tr->off[w];
        int n = tr->wlen[w], i = 0;
        while (i + 1 < n && !(ids[i] == a && ids[i + 1] == b)) i++;
        if (i + 1 >= n) continue; /* stale entry: an earlier merge consumed the pair here */
        count_word(tr, w, -1, step);
        int j = i;
        while (i < n) {
            if (i + 1 < n && ids[i] == a && ids[i + 1] == b) {
                ids[j++] = z;
                i += 2;
            } else {
                ids[j++] = ids[i++];
            }
        }
        tr->wlen[w] = j;
        count_word(tr, w, +1, step);
    }
    free(words);
    /* Only a count that grew needs a new heap entry; shrunk ones are fixed when popped. */
    for (int k = 0; k < tr->n_touched; k++) {
        PairStat *ps = &tr->pairs[tr->touched[k]];
        if (ps->count > ps->pushed) {
            ps->pushed = ps->count;
            heap_push(tr, ps->count, ps->key);
        }
    }
}

static void bpe_trainer_free(BpeTrainer *tr) {
    for (int p = 0; p < tr->npairs; p++) free(tr->pairs[p].words);
    free(tr->pairs);
    pm_free(&tr->index);
    free(tr->ids);
    free(tr->off);
    free(tr->wlen);
    free(tr->wcount);
    free(tr->stamp);
    free(tr->heap);
    free(tr->touched);
}

/* Learns up to vocab_size - 259 merges. If the text runs out of pairs first, fewer merges
   are learned and t->vocab_size says how many ids there really are. */
int tokenizer_train(Tokenizer *t, const char *text, size_t len, int vocab_size) {
    memset(t, 0, sizeof *t);
    if (vocab_size < TOK_FIRST_MERGE || vocab_size - TOK_FIRST_MERGE > MAX_MERGES) {
        err_set("tokenizer: vocabulary size %d out of range (%d..%d)", vocab_size,
                TOK_FIRST_MERGE, TOK_FIRST_MERGE + MAX_MERGES);
        return -1;
    }
    int want = vocab_size - TOK_FIRST_MERGE, got = 0;
    int32_t *merges = xmalloc(2 * (size_t)want * sizeof *merges + 1);
    BpeTrainer tr = {0};
    pm_init(&tr.index, 1 << 16);
    collect_words(&tr, (const uint8_t *)text, len);
    for (int w = 0; w < tr.nwords; w++) count_word(&tr, w, +1, 0);
    for (int p = 0; p < tr.npairs; p++) {
        tr.pairs[p].pushed = tr.pairs[p].count;
        heap_push(&tr, tr.pairs[p].count, tr.pairs[p].key);
    }
    while (got < want) {
        int p = best_pair(&tr);
        if (p < 0) break;
        int32_t a = (int32_t)(tr.pairs[p].key >> 32), b = (int32_t)(uint32_t)tr.pairs[p].key;
        merges[2 * got] = a;
        merges[2 * got + 1] = b;
        apply_merge(&tr, p, a, b, TOK_FIRST_MERGE + got, got + 1);
        tr.pairs[p].count = 0; /* every occurrence is merged; never pick it again */
        got++;
    }
    bpe_trainer_free(&tr);
    int rc = tokenizer_from_merges(t, merges, got);
    free(merges);
    return rc;
}
