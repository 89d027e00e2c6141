/* The IntegrationOrchestrator: the table of reactions, running them, marking
 * events reacted, and the sweeper that finishes what a failure or a crash
 * left undone.
 *
 * Reactions of one event run one after the other, in table order, because
 * a later one may read what an earlier one wrote. A failed reaction stops
 * the run: the event stays unreacted and the sweeper runs all its reactions
 * again later, which is safe because each is idempotent. Marks are batched
 * (one UPDATE for many events) because every event is marked, also those
 * without reactions, and at hundreds of saves a second one statement per
 * event would cost more than the events themselves. */
#define LOG_MOD "orchestrator"

#include "hirewire/orchestrator.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/app.h"
#include "hirewire/bus.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"

#define MARK_BATCH 500
/* How long marks gather before one statement records them. Nothing waits
 * for a mark but the sweeper, which leaves events alone for
 * reaction_retry_s; at 500 saves a second, 50 ms make one statement of some
 * 25 marks where 5 ms made one of 2 or 3. */
#define MARK_DELAY_MS 50
#define SWEEP_LIMIT 100
#define LEASE_MIN_S 60

/* Which modules react to which event, in order. */
static const struct module_ops *const on_job_created[] = {&research_ops, &cache_ops, NULL};
static const struct module_ops *const on_status_changed[] = {&cache_ops, &learning_ops,
                                                              &followup_ops, NULL};
static const struct module_ops *const on_interview[] = {&calendar_ops, &followup_ops, NULL};

static const struct reaction_row {
    const char *type;
    const struct module_ops *const *ops;
} reactions[] = {
    {"job.created", on_job_created},
    {"job.updated", on_job_created}, /* a renamed company is linked anew */
    {"application.status_changed", on_status_changed},
    {"interview.scheduled", on_interview},
    {"interview.updated", on_interview},
    {"interview.cancelled", on_interview},
};
#define NROWS (sizeof(reactions) / sizeof(reactions[0]))

static const struct module_ops *const all_modules[] = {&research_ops, &cache_ops, &learning_ops,
                                                       &calendar_ops, &followup_ops};
#define NMODULES (sizeof(all_modules) / sizeof(all_modules[0]))

struct module_metrics {
    struct metric *runs, *failures, *seconds;
};

struct sweep;

struct orchestrator {
    struct app *app;
    struct module_metrics mm[NMODULES];
    struct metric *m_swept, *m_marked, *m_mark_failed;
    uv_timer_t sweep_timer, mark_timer;
    bool stopping, hold, sweeping, marking;
    int64_t *mark_users, *mark_seqs;
    size_t nmark, mark_cap;
};

struct orch_run {
    struct orchestrator *o;
    struct event *ev;
    json_t *envelope;
    const struct module_ops *const *ops;
    size_t at;
    uint64_t t0;
    struct sweep *sweep; /* the sweep this run belongs to, or NULL */
};

/* A claimed page of events, run one after the other. */
struct sweep {
    struct orchestrator *o;
    struct event **events;
    size_t n, at;
    bool full;
};

static const struct reaction_row *row_of(const char *type)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(reactions[i].type, type) == 0)
            return &reactions[i];
    return NULL;
}

static struct module_metrics *metrics_of(struct orchestrator *o, const struct module_ops *m)
{
    for (size_t i = 0; i < NMODULES; i++)
        if (all_modules[i] == m)
            return &o->mm[i];
    return NULL;
}

/* --- marks --- */

static void mark_flush(struct orchestrator *o);

static void on_marked(void *arg, int err)
{
    struct orchestrator *o = arg;
    o->marking = false;
    if (err)
        metric_inc(o->m_mark_failed);
    mark_flush(o);
}

static void mark_flush(struct orchestrator *o)
{
    if (o->marking || o->nmark == 0)
        return;
    size_t n = o->nmark < MARK_BATCH ? o->nmark : MARK_BATCH;
    /* A failed mark only means the sweeper runs those reactions again. */
    if (eventlog_mark_reacted(o->app->pg, n, o->mark_users, o->mark_seqs, on_marked, o) == 0) {
        o->marking = true;
        metric_add(o->m_marked, (double)n);
    } else {
        metric_add(o->m_mark_failed, 1);
    }
    memmove(o->mark_users, o->mark_users + n, (o->nmark - n) * sizeof *o->mark_users);
    memmove(o->mark_seqs, o->mark_seqs + n, (o->nmark - n) * sizeof *o->mark_seqs);
    o->nmark -= n;
}

static void on_mark_timer(uv_timer_t *t)
{
    mark_flush(t->data);
}

static void mark(struct orchestrator *o, const struct event *ev)
{
    if (o->nmark == o->mark_cap) {
        size_t cap = o->mark_cap ? 2 * o->mark_cap : 256;
        int64_t *u = realloc(o->mark_users, cap * sizeof *u);
        if (u)
            o->mark_users = u;
        int64_t *s = u ? realloc(o->mark_seqs, cap * sizeof *s) : NULL;
        if (s)
            o->mark_seqs = s;
        if (!u || !s) {
            metric_inc(o->m_mark_failed);
            return;
        }
        o->mark_cap = cap;
    }
    o->mark_users[o->nmark] = ev->user_id;
    o->mark_seqs[o->nmark] = ev->seq;
    o->nmark++;
    if (o->stopping)
        mark_flush(o);
    else if (!o->marking && !uv_is_active((uv_handle_t *)&o->mark_timer))
        uv_timer_start(&o->mark_timer, on_mark_timer, MARK_DELAY_MS, 0);
}

/* --- runs --- */

static void sweep_next(struct sweep *s);

static void run_free(struct orch_run *run)
{
    event_unref(run->ev);
    json_decref(run->envelope);
    free(run);
}

static void run_finish(struct orch_run *run, int err)
{
    struct sweep *s = run->sweep;
    if (!err)
        mark(run->o, run->ev);
    else
        LOG_WARN("reactions of %s user=%" PRId64 " seq=%" PRId64 " stopped at %s: %s; they run "
                 "again later",
                 run->ev->type, run->ev->user_id, run->ev->seq, run->ops[run->at]->name,
                 err_str(err));
    run_free(run);
    if (s)
        sweep_next(s);
}

static void run_next(struct orch_run *run)
{
    const struct module_ops *m = run->ops[run->at];
    if (!m) {
        run_finish(run, 0);
        return;
    }
    run->t0 = clock_mono_ns();
    int rc = m->on_event(run);
    if (rc < 0) {
        struct module_metrics *mm = metrics_of(run->o, m);
        metric_inc(mm ? mm->failures : NULL);
        run_finish(run, rc);
    }
}

void orch_run_done(struct orch_run *run, int err)
{
    struct module_metrics *mm = metrics_of(run->o, run->ops[run->at]);
    if (mm) {
        metric_inc(mm->runs);
        metric_observe(mm->seconds, (double)(clock_mono_ns() - run->t0) / 1e9);
        if (err)
            metric_inc(mm->failures);
    }
    if (err) {
        run_finish(run, err);
        return;
    }
    run->at++;
    run_next(run);
}

static int run_start(struct orchestrator *o, struct event *ev, const struct reaction_row *row,
                     struct sweep *s)
{
    struct orch_run *run = calloc(1, sizeof *run);
    if (!run)
        return -ENOMEM;
    /* The data object, parsed once for all the reactions. */
    run->envelope = json_loadb((const char *)ev->frame->payload, ev->frame->len, 0, NULL);
    if (!json_is_object(json_object_get(run->envelope, "data"))) {
        json_decref(run->envelope);
        free(run);
        return HW_EINTERNAL;
    }
    run->o = o;
    run->ev = event_ref(ev);
    run->ops = row->ops;
    run->sweep = s;
    run_next(run);
    return 0;
}

struct app *orch_run_app(const struct orch_run *run)
{
    return run->o->app;
}

const struct event *orch_run_event(const struct orch_run *run)
{
    return run->ev;
}

json_t *orch_run_data(const struct orch_run *run)
{
    return json_object_get(run->envelope, "data");
}

void orch_run_publish(struct orch_run *run, const struct eventlog_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        bus_publish(run->o->app->bus, r->events[i]);
}

static void on_bus(void *arg, struct event *ev)
{
    struct orchestrator *o = arg;
    const struct reaction_row *row = row_of(ev->type);
    if (!row) {
        mark(o, ev);
        return;
    }
    if (o->hold || o->stopping)
        return; /* the sweeper's, later */
    int rc = run_start(o, ev, row, NULL);
    if (rc)
        LOG_WARN("reactions of %s seq=%" PRId64 " not started: %s", ev->type, ev->seq,
                 err_str(rc));
}

/* --- the sweeper --- */

static void sweep_free(struct sweep *s)
{
    for (size_t i = 0; i < s->n; i++)
        event_unref(s->events[i]);
    free(s->events);
    free(s);
}

static void sweep_next(struct sweep *s)
{
    struct orchestrator *o = s->o;
    while (s->at < s->n) {
        struct event *ev = s->events[s->at++];
        const struct reaction_row *row = row_of(ev->type);
        if (!row) {
            mark(o, ev);
            continue;
        }
        metric_inc(o->m_swept);
        if (run_start(o, ev, row, s) == 0)
            return; /* continues when the run finishes */
    }
    bool again = s->full && !o->stopping;
    sweep_free(s);
    o->sweeping = false;
    if (again)
        orchestrator_sweep(o);
}

static int by_user_seq(const void *a, const void *b)
{
    const struct event *x = *(struct event *const *)a, *y = *(struct event *const *)b;
    if (x->user_id != y->user_id)
        return x->user_id < y->user_id ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void on_claimed(void *arg, int err, const struct eventlog_page *page)
{
    struct orchestrator *o = arg;
    struct sweep *s = err ? NULL : calloc(1, sizeof *s);
    if (s && page->n)
        s->events = calloc(page->n, sizeof *s->events);
    if (!s || (page->n && !s->events)) {
        free(s);
        o->sweeping = false;
        return;
    }
    s->o = o;
    s->full = page->n == SWEEP_LIMIT;
    for (size_t i = 0; i < page->n; i++)
        s->events[s->n++] = event_ref(page->events[i]);
    if (s->n) {
        qsort(s->events, s->n, sizeof *s->events, by_user_seq);
        LOG_INFO("running the unfinished reactions of %zu events", s->n);
    }
    sweep_next(s);
}

void orchestrator_sweep(struct orchestrator *o)
{
    if (o->sweeping || o->stopping || o->hold)
        return;
    int grace = o->app->cfg->reaction_retry_s;
    int lease = grace * 4 > LEASE_MIN_S ? grace * 4 : LEASE_MIN_S;
    if (eventlog_claim_unreacted(o->app->pg, grace, lease, SWEEP_LIMIT, on_claimed, o) == 0)
        o->sweeping = true;
}

static void on_sweep_timer(uv_timer_t *t)
{
    orchestrator_sweep(t->data);
}

void orchestrator_hold(struct orchestrator *o, bool hold)
{
    o->hold = hold;
}

/* --- life --- */

struct orchestrator *orchestrator_new(struct app *app)
{
    static const char *const help[] = {
        "reactions run, by module",
        "reactions that failed (they run again later), by module",
        "reaction latency in seconds, by module",
    };
    struct orchestrator *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->app = app;
    if (bus_subscribe(app->bus, on_bus, o)) {
        free(o);
        return NULL;
    }
    for (size_t i = 0; i < NMODULES; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "module=\"%s\"", all_modules[i]->name);
        o->mm[i].runs = metrics_counter(app->metrics, "hirewire_reactions_total", labels, help[0]);
        o->mm[i].failures =
            metrics_counter(app->metrics, "hirewire_reaction_failures_total", labels, help[1]);
        o->mm[i].seconds =
            metrics_histogram(app->metrics, "hirewire_reaction_seconds", labels, help[2],
                              metrics_latency_bounds, metrics_latency_nbounds);
    }
    o->m_swept = metrics_counter(app->metrics, "hirewire_reactions_swept_total", NULL,
                                 "events whose reactions the sweeper ran again");
    o->m_marked = metrics_counter(app->metrics, "hirewire_events_reacted_total", NULL,
                                  "events marked as fully reacted");
    o->m_mark_failed = metrics_counter(app->metrics, "hirewire_event_mark_failures_total", NULL,
                                       "reacted marks that could not be written");
    uv_timer_init(app->loop, &o->sweep_timer);
    uv_timer_init(app->loop, &o->mark_timer);
    o->sweep_timer.data = o->mark_timer.data = o;
    uint64_t every = (uint64_t)app->cfg->reaction_sweep_s * 1000;
    /* The first look soon after start: a node that crashed has work left. */
    uv_timer_start(&o->sweep_timer, on_sweep_timer, 1000, every);
    return o;
}

void orchestrator_stop(struct orchestrator *o)
{
    if (!o || o->stopping)
        return;
    o->stopping = true;
    uv_close((uv_handle_t *)&o->sweep_timer, NULL);
    uv_close((uv_handle_t *)&o->mark_timer, NULL);
    mark_flush(o);
}

void orchestrator_free(struct orchestrator *o)
{
    if (!o)
        return;
    free(o->mark_users);
    free(o->mark_seqs);
    free(o);
}
