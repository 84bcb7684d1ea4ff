/* test_text: the bytes-to-screen helpers (app/text.h) and the UTF-8 they read with
   (model/utf8.h). Broken UTF-8 decodes to U+FFFD one
   byte at a time, control and bidi characters never survive sanitizing, widths follow the
   locale's wcwidth, wrapping breaks where a reader expects, and the feedback log's field
   escaping loses nothing. */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/text.h"
#include "model/utf8.h"
#include "model/util.h"
#include "tests/check.h"

#define FFFD 0xFFFDu

/* Decodes s (len bytes) with utf8_decode; returns the bytes taken, cp the code point. */
static int decode(const char *s, size_t len, uint32_t *cp) { return utf8_decode(s, len, cp); }

/* 1 when s (len) is valid UTF-8 with no control byte but '\n' where allowed. */
static int screen_safe(const char *s, size_t len, int newlines_ok) {
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = decode(s + i, len - i, &cp);
        if (cp == FFFD && n == 1) return 0; /* an invalid byte left in */
        if ((cp < 0x20 && !(cp == '\n' && newlines_ok)) || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return 0;
        i += (size_t)n;
    }
    return 1;
}

/* The text of line k of a wrap, as a new string. */
static char *line_text(const char *s, const TextLine *l) {
    char *t = xmalloc(l->len + 1);
    memcpy(t, s + l->off, l->len);
    t[l->len] = 0;
    return t;
}

/* Wraps s to width and checks the lines against want (NULL-terminated). */
static void check_wrap(const char *s, int width, const char *const *want) {
    TextLine lines[16];
    int n = text_wrap(s, strlen(s), width, lines, 16), k = 0;
    for (; want[k]; k++) {
        if (k >= n) break;
        char *got = line_text(s, &lines[k]);
        CHECK(!strcmp(got, want[k]), "wrap of '%s' at %d: line %d is '%s', not '%s'", s, width, k, got, want[k]);
        free(got);
    }
    CHECK(n == k && !want[k], "wrap of '%s' at %d gives %d lines, not %d", s, width, n, k + (want[k] ? 1 : 0));
}

/* ---- UTF-8 ---- */

static void test_lead_bytes_give_the_length_of_their_character(void) {
    static const struct { unsigned char b; int len; } cases[] = {
        {0x00, 1}, {'A', 1}, {0x7F, 1}, {0x80, 0}, {0xBF, 0}, {0xC0, 0}, {0xC1, 0}, {0xC2, 2}, {0xDF, 2},
        {0xE0, 3}, {0xEF, 3}, {0xF0, 4}, {0xF4, 4}, {0xF5, 0}, {0xFF, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(utf8_char_len(cases[i].b) == cases[i].len, "lead byte 0x%02X: length %d, not %d", cases[i].b,
              utf8_char_len(cases[i].b), cases[i].len);
}

static void test_valid_characters_decode_to_their_code_points(void) {
    static const struct { const char *s; uint32_t cp; } cases[] = {
        {"A", 'A'}, {"\xC2\x80", 0x80}, {"\xC3\xA9", 0xE9}, {"\xDF\xBF", 0x7FF}, {"\xE0\xA0\x80", 0x800},
        {"\xE4\xB8\xAD", 0x4E2D}, {"\xEF\xBF\xBD", FFFD}, {"\xF0\x90\x80\x80", 0x10000},
        {"\xF0\x9F\x98\x80", 0x1F600}, {"\xF4\x8F\xBF\xBF", 0x10FFFF}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t cp;
        size_t len = strlen(cases[i].s);
        int n = decode(cases[i].s, len, &cp);
        CHECK(n == (int)len && cp == cases[i].cp, "case %zu: took %d bytes to U+%04X, not %zu to U+%04X", i, n,
              (unsigned)cp, len, (unsigned)cases[i].cp);
    }
}

static void test_broken_sequences_decode_to_one_replacement_per_byte(void) {
    static const struct { const char *s; size_t len; const char *why; } cases[] = {
        {"\x80", 1, "a lone continuation byte"},
        {"\xC0\x80", 2, "an overlong NUL"},
        {"\xC1\xBF", 2, "an overlong two-byte form"},
        {"\xE0\x80\x80", 3, "an overlong three-byte form"},
        {"\xF0\x80\x80\x80", 4, "an overlong four-byte form"},
        {"\xED\xA0\x80", 3, "a surrogate"},
        {"\xF4\x90\x80\x80", 4, "a code point past U+10FFFF"},
        {"\xF5\x80\x80\x80", 4, "a lead byte past F4"},
        {"\xE2\x82", 2, "a truncated character"},
        {"\xE2\x28\xA1", 3, "a lead byte followed by ASCII"},
        {"\xFF", 1, "0xFF"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t cp;
        int n = decode(cases[i].s, cases[i].len, &cp);
        CHECK(n == 1 && cp == FFFD, "%s: took %d bytes to U+%04X, not 1 to U+FFFD", cases[i].why, n, (unsigned)cp);
    }
    /* The length given, not the NUL, bounds a character: a full one cut by len is broken. */
    uint32_t cp;
    int n = decode("\xE4\xB8\xAD", 2, &cp);
    CHECK(n == 1 && cp == FFFD, "a character cut by len: took %d bytes to U+%04X", n, (unsigned)cp);
}

static void test_every_byte_string_decodes_and_reencodes(void) {
    Rng rng;
    rng_seed(&rng, 5);
    char s[64], out[8];
    for (int trial = 0; trial < 2000; trial++) {
        for (size_t i = 0; i < sizeof s; i++) s[i] = (char)(rng_u32(&rng) & 0xFF);
        for (size_t i = 0; i < sizeof s;) {
            uint32_t cp;
            int n = decode(s + i, sizeof s - i, &cp);
            if (n < 1 || n > 4 || i + (size_t)n > sizeof s) {
                CHECK(0, "trial %d: decode took %d bytes at %zu", trial, n, i);
                return;
            }
            /* A character decoded whole re-encodes to the same bytes. */
            if (!(cp == FFFD && n == 1)) {
                int m = utf8_encode(cp, out);
                if (m != n || memcmp(out, s + i, (size_t)n)) {
                    CHECK(0, "trial %d: U+%04X re-encodes to %d bytes, not the %d read", trial, (unsigned)cp, m, n);
                    return;
                }
            }
            i += (size_t)n;
        }
    }
    CHECK(1, "every random string decoded");
}

static void test_encoding_writes_the_shortest_form_at_each_boundary(void) {
    static const struct { uint32_t cp; int len; } cases[] = {
        {0, 1}, {0x7F, 1}, {0x80, 2}, {0x7FF, 2}, {0x800, 3}, {0xFFFF, 3}, {0x10000, 4}, {0x10FFFF, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[4];
        uint32_t back;
        int n = utf8_encode(cases[i].cp, out);
        int m = decode(out, (size_t)n, &back);
        CHECK(n == cases[i].len && m == n && back == cases[i].cp, "U+%04X: %d bytes, read back as U+%04X in %d",
              (unsigned)cases[i].cp, n, (unsigned)back, m);
    }
}

static void test_the_locale_is_utf8_only_when_its_codeset_says_so(void) {
    if (!setlocale(LC_CTYPE, "C")) return;
    CHECK(!locale_is_utf8(), "the C locale counted as UTF-8");
    if (!setlocale(LC_CTYPE, "C.UTF-8")) {
        printf("skipping the UTF-8 half: no C.UTF-8 locale\n");
        return;
    }
    CHECK(locale_is_utf8(), "C.UTF-8 not counted as UTF-8");
}

/* ---- sanitizing ---- */

static void test_sanitize_turns_tabs_and_newlines_into_spaces_unless_kept(void) {
    const char *s = "a\tb\nc";
    char *flat = text_sanitize(s, strlen(s), 0), *kept = text_sanitize(s, strlen(s), 1);
    CHECK(!strcmp(flat, "a b c"), "flattened to '%s'", flat);
    CHECK(!strcmp(kept, "a b\nc"), "kept as '%s'", kept);
    free(flat), free(kept);
}

static void test_sanitize_replaces_control_and_bidi_characters(void) {
    static const struct { const char *s; const char *why; } cases[] = {
        {"\x1B[2J", "an escape sequence"}, {"\x07", "BEL"}, {"\r", "a carriage return"}, {"\x7F", "DEL"},
        {"\xC2\x9B", "the C1 CSI"}, {"\xC2\x85", "NEL"}, {"\xE2\x80\xAE", "RIGHT-TO-LEFT OVERRIDE"},
        {"\xE2\x80\xAA", "LEFT-TO-RIGHT EMBEDDING"}, {"\xE2\x81\xA6", "LEFT-TO-RIGHT ISOLATE"},
        {"\xE2\x81\xA9", "POP DIRECTIONAL ISOLATE"}, {"\xFF", "an invalid byte"}, {"\xC3", "a truncated character"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = text_sanitize(cases[i].s, strlen(cases[i].s), 1);
        CHECK(!strncmp(out, "\xEF\xBF\xBD", 3), "%s starts '%s', not U+FFFD", cases[i].why, out);
        CHECK(screen_safe(out, strlen(out), 1), "%s left a control byte or invalid UTF-8", cases[i].why);
        free(out);
    }
    /* Text around them, and printable non-ASCII, stay as they were. */
    const char *s = "caf\xC3\xA9 \x1B ok \xE4\xB8\xAD";
    char *out = text_sanitize(s, strlen(s), 0);
    CHECK(!strcmp(out, "caf\xC3\xA9 \xEF\xBF\xBD ok \xE4\xB8\xAD"), "sanitized to '%s'", out);
    free(out);
}

static void test_sanitize_makes_any_bytes_screen_safe_and_is_idempotent(void) {
    Rng rng;
    rng_seed(&rng, 9);
    char s[48];
    for (int trial = 0; trial < 500; trial++) {
        for (size_t i = 0; i < sizeof s; i++) s[i] = (char)(rng_u32(&rng) & 0xFF);
        char *once = text_sanitize(s, sizeof s, 1);
        char *twice = text_sanitize(once, strlen(once), 1);
        int safe = screen_safe(once, strlen(once), 1), same = !strcmp(once, twice);
        free(once), free(twice);
        if (!safe || !same) {
            CHECK(0, "trial %d: %s", trial, !safe ? "not screen-safe" : "a second pass changed it");
            return;
        }
    }
    CHECK(1, "every random string sanitized");
}

/* ---- widths and wrapping ---- */

static int utf8_locale(void) {
    if (setlocale(LC_CTYPE, "C.UTF-8")) return 1;
    printf("skipping: no C.UTF-8 locale for wcwidth\n");
    return 0;
}

static void test_widths_count_wide_characters_twice_and_marks_not_at_all(void) {
    if (!utf8_locale()) return;
    CHECK(text_cp_width('a') == 1, "'a' is %d columns", text_cp_width('a'));
    CHECK(text_cp_width(0x4E2D) == 2, "U+4E2D is %d columns", text_cp_width(0x4E2D));
    CHECK(text_cp_width(0x301) == 0, "a combining acute is %d columns", text_cp_width(0x301));
    CHECK(text_cp_width(0x10FFFF) == 1, "an unknown code point is %d columns", text_cp_width(0x10FFFF));
    const char *s = "e\xCC\x81t\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87"; /* e + acute, t, é, space, two wide */
    CHECK(text_width(s, strlen(s)) == 8, "'%s' is %d columns, not 8", s, text_width(s, strlen(s)));
}

static void test_fit_stops_on_a_character_boundary(void) {
    if (!utf8_locale()) return;
    const char *s = "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97"; /* three wide characters, 9 bytes */
    CHECK(text_fit(s, strlen(s), 3) == 3, "3 columns hold %zu bytes, not 3", text_fit(s, strlen(s), 3));
    CHECK(text_fit(s, strlen(s), 4) == 6, "4 columns hold %zu bytes, not 6", text_fit(s, strlen(s), 4));
    CHECK(text_fit(s, strlen(s), 1) == 0, "1 column holds %zu bytes, not 0", text_fit(s, strlen(s), 1));
    CHECK(text_fit("hello", 5, 99) == 5, "a short text does not fit whole");
}

static void test_wrap_breaks_at_spaces_and_splits_long_words(void) {
    check_wrap("hello world", 5, (const char *[]){"hello", "world", NULL});
    check_wrap("hello world", 11, (const char *[]){"hello world", NULL});
    check_wrap("the cat sat", 7, (const char *[]){"the cat", "sat", NULL});
    check_wrap("abcdefghij", 4, (const char *[]){"abcd", "efgh", "ij", NULL});
    check_wrap("a bcdefgh", 4, (const char *[]){"a", "bcde", "fgh", NULL});
}

static void test_wrap_always_breaks_at_newlines(void) {
    check_wrap("a\nb", 10, (const char *[]){"a", "b", NULL});
    check_wrap("a\n\nb", 10, (const char *[]){"a", "", "b", NULL});
    check_wrap("a\n", 10, (const char *[]){"a", "", NULL});
    check_wrap("", 10, (const char *[]){"", NULL});
    /* A leading space the user typed after a newline is kept; one left by a wrap is not. */
    check_wrap("a\n b", 10, (const char *[]){"a", " b", NULL});
    check_wrap("abcd  efgh", 4, (const char *[]){"abcd", "efgh", NULL});
}

static void test_wrap_never_splits_a_wide_character(void) {
    if (!utf8_locale()) return;
    const char *s = "\xE4\xB8\xAD\xE6\x96\x87"; /* two wide characters */
    check_wrap(s, 3, (const char *[]){"\xE4\xB8\xAD", "\xE6\x96\x87", NULL});
}

static void test_wrap_counts_lines_beyond_the_room_given(void) {
    const char *s = "one two six ten";
    TextLine lines[2];
    int n = text_wrap(s, strlen(s), 3, lines, 2);
    CHECK(n == 4, "%d lines needed, not 4", n);
    CHECK(lines[0].off == 0 && lines[0].len == 3 && lines[1].off == 4 && lines[1].len == 3,
          "the lines kept are (%zu, %zu) and (%zu, %zu)", lines[0].off, lines[0].len, lines[1].off, lines[1].len);
    CHECK(text_wrap("abc", 3, 0, NULL, 0) == 3, "width 0 is not taken as 1");
}

/* ---- escaping for the feedback log ---- */

/* The reverse of text_escape_field, as a reader of the log would write it; NULL on a
   sequence it does not know. */
static char *unescape(const char *s, size_t *len) {
    char *out = xmalloc(strlen(s) + 1);
    size_t o = 0;
    for (const char *p = s; *p; p++) {
        if (*p != '\\') {
            out[o++] = *p;
            continue;
        }
        p++;
        if (*p == '\\') out[o++] = '\\';
        else if (*p == 't') out[o++] = '\t';
        else if (*p == 'n') out[o++] = '\n';
        else if (*p == 'r') out[o++] = '\r';
        else if (*p == 'x' && p[1] && p[2]) {
            char hex[3] = {p[1], p[2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            free(out);
            return NULL;
        }
    }
    *len = o;
    return out;
}

static void test_escaping_writes_separators_and_controls_as_sequences(void) {
    const char *s = "a\\b\tc\nd\re\x01" "f\x7F" "g \xC3\xA9";
    char *e = text_escape_field(s, strlen(s));
    const char *want = "a\\\\b\\tc\\nd\\re\\x01f\\x7Fg \xC3\xA9";
    CHECK(!strcmp(e, want), "escaped to '%s', not '%s'", e, want);
    CHECK(!strpbrk(e, "\t\n\r"), "a tab or line break left in '%s'", e);
    free(e);
}

static void test_escaped_fields_read_back_to_the_same_bytes(void) {
    Rng rng;
    rng_seed(&rng, 3);
    char s[40];
    for (int trial = 0; trial < 500; trial++) {
        size_t len = rng_u32(&rng) % sizeof s;
        for (size_t i = 0; i < len; i++) s[i] = (char)(1 + rng_u32(&rng) % 255); /* no NUL: fields are C strings */
        char *e = text_escape_field(s, len);
        size_t back_len = 0;
        char *back = unescape(e, &back_len);
        int ok = back && back_len == len && !memcmp(back, s, len) && !strpbrk(e, "\t\n\r");
        free(e), free(back);
        if (!ok) {
            CHECK(0, "trial %d: the escaped field does not read back", trial);
            return;
        }
    }
    CHECK(1, "every random field read back");
}

int main(void) {
    RUN(test_lead_bytes_give_the_length_of_their_character);
    RUN(test_valid_characters_decode_to_their_code_points);
    RUN(test_broken_sequences_decode_to_one_replacement_per_byte);
    RUN(test_every_byte_string_decodes_and_reencodes);
    RUN(test_encoding_writes_the_shortest_form_at_each_boundary);
    RUN(test_the_locale_is_utf8_only_when_its_codeset_says_so);
    RUN(test_sanitize_turns_tabs_and_newlines_into_spaces_unless_kept);
    RUN(test_sanitize_replaces_control_and_bidi_characters);
    RUN(test_sanitize_makes_any_bytes_screen_safe_and_is_idempotent);
    RUN(test_widths_count_wide_characters_twice_and_marks_not_at_all);
    RUN(test_fit_stops_on_a_character_boundary);
    RUN(test_wrap_breaks_at_spaces_and_splits_long_words);
    RUN(test_wrap_always_breaks_at_newlines);
    RUN(test_wrap_never_splits_a_wide_character);
    RUN(test_wrap_counts_lines_beyond_the_room_given);
    RUN(test_escaping_writes_separators_and_controls_as_sequences);
    RUN(test_escaped_fields_read_back_to_the_same_bytes);
    return check_summary();
}
