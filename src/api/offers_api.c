/* /api/v1/ats/offers: record, change, negotiate, accept and reject offers.
 * Accepting or rejecting moves the job to offer_accepted / offer_rejected
 * through the transition table, or changes nothing (409); so does recording
 * an offer that is accepted or rejected already. A decided offer keeps its
 * status and takes no more counter-offers. */
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

static bool offer_status_valid(const char *s)
{
    static const char *const ok[] = {"pending_review", "negotiating", "accepted", "rejected",
                                      "expired"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(s, ok[i]) == 0)
            return true;
    return false;
}

#define OFFER_STATUSES "pending_review, negotiating, accepted, rejected, expired"
#define MONEY(key, col) {key, col, DOC_NUM, 0, 1e9, false, NULL, NULL}
#define LINE(key, col, max) {key, col, DOC_LINE, 0, max, false, NULL, NULL}
#define TEXT(key, col) {key, col, DOC_TEXT, 0, 10000, false, NULL, NULL}
#define TIME(key, col) {key, col, DOC_TIME, 0, 0, false, NULL, NULL}

/* Descriptive fields go to offers.details; the docs' names are aliases. */
static const struct api_doc_field offer_fields[] = {
    {"job_id", NULL, DOC_ID, 1, 9e15, true, NULL, NULL},
    MONEY("salary", NULL),
    MONEY("base_salary", "salary"),
    LINE("currency", NULL, 3),
    LINE("salary_period", NULL, 20),
    MONEY("bonus", NULL),
    LINE("equity", NULL, 200),
    MONEY("sign_on_bonus", NULL),
    {"status", NULL, DOC_ENUM, 0, 0, false, offer_status_valid, OFFER_STATUSES},
    {"offer_status", "status", DOC_ENUM, 0, 0, false, offer_status_valid, OFFER_STATUSES},
    TIME("received_date", NULL),
    TIME("response_deadline", NULL),
    TIME("start_date", NULL),
    TIME("offer_expiration_date", NULL),
    TIME("expiration_date", "offer_expiration_date"),
    TEXT("negotiation_notes", NULL),
    TEXT("notes", "negotiation_notes"),
    TEXT("benefits_summary", NULL),
    {"vacation_days", NULL, DOC_INT, 0, 366, false, NULL, NULL},
    TEXT("healthcare_details", NULL),
    TEXT("retirement_details", NULL),
    LINE("remote_policy", NULL, 200),
    {"relocation_assistance", NULL, DOC_BOOL, 0, 0, false, NULL, NULL},
    TEXT("decision_notes", NULL),
    TEXT("rejection_reason", NULL),
};
#define OFFER_FIELDS (sizeof(offer_fields) / sizeof(offer_fields[0]))

static const char *const detail_keys[] = {"benefits_summary", "vacation_days",
                                          "healthcare_details", "retirement_details",
                                          "remote_policy", "relocation_assistance"};

/* Moves the descriptive keys under "details". */
static void nest_details(json_t *doc)
{
    json_t *details = json_object();
    for (size_t i = 0; i < sizeof(detail_keys) / sizeof(detail_keys[0]); i++) {
        json_t *v = json_object_get(doc, detail_keys[i]);
        if (v) {
            json_object_set(details, detail_keys[i], v);
            json_object_del(doc, detail_keys[i]);
        }
    }
    if (json_object_size(details))
        json_object_set(doc, "details", details);
    json_decref(details);
}

/* An accepted or rejected offer is decided for good: its status and its
 * counter-offers stay as they are. Other refusals are the job's status. */
static bool update_refused(struct http_req *req, const void *res)
{
    const char *decided = api_col(res, 0, "decided_status");
    if (!decided || api_col(res, 0, "body"))
        return api_transition_refused(req, res);
    api_error(req, HW_ECONFLICT, "status",
              "the offer is already %s: a decided offer cannot change its status or be "
              "negotiated",
              decided);
    return true;
}

/* An offer recorded as accepted or rejected decides the job, which must be
 * able to get there from where it is. */
static bool create_refused(struct http_req *req, const void *res)
{
    const char *cur = api_col(res, 0, "current_status");
    const char *want = api_col(res, 0, "wanted_status");
    if (!cur || !want || api_col(res, 0, "body"))
        return false;
    api_error(req, HW_ECONFLICT, "status",
              "an offer recorded as decided moves the job to %s, which it cannot reach from %s: "
              "record the offer as pending_review, or move the job on first",
              want, cur);
    return true;
}

static const struct api_exec_opts create_opts = {.status = 201,
                                                 .what = "recording the offer",
                                                 .not_found = "job not found",
                                                 .check = create_refused};
static const struct api_exec_opts update_opts = {.status = 200,
                                                 .what = "updating the offer",
                                                 .not_found = "offer not found",
                                                 .check = update_refused};

/* The job status an offer of status st decides the job to, or -1. */
static int decided_to(const char *st)
{
    if (st && strcmp(st, "accepted") == 0)
        return ATS_OFFER_ACCEPTED;
    if (st && strcmp(st, "rejected") == 0)
        return ATS_OFFER_REJECTED;
    return -1;
}

static void create_in(struct http_req *req, const char *tz)
{
    char uid[API_ID_LEN], prev[400], prev_to[400] = "{}";
    json_t *doc = api_doc_read_tz(req, offer_fields, OFFER_FIELDS, false, tz);
    if (!doc)
        return;
    nest_details(doc);
    int to = decided_to(json_string_value(json_object_get(doc, "status")));
    char *text = api_doc_text_take(req, doc);
    if (!text)
        return;
    ats_names_format(ats_prev_mask(ATS_OFFER_RECEIVED), ",", "{", "}", prev, sizeof prev);
    if (to >= 0)
        ats_names_format(ats_prev_mask(to), ",", "{", "}", prev_to, sizeof prev_to);
    api_uid(req, uid);
    const char *params[5] = {uid, text, prev, to >= 0 ? ats_status_name(to) : NULL, prev_to};
    api_exec(req, ats_repo_sql_offer_create, 5, params, &create_opts);
    free(text);
}

/* Dates without a zone are the user's wall-clock time. */
void api_offer_create(struct http_req *req)
{
    api_doc_with_tz(req, api_doc_has_local_time(http_req_json(req), offer_fields, OFFER_FIELDS),
                    create_in);
}

/* Runs the update statement with doc; a status accepted/rejected in doc
 * moves the job. */
static void run_update(struct http_req *req, json_t *doc)
{
    char uid[API_ID_LEN], id[API_ID_LEN], prev[400] = "{}";
    if (!api_id_param(req, "offer", id)) {
        json_decref(doc);
        return;
    }
    json_object_del(doc, "job_id");
    nest_details(doc);
    int to = decided_to(json_string_value(json_object_get(doc, "status")));
    if (to >= 0)
        ats_names_format(ats_prev_mask(to), ",", "{", "}", prev, sizeof prev);
    char *text = api_doc_text_take(req, doc);
    if (!text)
        return;
    api_uid(req, uid);
    const char *params[5] = {uid, id, text, to >= 0 ? ats_status_name(to) : NULL, prev};
    api_exec(req, ats_repo_sql_offer_update, 5, params, &update_opts);
    free(text);
}

static void update_in(struct http_req *req, const char *tz)
{
    json_t *doc = api_doc_read_tz(req, offer_fields + 1, OFFER_FIELDS - 1, false, tz);
    if (doc)
        run_update(req, doc);
}

void api_offer_update(struct http_req *req)
{
    json_t *body = http_req_json(req);
    if (json_is_object(body) && json_object_size(body) == 0) {
        api_error(req, HW_EVALIDATION, NULL, "nothing to change");
        return;
    }
    api_doc_with_tz(req, api_doc_has_local_time(body, offer_fields, OFFER_FIELDS), update_in);
}

static const struct api_doc_field negotiate_fields[] = {
    MONEY("counter_salary", "salary"),
    MONEY("counter_bonus", "bonus"),
    LINE("counter_equity", "equity", 200),
    {"counter_notes", "notes", DOC_TEXT, 0, 10000, true, NULL, NULL},
};

void api_offer_negotiate(struct http_req *req)
{
    json_t *counter = api_doc_read(req, negotiate_fields, 4, false);
    if (!counter)
        return;
    json_t *doc = json_pack("{s:o, s:s}", "counter", counter, "status", "negotiating");
    if (!doc) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    run_update(req, doc);
}

static const struct api_doc_field decide_fields[] = {
    TEXT("decision_notes", NULL),
    TEXT("notes", "decision_notes"),
    TEXT("rejection_reason", NULL),
    TEXT("reason", "rejection_reason"),
};

static void decide(struct http_req *req, const char *status)
{
    json_t *body = http_req_json(req);
    json_t *doc = body ? api_doc_read(req, decide_fields, 4, false) : json_object();
    if (!doc) {
        if (!body)
            api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    json_object_set_new(doc, "status", json_string(status));
    run_update(req, doc);
}

void api_offer_accept(struct http_req *req)
{
    decide(req, "accepted");
}

void api_offer_reject(struct http_req *req)
{
    decide(req, "rejected");
}
