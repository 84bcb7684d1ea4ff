/* utf8: reading and writing UTF-8 one character at a time. Every byte string decodes: a
   byte that starts no valid character reads as U+FFFD and is skipped alone, so the screen
   (app/text.c) and the safety filter's folding (rl/normalize.c) see the same characters. */
#ifndef RLCHAT_UTF8_H
#define RLCHAT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xFFFDu /* what an invalid byte decodes to */

/* Bytes of the UTF-8 character a lead byte starts (1..4), or 0 for a byte that starts none
   (a continuation byte, C0, C1, F5..FF). */
int utf8_char_len(unsigned char lead);
/* Decodes one UTF-8 character at s (len > 0 bytes available). Returns the bytes it took
   (1..4); *cp gets the code point, or UTF8_REPLACEMENT for an invalid, overlong, surrogate
   or truncated sequence, which then takes 1 byte (a real U+FFFD takes 3, so the two never
   look alike). */
int utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Writes cp (at most U+10FFFF) as UTF-8 to out (room for 4 bytes); returns the bytes written. */
int utf8_encode(uint32_t cp, char *out);

#endif
