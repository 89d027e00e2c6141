/* Wall-clock time in IANA zones through libical.
 *
 * libical answers one question reliably: what is the UTC offset of zone Z at
 * the UTC instant T (icaltimezone_get_utc_offset_of_utc_time). Everything
 * else is built on that question here, so the rules for local times that do
 * not exist or exist twice are ours and written down in one place instead of
 * depending on what a library version does with them.
 *
 * The process's TZ variable is never read or changed: other code on the same
 * thread formats times, and setenv() is not thread-safe.
 *
 * Zones are loaded with icaltzutil_fetch_timezone() into our own
 * icaltimezone objects rather than through icaltimezone_get_builtin_timezone(),
 * whose table only grows: every spelling that opens a file ("Europe//Berlin",
 * "./Europe/Berlin") would add a zone for the life of the process. Our cache
 * is bounded and its entries are freed on eviction. It is the one piece of
 * process-wide state of this module, like libical's own tables behind it. */
#include "hirewire/localtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libical/ical.h>
#include <libical/icaltz-util.h>

#include "hirewire/clock.h"

#define MS_PER_DAY INT64_C(86400000)
#define MS_PER_MINUTE INT64_C(60000)
#define SEC_PER_DAY INT64_C(86400)

struct zone_slot {
    char name[LOCALTIME_TZ_MAX + 1];
    icaltimezone *zone;
    uint64_t used; /* zones_tick at the last lookup, for eviction */
};

/* zones_lock guards the cache and every use of a cached zone; load_lock lets
 * one thread at a time read the zone database, without holding zones_lock,
 * so that the users of loaded zones never wait for a file. */
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone_slot zones[LOCALTIME_CACHE_MAX];
static size_t zones_n;
static uint64_t zones_tick;

/* --- calendar arithmetic (clock.c's proleptic Gregorian, any year) --- */

int64_t localtime_add_days(int64_t local_ms, int days)
{
    /* Local ms has no DST: every local day is 86400000 ms long. */
    return local_ms + (int64_t)days * MS_PER_DAY;
}

int64_t localtime_add_months(int64_t local_ms, int months)
{
    int64_t day = clock_floor_div(local_ms, MS_PER_DAY);
    int64_t in_day = local_ms - day * MS_PER_DAY;
    int64_t y;
    int m, d;
    clock_civil_from_days(day, &y, &m, &d);
    int64_t index = y * 12 + (m - 1) + months;
    y = clock_floor_div(index, 12);
    m = (int)(index - y * 12) + 1;
    if (d > clock_days_in_month(y, m))
        d = clock_days_in_month(y, m);
    return clock_days_from_civil(y, m, d) * MS_PER_DAY + in_day;
}

int64_t localtime_at_minute(int64_t local_ms, int minute_of_day)
{
    return clock_floor_div(local_ms, MS_PER_DAY) * MS_PER_DAY + minute_of_day * MS_PER_MINUTE;
}

/* --- zone names and the cache --- */

/* Only names that are plainly zone names reach the file system: this keeps
 * "../" and absolute paths out, and refuses the zoneinfo entries that are
 * files but not zones a user lives in. */
static bool tz_name_ok(const char *tz)
{
    static const char *const refused[] = {"localtime", "posixrules", "Factory"};
    size_t len = strlen(tz);
    if (len == 0 || len > LOCALTIME_TZ_MAX)
        return false;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (strcmp(tz, refused[i]) == 0)
            return false;
    }
    if (strncmp(tz, "posix/", 6) == 0 || strncmp(tz, "right/", 6) == 0)
        return false;
    bool part_start = true;
    for (const char *p = tz; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (part_start && !alpha)
            return false;
        part_start = c == '/';
        if (!alpha && !(c >= '0' && c <= '9') && !strchr("_+-/", c))
            return false;
    }
    return !part_start;
}

static icaltimezone *zone_load(const char *tz)
{
    icalcomponent *comp = icaltzutil_fetch_timezone(tz);
    if (!comp)
        return NULL;
    icaltimezone *zone = icaltimezone_new();
    if (!zone || !icaltimezone_set_component(zone, comp)) {
        icalcomponent_free(comp);
        if (zone)
            icaltimezone_free(zone, 1);
        return NULL;
    }
    return zone;
}

/* Under zones_lock: the slot of tz, its use recorded, or NULL. */
static struct zone_slot *slot_find(const char *tz)
{
    for (size_t i = 0; i < zones_n; i++)
        if (strcmp(zones[i].name, tz) == 0) {
            zones[i].used = ++zones_tick;
            return &zones[i];
        }
    return NULL;
}

/* Under zones_lock: a new slot for tz, the least recently used one evicted
 * when the cache is full. */
static struct zone_slot *slot_put(const char *tz, icaltimezone *zone)
{
    struct zone_slot *s = &zones[0];
    if (zones_n < LOCALTIME_CACHE_MAX) {
        s = &zones[zones_n++];
    } else {
        for (size_t i = 1; i < zones_n; i++)
            if (zones[i].used < s->used)
                s = &zones[i];
        icaltimezone_free(s->zone, 1);
    }
    snprintf(s->name, sizeof(s->name), "%s", tz);
    s->zone = zone;
    s->used = ++zones_tick;
    return s;
}

/* Under zones_lock, which is released while the zone database is read.
 * *zone = NULL means UTC. Returns 0 or -EINVAL. The zone stays valid until
 * the lock is released. */
static int zone_get(const char *tz, icaltimezone **zone)
{
    *zone = NULL;
    if (!tz || !tz_name_ok(tz))
        return -EINVAL;
    if (strcmp(tz, "UTC") == 0)
        return 0;
    struct zone_slot *s = slot_find(tz);
    if (!s) {
        pthread_mutex_unlock(&zones_lock);
        pthread_mutex_lock(&load_lock);
        icaltimezone *loaded = zone_load(tz);
        pthread_mutex_unlock(&load_lock);
        pthread_mutex_lock(&zones_lock);
        if (!loaded)
            return -EINVAL;
        s = slot_find(tz); /* another thread may have loaded it meanwhile */
        if (s)
            icaltimezone_free(loaded, 1);
        else
            s = slot_put(tz, loaded);
    }
    *zone = s->zone;
    return 0;
}

/* UTC offset in seconds east of zone at the UTC second utc_s. */
static int zone_offset(icaltimezone *zone, int64_t utc_s)
{
    if (!zone)
        return 0;
    int64_t day = clock_floor_div(utc_s, SEC_PER_DAY);
    int64_t sec = utc_s - day * SEC_PER_DAY;
    int64_t y;
    int m, d;
    clock_civil_from_days(day, &y, &m, &d);
    struct icaltimetype tt = icaltime_null_time();
    tt.year = (int)y;
    tt.month = m;
    tt.day = d;
    tt.hour = (int)(sec / 3600);
    tt.minute = (int)(sec / 60 % 60);
    tt.second = (int)(sec % 60);
    int is_daylight;
    return icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &is_daylight);
}

/* The instant whose wall clock reads local_s. Zones change their offset at
 * most once within a day on either side of a wall time, so the offsets a day
 * before and a day after are the only candidates: a candidate is right when
 * the zone really has that offset at the instant it gives. Both right means
 * the wall time occurs twice, and the larger offset gives the earlier
 * instant; none right means it was skipped, and reading it with the offset
 * from before the change lands as far past the change as the gap is long. */
static int64_t zone_to_utc(icaltimezone *zone, int64_t local_s)
{
    int before = zone_offset(zone, local_s - SEC_PER_DAY);
    int after = zone_offset(zone, local_s + SEC_PER_DAY);
    int first = before > after ? before : after;
    int second = before > after ? after : before;
    if (zone_offset(zone, local_s - first) == first)
        return local_s - first;
    if (zone_offset(zone, local_s - second) == second)
        return local_s - second;
    return local_s - before;
}

/* --- public functions --- */

bool localtime_tz_valid(const char *tz)
{
    icaltimezone *zone;
    pthread_mutex_lock(&zones_lock);
    int rc = zone_get(tz, &zone);
    pthread_mutex_unlock(&zones_lock);
    return rc == 0;
}

bool localtime_tz_loaded(const char *tz)
{
    if (!tz || strcmp(tz, "UTC") == 0)
        return tz != NULL;
    pthread_mutex_lock(&zones_lock);
    bool found = slot_find(tz) != NULL;
    pthread_mutex_unlock(&zones_lock);
    return found;
}

/* Both crossings: whole seconds go through the zone, the milliseconds ride
 * along unchanged. */
static int cross(const char *tz, int64_t ms, bool to_utc, int64_t *out)
{
    if (!out)
        return -EINVAL;
    if (ms < LOCALTIME_MIN_MS || ms >= LOCALTIME_MAX_MS)
        return -ERANGE;
    int64_t s = clock_floor_div(ms, 1000);
    icaltimezone *zone;
    pthread_mutex_lock(&zones_lock);
    int rc = zone_get(tz, &zone);
    if (rc == 0)
        *out = (to_utc ? zone_to_utc(zone, s) : s + zone_offset(zone, s)) * 1000 + (ms - s * 1000);
    pthread_mutex_unlock(&zones_lock);
    return rc;
}

int localtime_from_utc(const char *tz, int64_t utc_ms, int64_t *local_ms)
{
    return cross(tz, utc_ms, false, local_ms);
}

int localtime_to_utc(const char *tz, int64_t local_ms, int64_t *utc_ms)
{
    return cross(tz, local_ms, true, utc_ms);
}

size_t localtime_cache_count(void)
{
    pthread_mutex_lock(&zones_lock);
    size_t n = zones_n;
    pthread_mutex_unlock(&zones_lock);
    return n;
}

void localtime_global_cleanup(void)
{
    pthread_mutex_lock(&zones_lock);
    for (size_t i = 0; i < zones_n; i++)
        icaltimezone_free(zones[i].zone, 1);
    memset(zones, 0, sizeof(zones));
    zones_n = 0;
    zones_tick = 0;
    icaltimezone_free_builtin_timezones();
    pthread_mutex_unlock(&zones_lock);
}
