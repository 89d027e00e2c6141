/* /api/v1/ats/interviews: schedule, read, reschedule, record the outcome of
 * and cancel interviews. A scheduled_date without a zone (the dashboard's
 * datetime-local) is the user's wall-clock time, as are the list's from and
 * to. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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

static json_t *doc_read(struct http_req *req, const struct api_doc_field *f, size_t n, bool update,
                        const char *tz)
{
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
    json_t *doc = api_doc_read_tz(req, f, n, false, tz);
    if (doc && update && json_object_size(doc) == 0) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, NULL, "nothing to change: the body names no field");
        return NULL;
    }
    return doc;
}

static const struct api_exec_opts create_opts = {
    .status = 201, .what = "scheduling the interview", .not_found = "job not found"};
static const struct api_exec_opts update_opts = {
    .status = 200, .what = "updating the interview", .not_found = "interview not found"};
static const struct api_exec_opts read_opts = {
    .status = 200, .what = "reading interviews", .not_found = "interview not found"};
static const struct api_exec_opts of_job_opts = {
    .status = 200, .what = "reading interviews", .not_found = "job not found"};

static void create_in(struct http_req *req, const char *tz)
{
    json_t *doc = doc_read(req, create_fields, CREATE_FIELDS, false, tz);
    api_exec_doc(req, interview_repo_sql_create, NULL, doc, &create_opts);
}

void api_interview_create(struct http_req *req)
{
    api_doc_with_tz(req, api_doc_has_local_time(http_req_json(req), create_fields, CREATE_FIELDS),
                    create_in);
}

static void update_in(struct http_req *req, const char *tz)
{
    char id[API_ID_LEN];
    if (!api_id_param(req, "interview", id))
        return;
    json_t *doc = doc_read(req, create_fields + 1, ALL_FIELDS - 1, true, tz);
    api_exec_doc(req, interview_repo_sql_update, id, doc, &update_opts);
}

void api_interview_update(struct http_req *req)
{
    api_doc_with_tz(req, api_doc_has_local_time(http_req_json(req), create_fields, ALL_FIELDS),
                    update_in);
}

void api_interview_cancel(struct http_req *req)
{
    api_exec_by_id(req, interview_repo_sql_cancel, &update_opts);
}

void api_interview_get(struct http_req *req)
{
    api_exec_by_id(req, interview_repo_sql_get, &read_opts);
}

void api_interviews_of_job(struct http_req *req)
{
    api_exec_by_id(req, interview_repo_sql_of_job, &of_job_opts);
}

static void list(struct http_req *req, int64_t from, int64_t to, const char *job, bool cancelled)
{
    char uid[API_ID_LEN], f[24], t[24];
    api_uid(req, uid);
    snprintf(f, sizeof f, "%" PRId64, from);
    snprintf(t, sizeof t, "%" PRId64, to);
    const char *params[5] = {uid, f, t, job, cancelled ? "t" : "f"};
    api_exec(req, interview_repo_sql_list, 5, params, &read_opts);
}

/* The dashboard: days_ahead=7 on the home page, 30 on the interviews page. */
void api_interviews_upcoming(struct http_req *req)
{
    long days = 7;
    if (api_query_long(req, "days_ahead", 0, DAYS_MAX, &days) < 0)
        return;
    int64_t now = clock_now_ms();
    list(req, now, now + days * 86400000LL, NULL, false);
}

static void list_in(struct http_req *req, const char *tz)
{
    int64_t from = 0, to = INT64_C(253402300799999);
    long job = 0;
    char jb[24];
    if (api_doc_query_time(req, "from", tz, &from) < 0 ||
        api_doc_query_time(req, "to", tz, &to) < 0 ||
        api_query_long(req, "job_id", 1, LONG_MAX, &job) < 0)
        return;
    snprintf(jb, sizeof jb, "%ld", job);
    const char *c = http_req_query(req, "include_cancelled");
    list(req, from, to, job ? jb : NULL, !c || strcmp(c, "false") != 0);
}

void api_interviews_list(struct http_req *req)
{
    api_doc_with_tz(req,
                    api_doc_time_is_local(http_req_query(req, "from")) ||
                        api_doc_time_is_local(http_req_query(req, "to")),
                    list_in);
}
