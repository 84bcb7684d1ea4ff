/* test_safety: the filter on every blocklist entry and its obfuscations, on the allowlist,
   on random bytes; the classifier file round trip and its rejection of damaged files; the
   token mask. Runs from the repo root against assets/ (no ../shared needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "model/util.h"
#include "rl/confusables.h"
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

enum { PLAIN, UPPER, SPACED, DOTTED, DASHED, LEET, REPEATED, FULLWIDTH, LOOKALIKE, ZEROWIDTH, MASKED, N_KINDS };
static const char *kind_name[N_KINDS] = {"plain", "upper", "spaced", "dotted", "dashed", "leet",
                                         "repeated", "full-width", "look-alike", "zero-width", "masked"};

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
        case MASKED: /* the vowels inside each word starred: "f*ck", "k*ll y**rs*lf" */
            out[n++] = !first && !last && strchr("aeiou", c) ? '*' : c; break;
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

/* Checks that each of n lines is blocked (want 1) or passes (want 0) by the list alone. */
static void expect_list(const char *const *lines, int n, int want) {
    safety_set_classifier(S, 0);
    for (int i = 0; i < n; i++) {
        SafetyVerdict v;
        int b = safety_check(S, lines[i], strlen(lines[i]), &v);
        CHECK(b == want, "'%s' %s (%s:%s)", lines[i], b ? "blocked" : "passed", v.category, v.entry);
    }
    safety_set_classifier(S, 1);
}
#define EXPECT_LIST(lines, want) expect_list(lines, (int)(sizeof lines / sizeof *lines), want)

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

/* ---- masked words ---- */

static void test_masked_vowels_are_read_as_missing_letters(void) {
    const char *bad[] = {"f*ck you", "that is sh*t", "shut up b*tch", "you c*nt", "typical n*gger", "you f*ggot",
                         "what a wh*re", "you're a r*tard"};
    EXPECT_LIST(bad, 1);
}

static void test_a_mask_may_keep_the_word_length_or_not(void) {
    const char *bad[] = {"f**k off", "f*** this", "kiss my a**", "you c**t", "f*k off", "this is f*king useless",
                         "f***ing hell", "you motherf***er", "total d**ch*b*g", "fu#ng hell"};
    EXPECT_LIST(bad, 1);
}

static void test_every_masking_symbol_stands_for_a_letter(void) {
    const char *symbols = "*@#$%!_-.";
    for (const char *m = symbols; *m; m++) {
        char line[32];
        snprintf(line, sizeof line, "you c%cnt", *m);
        const char *one[] = {line};
        EXPECT_LIST(one, 1);
    }
}

static void test_symbols_that_hide_no_letter_pass(void) {
    const char *ok[] = {"*sigh* another Monday", "I code in C# and F#", "x_x that was hard", "see you at 5 p.m.",
                        "so... what now", "no!! don't go", "send an e-mail", "an Mi-35 helicopter", "*does a little jig*",
                        "take out the trash*", "**Charlie Crist switches back to Republican**", "visit www.example.com",
                        "a song....they were great", "an oldie but a goodie", "Name it SC_Troll", "5*3 = 15"};
    EXPECT_LIST(ok, 0);
}

static void test_masked_words_that_stand_only_for_allowed_words_pass(void) {
    const char *ok[] = {"that's d*mn good", "h*ll yeah", "what the h*ck", "oh cr*p"};
    EXPECT_LIST(ok, 0);
}

/* ---- look-alike letters ---- */

static void test_unicode_confusables_fold_to_latin_letters(void) {
    /* from Unicode's table, not the hand-written tables: f with hook, Armenian s-like u,
       Cyrillic komi de, Lisu letters, Cherokee letters, Latin letter dental click */
    CHECK(confusable_fold(0x0192) == 'f' && confusable_fold(0x057D) == 'u' && confusable_fold(0x0501) == 'd',
          "f %c u %c d %c", confusable_fold(0x0192), confusable_fold(0x057D), confusable_fold(0x0501));
    CHECK(confusable_fold(0xA4D0) == 'b' && confusable_fold(0x13AA) == 'a' && confusable_fold(0x01C0) == '1',
          "lisu b %c cherokee a %c click %c", confusable_fold(0xA4D0), confusable_fold(0x13AA), confusable_fold(0x01C0));
    CHECK(confusable_fold('a') == 0 && confusable_fold(0x4E00) == 0, "ASCII or a CJK letter folded");
    const char *bad[] = {"\xc6\x92\xd5\xbd" "ck you",          /* f with hook, Armenian seh */
                         "\xea\x93\x90itch",                   /* Lisu letter ba */
                         "\xd4\x81ick\xd5\xb0" "ead",          /* komi de, Armenian ho */
                         "\xc6\x91*ck you"};                   /* capital F with hook, then a mask */
    EXPECT_LIST(bad, 1);
}

static void test_letters_that_read_as_i_or_l_are_tried_both_ways_in_one_word(void) {
    const char *bad[] = {"he11 hitler", "\xd5\xb0\xe2\x84\xae\xce\xb9\xd3\x8f hitler"}; /* h e iota palochka */
    EXPECT_LIST(bad, 1);
}

static void test_v_after_the_first_letter_reads_as_u(void) {
    const char *bad[] = {"fvck you", "you cvnt", "what a slvt"};
    EXPECT_LIST(bad, 1);
    const char *ok[] = {"I have a very vivid dream", "vulnerable"};
    EXPECT_LIST(ok, 0);
}

/* ---- spaced and dotted phrases ---- */

static void test_spaced_or_dotted_words_inside_a_phrase_are_read_as_words(void) {
    const char *bad[] = {"i will k.i.l.l you", "i will k i l l you", "I'm going to k-i-l-l you", "g.o d.i.e",
                         "go d i e in a hole", "why don't you k*ll yourself", "i w_i_l_l k_i_l_l y_o_u"};
    EXPECT_LIST(bad, 1);
}

static void test_a_phrase_spaced_letter_by_letter_is_split_where_the_gaps_widen(void) {
    const char *bad[] = {"i will k i l l   y o u", "i know w h e r e   y o u   l i v e", "g o   d i e"};
    EXPECT_LIST(bad, 1);
}

static void test_a_phrase_spelt_out_in_one_run_is_found_inside_it(void) {
    const char *bad[] = {"time to g a s t h e j e w s", "t h e y a r e v e r m i n and should go",
                         "g.o.d.i.e in a hole"};
    EXPECT_LIST(bad, 1);
}

static void test_spelt_letters_with_a_star_are_read_masked(void) {
    const char *bad[] = {"you dirty s l * t", "what a s l * t", "listen m o r * n"};
    EXPECT_LIST(bad, 1);
}

/* ---- names and innocent compounds ---- */

static void test_allowlisted_phrases_let_names_pass(void) {
    const char *ok[] = {"Dick Van Dyke danced on the roof", "Have you read Moby Dick?", "Philip K. Dick wrote it",
                        "Homo sapiens evolved in Africa", "clean it until it is spic and span",
                        "a chink in his armour", "Alan Cumming starred in Cabaret", "a blue tit nested here",
                        "the pussy willow is out", "Mong Kok is busy", "\xef\xbc\xa4ick Van Dyke waved"};
    EXPECT_LIST(ok, 0);
    /* the same words outside the phrases still block */
    const char *bad[] = {"you are a dick", "suck my dick", "what a pussy", "you homo", "dirty spic", "cumming hard"};
    EXPECT_LIST(bad, 1);
}

static void test_names_and_places_holding_a_listed_word_pass(void) {
    const char *ok[] = {"Scunthorpe", "Sussex, Essex and Middlesex", "Penistone", "Matsushita", "Professor Kuntz",
                        "Claud Cockburn", "Tony Hancock", "Charles Dickens", "a titmouse", "Bitche in Lorraine",
                        "Shitterton in Dorset", "Twatt in Orkney", "Clitheroe castle", "niggardly with praise",
                        "shitake soup", "shiitake-and-leek pie"};
    EXPECT_LIST(ok, 0);
}

static void test_words_holding_a_listed_word_pass_in_every_disguise(void) {
    const char *ok[] = {"cl@ss is over", "a gr4pe soda", "my th3rapist", "\xd1\x81ocktail hour", "p a s s a g e",
                        "a.n.a.l.y.s.i.s", "b-a-s-s guitar", "an \xef\xbd\x81ssassin"};
    EXPECT_LIST(ok, 0);
}

static void test_the_classifier_does_not_read_a_rescued_name(void) {
    char out[256];
    const char *name = "The pussy willow is blooming";
    safety_classifier_text(S, name, strlen(name), out, sizeof out);
    CHECK(!strcmp(out, "the willow is blooming"), "classifier reads '%s'", out);
    safety_normalize(name, strlen(name), out, sizeof out);
    CHECK(!strcmp(out, "the pussy willow is blooming"), "normalised '%s'", out);
    const char *ok[] = {"The pussy willow is blooming.", "Pussy Riot played a concert.", "Mr. Dick Van Dyke waved."};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        CHECK(!blocked(ok[i]), "'%s' blocked with the classifier", ok[i]);
}

static void test_the_classifier_still_judges_the_words_around_a_name(void) {
    const char *hate = "Moby Dick fans say Muslims are nothing but refuse.";
    const char *kind = "Moby Dick fans say Muslims are lovely neighbours.";
    SafetyVerdict v;
    CHECK(safety_check(S, hate, strlen(hate), &v) && !strcmp(v.category, "classifier"), "'%s': %s (score %.3f)", hate,
          v.blocked ? v.category : "passed", v.score);
    CHECK(!safety_check(S, kind, strlen(kind), &v), "'%s' blocked by %s (score %.3f)", kind, v.category, v.score);
}

static void test_spelt_out_letters_reach_the_classifier_as_a_word(void) {
    char out[64];
    const char *t[] = {"t h a n k   y o u", "many t.h.a.n.k.s"}, *want[] = {"thank you", "many thanks"};
    for (int i = 0; i < 2; i++) {
        safety_normalize(t[i], strlen(t[i]), out, sizeof out);
        CHECK(!strcmp(out, want[i]), "'%s' normalised '%s'", t[i], out);
        CHECK(!blocked(t[i]), "'%s' blocked", t[i]);
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
    RUN(test_masked_vowels_are_read_as_missing_letters);
    RUN(test_a_mask_may_keep_the_word_length_or_not);
    RUN(test_every_masking_symbol_stands_for_a_letter);
    RUN(test_symbols_that_hide_no_letter_pass);
    RUN(test_masked_words_that_stand_only_for_allowed_words_pass);
    RUN(test_unicode_confusables_fold_to_latin_letters);
    RUN(test_letters_that_read_as_i_or_l_are_tried_both_ways_in_one_word);
    RUN(test_v_after_the_first_letter_reads_as_u);
    RUN(test_spaced_or_dotted_words_inside_a_phrase_are_read_as_words);
    RUN(test_a_phrase_spaced_letter_by_letter_is_split_where_the_gaps_widen);
    RUN(test_a_phrase_spelt_out_in_one_run_is_found_inside_it);
    RUN(test_spelt_letters_with_a_star_are_read_masked);
    RUN(test_allowlisted_phrases_let_names_pass);
    RUN(test_names_and_places_holding_a_listed_word_pass);
    RUN(test_words_holding_a_listed_word_pass_in_every_disguise);
    RUN(test_the_classifier_does_not_read_a_rescued_name);
    RUN(test_the_classifier_still_judges_the_words_around_a_name);
    RUN(test_spelt_out_letters_reach_the_classifier_as_a_word);
    RUN(test_random_bytes_never_crash);
    RUN(test_classifier_file_round_trips);
    RUN(test_shipped_classifier_scores_and_can_be_switched_off);
    RUN(test_token_mask_marks_blocked_word_tokens_only);
    RUN(test_bad_blocklist_is_rejected_with_its_line);
    safety_free(S);
    return check_summary();
}
