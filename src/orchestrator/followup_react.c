/* The follow-up module's reactions: an application that becomes applied
 * starts its sequence; an interview schedules its post-interview steps
 * (timed from the interview's end) and its reminders (1 day, 1 hour and 15
 * minutes before), a reschedule moves them, a cancellation drops them; an
 * application that ends (rejected, withdrawn, offer accepted or rejected,
 * archived) cancels whatever is still pending for the job.
 *
 * Due times and texts are computed here (the user's zone, the templates),
 * then written by one upsert keyed by origin, so a reaction that runs twice
 * writes nothing twice, and anchors come from the event (its commit time or
 * the interview's time), so a second run computes the same due times. */
#define LOG_MOD "followup"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/followup_repo.h"
#include "hirewire/localtime.h"
#include "hirewire/log.h"
#include "hirewire/orchestrator.h"
#include "hirewire/pg.h"
#include "hirewire/pgarray.h"
#include "hirewire/scheduler.h"
#include "hirewire/sequences.h"


static const int reminder_min[] = {1440, 60, 15};
static const char *const reminder_text[] = {"1 day", "1 hour", "15 minutes"};

struct plan {
    struct orch_run *run;
    int64_t job, interview;
    struct pgarray origin, kind, seq, step, type, prio, subject, message, due;
    /* A context that waits for its zone to load, and its handler. */
    PGresult *ctx;
    pg_result_cb ctx_cb;
    bool zone_tried, zone_unknown;
};

static void plan_free(struct plan *p)
{
    struct pgarray *a[] = {&p->origin, &p->kind, &p->seq, &p->step, &p->type,
                           &p->prio, &p->subject, &p->message, &p->due};
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
        pgarray_free(a[i]);
    free(p);
}

/* Ends the run with err, the plan first. */
static void plan_end(struct plan *p, int err)
{
    struct orch_run *run = p->run;
    plan_free(p);
    orch_run_done(run, err);
}

static const char *val(const PGresult *res, const char *col)
{
    int c = PQfnumber(res, col);
    return c < 0 || PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

static int add_row(struct plan *p, const char *origin, const char *kind, const char *seq, int step,
                   const char *type, const char *prio, const char *subject, const char *message,
                   int64_t due)
{
    char st[16], d[24];
    snprintf(st, sizeof st, "%d", step);
    snprintf(d, sizeof d, "%" PRId64, due);
    int rc = pgarray_add(&p->origin, origin) | pgarray_add(&p->kind, kind) |
             pgarray_add(&p->seq, seq) | pgarray_add(&p->step, st) | pgarray_add(&p->type, type) |
             pgarray_add(&p->prio, prio) | pgarray_add(&p->subject, subject) |
             pgarray_add(&p->message, message) | pgarray_add(&p->due, d);
    return rc ? -ENOMEM : 0;
}

/* Adds the steps of sequence q, anchored at anchor_ms in zone tz. */
static int add_sequence(struct plan *p, const struct sequences_seq *q, const char *key,
                        int64_t anchor_ms, const char *tz, const struct sequences_vars *vars)
{
    for (size_t i = 0; i < sequences_seq_step_count(q); i++) {
        const struct sequences_step *st = sequences_seq_step(q, i);
        int64_t due;
        int rc = sequences_due_ms(&st->delay, anchor_ms, tz, &due);
        if (rc == -EINVAL) /* a zone that vanished from the system: UTC */
            rc = sequences_due_ms(&st->delay, anchor_ms, "UTC", &due);
        if (rc)
            return rc;
        char origin[160];
        snprintf(origin, sizeof origin, "%s:%s:%zu", key, sequences_seq_name(q), i);
        char *subject = sequences_render(st->subject, vars);
        char *message = sequences_render(st->message, vars);
        if (!subject || !message)
            rc = -ENOMEM;
        else
            rc = add_row(p, origin, "followup", sequences_seq_name(q), (int)i, st->type,
                         sequences_priority_name(st->priority), subject, message, due);
        free(subject);
        free(message);
        if (rc)
            return rc;
    }
    return 0;
}

static void on_scheduled(void *arg, int err, const struct eventlog_result *r)
{
    struct plan *p = arg;
    struct orch_run *run = p->run;
    struct app *app = orch_run_app(run);
    if (!err) {
        const char *next = PQntuples(r->res) ? val(r->res, "next_due_ms") : NULL;
        const char *n = PQntuples(r->res) ? val(r->res, "scheduled") : NULL;
        if (next)
            scheduler_note_due(app->sched, strtoll(next, NULL, 10));
        if (n)
            app_count_today(app, APP_TODAY_FOLLOWUPS_SCHEDULED, strtoull(n, NULL, 10));
    }
    plan_free(p);
    orch_run_publish(run, r);
    orch_run_done(run, err);
}

static void write_plan(struct plan *p)
{
    struct orch_run *run = p->run;
    const struct event *ev = orch_run_event(run);
    char uid[24];
    char job_s[24], iv_s[24];
    if (p->origin.n == 0) {
        plan_end(p, 0);
        return;
    }
    snprintf(uid, sizeof uid, "%" PRId64, ev->user_id);
    snprintf(job_s, sizeof job_s, "%" PRId64, p->job);
    snprintf(iv_s, sizeof iv_s, "%" PRId64, p->interview);
    const char *params[12] = {uid,          job_s,          p->interview ? iv_s : NULL,
                              p->origin.buf, p->kind.buf,   p->seq.buf,
                              p->step.buf,  p->type.buf,    p->prio.buf,
                              p->subject.buf, p->message.buf, p->due.buf};
    int rc = eventlog_exec(orch_run_app(run)->pg, ev->user_id, followup_repo_sql_schedule, 12,
                           params, on_scheduled, p);
    if (rc)
        plan_end(p, rc);
}

/* The user's zone; one the zone database lacks is read as UTC. */
static const char *tz_of(const struct plan *p, const PGresult *res)
{
    const char *tz = val(res, "timezone");
    return tz && !p->zone_unknown ? tz : "UTC";
}

static void on_zone_loaded(void *arg, bool known)
{
    struct plan *p = arg;
    PGresult *ctx = p->ctx;
    p->ctx = NULL;
    p->zone_unknown = !known;
    p->ctx_cb(p, 0, ctx); /* may end the plan */
    PQclear(ctx);
}

/* Whether the context res names a zone not loaded yet. Then the context is
 * kept, the zone is loaded off the loop (reading zoneinfo would stall every
 * connection) and cb gets the context again once it is loaded, or known to
 * be unknown. When the load cannot even be asked for, the run ends with the
 * error and is retried later, rather than reading the file here. */
static bool zone_pending(struct plan *p, const PGresult *res, pg_result_cb cb)
{
    const char *tz = val(res, "timezone");
    if (p->zone_tried || !tz || localtime_tz_loaded(tz))
        return false;
    p->zone_tried = true;
    p->ctx = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    p->ctx_cb = cb;
    int rc = p->ctx ? app_zone_load(orch_run_app(p->run), tz, on_zone_loaded, p) : -ENOMEM;
    if (rc) {
        PQclear(p->ctx);
        plan_end(p, rc);
    }
    return true;
}

/* --- applied --- */

static void on_job_context(void *arg, int err, const PGresult *res)
{
    struct plan *p = arg;
    struct orch_run *run = p->run;
    struct app *app = orch_run_app(run);
    if (err || PQntuples(res) == 0) {
        plan_end(p, err); /* the job is gone: nothing to do */
        return;
    }
    if (zone_pending(p, res, on_job_context))
        return;
    const char *name = val(res, "followup_sequence");
    const struct sequences_seq *q = name ? sequences_find(app->sequences, name) : NULL;
    if (!q || sequences_seq_anchor(q) != SEQUENCES_ANCHOR_APPLIED)
        q = sequences_default_on_applied(app->sequences);
    char applied[32], key[48];
    clock_format_iso(orch_run_event(run)->created_ms, applied, sizeof applied);
    applied[10] = '\0';
    struct sequences_vars vars = {
        .job_title = val(res, "job_title"),
        .company = val(res, "company"),
        .candidate_name = val(res, "name"),
        .applied_date = applied,
    };
    snprintf(key, sizeof key, "job:%" PRId64, p->job);
    int rc = q ? add_sequence(p, q, key, orch_run_event(run)->created_ms, tz_of(p, res), &vars) : 0;
    if (rc) {
        plan_end(p, rc);
        return;
    }
    write_plan(p);
}

static int query(struct plan *p, const char *sql, int64_t id, pg_result_cb cb)
{
    const struct event *ev = orch_run_event(p->run);
    char uid[24], ids[24];
    snprintf(uid, sizeof uid, "%" PRId64, ev->user_id);
    snprintf(ids, sizeof ids, "%" PRId64, id);
    const char *params[2] = {uid, ids};
    return pg_query(orch_run_app(p->run)->pg, sql, 2, params, cb, p);
}

/* --- interviews --- */

static int add_reminders(struct plan *p, int64_t start_ms, const char *type)
{
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < sizeof(reminder_min) / sizeof(reminder_min[0]); i++) {
        int64_t due = start_ms - (int64_t)reminder_min[i] * 60000;
        if (due <= now)
            continue; /* a reminder for a moment already past helps nobody */
        char origin[80];
        snprintf(origin, sizeof origin, "interview:%" PRId64 ":reminder:%d", p->interview,
                 reminder_min[i]);
        if (add_row(p, origin, "reminder", NULL, reminder_min[i], type, "high",
                    reminder_text[i], "", due))
            return -ENOMEM;
    }
    return 0;
}

static void on_cancelled(void *arg, int err, const struct eventlog_result *r)
{
    struct plan *p = arg;
    struct orch_run *run = p->run;
    plan_free(p);
    orch_run_publish(run, r);
    orch_run_done(run, err);
}

static int cancel(struct plan *p)
{
    const struct event *ev = orch_run_event(p->run);
    char uid[24], job_s[24], iv_s[24];
    snprintf(uid, sizeof uid, "%" PRId64, ev->user_id);
    snprintf(job_s, sizeof job_s, "%" PRId64, p->job);
    snprintf(iv_s, sizeof iv_s, "%" PRId64, p->interview);
    const char *params[3] = {uid, job_s, p->interview ? iv_s : NULL};
    return eventlog_exec(orch_run_app(p->run)->pg, ev->user_id, followup_repo_sql_cancel, 3,
                         params, on_cancelled, p);
}

static void on_interview_context(void *arg, int err, const PGresult *res)
{
    struct plan *p = arg;
    struct orch_run *run = p->run;
    struct app *app = orch_run_app(run);
    if (err || PQntuples(res) == 0) {
        plan_end(p, err);
        return;
    }
    p->job = strtoll(val(res, "job_id"), NULL, 10);
    const char *status = val(res, "status");
    if (status && strcmp(status, "cancelled") == 0) {
        int rc = cancel(p);
        if (rc)
            plan_end(p, rc);
        return;
    }
    if (zone_pending(p, res, on_interview_context))
        return;
    int64_t start = strtoll(val(res, "start_ms"), NULL, 10);
    int64_t end = start + 60000 * strtoll(val(res, "duration_minutes"), NULL, 10);
    const char *type = val(res, "interview_type");
    char when[32], label[64], key[64];
    clock_format_iso(start, when, sizeof when);
    snprintf(label, sizeof label, "%s", type);
    for (char *c = label; *c; c++)
        if (*c == '_')
            *c = ' ';
    struct sequences_vars vars = {
        .job_title = val(res, "job_title"),
        .company = val(res, "company"),
        .candidate_name = val(res, "name"),
        .interviewer_name = val(res, "interviewer_name"),
        .interview_type = label,
        .interview_date = when,
    };
    snprintf(key, sizeof key, "interview:%" PRId64, p->interview);
    const struct sequences_seq *q = sequences_default_on_interview(app->sequences);
    int rc = add_reminders(p, start, type);
    if (!rc && q)
        rc = add_sequence(p, q, key, end, tz_of(p, res), &vars);
    if (rc) {
        plan_end(p, rc);
        return;
    }
    write_plan(p);
}

/* Whether status decides the application: nothing but archiving follows. */
static bool ends(const char *status)
{
    int st = ats_status_parse(status);
    return st >= 0 && (ats_next_mask(st) & ~ATS_BIT(ATS_ARCHIVED)) == 0;
}

static int followup_on_event(struct orch_run *run)
{
    const struct event *ev = orch_run_event(run);
    json_t *data = orch_run_data(run);
    const char *to = json_string_value(json_object_get(data, "new_status"));
    struct plan *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->run = run;
    p->job = json_integer_value(json_object_get(data, "job_id"));
    p->interview = json_integer_value(json_object_get(data, "interview_id"));
    int rc = 0;
    if (strcmp(ev->type, "application.status_changed") == 0 && to && strcmp(to, "applied") == 0)
        rc = query(p, followup_repo_sql_job_context, p->job, on_job_context);
    else if (strcmp(ev->type, "application.status_changed") == 0 && ends(to))
        rc = cancel(p);
    else if (strcmp(ev->type, "interview.cancelled") == 0 && p->interview > 0)
        rc = cancel(p);
    else if (strncmp(ev->type, "interview.", 10) == 0 && p->interview > 0)
        rc = query(p, followup_repo_sql_interview_context, p->interview, on_interview_context);
    else {
        free(p);
        orch_run_done(run, 0);
        return 0;
    }
    if (rc)
        plan_free(p);
    return rc;
}

const struct module_ops followup_ops = {.name = "followup", .on_event = followup_on_event};
