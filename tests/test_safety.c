/* test_safety: the filter on every blocklist entry and its obfuscations, on the allowlist,
   on random bytes; the classifier file round trip and its rejection of damaged files; the
   token mask. Runs from the repo root against assets/ (no ../shared needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "model/util.h"
#include "rl/safety.h"
#include "rl/toxicity.h"
#include "tests/check.h"

static Safety *S;

/* ---- obfuscations ---- */

/* Appends code point cp as UTF-8. */
static void put_cp(char *out, size_t *n, unsigned cp) {
    if (cp < 0x80) out[(*n)++] = (char)cp;
    else if (cp < 0x800) out[(*n)++] = (char)(0xC0 | cp >> 6), out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    else
        out[(*n)++] = (char)(0xE0 | cp >> 12), out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
}

/* Cyrillic and Greek letters that look like Latin ones; 0 where there is none. */
static unsigned lookalike(char c) {
    switch (c) {
    case 'a': return 0x430; case 'c': return 0x441; case 'e': return 0x435; case 'o': return 0x43E;
    case 'p': return 0x440; case 'x': return 0x445; case 'y': return 0x443; case 'i': return 0x456;
    case 's': return 0x455; case 'j': return 0x458; case 'k': return 0x3BA; case 'v': return 0x3BD;
    case 't': return 0x3C4; case 'h': return 0x43D; case 'm': return 0x43C; case 'b': return 0x432;
    default: return 0;
    }
}

static char leet_of(char c) {
    switch (c) {
    case 'a': return '@'; case 'e': return '3'; case 'i': return '1'; case 'o': return '0';
    case 's': return '$'; case 't': return '7'; default: return c;
    }
}

enum { PLAIN, UPPER, SPACED, DOTTED, DASHED, LEET, REPEATED, FULLWIDTH, LOOKALIKE, ZEROWIDTH, N_KINDS };
static const char *kind_name[N_KINDS] = {"plain", "upper", "spaced", "dotted", "dashed", "leet",
                                         "repeated", "full-width", "look-alike", "zero-width"};

/* Writes word (lower-case letters and spaces) obfuscated by kind into out. */
static void obfuscate(const char *word, int kind, char *out) {
    size_t n = 0, len = strlen(word);
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        int letter = c >= 'a' && c <= 'z';
        int first = i == 0 || word[i - 1] == ' ';
        int last = i + 1 == len || word[i + 1] == ' ';
        if (!letter) {
            out[n++] = c;
            continue;
        }
        switch (kind) {
        case UPPER: out[n++] = (char)(c - 32); break;
        case SPACED: out[n++] = c; if (!last) out[n++] = ' '; break;
        case DOTTED: out[n++] = c; if (!last) out[n++] = '.'; break;
        case DASHED: out[n++] = c; if (!last) out[n++] = '-'; break;
        case LEET: /* the last letter of a word stays a letter, so no word is all digits */
            out[n++] = first && last ? c : last ? c : leet_of(c); break;
        case REPEATED: out[n++] = c, out[n++] = c, out[n++] = c; break;
        case FULLWIDTH: put_cp(out, &n, 0xFF41u + (unsigned)(c - 'a')); break;
        case LOOKALIKE: put_cp(out, &n, lookalike(c) ? lookalike(c) : (unsigned char)c); break;
        case ZEROWIDTH: out[n++] = c; if (!last) put_cp(out, &n, 0x200B); break;
        default: out[n++] = c;
        }
    }
    out[n] = 0;
}

/* The letters and spaces of an entry, stars and apostrophes removed. */
static void entry_letters(const char *e, char *out) {
    size_t n = 0;
    for (; *e; e++)
        if ((*e >= 'a' && *e <= 'z') || *e == ' ') out[n++] = *e;
        else if (*e >= 'A' && *e <= 'Z') out[n++] = (char)(*e + 32);
    out[n] = 0;
}

static int blocked(const char *text) {
    SafetyVerdict v;
    return safety_check(S, text, strlen(text), &v);
}

/* ---- tests ---- */

static void test_shipped_assets_load(void) {
    S = safety_load("assets");
    CHECK(S != NULL, "safety_load(assets): %s", S ? "" : err_msg());
    if (!S) exit(check_summary());
    CHECK(safety_entry_count(S) > 300, "only %d entries", safety_entry_count(S));
    CHECK(safety_has_classifier(S), "assets/toxicity.bin did not load");
}

static void test_every_entry_and_its_obfuscations_are_blocked(void) {
    safety_set_classifier(S, 0); /* the list alone must catch them */
    for (int i = 0; i < safety_entry_count(S); i++) {
        const char *e = safety_entry(S, i, NULL, NULL);
        char word[256], text[2048], sentence[2200];
        entry_letters(e, word);
        for (int k = 0; k < N_KINDS; k++) {
            obfuscate(word, k, text);
            CHECK(blocked(text), "entry '%s' %s: '%s' passed", e, kind_name[k], text);
            snprintf(sentence, sizeof sentence, "well, %s!", text);
            CHECK(blocked(sentence), "entry '%s' %s in a sentence: '%s' passed", e, kind_name[k], sentence);
        }
        if (e[strlen(e) - 1] == '*') { /* a trailing star also matches longer words */
            snprintf(text, sizeof text, "%sing", word);
            CHECK(blocked(text), "entry '%s': '%s' passed", e, text);
        }
    }
    safety_set_classifier(S, 1);
}

static void test_verdict_names_category_and_entry(void) {
    SafetyVerdict v;
    CHECK(safety_check(S, "what the f.u.c.k", 16, &v) == 1, "not blocked");
    CHECK(!strcmp(v.category, "profanity") && !strcmp(v.entry, "*fuck*"), "verdict %s:%s", v.category, v.entry);
    CHECK(v.severity >= 1 && v.severity <= 3, "severity %d", v.severity);
    CHECK(safety_check(S, "hello there", 11, &v) == 0 && v.category[0] == 0 && v.entry[0] == 0, "clean text blocked");
}

static void test_allowlisted_and_innocent_words_pass(void) {
    const char *ok[] = {"class", "assassin", "Scunthorpe", "cocktail", "therapist", "grape", "analysis",
                        "I live in Scunthorpe and my classes on analysis are great.",
                        "The assassin drank a cocktail with his therapist, eating a grape.",
                        "She passed the glass to the bass player in the brass band.",
                        "Do you like the Pixies? I'd give it 5/5 stars, 10 out of 10.",
                        "hello! how are you?", "I am as happy as can be", "cumulative shiitake peacock Dickens"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        SafetyVerdict v;
        CHECK(!safety_check(S, ok[i], strlen(ok[i]), &v), "'%s' blocked by %s:%s (score %.3f)", ok[i], v.category,
              v.entry, v.score);
    }
}

static void test_random_bytes_never_crash(void) {
    Rng r;
    rng_seed(&r, 42);
    char buf[600];
    int ok = 1;
    for (int i = 0; i < 20000; i++) {
        size_t len = rng_u32(&r) % sizeof buf;
        for (size_t j = 0; j < len; j++) {
            uint32_t x = rng_u32(&r);
            /* mix raw bytes with letters, separators and UTF-8 lead bytes */
            buf[j] = x % 4 == 0 ? "fuck .-1@$ \xef\xbd\xd0"[x / 4 % 14] : (char)(x >> 8);
        }
        SafetyVerdict v;
        int b = safety_check(S, buf, len, &v);
        if (b != 0 && b != 1) ok = 0;
        char norm[256];
        safety_normalize(buf, len, norm, sizeof norm);
        if (strlen(norm) >= sizeof norm) ok = 0;
    }
    CHECK(ok, "a verdict was not 0 or 1");
    SafetyVerdict v;
    CHECK(safety_check(S, "", 0, &v) == 0, "empty text blocked");
}

static void test_classifier_file_round_trips(void) {
    Toxicity t, u;
    tox_init(&t, 8);
    for (int i = 0; i < 256; i++) t.w[i] = (float)(i % 7) - 3.0f;
    t.bias = -0.25f, t.threshold = 0.625f;
    const char *path = "/tmp/test_safety_tox.bin";
    CHECK(tox_save(&t, path) == 0, "save: %s", err_msg());
    CHECK(tox_load(&u, path) == 0, "load: %s", err_msg());
    int same = u.bits == t.bits && u.bias == t.bias && u.threshold == t.threshold && !memcmp(u.w, t.w, 256 * sizeof(float));
    CHECK(same, "loaded model differs");
    const char *s = "you are a lovely person";
    CHECK(tox_score(&t, s, strlen(s)) == tox_score(&u, s, strlen(s)), "scores differ");
    tox_free(&u);

    size_t len;
    uint8_t *b = (uint8_t *)read_file(path, &len);
    CHECK(b && len == 20 + 4 * 256 + 4, "file is %zu bytes", len);
    CHECK(tox_load_bytes(&u, b, len - 1, "truncated") == -1, "truncated file accepted");
    CHECK(tox_load_bytes(&u, b, 10, "short") == -1, "short file accepted");
    b[100] ^= 0x40;
    CHECK(tox_load_bytes(&u, b, len, "corrupt") == -1 && strstr(err_msg(), "checksum"), "corrupt file: %s", err_msg());
    b[100] ^= 0x40;
    b[0] = 'X';
    CHECK(tox_load_bytes(&u, b, len, "magic") == -1 && strstr(err_msg(), "magic"), "bad magic: %s", err_msg());
    free(b);
    remove(path);
    tox_free(&t);
}

static void test_shipped_classifier_scores_and_can_be_switched_off(void) {
    SafetyVerdict v;
    const char *hate = "those people should not be allowed to live near us";
    safety_check(S, hate, strlen(hate), &v);
    CHECK(v.score >= 0 && v.score <= 1, "score %f", v.score);
    safety_set_classifier(S, 0);
    safety_check(S, "hello there", 11, &v);
    CHECK(v.score == -1, "classifier ran while off (score %f)", v.score);
    safety_set_classifier(S, 1);
}

static void test_token_mask_marks_blocked_word_tokens_only(void) {
    Tokenizer tok;
    char text[8192] = "";
    for (int i = 0; i < 60; i++) strcat(text, "the cat sat on the mat and said fuck off to the dog. ");
    CHECK(tokenizer_train(&tok, text, strlen(text), 320) == 0, "tokenizer_train: %s", err_msg());
    int fuck = -1, cat = -1, the = -1;
    for (int id = TOK_FIRST_MERGE; id < tok.vocab_size; id++) {
        if (tok.len[id] == 5 && !memcmp(tok.bytes[id], " fuck", 5)) fuck = id;
        if (tok.len[id] == 4 && !memcmp(tok.bytes[id], " cat", 4)) cat = id;
        if (tok.len[id] == 3 && !memcmp(tok.bytes[id], "the", 3)) the = id;
    }
    CHECK(fuck >= 0 && cat >= 0, "tokens ' fuck' %d and ' cat' %d not learned", fuck, cat);
    uint8_t *mask = xcalloc((size_t)tok.vocab_size, 1);
    safety_token_mask(S, &tok, mask);
    if (fuck >= 0) CHECK(mask[fuck] == 1, "' fuck' not masked");
    if (cat >= 0) CHECK(mask[cat] == 0, "' cat' masked");
    if (the >= 0) CHECK(mask[the] == 0, "'the' masked");
    int marked = 0;
    for (int id = 0; id < tok.vocab_size; id++) marked += mask[id];
    CHECK(marked >= 1 && marked <= 3, "%d tokens masked", marked);
    CHECK(!mask[TOK_USER] && !mask[TOK_BOT] && !mask[TOK_EOT], "a special token was masked");
    free(mask);
    tokenizer_free(&tok);
}

static void test_bad_blocklist_is_rejected_with_its_line(void) {
    const char *dir = "/tmp/test_safety_assets";
    char path[256];
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    CHECK(system(path) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/blocklist.txt", dir);
    const char *bad = "profanity 2 fuck\nprofanity nine shit\n";
    CHECK(write_file_atomic(path, bad, strlen(bad)) == 0, "write");
    Safety *s = safety_load(dir);
    CHECK(s == NULL && strstr(err_msg(), ":2:"), "bad line accepted (%s)", s ? "loaded" : err_msg());
    safety_free(s);
    remove(path);
    rmdir(dir);
}

int main(void) {
    RUN(test_shipped_assets_load);
    RUN(test_every_entry_and_its_obfuscations_are_blocked);
    RUN(test_verdict_names_category_and_entry);
    RUN(test_allowlisted_and_innocent_words_pass);
    RUN(test_random_bytes_never_crash);
    RUN(test_classifier_file_round_trips);
    RUN(test_shipped_classifier_scores_and_can_be_switched_off);
    RUN(test_token_mask_marks_blocked_word_tokens_only);
    RUN(test_bad_blocklist_is_rejected_with_its_line);
    safety_free(S);
    return check_summary();
}
