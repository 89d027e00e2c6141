/* Start-up and shutdown of a serving node.
 *
 * Start is one table in DESIGN order; if step k fails, steps k-1..0 are
 * undone in reverse. Stop is asynchronous because closing libuv handles is:
 * the first SIGINT/SIGTERM stops taking new requests, waits (bounded) for
 * those in flight, then closes the HTTP server, Redis and the PostgreSQL pool
 * and lets uv_run() return by itself once no handle is left. A second signal
 * stops the process at once. */
#define LOG_MOD "app"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/broker.h"
#include "hirewire/bus.h"
#include "hirewire/cache.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/eventlog.h"
#include "hirewire/http.h"
#include "hirewire/hub.h"
#include "hirewire/localtime.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/orchestrator.h"
#include "hirewire/pg.h"
#include "hirewire/redis.h"
#include "hirewire/scheduler.h"
#include "hirewire/sequences.h"

#define TICK_MS 1000
#define DRAIN_POLL_MS 20
#define DRAIN_MAX_MS 10000
#define PRUNE_EVERY_MS (3600 * 1000)
#define PRUNE_BATCH 5000

/* --- counters of the day --- */

static void roll_day(struct app *app)
{
    int64_t day = clock_now_ms() / 86400000;

    if (day != app->today_day) {
        app->today_day = day;
        memset(app->today, 0, sizeof(app->today));
    }
}

/* On the delivery path: no clock read here; the housekeeping tick rolls the
 * day over every second, and readers roll it before reading. */
void app_count_today(struct app *app, enum app_today which, uint64_t n)
{
    app->today[which] += n;
}

uint64_t app_today(struct app *app, enum app_today which)
{
    roll_day(app);
    return app->today[which];
}

/* --- time zones, read off the loop --- */

struct zone_load {
    uv_work_t work;
    app_zone_cb cb;
    void *arg;
    bool known;
    char tz[LOCALTIME_TZ_MAX + 1];
};

static void zone_load_work(uv_work_t *w)
{
    struct zone_load *z = w->data;
    z->known = localtime_tz_valid(z->tz);
}

/* At a stop the loop keeps turning until the work is done, so the caller
 * always hears back; its reply or statement then meets a closed server. */
static void zone_load_done(uv_work_t *w, int status)
{
    struct zone_load *z = w->data;
    z->cb(z->arg, status == 0 && z->known);
    free(z);
}

int app_zone_load(struct app *app, const char *tz, app_zone_cb cb, void *arg)
{
    if (!tz || strlen(tz) > LOCALTIME_TZ_MAX) {
        cb(arg, false);
        return 0;
    }
    if (localtime_tz_loaded(tz)) {
        cb(arg, true);
        return 0;
    }
    struct zone_load *z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    z->work.data = z;
    z->cb = cb;
    z->arg = arg;
    memcpy(z->tz, tz, strlen(tz) + 1);
    int rc = uv_queue_work(app->loop, &z->work, zone_load_work, zone_load_done);
    if (rc)
        free(z);
    return rc;
}

/* --- steps --- */

static int start_pg(struct app *app)
{
    struct pg_opts o = {
        .conninfo = app->cfg->pg_conninfo,
        .pool_size = app->cfg->pg_pool_size,
        .queue_max = app->cfg->pg_queue_max,
        .connect_timeout_s = app->cfg->pg_connect_timeout_s,
    };

    app->pg = pg_new(app->loop, &o, app->metrics);
    return app->pg ? 0 : -EINVAL;
}

static int start_redis(struct app *app)
{
    const struct config *cfg = app->cfg;

    if (!cfg->redis_host[0]) {
        LOG_WARN("no Redis configured (redis_host): cache in memory, this node works alone");
        return 0;
    }
    struct redis_opts o = {
        .host = cfg->redis_host,
        .port = cfg->redis_port,
        .password = cfg->redis_password,
        .db = cfg->redis_db,
    };
    app->redis = redis_new(app->loop, &o, app->metrics);
    return app->redis ? 0 : -EINVAL;
}

static int start_cache(struct app *app)
{
    struct cache_opts o = {
        .prefix = app->cfg->redis_prefix,
        .lru_max_entries = (size_t)app->cfg->cache_lru_entries,
        .lru_max_bytes = (size_t)app->cfg->cache_lru_bytes,
    };

    app->cache = cache_new(app->loop, app->redis, &o, app->metrics);
    return app->cache ? 0 : -ENOMEM;
}

static void on_pruned(void *arg, int err, long long deleted)
{
    struct app *app = arg;

    app->pruning = false;
    if (err) {
        LOG_WARN("event retention failed: %s; retrying later", err_str(err));
        return;
    }
    if (deleted > 0)
        LOG_INFO("event retention removed %lld events older than %d days", deleted,
                 app->cfg->event_retention_days);
    /* A full batch means there is more: go on at the next tick. */
    if (deleted == PRUNE_BATCH)
        app->next_prune_ms = 0;
}

static void on_tick(uv_timer_t *t)
{
    struct app *app = t->data;

    app->last_tick_ms = clock_now_ms();
    roll_day(app);
    if (!app->pruning && !app->stopping && app->last_tick_ms >= app->next_prune_ms) {
        app->next_prune_ms = app->last_tick_ms + PRUNE_EVERY_MS;
        if (eventlog_prune(app->pg, app->cfg->event_retention_days, PRUNE_BATCH, on_pruned,
                           app) == 0)
            app->pruning = true;
    }
}

static int start_tick(struct app *app)
{
    uv_timer_init(app->loop, &app->tick);
    app->tick.data = app;
    app->last_tick_ms = clock_now_ms();
    /* Retention runs at the first tick, then hourly: a node that was down for
     * a while catches up at once, and the batched delete is cheap and
     * idempotent when several nodes start together. */
    app->next_prune_ms = app->last_tick_ms;
    return uv_timer_start(&app->tick, on_tick, TICK_MS, TICK_MS);
}

static void deliver_to_hub(void *arg, struct event *ev)
{
    hub_deliver(arg, ev);
}

static int start_bus(struct app *app)
{
    app->bus = bus_new();
    return app->bus ? 0 : -ENOMEM;
}

static int start_hub(struct app *app)
{
    app->hub = hub_new(app);
    if (!app->hub)
        return -ENOMEM;
    return bus_subscribe(app->bus, deliver_to_hub, app->hub);
}

static int start_broker(struct app *app)
{
    app->broker = broker_new(app);
    return app->broker ? 0 : -ENOMEM;
}

static int start_sequences(struct app *app)
{
    char err[512];
    app->sequences = sequences_load(app->cfg->sequences_file, err, sizeof err);
    if (!app->sequences) {
        LOG_ERROR("%s", err);
        return -EINVAL;
    }
    return 0;
}

static int start_scheduler(struct app *app)
{
    app->sched = scheduler_new(app);
    return app->sched ? 0 : -ENOMEM;
}

static int start_orchestrator(struct app *app)
{
    app->orch = orchestrator_new(app);
    return app->orch ? 0 : -ENOMEM;
}

static int start_http(struct app *app)
{
    return http_start(app, api_routes, api_routes_count, api_error_msg, &app->http);
}

/* Undo functions used when a later start step fails, before the loop runs. */
static void undo_pg(struct app *app)
{
    pg_close(app->pg, NULL, NULL);
    app->pg = NULL;
}

static void undo_redis(struct app *app)
{
    if (app->redis)
        redis_close(app->redis, NULL, NULL);
    app->redis = NULL;
}

static void undo_cache(struct app *app)
{
    cache_free(app->cache);
    app->cache = NULL;
}

static void undo_bus(struct app *app)
{
    bus_free(app->bus);
    app->bus = NULL;
}

static void undo_hub(struct app *app)
{
    /* Freed once the loop has closed its timer (app_serve). */
    hub_close_all(app->hub, 1001, "server stopping");
}

static void undo_broker(struct app *app)
{
    broker_free(app->broker);
    app->broker = NULL;
}

static void undo_orchestrator(struct app *app)
{
    /* Freed once the loop has closed its timers (app_serve). */
    orchestrator_stop(app->orch);
}

static void undo_sequences(struct app *app)
{
    sequences_free(app->sequences);
    app->sequences = NULL;
}

static void undo_scheduler(struct app *app)
{
    scheduler_stop(app->sched); /* freed once the loop closed its timer */
}

static void undo_tick(struct app *app)
{
    uv_close((uv_handle_t *)&app->tick, NULL);
}

static const struct {
    const char *name;
    int (*start)(struct app *);
    void (*undo)(struct app *);
} steps[] = {
    {"sequences", start_sequences, undo_sequences},
    {"postgresql", start_pg, undo_pg},
    {"redis", start_redis, undo_redis},
    {"cache", start_cache, undo_cache},
    {"bus", start_bus, undo_bus},
    {"hub", start_hub, undo_hub},
    {"broker", start_broker, undo_broker},
    {"orchestrator", start_orchestrator, undo_orchestrator},
    {"follow-up scheduler", start_scheduler, undo_scheduler},
    {"scheduler", start_tick, undo_tick},
    {"http", start_http, NULL},
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* --- stop --- */

static void close_all(struct app *app)
{
    LOG_INFO("closing connections");
    uv_timer_stop(&app->tick);
    uv_close((uv_handle_t *)&app->tick, NULL);
    hub_close_all(app->hub, 1001, "server stopping");
    http_stop(app->http);
    scheduler_stop(app->sched);
    orchestrator_stop(app->orch);
    broker_free(app->broker);
    app->broker = NULL;
    /* The cache first: it unregisters from Redis and answers its waiting
     * callers (whose requests are detached by now) before Redis goes. */
    cache_free(app->cache);
    app->cache = NULL;
    if (app->redis)
        redis_close(app->redis, NULL, NULL);
    app->redis = NULL;
    pg_close(app->pg, NULL, NULL);
    app->pg = NULL;
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
}

static void on_drain(uv_timer_t *t)
{
    struct app *app = t->data;
    int64_t waited = (int64_t)uv_now(app->loop) - (int64_t)app->drain_started;

    if (http_inflight(app->http) > 0 && waited < DRAIN_MAX_MS)
        return;
    if (http_inflight(app->http) > 0)
        LOG_WARN("%d requests still unanswered after %d ms; closing anyway",
                 http_inflight(app->http), DRAIN_MAX_MS);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    close_all(app);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *app = h->data;

    if (++app->signals > 1) {
        LOG_WARN("second signal (%s): exiting now", strsignal(signum));
        app->hard_exit = true;
        uv_stop(app->loop);
        return;
    }
    LOG_INFO("%s: stopping (send it again to exit at once)", strsignal(signum));
    app->stopping = true;
    http_drain(app->http);
    hub_close_all(app->hub, 1001, "server stopping");
    app->drain_started = (uint64_t)uv_now(app->loop);
    uv_timer_init(app->loop, &app->drain);
    app->drain.data = app;
    uv_timer_start(&app->drain, on_drain, 0, DRAIN_POLL_MS);
}

static void print_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    LOG_ERROR("handle still open at exit: %s%s", uv_handle_type_name(uv_handle_get_type(h)),
              uv_is_closing(h) ? " (closing)" : "");
}

/* Frees what outlives the handles once the loop has run dry: lws needs a
 * second destroy after the loop drained (see http_free), the modules whose
 * handles the loop closed, the global tz caches last. Returns the loop's
 * close status (0 when no handle was left). */
static int release(struct app *app)
{
    uv_run(app->loop, UV_RUN_DEFAULT);
    http_free(app->http);
    app->http = NULL;
    uv_run(app->loop, UV_RUN_DEFAULT);
    hub_free(app->hub);
    orchestrator_free(app->orch);
    scheduler_free(app->sched);
    bus_free(app->bus);
    sequences_free(app->sequences);
    sequences_global_cleanup();
    int rc = uv_loop_close(app->loop);
    if (rc) {
        uv_walk(app->loop, print_handle, NULL);
        LOG_ERROR("the loop did not close cleanly: %s", uv_strerror(rc));
    }
    metrics_free(app->metrics);
    return rc;
}

/* --- run --- */

int app_serve(const struct config *cfg)
{
    struct app app;
    uv_loop_t loop;
    size_t done = 0;
    int rc;

    memset(&app, 0, sizeof(app));
    uv_loop_init(&loop);
    app.loop = &loop;
    app.cfg = cfg;
    app.started_ms = clock_now_ms();
    snprintf(app.node_id, sizeof(app.node_id), "%s", cfg->node_id);
    roll_day(&app);
    app.metrics = metrics_new();
    if (!app.metrics) {
        uv_loop_close(&loop);
        return 1;
    }
    log_route_lws();

    for (; done < NSTEPS; done++) {
        rc = steps[done].start(&app);
        if (rc) {
            LOG_ERROR("cannot start %s: %s", steps[done].name, err_str(rc));
            break;
        }
    }
    if (done < NSTEPS) {
        while (done-- > 0)
            if (steps[done].undo)
                steps[done].undo(&app);
        release(&app);
        return 1;
    }

    uv_signal_init(&loop, &app.sigint);
    uv_signal_init(&loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);

    const char *base = cfg->public_url[0] ? cfg->public_url : NULL;
    if (base)
        LOG_INFO("listening on %s:%d (public URL %s), node %s", cfg->listen_host, cfg->port, base,
                 app.node_id);
    else
        LOG_INFO("listening on http://%s:%d/, node %s", cfg->listen_host, cfg->port,
                 app.node_id);

    uv_run(&loop, UV_RUN_DEFAULT);
    if (app.hard_exit)
        return APP_EXIT_HARD;

    rc = release(&app);
    if (rc == 0)
        LOG_INFO("stopped");
    return rc ? 1 : 0;
}
