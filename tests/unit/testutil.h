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

#endif
