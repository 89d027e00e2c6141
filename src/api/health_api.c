/* Health, metrics and identity (GET and PATCH /api/v1/me).
 *
 * Health is answered from real checks: a round trip to PostgreSQL through
 * the pool (so a dead pool shows as down even before a request fails), the
 * Redis connection state, the WebSocket server and the housekeeping timer
 * that proves the loop turns. PostgreSQL down = unhealthy (503); Redis down
 * or not configured = degraded (the cache runs from memory, one node only). */
#define LOG_MOD "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/broker.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/jsonx.h"
#include "hirewire/localtime.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/pg.h"
#include "hirewire/redis.h"

#include "api_doc.h"

#define TICK_STALE_MS 5000

struct health_check {
    struct http_req *req;
    bool full;
    uint64_t t0_ns;
};

static const char *redis_state(const struct app *app)
{
    if (!app->redis)
        return "disabled";
    return redis_is_up(app->redis) ? "up" : "down";
}

static json_t *today_json(struct app *app)
{
    char date[32];
    time_t t = (time_t)(clock_now_ms() / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "date", date, "jobs_processed",
                     (json_int_t)app_today(app, APP_TODAY_JOBS_PROCESSED), "followups_scheduled",
                     (json_int_t)app_today(app, APP_TODAY_FOLLOWUPS_SCHEDULED),
                     "calendar_events_created", (json_int_t)app_today(app, APP_TODAY_CALENDAR_EVENTS),
                     "websocket_events_sent", (json_int_t)app_today(app, APP_TODAY_WS_EVENTS_SENT));
}

static json_t *checks_json(struct app *app, bool db_up, double latency_ms)
{
    struct pg_stats ps;
    int64_t ago = clock_now_ms() - app->last_tick_ms;

    pg_stats(app->pg, &ps);
    json_t *db = json_pack("{s:s, s:b, s:o, s:{s:i, s:i, s:i, s:i}}", "status",
                           db_up ? "up" : "down", "connected", db_up, "latency_ms",
                           db_up ? json_real(latency_ms) : json_null(), "pool", "size", ps.size,
                           "connected", ps.up, "busy", ps.busy, "queued", ps.queued);
    json_t *rd = json_pack("{s:s, s:b}", "status", redis_state(app), "connected",
                           app->redis && redis_is_up(app->redis));
    json_t *ws = json_pack("{s:s, s:i}", "status", "up", "connections",
                           http_connections(app->http));
    json_t *sched = json_pack("{s:s, s:I}", "status", ago <= TICK_STALE_MS ? "up" : "stalled",
                              "last_tick_ms_ago", (json_int_t)ago);
    json_t *br = json_pack("{s:s, s:s}", "status", broker_state(app->broker), "node_id",
                           app->node_id);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "database", db, "redis", rd, "websocket", ws,
                     "scheduler", sched, "broker", br);
}

static void health_reply(struct health_check *hc, bool db_up, double latency_ms)
{
    struct http_req *req = hc->req;
    struct app *app = http_req_app(req);
    const char *rs = redis_state(app);
    const char *status = !db_up ? "unhealthy" : strcmp(rs, "up") ? "degraded" : "healthy";
    int code = db_up ? 200 : 503;
    json_t *body;

    if (hc->full) {
        body = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "status", status, "node_id",
                         app->node_id, "version", HIREWIRE_VERSION, "uptime_s",
                         (json_int_t)((clock_now_ms() - app->started_ms) / 1000), "checks",
                         checks_json(app, db_up, latency_ms), "today", today_json(app));
    } else {
        body = json_pack("{s:s, s:{s:s, s:b}, s:{s:s, s:b}}", "status", status, "database",
                         "status", db_up ? "up" : "down", "connected", db_up, "redis", "status",
                         rs, "connected", app->redis && redis_is_up(app->redis));
    }
    free(hc);
    http_reply_json_take(req, code, body);
}

static void on_ping(void *arg, int err, const PGresult *res)
{
    struct health_check *hc = arg;
    double ms = (double)(clock_mono_ns() - hc->t0_ns) / 1e6;

    (void)res;
    health_reply(hc, err == 0, ms);
}

static void health_start(struct http_req *req, bool full)
{
    struct health_check *hc = malloc(sizeof(*hc));

    if (!hc) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    hc->req = req;
    hc->full = full;
    hc->t0_ns = clock_mono_ns();
    if (pg_query(http_req_app(req)->pg, "SELECT 1", 0, NULL, on_ping, hc))
        health_reply(hc, false, 0);
}

void api_health(struct http_req *req)
{
    health_start(req, false);
}

void api_integrations_health(struct http_req *req)
{
    health_start(req, true);
}

void api_root(struct http_req *req)
{
    struct app *app = http_req_app(req);

    http_reply_json_take(req, 200,
                         json_pack("{s:s, s:s, s:s, s:s, s:s}", "message",
                                   "Job Automation System API", "status", "running", "service",
                                   "hirewire", "version", HIREWIRE_VERSION, "node_id",
                                   app->node_id));
}

void api_metrics(struct http_req *req)
{
    size_t len = 0;
    char *text = metrics_render(http_req_app(req)->metrics, &len);

    if (!text) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

#define ME_COLUMNS                                                                                 \
    "id, name, timezone, to_char(created_at AT TIME ZONE 'UTC', "                                  \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static void on_me(void *arg, int err, const PGresult *res)
{
    struct http_req *req = arg;

    if (err) {
        api_store_error(req, err, "reading the user");
        return;
    }
    if (PQntuples(res) != 1) {
        api_error(req, HW_ENOTFOUND, NULL, "the user no longer exists");
        return;
    }
    http_reply_json_take(req, 200,
                         json_pack("{s:I, s:s, s:s, s:s}", "user_id",
                                   (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "name",
                                   PQgetvalue(res, 0, 1), "timezone", PQgetvalue(res, 0, 2),
                                   "created_at", PQgetvalue(res, 0, 3)));
}

void api_me(struct http_req *req)
{
    char id[API_ID_LEN];
    const char *params[1] = {id};

    api_uid(req, id);
    int rc = pg_query(http_req_app(req)->pg, "SELECT " ME_COLUMNS " FROM users WHERE id = $1", 1,
                      params, on_me, req);
    if (rc)
        api_store_error(req, rc, "reading the user");
}

/* Whether the zone exists is known only once it is loaded, which happens
 * off the loop (app_zone_load); the field check only bounds the length. */
static bool tz_short(const char *tz)
{
    return strlen(tz) <= LOCALTIME_TZ_MAX;
}

/* The name is the account's handle, which the operator's commands name
 * users by; it is not the user's to change. */
static const struct api_doc_field me_fields[] = {
    {"timezone", NULL, DOC_ENUM, 0, 0, false, tz_short,
     "the IANA time zones of the server's zone database, like Europe/Berlin or UTC", true},
};

struct me_change {
    struct http_req *req;
    char tz[LOCALTIME_TZ_MAX + 1];
};

static void on_me_zone(void *arg, bool known)
{
    struct me_change *m = arg;
    struct http_req *req = m->req;
    if (!known) {
        api_error(req, HW_EVALIDATION, "timezone", "timezone must be one of %s",
                  me_fields[0].expect);
        free(m);
        return;
    }
    char id[API_ID_LEN];
    api_uid(req, id);
    const char *params[2] = {id, m->tz};
    int rc = pg_query(http_req_app(req)->pg,
                      "UPDATE users SET timezone = $2 WHERE id = $1 RETURNING " ME_COLUMNS, 2,
                      params, on_me, req);
    free(m);
    if (rc)
        api_store_error(req, rc, "changing the user");
}

/* PATCH /api/v1/me {"timezone"}: the zone that times without one are read in
 * from now on (and that follow-up sequences place their days in). Times
 * already stored keep their instant. */
void api_me_update(struct http_req *req)
{
    json_t *body = http_req_json(req);
    if (json_is_object(body) && json_object_get(body, "name")) {
        api_error(req, HW_EVALIDATION, "name",
                  "name is the account's handle; the operator sets it (hirewire user add)");
        return;
    }
    json_t *doc = api_doc_read(req, me_fields, 1, false);
    if (!doc)
        return;
    const char *tz = json_string_value(json_object_get(doc, "timezone"));
    if (!tz) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, NULL, "nothing to change: give timezone");
        return;
    }
    struct me_change *m = malloc(sizeof *m);
    if (!m) {
        json_decref(doc);
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    m->req = req;
    snprintf(m->tz, sizeof m->tz, "%s", tz);
    json_decref(doc);
    if (app_zone_load(http_req_app(req), m->tz, on_me_zone, m)) {
        free(m);
        api_error(req, -ENOMEM, NULL, "out of memory");
    }
}
