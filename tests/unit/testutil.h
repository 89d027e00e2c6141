/* Helpers shared by the unit tests. Everything is static inline, so that a
 * test that includes this header and uses only part of it builds without
 * unused-function warnings. */
#ifndef HIREWIRE_TESTUTIL_H
#define HIREWIRE_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "hirewire/clock.h"

/* "2026-03-29T02:30" -> ms, read as UTC; local ms are written the same way. */
static inline int64_t t(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(clock_parse_iso(iso, 0, &ms), 0);
    return ms;
}

/* ms -> "2026-03-29T01:30:00.000Z" in one of four rotating buffers, so that
 * an assertion can compare two of them. */
static inline const char *iso(int64_t ms)
{
    static char bufs[4][32];
    static int next;
    char *b = bufs[next++ % 4];
    assert_int_equal(clock_format_iso(ms, b, 32), 0);
    return b;
}

/* A strict UTF-8 validator, written apart from the code under test (it
 * is the reference that jobnorm's validator is compared with): decode by
 * the bit patterns first, then reject overlongs, surrogates and
 * > U+10FFFF. */
static inline bool ref_utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (n == 0 || len - i < n)
            return false;
        uint32_t cp = n == 1 ? c : c & (0x7Fu >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

#endif
