/* The reactions of the feature modules, as the orchestrator's table names
 * them. Each is one idempotent step: a statement keyed so that running it
 * twice changes nothing the second time, or a cache deletion. */
#define LOG_MOD "orchestrator"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/ats_repo.h"
#include "hirewire/cache.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/interview_repo.h"
#include "hirewire/job_repo.h"
#include "hirewire/orchestrator.h"
#include "hirewire/pg.h"

static int64_t data_int(struct orch_run *run, const char *key)
{
    json_t *v = json_object_get(orch_run_data(run), key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void on_statement(void *arg, int err, const struct eventlog_result *r)
{
    struct orch_run *run = arg;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->events[i]->type, "calendar.event_created") == 0)
            app_count_today(orch_run_app(run), APP_TODAY_CALENDAR_EVENTS, 1);
    orch_run_publish(run, r);
    orch_run_done(run, err);
}

/* Runs sql with (user, id[, more...]) for the run. */
static int run_sql(struct orch_run *run, const char *sql, int n, const char *const *extra)
{
    const struct event *ev = orch_run_event(run);
    char uid[24];
    const char *params[6] = {uid};
    snprintf(uid, sizeof uid, "%" PRId64, ev->user_id);
    for (int i = 1; i < n && i < 6; i++)
        params[i] = extra[i - 1];
    return eventlog_exec(orch_run_app(run)->pg, ev->user_id, sql, n, params, on_statement, run);
}

/* Runs sql with (user, the id the event's data has under key). */
static int run_on_id(struct orch_run *run, const char *key, const char *sql)
{
    char id[24];
    int64_t v = data_int(run, key);
    if (v < 1)
        return -EINVAL;
    snprintf(id, sizeof id, "%" PRId64, v);
    const char *extra[1] = {id};
    return run_sql(run, sql, 2, extra);
}

/* --- research: the company record --- */

static int research_on_event(struct orch_run *run)
{
    return run_on_id(run, "job_id", job_repo_sql_link_company);
}

const struct module_ops research_ops = {.name = "research", .on_event = research_on_event};

/* --- cache: what the change made stale --- */

struct cache_step {
    struct orch_run *run;
    int pending, err;
};

static void on_cache_del(void *arg, int err, long long deleted)
{
    struct cache_step *c = arg;
    (void)deleted;
    if (err && !c->err)
        c->err = err;
    if (--c->pending == 0) {
        struct orch_run *run = c->run;
        int e = c->err;
        free(c);
        orch_run_done(run, e);
    }
}

/* Entries are per user ("u42:..."): a job saved clears the user's
 * recommendations; a status change clears the job's details and the user's
 * statistics. */
static int cache_on_event(struct orch_run *run)
{
    const struct event *ev = orch_run_event(run);
    struct cache *cache = orch_run_app(run)->cache;
    struct cache_step *c = calloc(1, sizeof *c);
    char glob[64];
    if (!c)
        return -ENOMEM;
    c->run = run;
    c->pending = 1; /* held until every deletion is asked for */
    snprintf(glob, sizeof glob, "u%" PRId64 ":*", ev->user_id);
    if (strcmp(ev->type, "job.created") == 0) {
        if (cache_del_pattern(cache, "recommendations", glob, on_cache_del, c) == 0)
            c->pending++;
    } else {
        char key[64];
        snprintf(key, sizeof key, "u%" PRId64 ":job:%" PRId64, ev->user_id,
                 data_int(run, "job_id"));
        cache_del(cache, "job_details", key);
        if (cache_del_pattern(cache, "stats", glob, on_cache_del, c) == 0)
            c->pending++;
        if (cache_del_pattern(cache, "analytics", glob, on_cache_del, c) == 0)
            c->pending++;
    }
    on_cache_del(c, 0, 0);
    return 0;
}

const struct module_ops cache_ops = {.name = "cache", .on_event = cache_on_event};

/* --- learning: what a status says about the user's taste --- */

static int learning_on_event(struct orch_run *run)
{
    const char *to = json_string_value(json_object_get(orch_run_data(run), "new_status"));
    int weight = ats_signal(ats_status_parse(to));
    int64_t job = data_int(run, "job_id");
    if (weight == 0 || job < 1) {
        orch_run_done(run, 0);
        return 0;
    }
    char seq[24], id[24], w[8];
    snprintf(seq, sizeof seq, "%" PRId64, orch_run_event(run)->seq);
    snprintf(id, sizeof id, "%" PRId64, job);
    snprintf(w, sizeof w, "%d", weight);
    const char *extra[4] = {seq, id, w, to};
    return run_sql(run, ats_repo_sql_learning_signal, 5, extra);
}

const struct module_ops learning_ops = {.name = "learning", .on_event = learning_on_event};

/* --- calendar: the interview's entry --- */

static int calendar_on_event(struct orch_run *run)
{
    return run_on_id(run, "interview_id", interview_repo_sql_calendar);
}

const struct module_ops calendar_ops = {.name = "calendar", .on_event = calendar_on_event};
