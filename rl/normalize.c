/* normalize: folding code points, words, chunks and masked readings. See normalize.h. */
#include "rl/normalize.h"

#include <stdlib.h>
#include <string.h>

#include "model/utf8.h"
#include "model/util.h"
#include "rl/confusables.h"

/* ---- folding code points ---- */

/* Latin Extended-A (U+0100..U+017F) without its accents. */
static const char latin_ext_a[129] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
/* Latin-1 U+00C0..U+00FF. */
static const char latin1[65] = "aaaaaaaceeeeiiiidnooooo,ouuuuy^saaaaaaaceeeeiiiidnooooo,ouuuuy^y";
/* Cyrillic U+0410..U+044F: the letters that pass for Latin ones, beyond Unicode's table. */
static const char cyrillic[65] = "a^b^^e^^^^k^mhonpcty^x^^ww^^b^^^a^br^e^^uuk^mhonpcty^x^^ww^^b^^^";
/* Greek U+0391..U+03C9 (0 = reserved), beyond Unicode's table. */
static const char greek[58] = "ab^^ezhoik^mn^o^p^^ty^x^^" "iyaeniu" "abydeznoik^uv^onpsotu^x^w";

/* Small capitals and other Latin-looking letters and marks that Unicode's table leaves out
   or reads otherwise; consulted first. */
static const struct { uint32_t cp; char c; } lookalike[] = {
    {0x1D00, 'a'}, {0x0299, 'b'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'}, {0x0262, 'g'},
    {0x029C, 'h'}, {0x026A, 'i'}, {0x1D0A, 'j'}, {0x1D0B, 'k'}, {0x029F, 'l'}, {0x1D0D, 'm'},
    {0x0274, 'n'}, {0x1D0F, 'o'}, {0x1D18, 'p'}, {0x0280, 'r'}, {0xA731, 's'}, {0x1D1B, 't'},
    {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'}, {0x028F, 'y'}, {0x1D22, 'z'}, {0x0405, 's'},
    {0x0406, 'i'}, {0x0407, 'i'}, {0x0408, 'j'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0457, 'i'},
    {0x0458, 'j'}, {0x0400, 'e'}, {0x0401, 'e'}, {0x0450, 'e'}, {0x0451, 'e'}, {0x20AC, 'e'},
    {0x0131, 'i'}, {0x0269, 'i'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x01C3, '!'}, {0x2018, '\''},
    {0x2019, '\''}, {0x02BC, '\''}, {0x00A1, '!'}, {0x00B5, 'u'}, {0x00A2, 'c'}, {0x00A7, 's'},
    {0xA730, 'f'}, {0x1D26, 'r'}, {0x2217, '*'}, {0x204E, '*'}, {0x2731, '*'}, {0x2732, '*'},
    {0x00B7, '.'}, {0x2022, '.'}, {0x2010, '-'}, {0x2011, '-'}, {0x2012, '-'}, {0x2013, '-'},
    {0x2212, '-'}, {0x2027, '.'}, {0x2219, '.'},
};

/* One code point to one byte of the folded alphabet; 0 = drop it. */
static char fold_cp(uint32_t cp) {
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return (char)(cp - 'A' + 'a');
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return (char)cp;
        if (cp == '@' || cp == '$' || cp == '!' || cp == '|' || cp == '+' || cp == '\'') return (char)cp;
        if (cp == '*' || cp == '#' || cp == '%') return '*';
        if (cp == '.') return '.';
        if (cp == '-' || cp == '_') return '-';
        if (cp == ' ' || cp < 0x20 || cp == 0x7f) return ' ';
        return ',';
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
    if (cp >= 0xFF01 && cp <= 0xFF5E) return fold_cp(cp - 0xFEE0); /* full-width ASCII */
    if (cp >= 0x1D400 && cp <= 0x1D6A3) return (char)('a' + (cp - 0x1D400) % 52 % 26); /* math letters */
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) return (char)('0' + (cp - 0x1D7CE) % 10);     /* math digits */
    char c = confusable_fold(cp);
    if (c) return c;
    if (cp >= 0x410 && cp <= 0x44F) return cyrillic[cp - 0x410];
    if (cp >= 0x391 && cp <= 0x3C9) return greek[cp - 0x391];
    if (cp >= 0x24B6 && cp <= 0x24E9) return (char)('a' + (cp - 0x24B6) % 26);        /* circled */
    if (cp >= 0x249C && cp <= 0x24B5) return (char)('a' + (cp - 0x249C));             /* parenthesised */
    if (cp >= 0x1F130 && cp <= 0x1F189) return (char)('a' + (cp - 0x1F130) % 32 % 26); /* squared */
    if (cp >= 0x1F1E6 && cp <= 0x1F1FF) return (char)('a' + (cp - 0x1F1E6));         /* regional */
    if (cp < 0x100 || cp > 0x10FFFF || (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0xFE10 && cp <= 0xFE6F))
        return ','; /* punctuation, symbols, emoji */
    return '^';
}

/* ---- words ---- */

static int is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '^'; }
static int is_letter(char c) { return c >= 'a' && c <= 'z'; }

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

static int is_consonant(char c) { return c >= 'a' && c <= 'z' && !strchr("aeiouy", c); }

/* Is l[i] a 'v' inside the word beside a consonant, where a 'u' could stand ("fvck",
   "dovche"; not "have" or "every", which would only cost time)? */
static int v_for_u(const char *l, int i, int n) {
    return i > 0 && i + 1 < n && l[i] == 'v' && (is_consonant(l[i - 1]) || is_consonant(l[i + 1]));
}

/* Copies the letters of form A at a (n bytes) with each such 'v' read as 'u'; returns
   where, or -1 when there is none. */
static int v_form(Text *t, int a, int n) {
    const char *l = t->lb + a;
    int any = 0;
    for (int i = 1; i + 1 < n && !any; i++) any = v_for_u(l, i, n);
    if (!any) return -1;
    int at = t->nl;
    for (int i = 0; i < n; i++) t->lb[t->nl++] = v_for_u(l, i, n) ? 'u' : l[i];
    return at;
}

/* Cuts the folded bytes into words and writes their forms. */
static void read_words(Text *t) {
    const char *f = t->fb;
    int nf = t->nf;
    /* Cut words: letters, digits, '^'; '@' and '$' beside one; '!', '|', '+' and the
       apostrophe only between two (so "hello!" keeps its '!' out of the word). */
    for (int i = 0; i < nf;) {
        char c = f[i];
        char prev, next = i + 1 < nf ? f[i + 1] : ' ';
        int sym = c == '@' || c == '$';
        int starts = is_alnum(c) || (sym && (is_alnum(next) || next == '@' || next == '$'));
        if (!starts) { i++; continue; }
        Word *w = &t->w[t->nw++];
        memset(w, 0, sizeof *w);
        w->start = i;
        for (; i < nf; i++) {
            c = f[i];
            prev = i ? f[i - 1] : ' ', next = i + 1 < nf ? f[i + 1] : ' ';
            int in = is_alnum(c) || c == '@' || c == '$' ||
                     ((c == '!' || c == '|' || c == '+' || c == '\'') && is_alnum(prev) && (is_alnum(next) || next == '$'));
            if (!in) break;
            if (is_letter(c)) w->has_letter = 1;
        }
        w->end = i;
        /* "@$$" is a word too: the symbols that only stand for letters count as letters */
        for (int j = w->start; j < w->end && !w->has_letter && w->end - w->start > 1; j++)
            if (f[j] == '@' || f[j] == '$') w->has_letter = 1;
    }
    /* Letters of each form. Symbol-only words of one character beside a word with letters
       are read as leetspeak too ("1 w1ll"); longer numbers stay numbers. */
    for (int k = 0; k < t->nw; k++) {
        Word *w = &t->w[k];
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
        w->v = w->has_letter ? v_form(t, w->a, w->n) : -1;
    }
}

int text_single(const Text *t, int k) {
    char c = t->fb[t->w[k].start];
    return t->w[k].n == 1 && t->w[k].end - t->w[k].start == 1 && is_letter(c);
}

int text_gap(const Text *t, int k) {
    int g = t->w[k + 1].start - t->w[k].end;
    if (g == 1 && t->fb[t->w[k].end] != ' ') return 2;
    return g <= 3;
}

/* ---- chunks ---- */

/* Token buffer helpers for masked readings: a letter (merged into a run of the same
   letter) or a gap of masking symbols (merged into the gap before it). */
static void tok_letter(MTok *tk, int *nt, char l) {
    if (*nt && tk[*nt - 1].c == l) {
        if (tk[*nt - 1].n < 255) tk[*nt - 1].n++;
    } else {
        tk[(*nt)++] = (MTok){l, 1, 0, 0};
    }
}

static void tok_gap(MTok *tk, int *nt, int count, int strong) {
    if (*nt && !tk[*nt - 1].c) {
        tk[*nt - 1].hi = (uint8_t)(tk[*nt - 1].hi + count > 200 ? 200 : tk[*nt - 1].hi + count);
        tk[*nt - 1].n |= (uint8_t)strong;
    } else {
        tk[(*nt)++] = (MTok){0, (uint8_t)strong, 1, (uint8_t)(count > 200 ? 200 : count)};
    }
}

/* A run of k masking symbols stands for 1 to k+3 letters when one is a star ("f*k" is
   "fuck"), 1 to k+1 when all are dots or dashes, which also join words ("www.example"). */
static void tok_widths(MTok *tk, int nt) {
    for (int i = 0; i < nt; i++)
        if (!tk[i].c) tk[i].hi = (uint8_t)(tk[i].hi + (tk[i].n ? 3 : 1));
}

/* Appends masked reading r of the folded bytes s..e to the token buffer and returns its
   token count, or 0 when there is none. Both readings take 1 and | as "i or l" (the token
   '1'); reading 0 takes @ $ ! as the letters a s i, reading 1 takes them as masks and
   exists only where they occur. Symbols before the first letter are dropped; at the end,
   '.', '-' and '!' are punctuation, and stars count as two or more ("f***", "a**"; not
   "C#" or "trash*") unless they close emphasis: a word between stars ("*sigh*"), or the
   end of words whose first was starred (closing: "*does a jig*"). A number in the chunk
   ("Mi-35") is not leetspeak. A reading without a gap counts only for its "i or l" letters. */
static int mask_reading(Text *t, int s, int e, int r, int closing) {
    const char *f = t->fb;
    int lead = 0, tail = 0, letter = 0, leet_sym = 0;
    while (s < e && (f[s] == '*' || f[s] == '.' || f[s] == '-' || f[s] == '!' || f[s] == '\'')) lead |= f[s++] == '*';
    while (e > s && (f[e - 1] == '.' || f[e - 1] == '-' || f[e - 1] == '!' || f[e - 1] == '\'')) e--;
    while (e - tail > s && f[e - 1 - tail] == '*') tail++;
    if ((lead || closing || tail < 2) && tail) e -= tail, tail = 0;
    for (int i = s, run_letter = 0, run_digit = 0; i <= e; i++) {
        char c = i < e ? f[i] : '*';
        if (c == '^') return 0; /* a letter of another script: never a listed word */
        leet_sym |= c == '@' || c == '$' || c == '!';
        if (c == '*' || c == '.' || c == '-' || (r && (c == '@' || c == '$' || c == '!'))) {
            if (run_digit && !run_letter) return 0; /* a number, not leetspeak */
            run_letter = run_digit = 0;
            continue;
        }
        run_letter |= is_letter(c), run_digit |= c >= '0' && c <= '9';
        letter |= is_letter(c);
    }
    if (!letter || (r && !leet_sym)) return 0;
    MTok *tk = t->tok + t->ntok;
    int nt = 0, gaps = 0, strong = 0, dotted = 1, ambiguous = 0;
    char first = 0, same = 1;
    for (int i = s; i < e; i++) {
        char c = f[i], l = 0;
        if (c == '\'') continue;
        if (is_letter(c)) l = c;
        else if (c == '1' || c == '|') l = '1', ambiguous = 1;
        else if ((c >= '0' && c <= '9') || c == '+' || (!r && (c == '@' || c == '$' || c == '!'))) l = leet(c, 0);
        else if (c != '*' && c != '.' && c != '-' && c != '@' && c != '$' && c != '!') return 0;
        if (c == '.' && i + 1 < e && f[i + 1] == '.') return 0; /* an ellipsis joins words, hides none */
        if (l && l != '1' && !is_letter(l)) return 0; /* a digit that stands for no letter */
        if (nt == MAX_MTOK) return 0;
        if (!l) {
            if (!nt) continue; /* a mask before the first letter */
            dotted &= (c == '.' || c == '-') && tk[nt - 1].c;
            strong |= c == '*';
            gaps += !!tk[nt - 1].c;
            tok_gap(tk, &nt, 1, c == '*');
            continue;
        }
        if (nt && tk[nt - 1].c && tk[nt - 1].c != l) dotted = 0; /* two letters side by side */
        if (nt && tk[nt - 1].c == l) dotted = 0;
        tok_letter(tk, &nt, l);
        if (!first) first = l;
        else if (l != first) same = 0;
    }
    /* One letter on both sides of a dot ("x_x", "o.o") is a face, not a word; single
       letters each one dot apart ("g.o", "p.m") are a word spelt out, read glued. */
    if ((!gaps && !ambiguous) || (gaps && !strong && (same || dotted))) return 0;
    tok_widths(tk, nt);
    t->ntok += nt;
    return nt;
}

static int f_mark(char c) {
    return c == '*' || c == '.' || c == '-' || c == '@' || c == '$' || c == '!' || c == '1' || c == '|';
}

/* Chunk c becomes words k0..k1-1 glued (forms A, B and v), with its masked readings;
   closing: its stars at the end close emphasis opened by an earlier chunk. */
static void make_chunk(Text *t, Word *c, int s, int e, int k0, int k1, int closing) {
    if (k1 - k0 == 1) { /* one word with at most punctuation around it: the word itself */
        const Word *w = &t->w[k0];
        int plain = 1;
        for (int i = s; i < e && plain; i++) {
            char b = t->fb[i];
            plain = i < w->start ? strchr("*.-!'", b) != NULL : i >= w->end ? strchr(".-!'", b) != NULL : !f_mark(b);
        }
        if (plain) {
            *c = *w;
            c->start = s, c->end = e, c->w0 = k0, c->w1 = k1;
            return;
        }
    }
    memset(c, 0, sizeof *c);
    c->start = s, c->end = e, c->b = c->v = -1, c->w0 = k0, c->w1 = k1;
    c->a = t->nl;
    int any_b = 0;
    for (int k = k0; k < k1; k++) {
        const Word *w = &t->w[k];
        memcpy(t->lb + t->nl, t->lb + w->a, (size_t)w->n);
        t->nl += w->n;
        any_b |= w->b >= 0;
        c->has_letter |= w->has_letter;
    }
    c->n = t->nl - c->a;
    if (any_b) {
        c->b = t->nl;
        for (int k = k0; k < k1; k++) {
            const Word *w = &t->w[k];
            memcpy(t->lb + t->nl, t->lb + (w->b >= 0 ? w->b : w->a), (size_t)w->n);
            t->nl += w->n;
        }
    }
    if (c->has_letter) c->v = v_form(t, c->a, c->n);
    int marks = 0; /* masking symbols or i-or-l strokes: only then can there be a reading */
    for (int i = s; i < e && !marks; i++)
        marks = f_mark(t->fb[i]);
    for (int r = 0; r < MASK_READINGS && marks; r++) {
        c->m[r] = t->ntok;
        c->nm[r] = mask_reading(t, s, e, r, closing);
    }
    c->changed = k1 - k0 > 1 || c->nm[0] || c->nm[1];
    /* three or more single letters one mark apart are spelt out too ("g.o.d.i.e") */
    c->spelt = k1 - k0 >= 3;
    for (int k = k0; k < k1 && c->spelt; k++) c->spelt = text_single(t, k) && (k + 1 == k1 || text_gap(t, k) == 2);
}

/* A chunk that is one letter as written, punctuation aside ("e." ends "w h o r e."). */
static int chunk_single(const Text *t, const Word *c) {
    if (c->n != 1 || c->w1 - c->w0 != 1 || c->nm[0] || c->nm[1]) return 0;
    const Word *w = &t->w[c->w0];
    return w->end - w->start == 1 && is_letter(t->fb[w->start]);
}

/* May chunk j be part of a run of single letters: a letter, or stars between letters? */
static int in_run(const Text *t, int j) { return chunk_single(t, &t->c[j]) || t->c[j].masks; }

/* Glues runs of single-letter chunks in place: "k i l l   y o u" becomes "kill" and "you"
   (the run is split where letters stand further apart than they do at the closest), and
   "s l * t" is read masked. Chunks of stars outside such runs are dropped. */
static void glue_letters(Text *t) {
    int o = 0;
    for (int i = 0; i < t->nc;) {
        if (t->c[i].masks) { i++; continue; }
        int j = i;
        while (j + 1 < t->nc && in_run(t, j + 1) && t->c[j + 1].start - t->c[j].end <= 4) j++;
        while (j > i && t->c[j].masks) j--; /* a run ends with a letter */
        if (j == i || !chunk_single(t, &t->c[i])) { t->c[o++] = t->c[i++]; continue; }
        int narrow = 1 << 30;
        for (int k = i; k < j; k++)
            if (t->c[k + 1].start - t->c[k].end < narrow) narrow = t->c[k + 1].start - t->c[k].end;
        for (int k = i, piece = i; k <= j; k++) {
            if (k < j && t->c[k + 1].start - t->c[k].end <= narrow && !t->c[k + 1].masks) continue;
            if (k < j && t->c[k + 1].masks) continue;
            /* chunks piece..k form one word; o <= piece, so nothing unread is overwritten */
            Word w = t->c[piece];
            if (k > piece) {
                memset(&w, 0, sizeof w);
                w.start = t->c[piece].start, w.end = t->c[k].end, w.b = -1;
                w.a = t->nl;
                MTok *tk = t->tok + t->ntok;
                int nt = 0, masks = 0;
                for (int q = piece; q <= k && nt < MAX_MTOK; q++) {
                    if (t->c[q].masks) {
                        tok_gap(tk, &nt, t->c[q].masks, 1);
                        masks = 1;
                    } else {
                        t->lb[t->nl++] = t->lb[t->c[q].a];
                        tok_letter(tk, &nt, t->lb[t->c[q].a]);
                    }
                }
                w.n = t->nl - w.a;
                if (masks && nt < MAX_MTOK) {
                    tok_widths(tk, nt);
                    w.m[0] = t->ntok, w.nm[0] = nt;
                    t->ntok += nt;
                }
                w.has_letter = w.changed = w.spelt = 1;
                w.drop = piece == i && w.n >= 4 && (t->lb[w.a] == 'a' || t->lb[w.a] == 'i');
                w.v = v_form(t, w.a, w.n);
            }
            t->c[o++] = w;
            piece = k + 1;
        }
        i = j + 1;
    }
    t->nc = o;
}

/* Cuts the folded bytes into chunks: runs between white space and punctuation other than
   the masking symbols. Every word lies inside one chunk; a run of stars alone is kept for
   glue_letters ("s l * t"). */
static void read_chunks(Text *t) {
    const char *f = t->fb;
    int k = 0, open = 0; /* open: a chunk began with a star that no chunk has closed */
    for (int i = 0; i < t->nf;) {
        if (f[i] == ' ' || f[i] == ',') { i++; continue; }
        int s = i, stars = 0;
        while (i < t->nf && f[i] != ' ' && f[i] != ',') stars += f[i++] == '*';
        while (k < t->nw && t->w[k].start < s) k++;
        int k0 = k;
        while (k < t->nw && t->w[k].start < i) k++;
        if (k > k0) {
            int starts = f[s] == '*', ends = f[i - 1] == '*';
            make_chunk(t, &t->c[t->nc++], s, i, k0, k, open && ends && !starts);
            if (starts != ends) open = starts;
        } else if (stars == i - s) {
            Word *c = &t->c[t->nc++];
            memset(c, 0, sizeof *c);
            c->start = s, c->end = i, c->b = c->v = -1, c->masks = stars;
        }
    }
    glue_letters(t);
    for (int c = 0; c < t->nc; c++) t->changed |= t->c[c].changed;
}

void text_read(Text *t, const char *text, size_t len) {
    /* letter buffer: forms A, B and v of the words (3 len), the same of the chunks and of
       glued single letters (5 len), and scratch for glued words (3 len); words and chunks
       at most one per byte */
    size_t nlb = 11 * len + 16, nw = len + 2, ntok = 2 * len + 2;
    size_t size = (len + 1) + nlb + (2 * nw) * sizeof(Word) + ntok * sizeof(MTok) + 2 * sizeof(Word);
    char *mem = xmalloc(size);
    t->mem = mem;
    t->fb = mem;
    t->lb = mem + len + 1;
    size_t off = (len + 1 + nlb + sizeof(Word) - 1) / sizeof(Word) * sizeof(Word); /* aligned */
    t->w = (Word *)(mem + off);
    t->c = t->w + nw;
    t->tok = (MTok *)(t->c + nw);
    t->nf = t->nl = t->nw = t->nc = t->ntok = t->changed = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode(text + i, len - i, &cp);
        i += (size_t)n;
        /* An invalid byte reads as punctuation; a real U+FFFD (3 bytes) is folded as usual. */
        char c = n == 1 && cp == UTF8_REPLACEMENT ? ',' : fold_cp(cp);
        if (c) t->fb[t->nf++] = c;
    }
    read_words(t);
    read_chunks(t);
}

void text_free(Text *t) { free(t->mem); }
