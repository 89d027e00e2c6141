/* Follow-ups: the dashboard's GET /api/v1/followup/due (a bare array), the
 * list, one-off reminders, and complete / snooze / dismiss. Time windows are
 * measured with the server's clock (clock_now_ms), the same one the
 * scheduler fires by. Times without a zone (due_date, until, due_before,
 * due_after) are the user's wall-clock time. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/eventlog.h"
#include "hirewire/followup_repo.h"
#include "hirewire/http.h"
#include "hirewire/jsonx.h"

#include "api_doc.h"

#define HOURS_MAX (24 * 366)
#define LIST_MAX 500
#define SNOOZE_MAX_MIN (366 * 24 * 60)

static const struct api_exec_opts read_opts = {.status = 200, .what = "reading follow-ups"};

/* A time from the query as ms text in out (*p = out), or *p = NULL when
 * absent; -1 after answering 422. */
static int query_time(struct http_req *req, const char *name, const char *tz, char out[24],
                      const char **p)
{
    int64_t ms;
    int rc = api_doc_query_time(req, name, tz, &ms);
    *p = NULL;
    if (rc <= 0)
        return rc;
    snprintf(out, 24, "%" PRId64, ms);
    *p = out;
    return 0;
}

/* GET /api/v1/followup/due?hours_ahead=N: due within N hours (72 on the
 * dashboard's interviews page), overdue included. */
void api_followup_due(struct http_req *req)
{
    long hours = 24;
    if (api_query_long(req, "hours_ahead", 0, HOURS_MAX, &hours) < 0)
        return;
    char uid[API_ID_LEN], until[24];
    api_uid(req, uid);
    snprintf(until, sizeof until, "%" PRId64, clock_now_ms() + (int64_t)hours * 3600000);
    const char *params[2] = {uid, until};
    api_exec(req, followup_repo_sql_due_by, 2, params, &read_opts);
}

/* GET /api/v1/followups/due: fired and not yet done. */
void api_followups_fired(struct http_req *req)
{
    char uid[API_ID_LEN], until[24];
    api_uid(req, uid);
    snprintf(until, sizeof until, "%" PRId64, clock_now_ms());
    const char *params[2] = {uid, until};
    api_exec(req, followup_repo_sql_due_by, 2, params, &read_opts);
}

static bool state_valid(const char *s)
{
    static const char *const ok[] = {"pending", "due", "completed", "dismissed", "cancelled"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(s, ok[i]) == 0)
            return true;
    return false;
}

static void on_list(void *arg, int err, const struct eventlog_result *r)
{
    struct http_req *req = arg;
    if (err) {
        api_store_error(req, err, "listing follow-ups");
        return;
    }
    const char *total = api_col(r->res, 0, "total");
    http_reply_header(req, "x-total-count", total ? total : "0");
    api_reply_body(req, 200, r->res);
}

static void list_in(struct http_req *req, const char *tz)
{
    long limit = 100, offset = 0, job = 0;
    const char *state = http_req_query(req, "state");
    if (!state || !*state)
        state = http_req_query(req, "status");
    if (state && !*state)
        state = NULL;
    if (state && !state_valid(state)) {
        api_error(req, HW_EVALIDATION, "state",
                  "state must be pending, due, completed, dismissed or cancelled");
        return;
    }
    char before[24], after[24], lim[16], off[16], jb[24], uid[API_ID_LEN];
    const char *b, *a;
    if (api_query_long(req, "limit", 1, LIST_MAX, &limit) < 0 ||
        api_query_long(req, "offset", 0, 1000000, &offset) < 0 ||
        api_query_long(req, "job_id", 1, LONG_MAX, &job) < 0 ||
        query_time(req, "due_before", tz, before, &b) ||
        query_time(req, "due_after", tz, after, &a))
        return;
    api_uid(req, uid);
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    snprintf(jb, sizeof jb, "%ld", job);
    const char *params[7] = {uid, state, job ? jb : NULL, b, a, lim, off};
    int rc = eventlog_exec(http_req_app(req)->pg, http_req_user(req), followup_repo_sql_list, 7,
                           params, on_list, req);
    if (rc)
        api_store_error(req, rc, "listing follow-ups");
}

void api_followups_list(struct http_req *req)
{
    api_doc_with_tz(req,
                    api_doc_time_is_local(http_req_query(req, "due_before")) ||
                        api_doc_time_is_local(http_req_query(req, "due_after")),
                    list_in);
}

static bool priority_valid(const char *s)
{
    return strcmp(s, "high") == 0 || strcmp(s, "normal") == 0 || strcmp(s, "low") == 0;
}

static const struct api_doc_field create_fields[] = {
    {"job_id", NULL, DOC_ID, 1, 9e15, false, NULL, NULL},
    {"due_date", "due_at", DOC_TIME, 0, 0, false, NULL, NULL},
    {"due_at", NULL, DOC_TIME, 0, 0, false, NULL, NULL},
    {"in_minutes", NULL, DOC_INT, 0, SNOOZE_MAX_MIN, false, NULL, NULL},
    {"subject", NULL, DOC_LINE, 1, 200, true, NULL, NULL},
    {"title", "subject", DOC_LINE, 1, 200, false, NULL, NULL},
    {"message", NULL, DOC_TEXT, 0, 8192, false, NULL, NULL},
    {"type", NULL, DOC_LINE, 1, 48, false, NULL, NULL},
    {"priority", NULL, DOC_ENUM, 0, 0, false, priority_valid, "high, normal, low"},
};

static const struct api_exec_opts create_opts = {
    .status = 201, .what = "scheduling the follow-up", .not_found = "job not found"};

static void create_in(struct http_req *req, const char *tz)
{
    struct api_doc_error e;
    json_t *doc = NULL, *body = http_req_json(req);
    /* "title" may stand for "subject". */
    struct api_doc_field f[sizeof(create_fields) / sizeof(create_fields[0])];
    memcpy(f, create_fields, sizeof f);
    if (json_is_object(body) && json_object_get(body, "title") && !json_object_get(body, "subject"))
        f[4].required = false;
    int rc = api_doc_parse(body, f, sizeof f / sizeof f[0], false, tz, &doc, &e);
    if (rc) {
        api_doc_reply_error(req, rc, &e);
        return;
    }
    json_t *in = json_object_get(doc, "in_minutes");
    if (in && json_is_integer(in))
        json_object_set_new(doc, "due_at",
                            json_integer(clock_now_ms() + json_integer_value(in) * 60000));
    json_object_del(doc, "in_minutes");
    if (!json_is_integer(json_object_get(doc, "due_at"))) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, "due_date", "give due_date (ISO-8601) or in_minutes");
        return;
    }
    api_exec_doc(req, followup_repo_sql_create, NULL, doc, &create_opts);
}

/* POST /api/v1/followups: a one-off reminder at due_date or in in_minutes. */
void api_followups_create(struct http_req *req)
{
    api_doc_with_tz(req,
                    api_doc_has_local_time(http_req_json(req), create_fields,
                                           sizeof(create_fields) / sizeof(create_fields[0])),
                    create_in);
}

static bool act_refused(struct http_req *req, const void *res)
{
    const char *cur = api_col(res, 0, "current_state");
    if (!cur) {
        api_error(req, HW_ENOTFOUND, NULL, "follow-up not found");
        return true;
    }
    if (api_col(res, 0, "body"))
        return false;
    api_error(req, HW_ECONFLICT, "state", "the follow-up is %s; only a pending or due one can "
              "be completed, snoozed or dismissed", cur);
    return true;
}

static const struct api_exec_opts act_opts = {
    .status = 200, .what = "changing the follow-up", .check = act_refused};

static void act(struct http_req *req, const char *what, int64_t until)
{
    char uid[API_ID_LEN], ids[API_ID_LEN], u[24];
    if (!api_id_param(req, "follow-up", ids))
        return;
    api_uid(req, uid);
    snprintf(u, sizeof u, "%" PRId64, until);
    const char *params[4] = {uid, ids, what, until ? u : NULL};
    api_exec(req, followup_repo_sql_act, 4, params, &act_opts);
}

void api_followup_complete(struct http_req *req)
{
    act(req, "complete", 0);
}

void api_followup_dismiss(struct http_req *req)
{
    act(req, "dismiss", 0);
}

static const struct api_doc_field snooze_fields[] = {
    {"until", NULL, DOC_TIME, 0, 0, false, NULL, NULL},
    {"minutes", NULL, DOC_INT, 1, SNOOZE_MAX_MIN, false, NULL, NULL},
};

static void snooze_in(struct http_req *req, const char *tz)
{
    json_t *doc = api_doc_read_tz(req, snooze_fields, 2, false, tz);
    if (!doc)
        return;
    json_t *until = json_object_get(doc, "until"), *min = json_object_get(doc, "minutes");
    int64_t now = clock_now_ms(), at = 0;
    if (json_is_integer(until))
        at = json_integer_value(until);
    else if (json_is_integer(min))
        at = now + json_integer_value(min) * 60000;
    json_decref(doc);
    if (!at) {
        api_error(req, HW_EVALIDATION, "until", "give until (ISO-8601) or minutes");
        return;
    }
    if (at <= now) {
        api_error(req, HW_EVALIDATION, "until", "until must be in the future");
        return;
    }
    act(req, "snooze", at);
}

void api_followup_snooze(struct http_req *req)
{
    api_doc_with_tz(req, api_doc_has_local_time(http_req_json(req), snooze_fields, 2), snooze_in);
}
