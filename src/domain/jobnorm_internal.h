/* Shared by the files of the jobnorm module (jobnorm.c: UTF-8 and URLs,
 * jobnorm_salary.c, jobnorm_html.c); not part of its interface. The character
 * classes are ASCII-only on purpose: <ctype.h> depends on the locale, and these
 * parsers must read a posting the same way whatever the process's locale is. */
#ifndef HIREWIRE_JOBNORM_INTERNAL_H
#define HIREWIRE_JOBNORM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOBNORM_COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static inline bool jobnorm__alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline bool jobnorm__digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int jobnorm__hex(unsigned char c)
{
    if (jobnorm__digit(c))
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static inline unsigned char jobnorm__lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Decodes the UTF-8 sequence at s (len > 0 bytes). Returns the bytes consumed;
 * *cp is the code point, or -1 when the sequence is invalid, and then the count
 * is the maximal subpart (at least 1) that one U+FFFD replaces. */
size_t jobnorm__utf8_decode(const unsigned char *s, size_t len, int32_t *cp);

/* Writes cp (at most U+10FFFF, not a surrogate) as UTF-8; returns 1 to 4. */
size_t jobnorm__utf8_encode(uint32_t cp, char out[4]);

#endif
