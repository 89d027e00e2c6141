#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hirewire/clock.h"
#include "hirewire/localtime.h"

#include "testutil.h"

#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

static const char *to_utc(const char *tz, const char *local)
{
    int64_t utc = 0;
    assert_int_equal(localtime_to_utc(tz, t(local), &utc), 0);
    return iso(utc);
}

static const char *from_utc(const char *tz, const char *utc)
{
    int64_t local = 0;
    assert_int_equal(localtime_from_utc(tz, t(utc), &local), 0);
    return iso(local);
}

static void test_zone_names(void **state)
{
    (void)state;
    const char *good[] = {"Europe/Berlin", "America/New_York",
                          "UTC",           "Etc/UTC",
                          "Asia/Kolkata",  "America/Argentina/Buenos_Aires",
                          "Etc/GMT+5",     "America/Port-au-Prince"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!localtime_tz_valid(good[i]))
            fail_msg("%s should be valid", good[i]);
    }
    const char *bad[] = {"",
                         "Europe/Nowhere",
                         "europe/berlin",
                         "../../etc/passwd",
                         "/usr/share/zoneinfo/Europe/Berlin",
                         "Europe//Berlin",
                         "Europe/Berlin/",
                         "./Europe/Berlin",
                         "Europe/./Berlin",
                         "posix/Europe/Berlin",
                         "right/Europe/Berlin",
                         "localtime",
                         "posixrules",
                         "Factory",
                         "Europe",
                         "zone.tab",
                         "tzdata.zi",
                         "Europe/Berlin ",
                         "Europe/Berlin\n",
                         "Europe/Berlin/Mitte/Kreuzberg/Some/Very/Long/"
                         "Name/That/Is/Longer/Than/Sixty/Four"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (localtime_tz_valid(bad[i]))
            fail_msg("\"%s\" should be invalid", bad[i]);
    }
    assert_false(localtime_tz_valid(NULL));
    int64_t out;
    assert_int_equal(localtime_to_utc("Mars/Olympus_Mons", 0, &out), -EINVAL);
    assert_int_equal(localtime_from_utc(NULL, 0, &out), -EINVAL);
    assert_int_equal(localtime_from_utc("UTC", 0, NULL), -EINVAL);
}

static void test_offsets(void **state)
{
    (void)state;
    assert_string_equal(from_utc("Europe/Berlin", "2026-01-15T12:00:00Z"),
                        "2026-01-15T13:00:00.000Z");
    assert_string_equal(from_utc("Europe/Berlin", "2026-07-15T12:00:00Z"),
                        "2026-07-15T14:00:00.000Z");
    assert_string_equal(from_utc("America/New_York", "2026-01-15T12:00:00Z"),
                        "2026-01-15T07:00:00.000Z");
    assert_string_equal(from_utc("America/New_York", "2026-07-15T12:00:00.250Z"),
                        "2026-07-15T08:00:00.250Z");
    assert_string_equal(from_utc("Asia/Kolkata", "2026-07-15T12:00:00Z"),
                        "2026-07-15T17:30:00.000Z");
    assert_string_equal(from_utc("UTC", "2026-07-15T12:00:00Z"), "2026-07-15T12:00:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-07-15T14:00"), "2026-07-15T12:00:00.000Z");
    /* Berlin changes at 01:00 UTC on both days. */
    assert_string_equal(from_utc("Europe/Berlin", "2026-03-29T00:59:59Z"),
                        "2026-03-29T01:59:59.000Z");
    assert_string_equal(from_utc("Europe/Berlin", "2026-03-29T01:00:00Z"),
                        "2026-03-29T03:00:00.000Z");
    assert_string_equal(from_utc("Europe/Berlin", "2026-10-25T00:59:59Z"),
                        "2026-10-25T02:59:59.000Z");
    assert_string_equal(from_utc("Europe/Berlin", "2026-10-25T01:00:00Z"),
                        "2026-10-25T02:00:00.000Z");
}

static void test_gap_moves_forward(void **state)
{
    (void)state;
    /* 02:00..02:59 do not exist on these days; the gap is one hour. */
    assert_string_equal(to_utc("Europe/Berlin", "2026-03-29T02:30"), "2026-03-29T01:30:00.000Z");
    assert_string_equal(from_utc("Europe/Berlin", "2026-03-29T01:30:00Z"),
                        "2026-03-29T03:30:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-03-29T02:00"), "2026-03-29T01:00:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-03-29T03:00"), "2026-03-29T01:00:00.000Z");
    assert_string_equal(to_utc("America/New_York", "2026-03-08T02:30"), "2026-03-08T07:30:00.000Z");
    assert_string_equal(from_utc("America/New_York", "2026-03-08T07:30:00Z"),
                        "2026-03-08T03:30:00.000Z");
    /* Samoa skipped all of 2011-12-30: a wall time in it moves by the whole day. */
    assert_string_equal(to_utc("Pacific/Apia", "2011-12-30T12:00"), "2011-12-30T22:00:00.000Z");
    assert_string_equal(from_utc("Pacific/Apia", "2011-12-30T22:00:00Z"),
                        "2011-12-31T12:00:00.000Z");
    /* Lord Howe moves its clocks by half an hour. */
    assert_string_equal(to_utc("Australia/Lord_Howe", "2026-10-04T02:15"),
                        "2026-10-03T15:45:00.000Z");
}

static void test_overlap_takes_first(void **state)
{
    (void)state;
    /* 02:00..02:59 happen twice in Berlin, first CEST (+2), then CET (+1). */
    assert_string_equal(to_utc("Europe/Berlin", "2026-10-25T02:30"), "2026-10-25T00:30:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-10-25T02:00"), "2026-10-25T00:00:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-10-25T01:59"), "2026-10-24T23:59:00.000Z");
    assert_string_equal(to_utc("Europe/Berlin", "2026-10-25T03:00"), "2026-10-25T02:00:00.000Z");
    /* 01:00..01:59 happen twice in New York, first EDT (-4), then EST (-5). */
    assert_string_equal(to_utc("America/New_York", "2026-11-01T01:30"), "2026-11-01T05:30:00.000Z");
    assert_string_equal(to_utc("America/New_York", "2026-11-01T02:30"), "2026-11-01T07:30:00.000Z");
}

/* Every UTC instant maps to a local time and back to itself, except the
 * second pass through a repeated hour, which maps back to the first pass. */
static void roundtrip_zone(const char *tz, int64_t from, int64_t to)
{
    for (int64_t u = from; u < to; u += 15 * 60000) {
        int64_t local, back, again;
        assert_int_equal(localtime_from_utc(tz, u, &local), 0);
        assert_int_equal(localtime_to_utc(tz, local, &back), 0);
        if (back == u)
            continue;
        assert_true(back < u);
        assert_true(u - back <= 2 * HOUR);
        assert_int_equal(localtime_from_utc(tz, back, &again), 0);
        assert_int_equal(again, local);
    }
    /* And every local time maps to an instant that shows it, or (in a gap) a
     * later wall time no further away than the gap. */
    for (int64_t l = from; l < to; l += 15 * 60000) {
        int64_t u, shown;
        assert_int_equal(localtime_to_utc(tz, l, &u), 0);
        assert_int_equal(localtime_from_utc(tz, u, &shown), 0);
        assert_true(shown >= l && shown - l <= 2 * HOUR);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    int64_t from = t("2026-01-01T00:00:00Z"), to = t("2027-01-01T00:00:00Z");
    roundtrip_zone("Europe/Berlin", from, to);
    roundtrip_zone("America/New_York", from, to);
    roundtrip_zone("Australia/Lord_Howe", from, to);
    roundtrip_zone("America/Santiago", from, to);
    roundtrip_zone("UTC", from, to);
}

static void test_calendar_arithmetic(void **state)
{
    (void)state;
    assert_string_equal(iso(localtime_add_months(t("2026-01-31T10:15"), 1)),
                        "2026-02-28T10:15:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2028-01-31T10:15"), 1)),
                        "2028-02-29T10:15:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2026-03-31T00:00"), 1)),
                        "2026-04-30T00:00:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2026-12-31T23:59"), 2)),
                        "2027-02-28T23:59:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2026-11-15T08:00"), 14)),
                        "2028-01-15T08:00:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2026-03-31T08:00"), -1)),
                        "2026-02-28T08:00:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2100-01-31T08:00"), 1)),
                        "2100-02-28T08:00:00.000Z");
    assert_string_equal(iso(localtime_add_months(t("2000-01-31T08:00"), 1)),
                        "2000-02-29T08:00:00.000Z");
    assert_string_equal(iso(localtime_add_days(t("2026-12-30T22:00"), 3)),
                        "2027-01-02T22:00:00.000Z");
    assert_string_equal(iso(localtime_add_days(t("2028-02-28T22:00"), 1)),
                        "2028-02-29T22:00:00.000Z");
    assert_string_equal(iso(localtime_at_minute(t("2026-05-05T17:45:12.5"), 9 * 60)),
                        "2026-05-05T09:00:00.000Z");
    assert_string_equal(iso(localtime_at_minute(t("1969-12-31T17:45"), 1439)),
                        "1969-12-31T23:59:00.000Z");
}

static void test_range(void **state)
{
    (void)state;
    int64_t out;
    assert_int_equal(localtime_from_utc("UTC", LOCALTIME_MAX_MS, &out), -ERANGE);
    assert_int_equal(localtime_to_utc("Europe/Berlin", LOCALTIME_MIN_MS - 1, &out), -ERANGE);
    assert_int_equal(localtime_from_utc("Europe/Berlin", LOCALTIME_MAX_MS - DAY, &out), 0);
    assert_int_equal(localtime_to_utc("Europe/Berlin", LOCALTIME_MIN_MS + DAY, &out), 0);
}

static void test_cache_bounded(void **state)
{
    (void)state;
    static const char *const zones[] = {
        "Europe/Berlin",    "Europe/Paris",      "Europe/London",     "Europe/Madrid",
        "Europe/Rome",      "Europe/Vienna",     "Europe/Warsaw",     "Europe/Prague",
        "Europe/Lisbon",    "Europe/Dublin",     "Europe/Oslo",       "Europe/Helsinki",
        "Europe/Athens",    "Europe/Kyiv",       "Europe/Istanbul",   "Europe/Zurich",
        "America/New_York", "America/Chicago",   "America/Denver",    "America/Phoenix",
        "America/Toronto",  "America/Halifax",   "America/Sao_Paulo", "America/Mexico_City",
        "Asia/Tokyo",       "Asia/Kolkata",      "Asia/Shanghai",     "Asia/Singapore",
        "Asia/Dubai",       "Asia/Tehran",       "Australia/Sydney",  "Australia/Perth",
        "Pacific/Auckland", "Pacific/Honolulu",  "Africa/Lagos",      "Africa/Nairobi",
        "Africa/Cairo",     "America/Anchorage", "Asia/Kathmandu",    "Atlantic/Azores",
    };
    localtime_global_cleanup();
    assert_int_equal(localtime_cache_count(), 0);
    int64_t u = t("2026-07-01T12:00:00Z"), first = 0;
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        int64_t local;
        assert_int_equal(localtime_from_utc(zones[i], u, &local), 0);
        if (i == 0)
            first = local;
        assert_true(localtime_cache_count() <= LOCALTIME_CACHE_MAX);
    }
    assert_int_equal(localtime_cache_count(), LOCALTIME_CACHE_MAX);
    /* Berlin was evicted; it loads again and answers the same. */
    assert_false(localtime_tz_loaded("Europe/Berlin"));
    int64_t again;
    assert_int_equal(localtime_from_utc("Europe/Berlin", u, &again), 0);
    assert_int_equal(again, first);
    assert_true(localtime_tz_loaded("Europe/Berlin"));
    assert_int_equal(localtime_cache_count(), LOCALTIME_CACHE_MAX);
    /* UTC and unknown names take no slot. */
    localtime_global_cleanup();
    assert_true(localtime_tz_valid("UTC"));
    assert_false(localtime_tz_valid("Nowhere/Town"));
    assert_int_equal(localtime_cache_count(), 0);
}

static int group_teardown(void **state)
{
    (void)state;
    localtime_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_names),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_gap_moves_forward),
        cmocka_unit_test(test_overlap_takes_first),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_calendar_arithmetic),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_cache_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
