/* text: see text.h. */
#include "app/text.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "model/utf8.h"
#include "model/util.h"

int locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

/* Control characters a terminal would act on rather than show, and the bidirectional
   embeddings, overrides and isolates, which would reorder what follows them on the screen
   (a reply could be made to read as something else). */
static int is_control(uint32_t cp) {
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

char *text_sanitize(const char *s, size_t len, int keep_newlines) {
    char *out = xmalloc(len * 3 + 1); /* a byte becomes at most 3 (U+FFFD) */
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += (size_t)utf8_decode(s + i, len - i, &cp);
        if (cp == '\t' || (cp == '\n' && !keep_newlines)) cp = ' ';
        else if (cp == '\n') cp = '\n';
        else if (is_control(cp)) cp = UTF8_REPLACEMENT;
        o += (size_t)utf8_encode(cp, out + o);
    }
    out[o] = 0;
    return out;
}

int text_cp_width(uint32_t cp) {
    if (cp < 0x80) return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

int text_width(const char *s, size_t len) {
    int w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += (size_t)utf8_decode(s + i, len - i, &cp);
        w += text_cp_width(cp);
    }
    return w;
}

size_t text_fit(const char *s, size_t len, int width) {
    int w = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode(s + i, len - i, &cp);
        int cw = text_cp_width(cp);
        if (w + cw > width) break;
        w += cw;
        i += (size_t)n;
    }
    return i;
}

/* Records a line when there is room; always counts it. */
static void emit(TextLine *lines, int max, int *count, size_t off, size_t len) {
    if (*count < max) lines[*count] = (TextLine){off, len};
    (*count)++;
}

int text_wrap(const char *s, size_t len, int width, TextLine *lines, int max) {
    int count = 0;
    if (width < 1) width = 1;
    size_t start = 0, i = 0;
    size_t brk = (size_t)-1; /* offset of the last space on this line */
    int col = 0, col_at_brk = 0;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode(s + i, len - i, &cp);
        if (cp == '\n') {
            emit(lines, max, &count, start, i - start);
            i += (size_t)n;
            start = i, col = 0, brk = (size_t)-1;
            continue;
        }
        if (cp == ' ' && col == 0 && i == start && count > 0 && s[i - 1] != '\n') { /* no leading space after a wrap */
            i += (size_t)n;
            start = i;
            continue;
        }
        int cw = text_cp_width(cp);
        if (col + cw > width && col > 0) {
            if (cp == ' ') { /* the break falls on this space */
                emit(lines, max, &count, start, i - start);
                i += (size_t)n;
                start = i, col = 0, brk = (size_t)-1;
                continue;
            }
            if (brk != (size_t)-1 && brk > start) {
                emit(lines, max, &count, start, brk - start);
                start = brk + 1;
                col -= col_at_brk + 1;
            } else {
                emit(lines, max, &count, start, i - start);
                start = i;
                col = 0;
            }
            brk = (size_t)-1;
            continue; /* re-measure this character on the new line */
        }
        if (cp == ' ') brk = i, col_at_brk = col;
        col += cw;
        i += (size_t)n;
    }
    if (start < len || count == 0 || (len > 0 && s[len - 1] == '\n')) emit(lines, max, &count, start, len - start);
    return count;
}

char *text_escape_field(const char *s, size_t len) {
    char *out = xmalloc(len * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') out[o++] = '\\', out[o++] = '\\';
        else if (c == '\t') out[o++] = '\\', out[o++] = 't';
        else if (c == '\n') out[o++] = '\\', out[o++] = 'n';
        else if (c == '\r') out[o++] = '\\', out[o++] = 'r';
        else if (c < 0x20 || c == 0x7F) o += (size_t)sprintf(out + o, "\\x%02X", c);
        else out[o++] = (char)c;
    }
    out[o] = 0;
    return out;
}
