/* safety: normalisation, blocklist/allowlist matching and the verdict. See safety.h.

   How a text is read. Each code point is folded to one ASCII byte (fold_cp): letters and
   their look-alikes to a-z, digits kept, leetspeak symbols (@ $ ! | +) kept for now,
   apostrophes kept, white space to ' ', other punctuation to '.', letters of other scripts
   to '#' (part of a word, never matching), invisible marks dropped. Words are then cut
   (segment) and their digits and symbols undone as leetspeak when the word has a letter.
   Two words joined by one punctuation mark ("sh.it", "f-uck") and runs of three or more
   single letters ("f u c k", "f.u.c.k") are also tried glued together.

   How a word matches. A word is compared as runs of letters ("fuuuck" = f u(3) c k): an
   entry matches when the run letters are the same and each run is at least as long as the
   entry's ("ass" needs s(2), so "as" does not match, "asssss" does). '1' and '|' may be i or
   l, so such words are tried both ways. */
#include "rl/safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"
#include "rl/toxicity.h"

#define MAX_WORD 128   /* letters of a word that are matched; the rest is ignored */
#define MAX_PHRASE 8   /* words in a blocklist phrase */

/* One word of an entry (or of a text), as runs of letters. */
typedef struct {
    char *key;       /* the run letters, NUL-terminated ("fuck") */
    uint8_t *cnt;    /* (nr) the length of each run, capped at 255 */
    int nr;          /* runs */
    int lead, trail; /* 1: '*' before / after: may sit inside a longer word */
    int entry;       /* the Entry this word belongs to */
    int pos;         /* its position in the entry's words; -1: the whole phrase glued */
    int next;        /* the next pattern with the same key in its table chain, -1 */
} Pat;

typedef struct {
    char *text;        /* as written in the list, for verdicts */
    char category[32]; /* e.g. "profanity", "slur_race" */
    int severity;      /* 1..3 */
    int nwords;        /* words in the phrase */
    int pat[MAX_PHRASE]; /* index of each word's Pat */
} Entry;

/* String -> int hash table with open addressing; keys are owned copies. */
typedef struct {
    int cap;        /* slots, a power of two, at least twice n */
    int *slot;      /* (cap) key index or -1 */
    char **keys;    /* (n) NUL-terminated */
    int *val;       /* (n) the value (head of a Pat chain, or unused) */
    int n, kcap;    /* keys used / allocated */
} Table;

struct Safety {
    Entry *entries; int n_entries;
    Pat *pats; int n_pats;
    Table whole;    /* key -> chain of star-free Pats that start an entry */
    int *starred;   /* indices of Pats with a '*' that start an entry */
    int n_starred;
    Table allow;    /* allowlisted words (values unused) */
    Toxicity tox;   /* the classifier, when has_tox */
    int has_tox, use_tox;
};

/* ---- hash table ---- */

static uint32_t hash_bytes(const char *p, int n) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static int table_find(const Table *t, const char *key, int n) {
    if (!t->cap) return -1;
    for (uint32_t i = hash_bytes(key, n) & (uint32_t)(t->cap - 1);; i = (i + 1) & (uint32_t)(t->cap - 1)) {
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
            uint32_t i = hash_bytes(t->keys[j], (int)strlen(t->keys[j])) & (uint32_t)(cap - 1);
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
    uint32_t i = hash_bytes(key, n) & (uint32_t)(t->cap - 1);
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

/* ---- folding code points ---- */

/* Latin Extended-A (U+0100..U+017F) without its accents. */
static const char latin_ext_a[129] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
/* Latin-1 U+00C0..U+00FF. */
static const char latin1[65] = "aaaaaaaceeeeiiiidnooooo.ouuuuy#saaaaaaaceeeeiiiidnooooo.ouuuuy#y";
/* Cyrillic U+0410..U+044F: the letters that pass for Latin ones. */
static const char cyrillic[65] = "a#b##e####k#mhonpcty#x##ww##b###a#br#e##uuk#mhonpcty#x##ww##b###";
/* Greek U+0391..U+03C9 (0 = reserved). */
static const char greek[58] = "ab##ezhoik#mn#o#p##ty#x##" "iyaeniu" "abydeznoik#uv#onpsotu#x#w";

/* Small capitals and other Latin-looking letters outside the blocks above. */
static const struct { uint32_t cp; char c; } lookalike[] = {
    {0x1D00, 'a'}, {0x0299, 'b'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'}, {0x0262, 'g'},
    {0x029C, 'h'}, {0x026A, 'i'}, {0x1D0A, 'j'}, {0x1D0B, 'k'}, {0x029F, 'l'}, {0x1D0D, 'm'},
    {0x0274, 'n'}, {0x1D0F, 'o'}, {0x1D18, 'p'}, {0x0280, 'r'}, {0xA731, 's'}, {0x1D1B, 't'},
    {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'}, {0x028F, 'y'}, {0x1D22, 'z'}, {0x0405, 's'},
    {0x0406, 'i'}, {0x0407, 'i'}, {0x0408, 'j'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0457, 'i'},
    {0x0458, 'j'}, {0x0400, 'e'}, {0x0401, 'e'}, {0x0450, 'e'}, {0x0451, 'e'}, {0x20AC, 'e'},
    {0x0131, 'i'}, {0x0269, 'i'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x01C3, '!'}, {0x2018, '\''},
    {0x2019, '\''}, {0x02BC, '\''}, {0x00A1, '!'}, {0x00B5, 'u'}, {0x00A2, 'c'}, {0x00A7, 's'},
};

/* One code point to one byte of the folded alphabet; 0 = drop it. */
static char fold_cp(uint32_t cp) {
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return (char)(cp - 'A' + 'a');
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return (char)cp;
        if (cp == '@' || cp == '$' || cp == '!' || cp == '|' || cp == '+' || cp == '\'') return (char)cp;
        if (cp == ' ' || cp < 0x20 || cp == 0x7f) return ' ';
        return '.';
    }
    for (size_t i = 0; i < sizeof lookalike / sizeof *lookalike; i++)
        if (lookalike[i].cp == cp) return lookalike[i].c;
    if (cp == 0xAD || (cp >= 0x300 && cp <= 0x36F) || cp == 0x34F || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF || (cp >= 0xFE00 && cp <= 0xFE0F))
        return 0; /* soft hyphen, combining accents, zero-width marks, variation selectors */
    if (cp == 0xA0 || cp == 0x85 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return ' ';
    if (cp >= 0xC0 && cp <= 0xFF) return latin1[cp - 0xC0];
    if (cp >= 0x100 && cp <= 0x17F) return latin_ext_a[cp - 0x100];
    if (cp >= 0x410 && cp <= 0x44F) return cyrillic[cp - 0x410];
    if (cp >= 0x391 && cp <= 0x3C9) return greek[cp - 0x391];
    if (cp >= 0xFF01 && cp <= 0xFF5E) return fold_cp(cp - 0xFEE0); /* full-width ASCII */
    if (cp >= 0x1D400 && cp <= 0x1D6A3) return (char)('a' + (cp - 0x1D400) % 52 % 26); /* math letters */
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) return (char)('0' + (cp - 0x1D7CE) % 10);     /* math digits */
    if (cp >= 0x24B6 && cp <= 0x24E9) return (char)('a' + (cp - 0x24B6) % 26);        /* circled */
    if (cp >= 0x249C && cp <= 0x24B5) return (char)('a' + (cp - 0x249C));             /* parenthesised */
    if (cp >= 0x1F130 && cp <= 0x1F189) return (char)('a' + (cp - 0x1F130) % 32 % 26); /* squared */
    if (cp >= 0x1F1E6 && cp <= 0x1F1FF) return (char)('a' + (cp - 0x1F1E6));         /* regional */
    if (cp < 0x100 || cp > 0x10FFFF || (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0xFE10 && cp <= 0xFE6F))
        return '.'; /* punctuation, symbols, emoji */
    return '#';
}

/* Decodes one UTF-8 sequence at p (n bytes left); returns its length, *cp = U+FFFD-like
   marker 0x110000 for an invalid byte (which then reads as punctuation). */
static int utf8_next(const uint8_t *p, size_t n, uint32_t *cp) {
    uint8_t c = p[0];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 1) return *cp = c, 1;
    if (!len || (size_t)len > n) return *cp = 0x110000, 1;
    uint32_t v = c & (0x7F >> len);
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return *cp = 0x110000, 1;
        v = v << 6 | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return *cp = 0x110000, 1;
    return *cp = v, len;
}

/* ---- words ---- */

/* A word as matched: its letters and their runs. */
typedef struct {
    const char *s; int n;       /* letters */
    char key[MAX_WORD + 1];     /* run letters */
    uint8_t cnt[MAX_WORD];      /* run lengths */
    int nr;                     /* runs */
} Form;

typedef struct {
    int start, end;   /* span in the folded bytes */
    int a, n;         /* letters (form A: 1 and | read as i) in the letter buffer */
    int b;            /* form B (1 and | read as l) in the letter buffer, or -1 */
    int has_letter;   /* a-z among the folded bytes */
} TWord;

static int is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '#'; }

static char leet(char c, int ell) {
    switch (c) {
    case '0': return 'o';
    case '1': case '|': case '!': return ell && c != '!' ? 'l' : 'i';
    case '3': return 'e';
    case '4': case '@': return 'a';
    case '5': case '$': return 's';
    case '7': case '+': return 't';
    case '8': return 'b';
    case '9': return 'g';
    default: return c;
    }
}

static void make_form(Form *f, const char *s, int n) {
    f->s = s, f->n = n < MAX_WORD ? n : MAX_WORD, f->nr = 0;
    for (int i = 0; i < f->n; i++) {
        if (f->nr && f->key[f->nr - 1] == s[i]) {
            if (f->cnt[f->nr - 1] < 255) f->cnt[f->nr - 1]++;
        } else {
            f->key[f->nr] = s[i], f->cnt[f->nr++] = 1;
        }
    }
    f->key[f->nr] = 0;
}

/* The folded text and its words; all buffers sized from the input. */
typedef struct {
    char *fb; int nf;        /* folded bytes */
    char *lb; int nl;        /* letter buffer: the words' forms, then glued compounds */
    TWord *w; int nw;        /* words */
} Text;

/* Folds and segments len bytes of text. The caller frees t->fb, t->lb, t->w. */
static void text_read(Text *t, const char *text, size_t len) {
    t->fb = xmalloc(len + 1);
    t->lb = xmalloc(3 * len + 8);
    t->w = xmalloc((len / 2 + 2) * sizeof(TWord));
    t->nf = t->nl = t->nw = 0;
    const uint8_t *p = (const uint8_t *)text;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += (size_t)utf8_next(p + i, len - i, &cp);
        char c = fold_cp(cp);
        if (c) t->fb[t->nf++] = c;
    }
    const char *f = t->fb;
    int nf = t->nf;
    /* Cut words: letters, digits, '#'; '@' and '$' beside one; '!', '|', '+' and the
       apostrophe only between two (so "hello!" keeps its '!' out of the word). */
    for (int i = 0; i < nf;) {
        char c = f[i];
        char prev, next = i + 1 < nf ? f[i + 1] : ' ';
        int sym = c == '@' || c == '$';
        int starts = is_alnum(c) || (sym && (is_alnum(next) || next == '@' || next == '$'));
        if (!starts) { i++; continue; }
        TWord *w = &t->w[t->nw++];
        w->start = i, w->has_letter = 0;
        for (; i < nf; i++) {
            c = f[i];
            prev = i ? f[i - 1] : ' ', next = i + 1 < nf ? f[i + 1] : ' ';
            int in = is_alnum(c) || c == '@' || c == '$' ||
                     ((c == '!' || c == '|' || c == '+' || c == '\'') && is_alnum(prev) && (is_alnum(next) || next == '$'));
            if (!in) break;
            if (c >= 'a' && c <= 'z') w->has_letter = 1;
        }
        w->end = i;
        /* "@$$" is a word too: the symbols that only stand for letters count as letters */
        for (int j = w->start; j < w->end && !w->has_letter && w->end - w->start > 1; j++)
            if (f[j] == '@' || f[j] == '$') w->has_letter = 1;
    }
    /* Letters of each form. Symbol-only words of one character beside a word with letters
       are read as leetspeak too ("1 w1ll"); longer numbers stay numbers. */
    for (int k = 0; k < t->nw; k++) {
        TWord *w = &t->w[k];
        int single = w->end - w->start == 1;
        int near = (k > 0 && t->w[k - 1].has_letter) || (k + 1 < t->nw && t->w[k + 1].has_letter);
        int mapped = w->has_letter || (single && near);
        int ambiguous = 0;
        w->a = t->nl;
        for (int i = w->start; i < w->end; i++) {
            if (f[i] == '\'') continue;
            if (f[i] == '1' || f[i] == '|') ambiguous = 1;
            t->lb[t->nl++] = mapped ? leet(f[i], 0) : f[i];
        }
        w->n = t->nl - w->a;
        w->b = -1;
        if (mapped && ambiguous) {
            w->b = t->nl;
            for (int i = w->start; i < w->end; i++)
                if (f[i] != '\'') t->lb[t->nl++] = leet(f[i], 1);
        }
    }
}

static void text_free(Text *t) { free(t->fb), free(t->lb), free(t->w); }

/* ---- matching ---- */

/* Does pattern p match the runs of f, under its stars? */
static int pat_match(const Pat *p, const Form *f) {
    int lo = 0, hi = f->nr - p->nr;
    if (hi < 0) return 0;
    if (!p->lead) hi = 0;              /* must start at the first run */
    if (!p->trail) lo = hi = p->lead ? hi : 0;
    if (!p->lead && !p->trail && f->nr != p->nr) return 0;
    for (int at = lo; at <= hi; at++) {
        int i = 0;
        while (i < p->nr && f->key[at + i] == p->key[i] && f->cnt[at + i] >= p->cnt[i]) i++;
        if (i == p->nr) return 1;
    }
    return 0;
}

/* Does text word k (either form) match pattern p? */
static int word_match(const Text *t, int k, const Pat *p) {
    const TWord *w = &t->w[k];
    Form f;
    make_form(&f, t->lb + w->a, w->n);
    if (pat_match(p, &f)) return 1;
    if (w->b < 0) return 0;
    make_form(&f, t->lb + w->b, w->n);
    return pat_match(p, &f);
}

static void verdict_entry(const Safety *s, int e, SafetyVerdict *v) {
    v->blocked = 1;
    v->severity = s->entries[e].severity;
    snprintf(v->category, sizeof v->category, "%s", s->entries[e].category);
    snprintf(v->entry, sizeof v->entry, "%s", s->entries[e].text);
}

/* Pattern p (the first word of its entry, or a phrase glued into one word) matched at text
   word k (k < 0: a glued compound, where only one-word patterns count). Do the entry's
   other words follow? */
static int entry_rest(const Safety *s, const Text *t, const Pat *p, int k) {
    const Entry *en = &s->entries[p->entry];
    if (p->pos < 0 || en->nwords == 1) return 1;
    if (k < 0 || k + en->nwords > t->nw) return 0;
    for (int j = 1; j < en->nwords; j++)
        if (!word_match(t, k + j, &s->pats[en->pat[j]])) return 0;
    return 1;
}

/* Tries every entry that could start with the letters s..s+n (text word k, or -1). */
static int match_letters(const Safety *sf, const Text *t, const char *s, int n, int k, SafetyVerdict *v) {
    if (n <= 0) return 0;
    /* an allowlisted word is never blocked on its own, but may still start a phrase */
    int allowed = table_find(&sf->allow, s, n < MAX_WORD ? n : MAX_WORD) >= 0;
    Form f;
    make_form(&f, s, n);
    int key = table_find(&sf->whole, f.key, f.nr);
    for (int i = key >= 0 ? sf->whole.val[key] : -1; i >= 0; i = sf->pats[i].next) {
        const Pat *p = &sf->pats[i];
        if (allowed && (p->pos < 0 || sf->entries[p->entry].nwords == 1)) continue;
        if (pat_match(p, &f) && entry_rest(sf, t, p, k)) return verdict_entry(sf, p->entry, v), 1;
    }
    for (int i = 0; i < sf->n_starred; i++) {
        const Pat *p = &sf->pats[sf->starred[i]];
        if (allowed && (p->pos < 0 || sf->entries[p->entry].nwords == 1)) continue;
        if (pat_match(p, &f) && entry_rest(sf, t, p, k)) return verdict_entry(sf, p->entry, v), 1;
    }
    return 0;
}

/* Gap between words k and k+1: 2 = one punctuation mark, 1 = up to three separators, 0 = more. */
static int gap(const Text *t, int k) {
    int g = t->w[k + 1].start - t->w[k].end;
    if (g == 1 && t->fb[t->w[k].end] != ' ') return 2;
    return g <= 3;
}

/* A word of one letter as written (a lone digit read as leetspeak does not count, so a
   score of "5/5" never spells anything). */
static int single(const Text *t, int k) {
    char c = t->fb[t->w[k].start];
    return t->w[k].n == 1 && t->w[k].end - t->w[k].start == 1 && c >= 'a' && c <= 'z';
}

/* Glues words lo..hi-1 (form A, or B where a word has one) and matches the result. */
static int match_glued(const Safety *s, Text *t, int lo, int hi, int use_b, SafetyVerdict *v) {
    int start = t->nl;
    for (int k = lo; k < hi; k++) {
        const TWord *w = &t->w[k];
        memcpy(t->lb + t->nl, t->lb + (use_b && w->b >= 0 ? w->b : w->a), (size_t)w->n);
        t->nl += w->n;
    }
    int hit = match_letters(s, t, t->lb + start, t->nl - start, -1, v);
    t->nl = start;
    return hit;
}

/* The list's verdict on text already read; 1 when blocked. */
static int list_check(const Safety *s, Text *t, SafetyVerdict *v) {
    for (int k = 0; k < t->nw; k++) {
        const TWord *w = &t->w[k];
        if (match_letters(s, t, t->lb + w->a, w->n, k, v)) return 1;
        if (w->b >= 0 && match_letters(s, t, t->lb + w->b, w->n, k, v)) return 1;
    }
    /* Glued runs: single letters apart ("f u c k", three or more), and words one mark
       apart ("sh.it", "f-uck"). */
    for (int k = 0; k + 1 < t->nw; k++) {
        int hs = k, ht = k;
        while (hs + 1 < t->nw && single(t, hs) && single(t, hs + 1) && gap(t, hs) >= 1) hs++;
        if (hs - k >= 2 && (match_glued(s, t, k, hs + 1, 0, v) || match_glued(s, t, k, hs + 1, 1, v))) return 1;
        while (ht + 1 < t->nw && gap(t, ht) == 2) ht++;
        if (ht > k && (match_glued(s, t, k, ht + 1, 0, v) || match_glued(s, t, k, ht + 1, 1, v))) return 1;
        /* resume at a run's last word (it may start the next run): linear, not quadratic */
        if (hs - 1 > k) k = hs - 1;
        if (ht - 1 > k) k = ht - 1;
    }
    return 0;
}

size_t safety_normalize(const char *text, size_t len, char *out, size_t cap) {
    Text t;
    size_t n = 0;
    if (!cap) return 0;
    text_read(&t, text, len);
    for (int k = 0; k < t.nw; k++) {
        const TWord *w = &t.w[k];
        for (int i = 0, run = 0; i < w->n && n + 2 < cap; i++) {
            char c = t.lb[w->a + i];
            run = i && c == t.lb[w->a + i - 1] ? run + 1 : 1;
            if (run <= 2) out[n++] = c; /* "fuuuuck" and "fuuck" read alike */
        }
        if (n + 2 < cap && k + 1 < t.nw) out[n++] = ' ';
    }
    out[n] = 0;
    text_free(&t);
    return n;
}

int safety_check(const Safety *s, const char *text, size_t len, SafetyVerdict *v) {
    memset(v, 0, sizeof *v);
    v->score = -1;
    Text t;
    text_read(&t, text, len);
    int hit = list_check(s, &t, v);
    text_free(&t);
    if (hit || !s->has_tox || !s->use_tox) return v->blocked;
    char buf[4096];
    size_t n = safety_normalize(text, len, buf, sizeof buf);
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
            match_letters(s, &t, t.lb + t.w[0].a, t.w[0].n, 0, &v))
            mask[id] = 1;
        text_free(&t);
    }
}

/* ---- loading ---- */

/* Adds a pattern for the letters s..s+n of entry e, word pos. */
static int add_pat(Safety *s, const char *l, int n, int lead, int trail, int e, int pos) {
    Form f;
    make_form(&f, l, n);
    s->pats = xrealloc(s->pats, (size_t)(s->n_pats + 1) * sizeof(Pat));
    Pat *p = &s->pats[s->n_pats];
    p->key = xmalloc((size_t)f.nr + 1);
    memcpy(p->key, f.key, (size_t)f.nr + 1);
    p->cnt = xmalloc((size_t)f.nr + 1);
    memcpy(p->cnt, f.cnt, (size_t)f.nr);
    p->nr = f.nr, p->lead = lead, p->trail = trail, p->entry = e, p->pos = pos, p->next = -1;
    return s->n_pats++;
}

/* Registers pattern p as a possible start of its entry. */
static void index_pat(Safety *s, int p) {
    Pat *pt = &s->pats[p];
    if (pt->lead || pt->trail) {
        s->starred = xrealloc(s->starred, (size_t)(s->n_starred + 1) * sizeof(int));
        s->starred[s->n_starred++] = p;
        return;
    }
    int k = table_add(&s->whole, pt->key, pt->nr);
    pt->next = s->whole.val[k];
    s->whole.val[k] = p;
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
    s->entries = xrealloc(s->entries, (size_t)(s->n_entries + 1) * sizeof(Entry));
    int e = s->n_entries++;
    Entry *en = &s->entries[e];
    en->text = xstrdup(rest);
    memcpy(en->category, cat, strlen(cat) + 1); /* length checked above */
    en->severity = sev;
    en->nwords = t.nw;
    for (int k = 0; k < t.nw; k++)
        en->pat[k] = add_pat(s, t.lb + t.w[k].a, t.w[k].n, k == 0 && lead, k == t.nw - 1 && trail, e, k);
    index_pat(s, en->pat[0]);
    if (t.nw > 1) { /* the phrase written as one word: "killyourself" */
        int start = t.nl;
        for (int k = 0; k < t.nw; k++) memcpy(t.lb + t.nl, t.lb + t.w[k].a, (size_t)t.w[k].n), t.nl += t.w[k].n;
        index_pat(s, add_pat(s, t.lb + start, t.nl - start, lead, trail, e, -1));
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

static int parse_allow(Safety *s, char *line, const char *path, int lineno) {
    Text t;
    text_read(&t, line, strlen(line));
    int ok = t.nw == 1;
    if (ok) table_add(&s->allow, t.lb + t.w[0].a, t.w[0].n < MAX_WORD ? t.w[0].n : MAX_WORD);
    text_free(&t);
    if (!ok) err_set("%s:%d: expected one word", path, lineno);
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
    for (int i = 0; i < s->n_pats; i++) free(s->pats[i].key), free(s->pats[i].cnt);
    free(s->entries), free(s->pats), free(s->starred);
    table_free(&s->whole), table_free(&s->allow);
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
