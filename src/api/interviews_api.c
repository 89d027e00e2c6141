/* /api/v1/ats/interviews: schedule, read, reschedule, record the outcome of
 * and cancel interviews. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/ats.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/interview_repo.h"
#include "hirewire/jsonx.h"

#include "api_doc.h"

#define TYPES                                                                                      \
    "phone_screen, video_screen, technical, behavioral, panel, onsite, final, other, "             \
    "system_design, coding, phone, video"
#define OUTCOMES "pending, passed, failed, cancelled, rescheduled, rejected"
#define DAYS_MAX 3660

static const struct api_doc_field create_fields[] = {
    {"job_id", NULL, DOC_ID, 1, 9e15, true, NULL, NULL},
    {"interview_type", NULL, DOC_ENUM, 0, 0, true, ats_interview_type_valid, TYPES},
    {"scheduled_date", "scheduled_at", DOC_TIME, 0, 0, true, NULL, NULL},
    {"duration_minutes", NULL, DOC_INT, 1, 1440, false, NULL, NULL},
    {"location", NULL, DOC_LINE, 0, 500, false, NULL, NULL},
    {"meeting_link", NULL, DOC_URL, 0, 2048, false, NULL, NULL},
    {"is_virtual", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    {"interviewer_name", NULL, DOC_LINE, 0, 200, false, NULL, NULL},
    {"interviewer_names", "interviewer_name", DOC_LINE, 0, 200, false, NULL, NULL},
    {"interviewer_email", NULL, DOC_EMAIL, 0, 254, false, NULL, NULL},
    {"interviewer_emails", "interviewer_email", DOC_EMAIL, 0, 254, false, NULL, NULL},
    {"interviewer_title", NULL, DOC_LINE, 0, 200, false, NULL, NULL},
    {"notes", NULL, DOC_TEXT, 0, 20000, false, NULL, NULL},
    {"preparation_notes", NULL, DOC_TEXT, 0, 20000, false, NULL, NULL},
    /* the update's own fields */
    {"outcome", NULL, DOC_ENUM, 0, 0, false, ats_outcome_valid, OUTCOMES, true},
    {"feedback", NULL, DOC_TEXT, 0, 20000, false, NULL, NULL},
    {"performance_rating", NULL, DOC_INT, 1, 5, false, NULL, NULL},
};
#define CREATE_FIELDS 14
#define ALL_FIELDS (sizeof(create_fields) / sizeof(create_fields[0]))

static char *doc_text(struct http_req *req, const struct api_doc_field *f, size_t n,
                      bool update)
{
    struct api_doc_error e;
    json_t *doc = NULL;
    /* An update may name fields as required on create, but none is required. */
    struct api_doc_field copy[ALL_FIELDS];
    if (update) {
        memcpy(copy, f, n * sizeof *f);
        for (size_t i = 0; i < n; i++) {
            copy[i].not_null = copy[i].not_null || copy[i].required || copy[i].kind == DOC_INT;
            copy[i].required = false;
        }
        /* a rating may be taken back */
        copy[n - 1].not_null = false;
        f = copy;
    }
    int rc = api_doc_parse(http_req_json(req), f, n, false, 0, &doc, &e);
    if (rc == HW_EVALIDATION) {
        api_error(req, rc, e.field[0] ? e.field : NULL, "%s", e.msg);
        return NULL;
    }
    if (rc) {
        api_error(req, rc, NULL, "out of memory");
        return NULL;
    }
    if (update && json_object_size(doc) == 0) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, NULL, "nothing to change: the body names no field");
        return NULL;
    }
    char *text = jsonx_dump(doc, NULL);
    json_decref(doc);
    if (!text)
        api_error(req, -ENOMEM, NULL, "out of memory");
    return text;
}

static const struct api_exec_opts create_opts = {
    .status = 201, .what = "scheduling the interview", .not_found = "job not found"};
static const struct api_exec_opts update_opts = {
    .status = 200, .what = "updating the interview", .not_found = "interview not found"};
static const struct api_exec_opts read_opts = {
    .status = 200, .what = "reading interviews", .not_found = "interview not found"};
static const struct api_exec_opts of_job_opts = {
    .status = 200, .what = "reading interviews", .not_found = "job not found"};

void api_interview_create(struct http_req *req)
{
    char uid[24];
    char *text = doc_text(req, create_fields, CREATE_FIELDS, false);
    if (!text)
        return;
    snprintf(uid, sizeof uid, "%" PRId64, http_req_user(req));
    const char *params[2] = {uid, text};
    api_exec(req, interview_repo_sql_create, 2, params, &create_opts);
    free(text);
}

static bool ids(struct http_req *req, const char *what, char uid[24], char id[24])
{
    int64_t v;
    if (http_req_param_id(req, "id", &v)) {
        api_error(req, HW_ENOTFOUND, NULL, "%s not found", what);
        return false;
    }
    snprintf(id, 24, "%" PRId64, v);
    snprintf(uid, 24, "%" PRId64, http_req_user(req));
    return true;
}

void api_interview_update(struct http_req *req)
{
    char uid[24], id[24];
    if (!ids(req, "interview", uid, id))
        return;
    char *text = doc_text(req, create_fields + 1, ALL_FIELDS - 1, true);
    if (!text)
        return;
    const char *params[3] = {uid, id, text};
    api_exec(req, interview_repo_sql_update, 3, params, &update_opts);
    free(text);
}

void api_interview_cancel(struct http_req *req)
{
    char uid[24], id[24];
    if (!ids(req, "interview", uid, id))
        return;
    const char *params[2] = {uid, id};
    api_exec(req, interview_repo_sql_cancel, 2, params, &update_opts);
}

void api_interview_get(struct http_req *req)
{
    char uid[24], id[24];
    if (!ids(req, "interview", uid, id))
        return;
    const char *params[2] = {uid, id};
    api_exec(req, interview_repo_sql_get, 2, params, &read_opts);
}

void api_interviews_of_job(struct http_req *req)
{
    char uid[24], id[24];
    if (!ids(req, "job", uid, id))
        return;
    const char *params[2] = {uid, id};
    api_exec(req, interview_repo_sql_of_job, 2, params, &of_job_opts);
}

static void list(struct http_req *req, int64_t from, int64_t to, const char *job, bool cancelled)
{
    char uid[24], f[24], t[24];
    snprintf(uid, sizeof uid, "%" PRId64, http_req_user(req));
    snprintf(f, sizeof f, "%" PRId64, from);
    snprintf(t, sizeof t, "%" PRId64, to);
    const char *params[5] = {uid, f, t, job, cancelled ? "t" : "f"};
    api_exec(req, interview_repo_sql_list, 5, params, &read_opts);
}

/* The dashboard: days_ahead=7 on the home page, 30 on the interviews page. */
void api_interviews_upcoming(struct http_req *req)
{
    const char *v = http_req_query(req, "days_ahead");
    long days = 7;
    if (v && *v) {
        char *end;
        days = strtol(v, &end, 10);
        if (*end || days < 0 || days > DAYS_MAX) {
            api_error(req, HW_EVALIDATION, "days_ahead", "days_ahead must be 0..%d", DAYS_MAX);
            return;
        }
    }
    int64_t now = clock_now_ms();
    list(req, now, now + days * 86400000LL, NULL, false);
}

static int time_query(struct http_req *req, const char *name, int64_t *out)
{
    const char *v = http_req_query(req, name);
    if (!v || !*v)
        return 0;
    if (clock_parse_iso(v, 0, out)) {
        api_error(req, HW_EVALIDATION, name, "%s must be an ISO-8601 time", name);
        return -1;
    }
    return 0;
}

void api_interviews_list(struct http_req *req)
{
    int64_t from = 0, to = INT64_C(253402300799999), job;
    const char *j = http_req_query(req, "job_id");
    char jb[24];
    if (time_query(req, "from", &from) || time_query(req, "to", &to))
        return;
    if (j && *j) {
        char *end;
        job = strtoll(j, &end, 10);
        if (*end || job < 1) {
            api_error(req, HW_EVALIDATION, "job_id", "job_id must be a job id");
            return;
        }
        snprintf(jb, sizeof jb, "%" PRId64, job);
    }
    const char *c = http_req_query(req, "include_cancelled");
    list(req, from, to, j && *j ? jb : NULL, !c || strcmp(c, "false") != 0);
}
