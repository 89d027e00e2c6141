/* Wall-clock and monotonic time, ISO-8601 in and out.
 *
 * Parsing converts calendar fields with our own days-from-civil arithmetic
 * instead of mktime()/timegm(): mktime() depends on the TZ environment and
 * timegm() silently normalises "February 30" into March, while we want such
 * input rejected and the result exact for every date from 0001 to 9999. */
#include "hirewire/clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

/* Read by every clock_now_ms() on the loop thread and written only by the test
 * build's admin endpoint on the same thread, so it needs no atomics. */
static int64_t clock_offset;

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void clock_set_offset_ms(int64_t offset_ms)
{
    clock_offset = offset_ms;
}

int64_t clock_offset_ms(void)
{
    return clock_offset;
}

int clock_format_iso(int64_t ms, char *buf, size_t n)
{
    if (!buf || n < 25)
        return -EINVAL;

    /* Floor division: -1 ms is 1969-12-31T23:59:59.999Z, not .-01. */
    int64_t sec = ms / 1000;
    int64_t rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        sec -= 1;
    }

    time_t t = (time_t)sec;
    struct tm tm;
    if ((int64_t)t != sec || !gmtime_r(&t, &tm))
        return -EINVAL;
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999)
        return -EINVAL;

    int w = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
    return w == 24 ? 0 : -EINVAL;
}

int64_t clock_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil: shift the year to start in March so the
 * leap day is the last day of the year, then count whole 400-year eras. */
int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = clock_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void clock_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = clock_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int clock_days_in_month(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

/* Reads exactly ndigits decimal digits. */
static bool parse_digits(const char **p, int ndigits, int *out)
{
    int v = 0;
    for (int i = 0; i < ndigits; i++) {
        unsigned char c = (unsigned char)(*p)[i];
        if (!isdigit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *p += ndigits;
    *out = v;
    return true;
}

/* "Z", "+hh", "+hhmm" or "+hh:mm"; the sign may be '-'. */
static bool parse_zone(const char **p, int *offset_min)
{
    const char *s = *p;
    if (*s == 'Z' || *s == 'z') {
        *offset_min = 0;
        *p = s + 1;
        return true;
    }
    if (*s != '+' && *s != '-')
        return false;
    int sign = *s == '-' ? -1 : 1;
    s++;
    int hh, mm = 0;
    if (!parse_digits(&s, 2, &hh))
        return false;
    if (*s == ':') {
        s++;
        if (!parse_digits(&s, 2, &mm))
            return false;
    } else if (isdigit((unsigned char)*s)) {
        if (!parse_digits(&s, 2, &mm))
            return false;
    }
    if (hh > 23 || mm > 59)
        return false;
    *offset_min = sign * (hh * 60 + mm);
    *p = s;
    return true;
}

/* The time of day after the 'T': "HH:MM", optional ":SS" and ".fraction". */
static bool parse_time(const char **p, int *hh, int *mi, int *ss, int *msec)
{
    const char *s = *p;
    if (!parse_digits(&s, 2, hh) || *s++ != ':' || !parse_digits(&s, 2, mi))
        return false;
    *ss = 0;
    *msec = 0;
    if (*s == ':') {
        s++;
        if (!parse_digits(&s, 2, ss))
            return false;
        if (*s == '.' || *s == ',') {
            s++;
            int ndigits = 0;
            /* Keep milliseconds, truncate the rest: a stored time never
             * moves into the next millisecond because of rounding. */
            while (isdigit((unsigned char)*s)) {
                if (ndigits < 3)
                    *msec = *msec * 10 + (*s - '0');
                ndigits++;
                s++;
            }
            if (ndigits == 0 || ndigits > 9)
                return false;
            for (int i = ndigits; i < 3; i++)
                *msec *= 10;
        }
    }
    if (*hh > 23 || *mi > 59 || *ss > 59)
        return false;
    *p = s;
    return true;
}

static int parse_iso(const char *s, int tz_offset_min, int64_t *ms_out, bool *zoned)
{
    if (!s || !ms_out || tz_offset_min <= -24 * 60 || tz_offset_min >= 24 * 60)
        return -EINVAL;
    *zoned = false;

    const char *p = s;
    int y, mo, d;
    if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
        !parse_digits(&p, 2, &d))
        return -EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > clock_days_in_month(y, mo))
        return -EINVAL;

    int hh = 0, mi = 0, ss = 0, msec = 0;
    int offset = tz_offset_min;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -EINVAL;
        p++;
        if (!parse_time(&p, &hh, &mi, &ss, &msec))
            return -EINVAL;
        *zoned = *p != '\0';
        if (*zoned && !parse_zone(&p, &offset))
            return -EINVAL;
        if (*p != '\0')
            return -EINVAL;
    }

    int64_t days = clock_days_from_civil(y, mo, d);
    *ms_out = days * MS_PER_DAY + (int64_t)hh * 3600000 + (int64_t)mi * 60000 + (int64_t)ss * 1000 +
              msec - (int64_t)offset * 60000;
    return 0;
}

int clock_parse_iso(const char *s, int tz_offset_min, int64_t *ms_out)
{
    bool zoned;
    return parse_iso(s, tz_offset_min, ms_out, &zoned);
}

int clock_parse_iso_zoned(const char *s, int64_t *ms_out, bool *zoned)
{
    return parse_iso(s, 0, ms_out, zoned);
}
