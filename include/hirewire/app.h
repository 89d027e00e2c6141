/* The application: the one struct that holds every module of a running node,
 * built in app.c and passed down. Start and stop follow one table, in the order
 * of DESIGN §2; when step k fails, steps k-1..0 are undone in reverse. */
#ifndef HIREWIRE_APP_H
#define HIREWIRE_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct config;
struct metrics;
struct pg;
struct redis;
struct cache;
struct http_server;
struct bus;
struct hub;
struct broker;
struct orchestrator;
struct scheduler;
struct sequences;

enum app_today {
    APP_TODAY_JOBS_PROCESSED,
    APP_TODAY_FOLLOWUPS_SCHEDULED,
    APP_TODAY_CALENDAR_EVENTS,
    APP_TODAY_WS_EVENTS_SENT,
    APP_TODAY__COUNT,
};

struct app {
    uv_loop_t *loop;
    const struct config *cfg;
    struct metrics *metrics;
    struct pg *pg;
    struct redis *redis; /* NULL when no Redis is configured */
    struct cache *cache;
    struct broker *broker;
    struct bus *bus;
    struct hub *hub;
    struct orchestrator *orch;
    struct scheduler *sched;
    struct sequences *sequences; /* the follow-up sequences of config */
    struct http_server *http;

    char node_id[96];
    int64_t started_ms;
    bool stopping;

    /* counters of the current UTC day, for the health report */
    int64_t today_day; /* days since the epoch the counters belong to */
    uint64_t today[APP_TODAY__COUNT];

    /* the housekeeping timer: proves the loop turns, rolls the day over */
    uv_timer_t tick;
    int64_t last_tick_ms;
    int64_t next_prune_ms; /* when retention runs next */
    bool pruning;

    uv_signal_t sigint, sigterm;
    int signals; /* how many stop signals arrived */
    bool hard_exit;
    uv_timer_t drain; /* waits for requests in flight at a graceful stop */
    uint64_t drain_started;
};

/* app_serve()'s answer after a second stop signal: the caller exits at once,
 * without tearing anything down. */
#define APP_EXIT_HARD 3

/* Runs the server until SIGINT/SIGTERM. Returns the process exit status. */
int app_serve(const struct config *cfg);

/* Adds n to a counter of the current day. The day rolls over at UTC midnight
 * within a second (the housekeeping tick), so this is a plain increment. */
void app_count_today(struct app *app, enum app_today which, uint64_t n);
uint64_t app_today(struct app *app, enum app_today which);

/* Makes zone tz loaded (localtime_tz_loaded) before cb(arg, known) runs on
 * the loop: at once when it already is, else after a libuv worker thread has
 * read it from the zone database, so that the loop reads no zoneinfo file
 * (unless more than LOCALTIME_CACHE_MAX zones are in use and it is evicted
 * again before its use). known is localtime_tz_valid(tz). Returns 0, or a
 * negative errno without calling cb. */
typedef void (*app_zone_cb)(void *arg, bool known);
int app_zone_load(struct app *app, const char *tz, app_zone_cb cb, void *arg);

#endif
