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

#endif
