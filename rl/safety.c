/* safety: blocklist/allowlist matching and the verdict. See safety.h; how a text is read
   (folding, words, chunks, masked readings) is in rl/normalize.h.

   How a word matches. A word is compared as runs of letters ("fuuuck" = f u(3) c k): an
   entry matches when the run letters are the same and each run is at least as long as the
   entry's ("ass" needs s(2), so "as" does not match, "asssss" does). Forms A and B (1 and |
   as i or l) and the v-as-u form are each tried. A masked reading ("f*ck", "f***") is
   matched by mask_match, which runs the entry's letters against the reading's letters and
   gaps as a set of positions in one 64-bit word.

   Where. The text is matched as words (and words glued: single letters apart, or one mark
   apart), then, when some chunk is not simply a word, as chunks: phrases over chunks catch
   "i will k.i.l.l you" and "go d.i.e".

   Cost, linear in the text's length: each word or chunk costs one hash lookup by its run
   letters plus a pass over the fixed set of entries with stars; a masked chunk (at most
   MAX_MTOK tokens) is run against the entries that begin with its first letter and those
   with a leading star; a phrase looks at most MAX_PHRASE words ahead; allowlisted phrases
   likewise. None of this depends on the text's length, so the work is O(length) times a
   constant set by the lists. */
#include "rl/safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"
#include "rl/normalize.h"
#include "rl/toxicity.h"

#define MAX_WORD 128   /* letters of a word that are matched; the rest is ignored */
#define MAX_PHRASE 8   /* words in a blocklist or allowlist phrase */
#define MAX_MASKED 63  /* letters of an entry mask_match can follow (one 64-bit word) */

/* One word of an entry (or of a text), as runs of letters. */
typedef struct {
    char *key;       /* the run letters, NUL-terminated ("fuck") */
    uint8_t *cnt;    /* (nr) the length of each run, capped at 255 */
    int nr;          /* runs */
    char *letters;   /* the runs written out ("ass": a s s), for mask_match */
    int nlet;        /* letters */
    uint32_t lmask;  /* bit c-'a' for each letter c in it: a word lacking one cannot match */
    int lead, trail; /* 1: '*' before / after: may sit inside a longer word */
    int entry;       /* the ListEntry this word belongs to */
    int pos;         /* its position in the entry's words; -1: the whole phrase glued */
    int next;        /* the next pattern with the same key in its table chain, -1 */
} Pat;

typedef struct {
    char *text;        /* as written in the list, for verdicts */
    char category[32]; /* e.g. "profanity", "slur_race" */
    int severity;      /* 1..3 */
    int nwords;        /* words in the phrase */
    int pat[MAX_PHRASE]; /* index of each word's Pat */
} ListEntry;

/* A phrase of the allowlist ("dick van dyke"): its words may not be blocked on their own. */
typedef struct {
    int nwords;            /* 2..MAX_PHRASE */
    char *word[MAX_PHRASE]; /* each word's letters as normalised (form A), NUL-terminated */
    int next;              /* the next phrase with the same first word, -1 */
} AllowPhrase;

/* String -> int hash table with open addressing; keys are owned copies. */
typedef struct {
    int cap;        /* slots, a power of two, at least twice n */
    int *slot;      /* (cap) key index or -1 */
    char **keys;    /* (n) NUL-terminated */
    int *val;       /* (n) the value (head of a chain, or unused) */
    int n, kcap;    /* keys used / allocated */
} Table;

struct Safety {
    ListEntry *entries; int n_entries;
    Pat *pats; int n_pats;
    Table whole;    /* key -> chain of star-free Pats that start an entry */
    int *starred;   /* indices of Pats with a '*' that start an entry */
    int n_starred;
    int *masked;    /* the Pats that start an entry, for masked readings: those without a
                       leading star by first letter, then those with one */
    int masked_at[28]; /* masked[masked_at[c]..masked_at[c+1]) begin with 'a'+c; [26..27): lead */
    int max_words;  /* most words in an entry */
    int *glued;     /* the Pats of phrases written as one word ("killyourself") */
    int n_glued;
    Table allow;    /* allowlisted words (values unused) */
    Table allow_first; /* first word of an allowed phrase -> chain of AllowPhrase */
    AllowPhrase *phrases; int n_phrases;
    Toxicity tox;   /* the classifier, when has_tox */
    int has_tox, use_tox;
};

/* ---- hash table ---- */

static int table_find(const Table *t, const char *key, int n) {
    if (!t->cap) return -1;
    uint32_t mask = (uint32_t)(t->cap - 1);
    for (uint32_t i = fnv1a(FNV1A_SEED, key, (size_t)n) & mask;; i = (i + 1) & mask) {
        int k = t->slot[i];
        if (k < 0) return -1;
        if (!strncmp(t->keys[k], key, (size_t)n) && t->keys[k][n] == 0) return k;
    }
}

/* Returns the index of key, adding it (value -1) when new. */
static int table_add(Table *t, const char *key, int n) {
    int k = table_find(t, key, n);
    if (k >= 0) return k;
    if (2 * (t->n + 1) > t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        int *slot = xmalloc((size_t)cap * sizeof(int));
        for (int i = 0; i < cap; i++) slot[i] = -1;
        for (int j = 0; j < t->n; j++) {
            uint32_t i = fnv1a(FNV1A_SEED, t->keys[j], strlen(t->keys[j])) & (uint32_t)(cap - 1);
            while (slot[i] >= 0) i = (i + 1) & (uint32_t)(cap - 1);
            slot[i] = j;
        }
        free(t->slot);
        t->slot = slot, t->cap = cap;
    }
    if (t->n == t->kcap) {
        t->kcap = t->kcap ? 2 * t->kcap : 64;
        t->keys = xrealloc(t->keys, (size_t)t->kcap * sizeof(char *));
        t->val = xrealloc(t->val, (size_t)t->kcap * sizeof(int));
    }
    uint32_t i = fnv1a(FNV1A_SEED, key, (size_t)n) & (uint32_t)(t->cap - 1);
    while (t->slot[i] >= 0) i = (i + 1) & (uint32_t)(t->cap - 1);
    k = t->n++;
    t->slot[i] = k;
    t->keys[k] = xmalloc((size_t)n + 1);
    memcpy(t->keys[k], key, (size_t)n);
    t->keys[k][n] = 0;
    t->val[k] = -1;
    return k;
}

static void table_free(Table *t) {
    for (int i = 0; i < t->n; i++) free(t->keys[i]);
    free(t->keys), free(t->val), free(t->slot);
}

/* ---- matching ---- */

/* A word as matched: its letters and their runs. */
typedef struct {
    const char *s; int n;       /* letters */
    char key[MAX_WORD + 1];     /* run letters */
    uint8_t cnt[MAX_WORD];      /* run lengths */
    int nr;                     /* runs */
    uint32_t lmask;             /* bit c-'a' for each letter c a-z in it */
} Form;

static void make_form(Form *f, const char *s, int n) {
    f->s = s, f->n = n < MAX_WORD ? n : MAX_WORD, f->nr = 0, f->lmask = 0;
    for (int i = 0; i < f->n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z') f->lmask |= 1u << (s[i] - 'a');
        if (f->nr && f->key[f->nr - 1] == s[i]) {
            if (f->cnt[f->nr - 1] < 255) f->cnt[f->nr - 1]++;
        } else {
            f->key[f->nr] = s[i], f->cnt[f->nr++] = 1;
        }
    }
    f->key[f->nr] = 0;
}

/* May a run of n letters stand for run i of pattern p? At least as long as the entry's
   run; for a phrase written as one word, the same length but for the last run, so that
   "goodie" is not "go die" glued. */
static int run_ok(const Pat *p, int i, int n) {
    return p->pos < 0 && i < p->nr - 1 ? n == p->cnt[i] : n >= p->cnt[i];
}

/* Does pattern p match the runs of f, under its stars? */
static int pat_match(const Pat *p, const Form *f) {
    int lo = 0, hi = f->nr - p->nr;
    if (hi < 0 || (p->lmask & ~f->lmask)) return 0;
    if (!p->lead) hi = 0;              /* must start at the first run */
    if (!p->trail) lo = hi = p->lead ? hi : 0;
    if (!p->lead && !p->trail && f->nr != p->nr) return 0;
    for (int at = lo; at <= hi; at++) {
        int i = 0;
        while (i < p->nr && f->key[at + i] == p->key[i] && run_ok(p, i, f->cnt[at + i])) i++;
        if (i == p->nr) return 1;
    }
    return 0;
}

/* Are the tokens from `from` on letters that make a word ending ("f***ing": "ing")? An
   entry with a trailing star that a mask completes must be followed by one, so that
   "p.m" (p, a gap, m) is not read as "porn" and an m. */
static int suffix_ok(const MTok *tk, int from, int nt) {
    static const char *SUFFIX[] = {"s", "es", "ed", "er", "ers", "in", "ing", "ings", "y", "ie", "ies", "z", "ez", NULL};
    char buf[8] = {0};
    int n = 0;
    for (int i = from; i < nt; i++) {
        if (!tk[i].c) return 0;
        for (int k = 0; k < tk[i].n; k++) {
            if (n >= (int)sizeof buf - 1) return 0;
            buf[n++] = tk[i].c == '1' ? 'i' : tk[i].c;
        }
    }
    for (int k = 0; SUFFIX[k]; k++)
        if (!strcmp(buf, SUFFIX[k])) return 1;
    return n == 0;
}

/* Does the masked reading tk (nt tokens) match pattern p? Bit j of a state says "the
   first j letters of the entry are accounted for"; a run of n letters c moves j on by 1..n
   over entry letters equal to c ('1': i or l), a gap by lo..hi over any letters. The entry
   must begin at a letter of the reading, not inside a gap, and its span must hold a gap or
   an "i or l" (states H; states P have neither), or it was a plain match the word stage
   has already judged ("shiitake-and-leek" holds "shiitake", which the allowlist passed).
   An entry with a trailing star may end inside a gap followed by more letters when those
   are a word ending ("f***ing"), or when the gap is a star and hides at most half the entry
   ("douch*bag", not "d*mn" as "dildo"). An entry with a leading star that begins after the
   word's first letter (states LP, LH) must cross stars only and end on a letter
   ("dumbf*ck"; not "republican**" as "nigger", "SC_Troll" as "cunt").
   O(nt * (run length + gap width)) word operations. */
static int mask_match(const Pat *p, const MTok *tk, int nt) {
    int np = p->nlet;
    if (np == 0 || np > MAX_MASKED) return 0;
    uint64_t M[26] = {0};
    for (int j = 0; j < np; j++) M[p->letters[j] - 'a'] |= 1ull << j;
    uint64_t full = (2ull << np) - 1, done = 1ull << np, P = 1, H = 0, LP = 0, LH = 0;
    for (int i = 0; i < nt; i++) {
        const MTok *x = &tk[i];
        if (x->c) {
            uint64_t m = x->c == '1' ? M['i' - 'a'] | M['l' - 'a'] : M[x->c - 'a'];
            if (p->lead && i > 0) LP |= 1; /* the entry may begin at this letter */
            uint64_t S[4] = {P, H, LP, LH}, N[4] = {0, 0, 0, 0};
            for (int q = 0; q < 4; q++)
                for (int k = 0; k < x->n && S[q]; k++) N[q] |= S[q] = (S[q] & m) << 1;
            if (x->c == '1') N[1] |= N[0], N[0] = 0, N[3] |= N[2], N[2] = 0;
            P = N[0] & full, H = N[1] & full, LP = N[2] & full, LH = N[3] & full;
            if ((H | LH) & done) {
                if (i == nt - 1 || p->trail) return 1;
                H &= ~done, LH &= ~done;
            }
        } else {
            uint64_t from = P | H, NH = 0, NL = 0;
            uint64_t T = x->lo < 64 ? from << x->lo : 0, TL = x->lo < 64 && x->n ? (LP | LH) << x->lo : 0;
            for (int g = x->lo; g <= x->hi && (T | TL); g++, T <<= 1, TL <<= 1) NH |= T, NL |= TL;
            P = LP = 0, H = NH & full, LH = NL & full & ~done;
            if (H & done) {
                if (i == nt - 1) return 1;
                if (p->trail) {
                    if (suffix_ok(tk, i + 1, nt)) return 1;
                    /* the fewest entry letters this gap can hold: np - (highest j it starts from) */
                    int lo = np - x->hi > 0 ? np - x->hi : 0, hi = np - x->lo;
                    uint64_t w = hi >= lo ? from & (((2ull << hi) - 1) & ~((1ull << lo) - 1)) : 0;
                    if (x->n && w && 2 * (np - (63 - __builtin_clzll(w))) <= np) return 1;
                }
                H &= ~done;
            }
        }
        if (!(P | H | LP | LH) && !p->lead) return 0;
    }
    return 0;
}

/* Does word w (any of its forms and masked readings) match pattern p? */
static int word_match(const Text *t, const Word *w, const Pat *p) {
    Form f;
    make_form(&f, t->lb + w->a, w->n);
    if (pat_match(p, &f)) return 1;
    if (w->b >= 0) {
        make_form(&f, t->lb + w->b, w->n);
        if (pat_match(p, &f)) return 1;
    }
    if (w->v >= 0) {
        make_form(&f, t->lb + w->v, w->n);
        if (pat_match(p, &f)) return 1;
    }
    for (int r = 0; r < MASK_READINGS; r++)
        if (w->nm[r] && mask_match(p, t->tok + w->m[r], w->nm[r])) return 1;
    return 0;
}

static void verdict_entry(const Safety *s, int e, SafetyVerdict *v) {
    v->blocked = 1;
    v->severity = s->entries[e].severity;
    snprintf(v->category, sizeof v->category, "%s", s->entries[e].category);
    snprintf(v->entry, sizeof v->entry, "%s", s->entries[e].text);
}

/* Pattern p (the first word of its entry, or a phrase glued into one word) matched at word
   k of ws (k < 0: a glued compound, where only one-word patterns count). Do the entry's
   other words follow? */
static int entry_rest(const Safety *s, const Text *t, const Word *ws, int nw, const Pat *p, int k) {
    const ListEntry *en = &s->entries[p->entry];
    if (p->pos < 0 || en->nwords == 1) return 1;
    if (k < 0 || k + en->nwords > nw) return 0;
    for (int j = 1; j < en->nwords; j++)
        if (!word_match(t, &ws[k + j], &s->pats[en->pat[j]])) return 0;
    return 1;
}

/* An allowlisted word is never blocked on its own, but may still start a phrase.
   allowed: 1 for an allowlisted word, 2 for a chunk that is simply a word, whose one-word
   entries the word stage has tried already: both may only start a phrase. */
static int may_start(const Safety *s, const Pat *p, int allowed) {
    return !allowed || (p->pos >= 0 && s->entries[p->entry].nwords > 1);
}

/* Tries every entry that could start with the letters l..l+n (word k of ws, or -1).
   ends: for words glued together, bit 0 when the first is allowlisted, bit 1 when the last
   is: an entry with one star is not looked for at such an end, where it would only find
   the allowed word again ("shiitake-and-leek"). */
static int match_letters(const Safety *sf, const Text *t, const Word *ws, int nw, const char *l, int n, int k,
                         int allowed, int ends, SafetyVerdict *v) {
    if (n <= 0) return 0;
    Form f;
    make_form(&f, l, n);
    int key = table_find(&sf->whole, f.key, f.nr);
    for (int i = key >= 0 ? sf->whole.val[key] : -1; i >= 0; i = sf->pats[i].next) {
        const Pat *p = &sf->pats[i];
        if (may_start(sf, p, allowed) && pat_match(p, &f) && entry_rest(sf, t, ws, nw, p, k))
            return verdict_entry(sf, p->entry, v), 1;
    }
    for (int i = 0; i < sf->n_starred; i++) {
        const Pat *p = &sf->pats[sf->starred[i]];
        if (p->lmask & ~f.lmask) continue; /* a letter of the entry is missing: most fail here */
        if (((ends & 1) && p->trail && !p->lead) || ((ends & 2) && p->lead && !p->trail)) continue;
        if (may_start(sf, p, allowed) && pat_match(p, &f) && entry_rest(sf, t, ws, nw, p, k))
            return verdict_entry(sf, p->entry, v), 1;
    }
    return 0;
}

/* Tries the masked readings of w (word k of ws, or a view of it) against the entries they
   could start: those beginning with the reading's first letter, and those with a leading
   star. */
static int match_masked(const Safety *sf, const Text *t, const Word *w, const Word *ws, int nw, int k,
                        SafetyVerdict *v) {
    for (int r = 0; r < MASK_READINGS; r++) {
        if (!w->nm[r]) continue;
        const MTok *tk = t->tok + w->m[r];
        /* entries beginning with the first letter (i and l for '1'), then leading stars */
        int first[3] = {tk[0].c == '1' ? 'i' - 'a' : tk[0].c - 'a', tk[0].c == '1' ? 'l' - 'a' : 26, 26};
        for (int pass = 0; pass < 3; pass++) {
            if (pass == 1 && first[1] == 26) continue;
            int c = first[pass], lo = sf->masked_at[c], hi = sf->masked_at[c + 1];
            for (int i = lo; i < hi; i++) {
                const Pat *p = &sf->pats[sf->masked[i]];
                if (mask_match(p, tk, w->nm[r]) && entry_rest(sf, t, ws, nw, p, k))
                    return verdict_entry(sf, p->entry, v), 1;
            }
        }
    }
    return 0;
}

/* Letters spelt out one by one often run a whole phrase together ("g a s t h e j e w s"):
   such a chunk is searched for every phrase written as one word, anywhere inside it. */
static int match_spelt(const Safety *s, const Text *t, const Word *w, SafetyVerdict *v) {
    Form f;
    make_form(&f, t->lb + w->a, w->n);
    for (int i = 0; i < s->n_glued; i++) {
        const Pat *p = &s->pats[s->glued[i]];
        for (int at = 0; at + p->nr <= f.nr; at++) {
            int j = 0;
            while (j < p->nr && f.key[at + j] == p->key[j] && run_ok(p, j, f.cnt[at + j])) j++;
            if (j == p->nr) return verdict_entry(s, p->entry, v), 1;
        }
    }
    return 0;
}

/* Word k of ws in all its forms. */
static int match_word(const Safety *s, const Text *t, const Word *ws, int nw, int k, SafetyVerdict *v) {
    const Word *w = &ws[k];
    int ends = w->w1 - w->w0 > 1 ? t->w[w->w0].allowed | t->w[w->w1 - 1].allowed << 1 : 0;
    int chunk_word = ws == t->c && !w->changed;
    if (match_letters(s, t, ws, nw, t->lb + w->a, w->n, k, chunk_word ? 2 : w->allowed, ends, v)) return 1;
    if (chunk_word) return 0; /* its other forms were tried as a word, and it has no masks */
    if (w->spelt && match_spelt(s, t, w, v)) return 1;
    if (w->b >= 0 && match_letters(s, t, ws, nw, t->lb + w->b, w->n, k, w->allowed, ends, v)) return 1;
    if (w->v >= 0 && match_letters(s, t, ws, nw, t->lb + w->v, w->n, k, w->allowed, ends, v)) return 1;
    if (w->drop && match_letters(s, t, ws, nw, t->lb + w->a + 1, w->n - 1, -1, 0, 0, v)) return 1;
    if (w->allowed) return 0; /* its letters are allowed; a masked reading is a guess */
    if (match_masked(s, t, w, ws, nw, k, v)) return 1;
    const MTok *tk = t->tok + w->m[0];
    if (w->drop && w->nm[0] > 1 && tk[0].n == 1 && tk[1].c) { /* "a s l * t" */
        Word d = *w;
        d.m[0]++, d.nm[0]--, d.nm[1] = 0;
        return match_masked(s, t, &d, ws, nw, -1, v);
    }
    return 0;
}

static int is_allowed(const Safety *s, const char *l, int n) {
    return table_find(&s->allow, l, n < MAX_WORD ? n : MAX_WORD) >= 0;
}

/* Sets ws[k].allowed for allowlisted words and the words of allowlisted phrases. */
static void mark_allowed(const Safety *s, const Text *t, Word *ws, int nw) {
    for (int k = 0; k < nw; k++) ws[k].allowed = is_allowed(s, t->lb + ws[k].a, ws[k].n), ws[k].rescued = 0;
    if (!s->n_phrases) return;
    for (int k = 0; k < nw; k++) {
        int f = table_find(&s->allow_first, t->lb + ws[k].a, ws[k].n);
        for (int i = f >= 0 ? s->allow_first.val[f] : -1; i >= 0; i = s->phrases[i].next) {
            const AllowPhrase *ph = &s->phrases[i];
            int j = 1;
            while (j < ph->nwords && k + j < nw && (int)strlen(ph->word[j]) == ws[k + j].n &&
                   !memcmp(ph->word[j], t->lb + ws[k + j].a, (size_t)ws[k + j].n))
                j++;
            if (j == ph->nwords)
                for (j = 0; j < ph->nwords; j++) ws[k + j].allowed = 1;
        }
    }
}

/* Marks the allowed words of ws that a one-word entry would block without the allowlist:
   the classifier does not read them, so a name such as "Moby Dick" is judged by the words
   around it. */
static void mark_rescued(const Safety *s, const Text *t, Word *ws, int nw) {
    SafetyVerdict scratch;
    for (int k = 0; k < nw; k++)
        if (ws[k].allowed) ws[k].rescued = match_letters(s, t, ws, nw, t->lb + ws[k].a, ws[k].n, -1, 0, 0, &scratch);
}

/* Glues words lo..hi-1 (form A, or B where a word has one) and matches the result. */
static int match_glued(const Safety *s, Text *t, int lo, int hi, int use_b, SafetyVerdict *v) {
    int start = t->nl;
    for (int k = lo; k < hi; k++) {
        const Word *w = &t->w[k];
        memcpy(t->lb + t->nl, t->lb + (use_b && w->b >= 0 ? w->b : w->a), (size_t)w->n);
        t->nl += w->n;
    }
    int n = t->nl - start, ends = t->w[lo].allowed | t->w[hi - 1].allowed << 1;
    int hit = match_letters(s, t, t->w, t->nw, t->lb + start, n, -1, is_allowed(s, t->lb + start, n), ends, v);
    t->nl = start;
    return hit;
}

/* The list's verdict on text already read; 1 when blocked. */
static int list_check(const Safety *s, Text *t, SafetyVerdict *v) {
    mark_allowed(s, t, t->w, t->nw);
    for (int k = 0; k < t->nw; k++)
        if (match_word(s, t, t->w, t->nw, k, v)) return 1;
    /* Glued runs: single letters apart ("f u c k", three or more), and words one mark
       apart ("sh.it", "f-uck"). */
    for (int k = 0; k + 1 < t->nw; k++) {
        int hs = k, ht = k;
        while (hs + 1 < t->nw && text_single(t, hs) && text_single(t, hs + 1) && text_gap(t, hs) >= 1) hs++;
        if (hs - k >= 2 && (match_glued(s, t, k, hs + 1, 0, v) || match_glued(s, t, k, hs + 1, 1, v))) return 1;
        while (ht + 1 < t->nw && text_gap(t, ht) == 2) ht++;
        if (ht > k && (match_glued(s, t, k, ht + 1, 0, v) || match_glued(s, t, k, ht + 1, 1, v))) return 1;
        /* resume at a run's last word (it may start the next run): linear, not quadratic */
        if (hs - 1 > k) k = hs - 1;
        if (ht - 1 > k) k = ht - 1;
    }
    if (!t->changed) return 0;
    /* Chunks, only where an entry could reach a chunk that is not simply a word: the rest
       was matched above. next walks forward only, so this stays linear. */
    mark_allowed(s, t, t->c, t->nc);
    for (int k = 0, next = 0; k < t->nc; k++) {
        while (next < t->nc && (next < k || !t->c[next].changed)) next++;
        if (next < t->nc && next - k < s->max_words && match_word(s, t, t->c, t->nc, k, v)) return 1;
    }
    return 0;
}

/* ---- the classifier's input ---- */

/* Appends word w's letters (form A) to out, runs of three or more cut to two ("fuuuuck"
   and "fuuck" read alike), and a space before it when out is not empty. */
static size_t put_word(const Text *t, const Word *w, char *out, size_t n, size_t cap) {
    if (n && n + 2 < cap) out[n++] = ' ';
    for (int i = 0, run = 0; i < w->n && n + 2 < cap; i++) {
        char c = t->lb[w->a + i];
        run = i && c == t->lb[w->a + i - 1] ? run + 1 : 1;
        if (run <= 2) out[n++] = c;
    }
    return n;
}

/* The words of t, space-separated, except that letters spelt out one by one are one word
   ("t h a n k s" reads "thanks", not six letters that in the training data mostly spell
   hate) and rescued words are left out; at most cap-1 bytes and a NUL. */
static size_t normalized(const Text *t, char *out, size_t cap) {
    size_t n = 0;
    for (int c = 0, k = 0; c < t->nc; c++) {
        if (t->c[c].spelt) {
            n = put_word(t, &t->c[c], out, n, cap);
            while (k < t->nw && t->w[k].start < t->c[c].end) k++;
            continue;
        }
        for (; k < t->nw && t->w[k].start < t->c[c].end; k++)
            if (!t->w[k].rescued) n = put_word(t, &t->w[k], out, n, cap);
    }
    out[n] = 0;
    return n;
}

size_t safety_normalize(const char *text, size_t len, char *out, size_t cap) {
    if (!cap) return 0;
    Text t;
    text_read(&t, text, len);
    size_t n = normalized(&t, out, cap);
    text_free(&t);
    return n;
}

size_t safety_classifier_text(const Safety *s, const char *text, size_t len, char *out, size_t cap) {
    if (!cap) return 0;
    Text t;
    text_read(&t, text, len);
    mark_allowed(s, &t, t.w, t.nw);
    mark_rescued(s, &t, t.w, t.nw);
    size_t n = normalized(&t, out, cap);
    text_free(&t);
    return n;
}

int safety_check(const Safety *s, const char *text, size_t len, SafetyVerdict *v) {
    memset(v, 0, sizeof *v);
    v->score = -1;
    Text t;
    text_read(&t, text, len);
    int hit = list_check(s, &t, v);
    if (hit || !s->has_tox || !s->use_tox) {
        text_free(&t);
        return v->blocked;
    }
    char buf[4096];
    mark_rescued(s, &t, t.w, t.nw); /* list_check marked the allowed words */
    size_t n = normalized(&t, buf, sizeof buf);
    text_free(&t);
    v->score = tox_score(&s->tox, buf, n);
    if (v->score >= s->tox.threshold) {
        v->blocked = 1;
        v->severity = 2;
        snprintf(v->category, sizeof v->category, "classifier");
    }
    return v->blocked;
}

void safety_token_mask(const Safety *s, const Tokenizer *tok, uint8_t *mask) {
    for (int id = 0; id < tok->vocab_size; id++) {
        if (tokenizer_is_special(id)) continue;
        const char *b = (const char *)tok->bytes[id];
        int n = tok->len[id];
        int spaced = n > 0 && b[0] == ' ';
        if (spaced) b++, n--;
        Text t;
        SafetyVerdict v;
        text_read(&t, b, (size_t)n);
        /* One whole word only. Without a leading space a token may be the middle of a
           word ("cl" + "ass"), so short bare tokens are left to the full-text check. */
        if (t.nw == 1 && t.w[0].start == 0 && t.w[0].end == t.nf && (spaced || t.w[0].n >= 4) &&
            match_letters(s, &t, t.w, 1, t.lb + t.w[0].a, t.w[0].n, 0, is_allowed(s, t.lb + t.w[0].a, t.w[0].n), 0, &v))
            mask[id] = 1;
        text_free(&t);
    }
}

/* ---- loading ---- */

/* Adds a pattern for the letters l..l+n of entry e, word pos. */
static int add_pat(Safety *s, const char *l, int n, int lead, int trail, int e, int pos) {
    Form f;
    make_form(&f, l, n);
    s->pats = xrealloc(s->pats, (size_t)(s->n_pats + 1) * sizeof(Pat));
    Pat *p = &s->pats[s->n_pats];
    p->key = xmalloc((size_t)f.nr + 1);
    memcpy(p->key, f.key, (size_t)f.nr + 1);
    p->cnt = xmalloc((size_t)f.nr + 1);
    memcpy(p->cnt, f.cnt, (size_t)f.nr);
    p->nlet = 0, p->lmask = f.lmask;
    for (int i = 0; i < f.nr; i++) p->nlet += f.cnt[i];
    p->letters = xmalloc((size_t)p->nlet + 1);
    for (int i = 0, j = 0; i < f.nr; i++)
        for (int c = 0; c < f.cnt[i]; c++) p->letters[j++] = f.key[i];
    p->nr = f.nr, p->lead = lead, p->trail = trail, p->entry = e, p->pos = pos, p->next = -1;
    return s->n_pats++;
}

/* Registers pattern p as a possible start of its entry. */
static void index_pat(Safety *s, int p) {
    Pat *pt = &s->pats[p];
    s->masked = xrealloc(s->masked, (size_t)(s->masked_at[27] + 1) * sizeof(int));
    s->masked[s->masked_at[27]++] = p; /* sorted by first letter once the list is read */
    if (pt->lead || pt->trail) {
        s->starred = xrealloc(s->starred, (size_t)(s->n_starred + 1) * sizeof(int));
        s->starred[s->n_starred++] = p;
        return;
    }
    int k = table_add(&s->whole, pt->key, pt->nr);
    pt->next = s->whole.val[k];
    s->whole.val[k] = p;
}

/* Orders s->masked by first letter, entries with a leading star last (a counting sort). */
static void index_masked(Safety *s) {
    int n = s->masked_at[27], count[27] = {0};
    int *sorted = xmalloc((size_t)(n ? n : 1) * sizeof(int));
    for (int i = 0; i < n; i++) {
        const Pat *p = &s->pats[s->masked[i]];
        count[p->lead ? 26 : p->letters[0] - 'a']++;
    }
    s->masked_at[0] = 0;
    for (int c = 0; c < 27; c++) s->masked_at[c + 1] = s->masked_at[c] + count[c];
    int at[27];
    memcpy(at, s->masked_at, sizeof at);
    for (int i = 0; i < n; i++) {
        const Pat *p = &s->pats[s->masked[i]];
        sorted[at[p->lead ? 26 : p->letters[0] - 'a']++] = s->masked[i];
    }
    free(s->masked);
    s->masked = sorted;
}

/* Parses "CATEGORY SEVERITY ENTRY..." into entry e. -1 with err_msg() on a bad line. */
static int parse_entry(Safety *s, char *line, const char *path, int lineno) {
    char cat[64], *rest;
    int sev, used = 0;
    if (sscanf(line, "%63s %d %n", cat, &sev, &used) < 2 || !used || !line[used] || sev < 1 || sev > 3 ||
        strlen(cat) >= sizeof s->entries->category) {
        err_set("%s:%d: expected CATEGORY SEVERITY(1-3) ENTRY", path, lineno);
        return -1;
    }
    rest = line + used;
    size_t rl = strlen(rest);
    while (rl && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t' || rest[rl - 1] == '\r')) rest[--rl] = 0;
    int lead = rest[0] == '*', trail = rl > 1 && rest[rl - 1] == '*';
    Text t;
    text_read(&t, rest + lead, rl - (size_t)lead - (size_t)trail);
    int ok = t.nw >= 1 && t.nw <= MAX_PHRASE;
    for (int k = 0; ok && k < t.nw; k++)
        for (int i = 0; i < t.w[k].n; i++)
            if (t.lb[t.w[k].a + i] < 'a' || t.lb[t.w[k].a + i] > 'z') ok = 0;
    if (!ok) {
        text_free(&t);
        err_set("%s:%d: entry '%s' must be 1 to %d words of letters", path, lineno, rest, MAX_PHRASE);
        return -1;
    }
    s->entries = xrealloc(s->entries, (size_t)(s->n_entries + 1) * sizeof(ListEntry));
    int e = s->n_entries++;
    ListEntry *en = &s->entries[e];
    en->text = xstrdup(rest);
    memcpy(en->category, cat, strlen(cat) + 1); /* length checked above */
    en->severity = sev;
    en->nwords = t.nw;
    if (t.nw > s->max_words) s->max_words = t.nw;
    for (int k = 0; k < t.nw; k++)
        en->pat[k] = add_pat(s, t.lb + t.w[k].a, t.w[k].n, k == 0 && lead, k == t.nw - 1 && trail, e, k);
    index_pat(s, en->pat[0]);
    if (t.nw > 1) { /* the phrase written as one word: "killyourself" */
        int start = t.nl;
        for (int k = 0; k < t.nw; k++) memcpy(t.lb + t.nl, t.lb + t.w[k].a, (size_t)t.w[k].n), t.nl += t.w[k].n;
        int g = add_pat(s, t.lb + start, t.nl - start, lead, trail, e, -1);
        index_pat(s, g);
        s->glued = xrealloc(s->glued, (size_t)(s->n_glued + 1) * sizeof(int));
        s->glued[s->n_glued++] = g;
    }
    text_free(&t);
    return 0;
}

/* Reads a list file line by line into fn. */
static int read_lines(Safety *s, const char *path, int required, int (*fn)(Safety *, char *, const char *, int)) {
    size_t len;
    char *data = read_file(path, &len);
    if (!data) return required ? -1 : 0;
    int lineno = 0, rc = 0;
    for (char *line = data, *nl; line && *line && rc == 0; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (*p) rc = fn(s, p, path, lineno);
    }
    free(data);
    return rc;
}

/* One allowlist line: a word, or a phrase of up to MAX_PHRASE words. */
static int parse_allow(Safety *s, char *line, const char *path, int lineno) {
    Text t;
    text_read(&t, line, strlen(line));
    int ok = t.nw >= 1 && t.nw <= MAX_PHRASE;
    if (ok && t.nw == 1) {
        table_add(&s->allow, t.lb + t.w[0].a, t.w[0].n < MAX_WORD ? t.w[0].n : MAX_WORD);
    } else if (ok) {
        s->phrases = xrealloc(s->phrases, (size_t)(s->n_phrases + 1) * sizeof(AllowPhrase));
        AllowPhrase *ph = &s->phrases[s->n_phrases];
        ph->nwords = t.nw;
        for (int k = 0; k < t.nw; k++) {
            ph->word[k] = xmalloc((size_t)t.w[k].n + 1);
            memcpy(ph->word[k], t.lb + t.w[k].a, (size_t)t.w[k].n);
            ph->word[k][t.w[k].n] = 0;
        }
        int f = table_add(&s->allow_first, ph->word[0], t.w[0].n);
        ph->next = s->allow_first.val[f];
        s->allow_first.val[f] = s->n_phrases++;
    }
    text_free(&t);
    if (!ok) err_set("%s:%d: expected a word or a phrase of up to %d words", path, lineno, MAX_PHRASE);
    return ok ? 0 : -1;
}

Safety *safety_load(const char *dir) {
    Safety *s = xcalloc(1, sizeof *s);
    char path[4096];
    snprintf(path, sizeof path, "%s/blocklist.txt", dir);
    if (read_lines(s, path, 1, parse_entry) != 0) goto err;
    if (!s->n_entries) {
        err_set("%s: no entries", path);
        goto err;
    }
    index_masked(s);
    snprintf(path, sizeof path, "%s/allowlist.txt", dir);
    if (read_lines(s, path, 0, parse_allow) != 0) goto err;
    snprintf(path, sizeof path, "%s/toxicity.bin", dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        if (tox_load(&s->tox, path) != 0) goto err;
        s->has_tox = s->use_tox = 1;
    }
    return s;
err:
    safety_free(s);
    return NULL;
}

void safety_free(Safety *s) {
    if (!s) return;
    for (int i = 0; i < s->n_entries; i++) free(s->entries[i].text);
    for (int i = 0; i < s->n_pats; i++) free(s->pats[i].key), free(s->pats[i].cnt), free(s->pats[i].letters);
    for (int i = 0; i < s->n_phrases; i++)
        for (int k = 0; k < s->phrases[i].nwords; k++) free(s->phrases[i].word[k]);
    free(s->entries), free(s->pats), free(s->starred), free(s->masked), free(s->phrases), free(s->glued);
    table_free(&s->whole), table_free(&s->allow), table_free(&s->allow_first);
    if (s->has_tox) tox_free(&s->tox);
    free(s);
}

void safety_set_classifier(Safety *s, int on) { s->use_tox = on && s->has_tox; }
int safety_has_classifier(const Safety *s) { return s->has_tox; }
void safety_set_threshold(Safety *s, float threshold) { s->tox.threshold = threshold; }
float safety_threshold(const Safety *s) { return s->has_tox ? s->tox.threshold : -1; }

int safety_entry_count(const Safety *s) { return s->n_entries; }

const char *safety_entry(const Safety *s, int i, const char **category, int *severity) {
    if (i < 0 || i >= s->n_entries) return NULL;
    if (category) *category = s->entries[i].category;
    if (severity) *severity = s->entries[i].severity;
    return s->entries[i].text;
}
