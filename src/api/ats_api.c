/* /api/v1/ats: status moves, the timeline, statistics, applications, notes
 * and offers. Every status move, whoever makes it, goes through the one
 * transition table (ats.c) and writes history and an event. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/ats.h"
#include "hirewire/ats_repo.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/jsonx.h"

#include "api_doc.h"

/* --- status --- */

static const struct api_exec_opts status_opts = {.status = 200,
                                                 .what = "changing the status",
                                                 .not_found = "job not found",
                                                 .check = api_transition_refused};

static const struct api_doc_field status_fields[] = {
    {"status", NULL, DOC_LINE, 0, 40, true, NULL, NULL},
    {"notes", NULL, DOC_TEXT, 0, 5000, false, NULL, NULL},
};

void api_ats_status(struct http_req *req)
{
    char uid[API_ID_LEN], id[API_ID_LEN], prev[400];
    if (!api_id_param(req, "job", id))
        return;
    json_t *doc = api_doc_read(req, status_fields, 2, false);
    if (!doc)
        return;
    int st = ats_status_parse(json_string_value(json_object_get(doc, "status")));
    if (st < 0) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, "status",
                  "status must be one of saved, analyzing, analyzed, ready_to_apply, applied, "
                  "screening, interview_scheduled, interviewing, offer_received, offer_accepted, "
                  "offer_rejected, rejected, withdrawn, archived (or discovered, "
                  "technical_assessment, accepted, declined)");
        return;
    }
    ats_names_format(ats_prev_mask(st), ",", "{", "}", prev, sizeof prev);
    api_uid(req, uid);
    const char *params[5] = {uid, id, ats_status_name(st), prev,
                             json_string_value(json_object_get(doc, "notes"))};
    api_exec(req, ats_repo_sql_status, 5, params, &status_opts);
    json_decref(doc);
}

/* --- reads --- */

static const struct api_exec_opts timeline_opts = {
    .status = 200, .what = "reading the timeline", .not_found = "job not found"};
static const struct api_exec_opts job_list_opts = {
    .status = 200, .what = "reading the job", .not_found = "job not found"};

void api_ats_timeline(struct http_req *req)
{
    api_exec_by_id(req, ats_repo_sql_timeline, &timeline_opts);
}

void api_ats_job_notes(struct http_req *req)
{
    api_exec_by_id(req, ats_repo_sql_notes_of_job, &job_list_opts);
}

void api_ats_job_offers(struct http_req *req)
{
    api_exec_by_id(req, ats_repo_sql_offers_of_job, &job_list_opts);
}

static const struct api_exec_opts stats_opts = {.status = 200, .what = "reading statistics"};

void api_ats_statistics(struct http_req *req)
{
    char uid[API_ID_LEN];
    api_uid(req, uid);
    const char *params[1] = {uid};
    api_exec(req, ats_repo_sql_statistics, 1, params, &stats_opts);
}

void api_ats_applications(struct http_req *req)
{
    char uid[API_ID_LEN];
    const char *s = http_req_query(req, "status");
    int st = -1;
    /* The dashboard sends status=undefined when no filter is chosen. */
    if (s && *s && strcmp(s, "undefined") && strcmp(s, "all") && (st = ats_status_parse(s)) < 0) {
        api_error(req, HW_EVALIDATION, "status", "unknown status \"%.40s\"", s);
        return;
    }
    api_uid(req, uid);
    const char *params[2] = {uid, st >= 0 ? ats_status_name(st) : NULL};
    api_exec(req, ats_repo_sql_applications, 2, params, &stats_opts);
}

/* --- notes --- */

static const struct api_doc_field note_fields[] = {
    {"job_id", NULL, DOC_ID, 1, 9e15, true, NULL, NULL},
    {"note_type", NULL, DOC_LINE, 0, 40, false, NULL, NULL},
    {"title", NULL, DOC_LINE, 0, 200, false, NULL, NULL},
    {"content", NULL, DOC_TEXT, 0, 20000, true, NULL, NULL},
    {"is_communication", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    {"communication_direction", NULL, DOC_LINE, 0, 40, false, NULL, NULL},
    {"communication_method", NULL, DOC_LINE, 0, 40, false, NULL, NULL},
    {"contact_person", NULL, DOC_LINE, 0, 200, false, NULL, NULL},
    {"requires_follow_up", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    {"follow_up_date", NULL, DOC_TIME, 0, 0, false, NULL, NULL},
    {"follow_up_completed", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    {"is_important", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
};
#define NOTE_FIELDS (sizeof(note_fields) / sizeof(note_fields[0]))

/* What PUT may change. */
static const struct api_doc_field note_update_fields[] = {
    {"note_type", NULL, DOC_LINE, 0, 40, false, NULL, NULL, true},
    {"title", NULL, DOC_LINE, 0, 200, false, NULL, NULL},
    {"content", NULL, DOC_TEXT, 1, 20000, false, NULL, NULL, true},
    {"follow_up_completed", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    {"is_important", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
};

static const struct api_exec_opts note_create_opts = {
    .status = 201, .what = "adding the note", .not_found = "job not found"};
static const struct api_exec_opts note_update_opts = {
    .status = 200, .what = "updating the note", .not_found = "note not found"};
static const struct api_exec_opts note_delete_opts = {
    .status = 204, .what = "deleting the note", .not_found = "note not found"};

static void note_create_in(struct http_req *req, const char *tz)
{
    json_t *doc = api_doc_read_tz(req, note_fields, NOTE_FIELDS, false, tz);
    api_exec_doc(req, ats_repo_sql_note_create, NULL, doc, &note_create_opts);
}

/* A follow_up_date without a zone is the user's wall-clock time. */
void api_ats_note_create(struct http_req *req)
{
    api_doc_with_tz(req, api_doc_has_local_time(http_req_json(req), note_fields, NOTE_FIELDS),
                    note_create_in);
}

void api_ats_note_update(struct http_req *req)
{
    char id[API_ID_LEN];
    if (!api_id_param(req, "note", id))
        return;
    json_t *doc = api_doc_read(req, note_update_fields, 5, true);
    if (doc && json_object_size(doc) == 0) {
        json_decref(doc);
        api_error(req, HW_EVALIDATION, NULL,
                  "nothing to change: give title, content, note_type, follow_up_completed or "
                  "is_important");
        return;
    }
    api_exec_doc(req, ats_repo_sql_note_update, id, doc, &note_update_opts);
}

void api_ats_note_delete(struct http_req *req)
{
    api_exec_by_id(req, ats_repo_sql_note_delete, &note_delete_opts);
}
