/* UTF-8 decoding and encoding, strict: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
#ifndef HIREWIRE_UTF8_H
#define HIREWIRE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s (len > 0 bytes). Returns the bytes consumed;
 * *cp is the code point, or -1 when the sequence is invalid, and then the count
 * is the maximal subpart (at least 1) that one U+FFFD replaces. */
size_t utf8_decode(const unsigned char *s, size_t len, int32_t *cp);

/* Writes cp (at most U+10FFFF, not a surrogate) as UTF-8; returns 1 to 4. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
