/* The follow-up scheduler: one timer per node, armed for the earliest pending
 * due time.
 *
 * The rows live in PostgreSQL only; the node keeps one number (when to look
 * next), so its memory and its start-up time do not depend on how many
 * follow-ups are pending. At the due time it claims a batch of due rows
 * (FOR UPDATE SKIP LOCKED) and turns them into events in the same
 * statement: whichever node claims a row fires it, once. After downtime the
 * first look finds everything overdue and fires it oldest first, marked
 * late. The timer never sleeps longer than a minute, so a follow-up
 * scheduled by a node that died meanwhile still fires on time within that.
 *
 * A burst (a batch came back full: more are due) is fired by FIRE_PARALLEL
 * statements at once; SKIP LOCKED hands each its own rows, and PostgreSQL
 * works on them on as many cores. */
#define LOG_MOD "scheduler"

#include "hirewire/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/app.h"
#include "hirewire/bus.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/followup_repo.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/pg.h"

#define LOOK_MAX_MS 60000
#define RETRY_MS 1000
#define LATE_MS 60000
#define FIRE_PARALLEL 2

struct scheduler {
    struct app *app;
    uv_timer_t timer;
    uint64_t armed_mono; /* loop time (uv_now) the timer fires at, 0 when not armed */
    int busy;          /* statements in flight: firings and the look at the next due time */
    bool again;        /* something came due while busy: fire once they are done */
    bool stopping;
    struct metric *m_fired, *m_delay, *m_failed;
};

static void fire(struct scheduler *s);
static bool fire_one(struct scheduler *s);

static void on_timer(uv_timer_t *t)
{
    struct scheduler *s = t->data;
    s->armed_mono = 0;
    fire(s);
}

/* Arms the timer for due_ms (clock time), or keeps it when it already
 * fires sooner. The comparison is made in loop time, so that a wall clock
 * that jumps (a laptop waking up, the test clock) cannot leave the timer
 * waiting for a moment that no longer means what it meant. */
static void arm(struct scheduler *s, int64_t due_ms)
{
    if (s->stopping)
        return;
    int64_t now = clock_now_ms();
    uint64_t delay = due_ms > now ? (uint64_t)(due_ms - now) : 0;
    if (delay > LOOK_MAX_MS)
        delay = LOOK_MAX_MS;
    uint64_t at = uv_now(s->app->loop) + delay;
    if (s->armed_mono && s->armed_mono <= at)
        return;
    s->armed_mono = at;
    uv_timer_start(&s->timer, on_timer, delay, 0);
}

void scheduler_note_due(struct scheduler *s, int64_t due_ms)
{
    if (s)
        arm(s, due_ms);
}

static void on_next(void *arg, int err, const PGresult *res)
{
    struct scheduler *s = arg;
    s->busy--;
    if (err) {
        arm(s, clock_now_ms() + RETRY_MS);
        return;
    }
    if (s->again) {
        fire(s);
        return;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        arm(s, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    else
        arm(s, clock_now_ms() + LOOK_MAX_MS);
}

static void look_next(struct scheduler *s)
{
    if (pg_query(s->app->pg, followup_repo_sql_next_due, 0, NULL, on_next, s) == 0)
        s->busy++;
    else
        arm(s, clock_now_ms() + RETRY_MS);
}

static void on_fired(void *arg, int err, const struct eventlog_result *r)
{
    struct scheduler *s = arg;
    int64_t now = clock_now_ms();
    s->busy--;
    for (size_t i = 0; i < r->n; i++) {
        bus_publish(s->app->bus, r->events[i]);
        metric_observe(s->m_delay, (double)(now - r->events[i]->created_ms) / 1000.0);
    }
    if (err) {
        /* A lost connection or a failure. Whatever the statement committed
         * (it may have, when the connection broke after the commit or the
         * events could not be read back) is in the log for the replay, and
         * rows still due are claimed by the next try. */
        metric_inc(s->m_failed);
        LOG_WARN("firing due follow-ups failed: %s; again in %d ms", err_str(err), RETRY_MS);
        if (s->busy == 0)
            arm(s, now + RETRY_MS);
        return;
    }
    if (s->stopping)
        return;
    const PGresult *res = r->res;
    long fired = PQntuples(res) ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    metric_add(s->m_fired, (double)fired);
    if (fired > 0)
        LOG_INFO("fired %ld due follow-ups and reminders", fired);
    if (fired >= s->app->cfg->followup_batch) {
        while (s->busy < FIRE_PARALLEL && fire_one(s))
            ;
        return;
    }
    if (s->busy > 0)
        return; /* the last statement of the burst to finish goes on */
    if (s->again)
        fire(s);
    else
        look_next(s);
}

/* Sends one firing statement; false when it could not be sent (the timer
 * is then armed for a retry unless another statement is still out). */
static bool fire_one(struct scheduler *s)
{
    char now[24], batch[16], late[16];
    snprintf(now, sizeof now, "%" PRId64, clock_now_ms());
    snprintf(batch, sizeof batch, "%d", s->app->cfg->followup_batch);
    snprintf(late, sizeof late, "%d", LATE_MS);
    const char *params[3] = {now, batch, late};
    if (eventlog_exec(s->app->pg, 0, followup_repo_sql_fire, 3, params, on_fired, s) == 0) {
        s->busy++;
        return true;
    }
    if (s->busy == 0)
        arm(s, clock_now_ms() + RETRY_MS);
    return false;
}

/* Fires what is due now, or once the statements in flight are done. */
static void fire(struct scheduler *s)
{
    if (s->stopping)
        return;
    if (s->busy > 0) {
        s->again = true;
        return;
    }
    s->again = false;
    fire_one(s);
}

void scheduler_poke(struct scheduler *s)
{
    if (s)
        fire(s);
}

void scheduler_on_event(struct scheduler *s, const struct event *ev)
{
    if (!s || (strcmp(ev->type, "followup.scheduled") && strcmp(ev->type, "followup.snoozed")))
        return;
    /* The due time is in the data; a parse per scheduling is cheap next to
     * the statement that made it. */
    json_t *env = json_loadb((const char *)ev->frame->payload, ev->frame->len, 0, NULL);
    const char *due = json_string_value(json_object_get(json_object_get(env, "data"), "due_date"));
    int64_t ms;
    if (due && clock_parse_iso(due, 0, &ms) == 0)
        arm(s, ms);
    json_decref(env);
}

static void on_bus(void *arg, struct event *ev)
{
    scheduler_on_event(arg, ev);
}

struct scheduler *scheduler_new(struct app *app)
{
    struct scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->app = app;
    s->m_fired = metrics_counter(app->metrics, "hirewire_followups_fired_total", NULL,
                                 "follow-ups and reminders this node fired");
    s->m_failed = metrics_counter(app->metrics, "hirewire_followup_fire_failures_total", NULL,
                                  "firing statements that failed (retried)");
    s->m_delay = metrics_histogram(app->metrics, "hirewire_followup_publish_seconds", NULL,
                                   "from the firing commit to the publish of its event",
                                   metrics_latency_bounds, metrics_latency_nbounds);
    if (bus_subscribe(app->bus, on_bus, s)) {
        free(s);
        return NULL;
    }
    uv_timer_init(app->loop, &s->timer);
    s->timer.data = s;
    /* The first look at once: what came due while no node ran fires now. */
    arm(s, clock_now_ms() + 200);
    return s;
}

void scheduler_stop(struct scheduler *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->timer, NULL);
}

void scheduler_free(struct scheduler *s)
{
    free(s);
}
