/* safety: the last gate before the screen. A reply is normalised (rl/normalize.h: case,
   leetspeak, repeated letters, Unicode look-alikes after UTS #39 and full-width letters,
   masking symbols standing for letters, letters spaced or dotted apart, alone or in a
   phrase), then matched against our blocklist (assets/blocklist.txt), minus the allowlist
   (assets/allowlist.txt); what the list lets through is scored by a small linear classifier
   (assets/toxicity.bin, rl/toxicity.h) when one is shipped.

   blocklist.txt, one entry a line:  CATEGORY SEVERITY ENTRY...   ('#' starts a comment)
     ENTRY is one word or a phrase of words; a word may start and/or end with '*' to match
     inside longer words ("fuck*" matches "fucking", "*fuck*" also "motherfucker").
     Every entry blocks; SEVERITY (1 mild .. 3 worst) is passed on for the learner.
     A masked word blocks when it can stand for an entry ("f*ck", "f***", "sh!t"); one that
     can only stand for words the list lets pass, passes ("d*mn good").
   allowlist.txt, one word or phrase a line: words never blocked by a one-word entry even
   when it matches them or inside them ("scunthorpe", "cocktail"); a phrase lets its words
   pass where they stand together ("moby dick"). The classifier does not read the words
   the allowlist rescued, so the words around a name judge the line. */
#ifndef RLCHAT_SAFETY_H
#define RLCHAT_SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include "model/tokenizer.h"

typedef struct Safety Safety;

typedef struct {
    int blocked;        /* 1 = must not be shown */
    char category[32];  /* blocklist category or "classifier"; empty when not blocked */
    char entry[64];     /* matched entry as written in the list, or empty */
    float score;        /* classifier probability of offensive, or -1 when no classifier ran */
    int severity;       /* 1..3 of the matched entry; 2 for the classifier; 0 when not blocked */
} SafetyVerdict;

/* Reads assets_dir/blocklist.txt (required), allowlist.txt (optional) and toxicity.bin (if
   present). NULL with err_msg() naming the file and line on a bad file. */
Safety *safety_load(const char *assets_dir);
void safety_free(Safety *s);

/* Screens len bytes of text (any bytes; invalid UTF-8 is fine) and fills *v. Returns
   v->blocked. Thread-safe: s is only read. */
int safety_check(const Safety *s, const char *text, size_t len, SafetyVerdict *v);

/* 0 turns the classifier off (list alone), 1 back on; no effect without a classifier file. */
void safety_set_classifier(Safety *s, int on);
/* 1 when a classifier was loaded. */
int safety_has_classifier(const Safety *s);
/* Overrides the classifier's decision threshold (its file carries a tuned one). */
void safety_set_threshold(Safety *s, float threshold);
float safety_threshold(const Safety *s);

/* mask[id] = 1 for each vocabulary token whose bytes, trimmed of one leading space, form a
   whole word the list blocks (mask has tok->vocab_size bytes; other entries untouched).
   Special ids are never marked. */
void safety_token_mask(const Safety *s, const Tokenizer *tok, uint8_t *mask);

/* The normalised words of text, space-separated, as the classifier sees them (lower-case
   ASCII letters, leetspeak undone, look-alikes folded). Writes at most cap-1 bytes plus a
   NUL into out; returns the length written. */
size_t safety_normalize(const char *text, size_t len, char *out, size_t cap);

/* What the classifier reads of text: safety_normalize's words, less the words the
   allowlist let pass that a one-word entry would have blocked ("dick" in "Moby Dick"), so
   that the words around a name judge it. Same contract as safety_normalize. */
size_t safety_classifier_text(const Safety *s, const char *text, size_t len, char *out, size_t cap);

/* The list's entries, for tests and tools: count, and entry i as written (with '*'). */
int safety_entry_count(const Safety *s);
const char *safety_entry(const Safety *s, int i, const char **category, int *severity);

#endif
