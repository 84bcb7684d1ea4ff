/* normalize: how the safety filter reads a text before matching it (rl/safety.c).

   Each code point is folded to one ASCII byte: letters and their look-alikes to a-z
   (Unicode's confusables, rl/confusables.h; accents dropped; full-width and mathematical
   letters), digits kept, the leetspeak symbols @ $ ! | + and the apostrophe kept, the
   masking symbols * # % to '*', '.' kept and - _ to '-' (both also join and end words), other
   punctuation to ',', white space to ' ', letters of other scripts to '^' (part of a word, never matching), invisible
   marks dropped.

   The folded text is then read two ways:
   - words: runs of letters and digits (and leetspeak symbols inside), leetspeak undone when
     the word has a letter; '1' and '|' read as i (form A) and as l (form B);
   - chunks: each run between white space and punctuation other than '.' and '-' is one
     word: its words glued ("k.i.l.l" -> "kill"), its masking symbols read as missing
     letters (a masked reading: "f*ck", "f**k", "f***", "sh!t"); single letters standing
     apart are glued into words, split where they stand wider apart
     ("k i l l   y o u" -> "kill you").
   Both take time linear in the text's length. */
#ifndef RLCHAT_NORMALIZE_H
#define RLCHAT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#define MASK_READINGS 2 /* masked readings of a chunk: leetspeak symbols as letters, as masks */
#define MAX_MTOK 32     /* tokens of a masked reading; longer chunks are not read masked */

/* One token of a masked reading: a run of one letter, or a gap of unknown letters. */
typedef struct {
    char c;          /* the letter a-z, '1' for "i or l", or 0 for a gap */
    uint8_t n;       /* letter: the run's length (capped at 255); gap: 1 when a star is in it */
    uint8_t lo, hi;  /* gap: how many letters it may stand for */
} MTok;

/* A word of the text, or a chunk. */
typedef struct {
    int start, end;            /* span in the folded bytes */
    int a, n;                  /* letters (form A: 1 and | read as i) in the letter buffer */
    int b;                     /* form B (1 and | read as l) in the letter buffer, or -1 */
    int v;                     /* the letters with each 'v' after the first letter read as
                                  'u' ("fvck"), or -1 when there is none */
    int drop;                  /* 1: glued single letters that may begin with the word "a" or
                                  "i" ("a b i t c h"): also read without the first letter */
    int m[MASK_READINGS];      /* masked readings: first token in the token buffer */
    int nm[MASK_READINGS];     /* their token counts; 0: no such reading */
    int spelt;                 /* chunks: 1 when single letters spelt out ("k i l l", "k.i.l.l") */
    int w0, w1;                /* chunks: the words w0..w1-1 it holds (0, 0 when glued from
                                  single-letter chunks) */
    int masks;                 /* chunks of stars alone: how many, until glue_letters */
    int has_letter;            /* a-z among the folded bytes */
    int allowed;               /* 1: on the allowlist, alone or inside an allowed phrase */
    int rescued;               /* 1: allowed, but a listed word on its own: the classifier
                                  does not read it ("dick" in "Moby Dick") */
    int changed;               /* chunks: 1 when not simply one word of the text */
} Word;

/* The folded text, its words and its chunks; one allocation sized from the input. */
typedef struct {
    char *fb; int nf;          /* folded bytes */
    char *lb; int nl;          /* letter buffer: forms of words and chunks, then scratch */
    Word *w; int nw;           /* words */
    Word *c; int nc;           /* chunks */
    MTok *tok; int ntok;       /* tokens of the chunks' masked readings */
    int changed;               /* 1: some chunk is not simply one word */
    void *mem;                 /* the allocation all of the above point into */
} Text;

/* Folds and reads len bytes of any content (invalid UTF-8 is fine). text_free releases. */
void text_read(Text *t, const char *text, size_t len);
void text_free(Text *t);

/* 1 when word k of t is one letter as written (a lone digit does not count, so a score of
   "5/5" never spells anything). */
int text_single(const Text *t, int k);

/* Gap between words k and k+1: 2 = one punctuation mark, 1 = up to three separators, 0 = more. */
int text_gap(const Text *t, int k);

#endif
