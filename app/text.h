/* text: turning raw bytes (the model's, the user's) into screen-safe UTF-8, and measuring
   and wrapping it for a terminal of a given width. Nothing here touches the terminal, so
   the plain mode and the tests use it too. Characters are read with model/utf8.h. */
#ifndef RLCHAT_TEXT_H
#define RLCHAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* One display line of a wrapped text: a byte range of it. */
typedef struct {
    size_t off;   /* first byte */
    size_t len;   /* bytes on the line (trailing break space excluded) */
} TextLine;

/* 1 when the locale's character set (setlocale done) is UTF-8. */
int locale_is_utf8(void);

/* A new NUL-terminated, valid UTF-8 copy of len raw bytes that is safe to print: invalid
   bytes become U+FFFD, tabs a space, newlines stay when keep_newlines (else a space), every
   other control character (C0, DEL, C1) becomes U+FFFD. The caller frees it. */
char *text_sanitize(const char *s, size_t len, int keep_newlines);

/* Columns a code point takes (0 for combining marks, 2 for wide ones, 1 when unknown). */
int text_cp_width(uint32_t cp);
/* Columns of len bytes of sanitized text. */
int text_width(const char *s, size_t len);
/* Bytes of s (len) that fit in width columns, ending on a character boundary. */
size_t text_fit(const char *s, size_t len, int width);

/* Word-wraps sanitized text to width columns (>= 1): breaks at spaces, splits words longer
   than a line, and always breaks at '\n'. Fills up to max lines and returns how many the
   whole text needs (which may be more than max; an empty text needs 1). */
int text_wrap(const char *s, size_t len, int width, TextLine *lines, int max);

/* Escapes bytes for one tab-separated field: backslash, tab, newline and carriage return
   as \\ \t \n \r, other control bytes as \xHH. A new string the caller frees. */
char *text_escape_field(const char *s, size_t len);

#endif
