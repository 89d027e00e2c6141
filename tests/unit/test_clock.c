#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hirewire/clock.h"

/* 2026-11-23T14:20:00.123Z */
#define T_SAMPLE INT64_C(1795443600123)

static void expect_format(int64_t ms, const char *want)
{
    char buf[25];
    assert_int_equal(clock_format_iso(ms, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    (void)state;
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(T_SAMPLE, "2026-11-23T14:20:00.123Z");
    expect_format(-1, "1969-12-31T23:59:59.999Z");
    expect_format(-1000, "1969-12-31T23:59:59.000Z");
    expect_format(-1001, "1969-12-31T23:59:58.999Z");
    expect_format(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
    expect_format(INT64_C(253402300799999), "9999-12-31T23:59:59.999Z");

    char buf[32];
    assert_int_equal(clock_format_iso(INT64_C(253402300800000), buf, sizeof(buf)), -EINVAL);
    assert_int_equal(clock_format_iso(0, buf, 24), -EINVAL);
    assert_int_equal(clock_format_iso(0, NULL, 25), -EINVAL);
}

static void expect_parse(const char *s, int tz, int64_t want)
{
    int64_t got = -42;
    int rc = clock_parse_iso(s, tz, &got);
    if (rc != 0 || got != want)
        fail_msg("clock_parse_iso(\"%s\", %d) = %d, %lld; want %lld", s, tz, rc, (long long)got,
                 (long long)want);
}

static void expect_invalid(const char *s)
{
    int64_t got = -42;
    int rc = clock_parse_iso(s, 0, &got);
    if (rc != -EINVAL)
        fail_msg("clock_parse_iso(\"%s\") = %d, %lld; want -EINVAL", s ? s : "(null)", rc,
                 (long long)got);
}

static void test_parse_forms(void **state)
{
    (void)state;
    expect_parse("2026-11-23T14:20:00.123Z", 0, T_SAMPLE);
    expect_parse("2026-11-23t14:20:00.123z", 0, T_SAMPLE);
    expect_parse("2026-11-23 14:20:00.123Z", 0, T_SAMPLE);
    expect_parse("2026-11-23T14:20:00Z", 0, T_SAMPLE - 123);
    expect_parse("2026-11-23T14:20:00.1Z", 0, T_SAMPLE - 23);
    expect_parse("2026-11-23T14:20:00.12Z", 0, T_SAMPLE - 3);
    expect_parse("2026-11-23T14:20:00.123456789Z", 0, T_SAMPLE);
    expect_parse("2026-11-23T14:20:00.999999Z", 0, T_SAMPLE - 123 + 999);
    /* A zone in the string wins over the caller's default. */
    expect_parse("2026-11-23T14:20:00.123Z", 120, T_SAMPLE);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    expect_parse("2026-11-23T15:20:00.123+01:00", 0, T_SAMPLE);
    expect_parse("2026-11-23T15:20:00.123+0100", 0, T_SAMPLE);
    expect_parse("2026-11-23T15:20:00.123+01", 0, T_SAMPLE);
    expect_parse("2026-11-23T08:50:00.123-05:30", 0, T_SAMPLE);
    expect_parse("2026-11-23T19:50:00.123+05:30", 0, T_SAMPLE);
    expect_parse("2026-11-23T14:20:00.123-00:00", 0, T_SAMPLE);
    /* Across midnight and the year boundary. */
    expect_parse("2027-01-01T01:00:00+02:00", 0, INT64_C(1798758000000));
    expect_parse("2026-12-31T23:00:00Z", 0, INT64_C(1798758000000));
}

static void test_parse_local_without_seconds(void **state)
{
    (void)state;
    /* The browser's datetime-local value, in the user's zone. */
    expect_parse("2026-11-23T14:20", 0, T_SAMPLE - 123);
    expect_parse("2026-11-23T15:20", 60, T_SAMPLE - 123);
    expect_parse("2026-11-23T09:20", -300, T_SAMPLE - 123);
    expect_parse("2026-11-23T14:20Z", 60, T_SAMPLE - 123);
    expect_parse("2026-11-23T14:20+00:00", -300, T_SAMPLE - 123);
    /* A bare date is midnight. */
    expect_parse("2026-11-23", 0, INT64_C(1795392000000));
    expect_parse("2026-11-23", 60, INT64_C(1795392000000) - 3600000);
    expect_parse("1970-01-01", 0, 0);
    expect_parse("1969-12-31T23:59:59.999Z", 0, -1);
}

/* Whether a time names its zone, and what it reads as when it does not. */
static void test_parse_zoned(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool zoned;
        int64_t ms;
    } cases[] = {
        {"2027-01-15T14:30", false, 1800023400000},
        {"2027-01-15", false, 1799971200000},
        {"2027-01-15 14:30:00.500", false, 1800023400500},
        {"2027-01-15T14:30:00Z", true, 1800023400000},
        {"2027-01-15T14:30:00z", true, 1800023400000},
        {"2027-01-15T14:30:00+01:00", true, 1800019800000},
        {"2027-01-15T14:30:00-0400", true, 1800037800000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 0;
        bool zoned = !cases[i].zoned;
        assert_int_equal(clock_parse_iso_zoned(cases[i].s, &ms, &zoned), 0);
        assert_true(zoned == cases[i].zoned);
        assert_int_equal(ms, cases[i].ms);
    }
    int64_t ms;
    bool zoned;
    assert_int_equal(clock_parse_iso_zoned("2027-01-15T14:30:00+", &ms, &zoned), -EINVAL);
    assert_int_equal(clock_parse_iso_zoned("tomorrow", &ms, &zoned), -EINVAL);
}

static void test_leap_days(void **state)
{
    (void)state;
    expect_parse("2024-02-29T12:00:00Z", 0, INT64_C(1709208000000));
    expect_parse("2000-02-29", 0, INT64_C(951782400000));
    expect_parse("2024-03-01", 0, INT64_C(1709251200000));
    expect_invalid("2023-02-29");
    expect_invalid("1900-02-29");
    expect_invalid("2100-02-29");
    expect_invalid("2026-02-30");
    expect_invalid("2026-04-31");
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid(NULL);
    expect_invalid("");
    expect_invalid("2026");
    expect_invalid("2026-11");
    expect_invalid("2026-1-01");
    expect_invalid("2026-13-01");
    expect_invalid("2026-00-10");
    expect_invalid("2026-11-00");
    expect_invalid("2026-11-32");
    expect_invalid("2026-11-23T24:00");
    expect_invalid("2026-11-23T12:60");
    expect_invalid("2026-11-23T12:00:60");
    expect_invalid("2026-11-23T12");
    expect_invalid("2026-11-23T1:00");
    expect_invalid("2026-11-23T12:00:");
    expect_invalid("2026-11-23T12:00:00.");
    expect_invalid("2026-11-23T12:00:00.1234567890Z");
    expect_invalid("2026-11-23T12:00:00Zx");
    expect_invalid("2026-11-23T12:00:00Z ");
    expect_invalid(" 2026-11-23T12:00:00Z");
    expect_invalid("2026-11-23T12:00:00+24:00");
    expect_invalid("2026-11-23T12:00:00+01:60");
    expect_invalid("2026-11-23T12:00:00+1");
    expect_invalid("2026-11-23T12:00:00+01:");
    expect_invalid("2026-11-23Z");
    expect_invalid("2026-11-23X12:00");
    expect_invalid("2026-11-23T");
    expect_invalid("0000-01-01");
    expect_invalid("yyyy-mm-ddThh:mm");

    int64_t out;
    assert_int_equal(clock_parse_iso("2026-11-23", 0, NULL), -EINVAL);
    assert_int_equal(clock_parse_iso("2026-11-23", 24 * 60, &out), -EINVAL);
}

/* Our days-from-civil arithmetic against the C library's gmtime_r over the
 * whole range, one sample every 97 days and 13,331 seconds. */
static void test_round_trip(void **state)
{
    (void)state;
    const int64_t last = INT64_C(253402300799999);
    int n = 0;
    for (int64_t ms = -INT64_C(86400000) * 365; ms <= last;
         ms += INT64_C(86400000) * 97 + 13331007) {
        char buf[25];
        int64_t back;
        assert_int_equal(clock_format_iso(ms, buf, sizeof(buf)), 0);
        assert_int_equal(clock_parse_iso(buf, 0, &back), 0);
        if (back != ms)
            fail_msg("%s parsed back as %lld, want %lld", buf, (long long)back, (long long)ms);

        time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        char want[32];
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        assert_memory_equal(buf, want, 19);
        n++;
    }
    assert_true(n > 30000);
}

static void test_now_and_offset(void **state)
{
    (void)state;
    assert_int_equal(clock_offset_ms(), 0);
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = clock_now_ms();
    assert_true(now >= before && now < before + 2000);

    clock_set_offset_ms(INT64_C(86400000) * 3);
    assert_int_equal(clock_offset_ms(), INT64_C(86400000) * 3);
    int64_t shifted = clock_now_ms();
    assert_true(shifted - now >= INT64_C(86400000) * 3);
    assert_true(shifted - now < INT64_C(86400000) * 3 + 2000);
    clock_set_offset_ms(0);

    int64_t m1 = clock_mono_ms();
    uint64_t n1 = clock_mono_ns();
    int64_t m2 = clock_mono_ms();
    uint64_t n2 = clock_mono_ns();
    assert_true(m2 >= m1);
    assert_true(n2 >= n1);
    assert_true(n1 / 1000000 >= (uint64_t)m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_offsets), cmocka_unit_test(test_parse_local_without_seconds),
        cmocka_unit_test(test_leap_days),     cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_now_and_offset),
        cmocka_unit_test(test_parse_zoned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
