/* Wall-clock time in IANA time zones ("Europe/Berlin", "America/New_York",
 * "UTC"), read from the system zoneinfo through libical, without touching the
 * process's TZ environment variable.
 *
 * A local time is an int64_t "local ms": the wall-clock reading written as if
 * it were UTC milliseconds since the epoch. 2026-03-29 02:30 in Berlin is the
 * local ms of 2026-03-29T02:30:00Z, whatever instant (if any) it names. Calendar
 * arithmetic (localtime_add_days, localtime_add_months) works on local ms;
 * localtime_from_utc and localtime_to_utc cross between the two.
 *
 * Loaded zones are kept in a small process-wide cache (LOCALTIME_CACHE_MAX
 * zones, least recently used evicted) guarded by a mutex, so every function
 * may be called from any thread; a zone is read from the database outside
 * that mutex, so using a loaded zone never waits for another thread's file
 * read. localtime_global_cleanup() releases the cache. */
#ifndef HIREWIRE_LOCALTIME_H
#define HIREWIRE_LOCALTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCALTIME_TZ_MAX 64    /* longest accepted zone name, in bytes */
#define LOCALTIME_CACHE_MAX 32 /* zones kept loaded at once */

/* Times outside [LOCALTIME_MIN_MS, LOCALTIME_MAX_MS) (1900-01-01 to
 * 2200-01-01) are refused with -ERANGE: the zone data says nothing useful
 * about them, and libical expands a zone's transitions year by year up to
 * the year asked for. */
#define LOCALTIME_MIN_MS INT64_C(-2208988800000)
#define LOCALTIME_MAX_MS INT64_C(7258118400000)

/* True when tz names a zone of the system database that loads: an IANA name
 * made of '/'-separated parts of letters, digits, '_', '+' and '-', each
 * starting with a letter, at most LOCALTIME_TZ_MAX bytes. "posix/...",
 * "right/...", "localtime", "posixrules" and "Factory" are refused. NULL is
 * false. Loads (and caches) the zone. */
bool localtime_tz_valid(const char *tz);

/* True when tz is "UTC" or a zone the cache holds now: the functions here
 * then read no file for it (until it is evicted, past LOCALTIME_CACHE_MAX
 * zones in use). Never loads anything. */
bool localtime_tz_loaded(const char *tz);

/* *local_ms = the wall-clock time in tz at the instant utc_ms. Returns 0,
 * -EINVAL (unknown zone, NULL argument) or -ERANGE (utc_ms out of range). A
 * zone that cannot be loaded for any reason, memory included, is unknown. */
int localtime_from_utc(const char *tz, int64_t utc_ms, int64_t *local_ms);

/* *utc_ms = the instant at which the clocks in tz show local_ms. A wall time
 * that does not exist (skipped by a spring-forward change) is moved forward by
 * the length of the gap: 02:30 on a day that jumps from 02:00 to 03:00 gives
 * 03:30. A wall time that occurs twice (a fall-back change) gives the first
 * occurrence. Same return values as localtime_from_utc. */
int localtime_to_utc(const char *tz, int64_t local_ms, int64_t *utc_ms);

/* The same wall-clock time `days` calendar days later (earlier when
 * negative). No zone involved. */
int64_t localtime_add_days(int64_t local_ms, int days);

/* The same wall-clock time `months` calendar months later (earlier when
 * negative), the day clamped to the last day of the target month:
 * 2026-01-31 + 1 month = 2026-02-28, 2028-01-31 + 1 month = 2028-02-29. */
int64_t localtime_add_months(int64_t local_ms, int months);

/* The same local date at minute_of_day (0..1439) minutes past midnight,
 * seconds and milliseconds zero. */
int64_t localtime_at_minute(int64_t local_ms, int minute_of_day);

/* How many zones the cache holds now (0..LOCALTIME_CACHE_MAX). */
size_t localtime_cache_count(void);

/* Frees every cached zone and libical's own zone tables (its builtin zones,
 * so zones other modules got from libical become invalid too). Call once at
 * exit, after every other user of libical; later calls load zones afresh. */
void localtime_global_cleanup(void);

#endif
