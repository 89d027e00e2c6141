/* Time. Every wall-clock reading in hirewire goes through clock_now_ms() so
 * that tests can move time (clock_set_offset_ms) instead of sleeping. */
#ifndef HIREWIRE_CLOCK_H
#define HIREWIRE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch, UTC, plus the test offset. */
int64_t clock_now_ms(void);

/* Monotonic milliseconds, for durations and timeouts. */
int64_t clock_mono_ms(void);

/* Monotonic nanoseconds, for latency histograms. */
uint64_t clock_mono_ns(void);

/* Shifts clock_now_ms() by offset_ms. Only the test build's admin path uses it. */
void clock_set_offset_ms(int64_t offset_ms);
int64_t clock_offset_ms(void);

/* Proleptic Gregorian calendar arithmetic, any year. clock_floor_div rounds
 * towards minus infinity (b > 0); days count from 1970-01-01, months 1..12. */
int64_t clock_floor_div(int64_t a, int64_t b);
int64_t clock_days_from_civil(int64_t y, int m, int d);
void clock_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int clock_days_in_month(int64_t y, int m);

/* Writes "2026-11-22T12:00:00.123Z" (24 chars + NUL) into buf. n must be >= 25.
 * Returns 0 or -EINVAL. */
int clock_format_iso(int64_t ms, char *buf, size_t n);

/* Parses ISO-8601: "2026-11-22T12:00:00Z", with optional fraction, "Z" or
 * "+hh:mm"/"-hh:mm" offset, a space instead of 'T', or no seconds
 * ("2026-11-22T12:00"). A time without zone is taken in tz_offset_min (minutes
 * east of UTC). Returns 0 or -EINVAL. */
int clock_parse_iso(const char *s, int tz_offset_min, int64_t *ms_out);

/* clock_parse_iso() that also tells whether s names its zone ("Z" or an
 * offset). Without one, *ms_out is the wall-clock time read as UTC. */
int clock_parse_iso_zoned(const char *s, int64_t *ms_out, bool *zoned);

#endif
