/* lexicon: what a word is, and sets of words. The decoder checks each word it samples
   against one (the corpus's words, assets/words.txt) and against the user's messages.

   A word is a maximal run of word bytes (ASCII letters, the bytes >= 0x80 the tokenizer
   counts as letters, and the apostrophe) without the apostrophes at its ends, compared
   with its ASCII letters in lower case: "Don't", "don't" and "'don't'" are one word,
   "mp3" is the word "mp". A set can also hold every prefix of its words, so that a word
   being sampled is known to have left them before it is finished.

   The word list file: a first line "# rlchat words 1", comment lines starting with '#',
   one word a line in lower case, and a last line "# N words, crc32 X" (X in hex, of the
   word lines' bytes, newlines included) that tells a truncated or edited file. */
#ifndef RLCHAT_LEXICON_H
#define RLCHAT_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#define WORD_MAX 48 /* bytes of the longest word a set holds; a longer one is never known */

typedef struct {
    char *pool;           /* the entries' bytes, each followed by a NUL */
    size_t pool_len, pool_cap;
    uint32_t *offset;     /* (cap) where a slot's entry starts in pool, plus 1; 0 = empty */
    uint32_t *count;      /* (cap) times the entry was added as a word; 0 = a prefix only */
    size_t cap;           /* slots, a power of two */
    size_t entries;       /* slots in use: words and prefixes */
    size_t words;         /* entries with a count */
    int prefixes;         /* 1: adding a word adds its prefixes too */
} Lexicon;

/* 1 for a byte that can be part of a word. */
int word_byte(int c);
/* Finds the next word of text[*pos..len): 1 with *word and *n set and *pos past it, 0
   when there is none left. Runs of apostrophes alone are not words. */
int word_next(const char *text, size_t len, size_t *pos, const char **word, size_t *n);

void lexicon_build(Lexicon *x, int prefixes);
void lexicon_free(Lexicon *x);
void lexicon_clear(Lexicon *x);               /* empty, keeping its memory */
/* Counts one use of a word (lower-cased; one longer than WORD_MAX is ignored). */
void lexicon_add(Lexicon *x, const char *word, size_t n);
/* Counts every word of text. */
void lexicon_add_text(Lexicon *x, const char *text, size_t len);
/* Times word was added (0: unknown). */
uint32_t lexicon_count(const Lexicon *x, const char *word, size_t n);
/* 1 when word begins some word of the set (a whole word included); needs prefixes. */
int lexicon_has_prefix(const Lexicon *x, const char *word, size_t n);

/* Reads a word list (the format above) into x. -1 with err_msg() naming the file and
   the line when it cannot be read or is not one. */
int lexicon_load(Lexicon *x, const char *path);
/* Writes the words added at least min_count times, sorted, as a word list (atomically);
   header: comment lines to put after the first (each starting with '#', may be NULL). */
int lexicon_save(const Lexicon *x, uint32_t min_count, const char *header, const char *path);

#endif
