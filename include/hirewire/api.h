/* The API layer: route handlers and the one place where errors become HTTP
 * statuses and error bodies. */
#ifndef HIREWIRE_API_H
#define HIREWIRE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hirewire/router.h"

struct http_req;

/* The route table of the whole server (api_routes.c). */
extern const struct route api_routes[];
extern const size_t api_routes_count;

/* Maps err to its HTTP status (api_error.c): HW_ENOTFOUND 404, HW_EVALIDATION
 * 422, HW_EBADJSON/-EINVAL 400, HW_EUNAUTH 401, HW_ECONFLICT 409, HW_ETOOLARGE
 * 413, HW_EMEDIA 415, HW_ERATELIMIT 429, HW_EUNAVAIL 503, others 500. */
int api_error_status(int err);

/* The stable error code string of the body ("not_found", "invalid_field",...). */
const char *api_error_code(int err);

/* Replies with the error body
 *   {"error":{"code","message","field"},"detail":message}
 * and the status of err. field may be NULL. */
void api_error(struct http_req *req, int err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with a ready message; this is the http_error_fn the server uses
 * for the errors it finds before a handler runs. */
void api_error_msg(struct http_req *req, int err, const char *field, const char *msg);

/* Replies to a failed store call (pg_query's err or its immediate error):
 * 503 when the database is unavailable or busy, the mapped error otherwise. */
void api_store_error(struct http_req *req, int err, const char *what);

/* Domain statements run for a request (api_exec.c). The statement's first
 * row has a "body" column (the response JSON text, NULL when the object is
 * not found) and may have "status" (overrides o->status); its rows carry the
 * events it wrote (eventlog_exec). */
struct eventlog_result;
struct api_exec_opts {
    int status;            /* on success, unless the row says otherwise */
    const char *what;      /* "saving the job": for store errors */
    const char *not_found; /* the 404 message when body is NULL */
    const char *conflict;  /* the 409 message for a unique violation; NULL: generic */
    const char *invalid;   /* the 422 message for a check violation the input checks
                              cannot see (it involves stored values); NULL: generic */
    const char *invalid_field;
    /* Looks at the result first; returns true when it has replied. */
    bool (*check)(struct http_req *req, const void *res);
};

/* Runs sql with params ($1 must be the user) and replies as above. Always
 * replies, also when the statement cannot be queued. o must outlive the
 * request (a static const). */
void api_exec(struct http_req *req, const char *sql, int nparams, const char *const *params,
              const struct api_exec_opts *o);

/* api_exec of sql with ($1 user, $2 the {id} path parameter). A malformed
 * id (no object can have it) is answered as a missing object: 404 with
 * o->not_found. */
void api_exec_by_id(struct http_req *req, const char *sql, const struct api_exec_opts *o);

/* Text of a decimal int64, for statement parameters. */
#define API_ID_LEN 24
/* The request's user id as text ($1 of every domain statement). */
void api_uid(const struct http_req *req, char out[API_ID_LEN]);
/* The {id} path parameter as text. A malformed one (no object can have it)
 * is answered 404 "<what> not found" here, and false returned. */
bool api_id_param(struct http_req *req, const char *what, char out[API_ID_LEN]);

/* A query parameter that is a whole number lo..hi: 1 when given (and *out
 * set), 0 when absent or empty (out untouched), -1 after answering 422
 * naming the parameter. */
int api_query_long(struct http_req *req, const char *name, long lo, long hi, long *out);

/* Column name of row of a PGresult, NULL when absent or SQL NULL. */
const char *api_col(const void *res, int row, const char *name);
/* Publishes the events of a domain statement's result on the bus. */
void api_publish(struct http_req *req, const struct eventlog_result *r);
/* Replies with the "body" column of row 0 ("status" column or status). */
void api_reply_body(struct http_req *req, int status, const void *res);

/* Handlers */
void api_root(struct http_req *req);
void api_health(struct http_req *req);        /* GET /health */
void api_integrations_health(struct http_req *req);
void api_metrics(struct http_req *req);
void api_me(struct http_req *req);        /* GET /api/v1/me */
void api_me_update(struct http_req *req); /* PATCH /api/v1/me {"timezone"} */
void api_cache_stats(struct http_req *req);
void api_cache_health(struct http_req *req);
void api_cache_get(struct http_req *req);
void api_cache_set(struct http_req *req);
void api_cache_clear(struct http_req *req);
void api_cache_namespaces(struct http_req *req);
void api_events_post(struct http_req *req);

/* A status move the statement refused (api_exec check): 409 naming the
 * statuses the job may move to. A missing object (no current_status, no
 * body) is left to api_exec's 404 with o->not_found. */
bool api_transition_refused(struct http_req *req, const void *res);

void api_jobs_create(struct http_req *req);
void api_jobs_process(struct http_req *req);
void api_jobs_list(struct http_req *req);
void api_jobs_get(struct http_req *req);
void api_jobs_patch(struct http_req *req);
void api_jobs_delete(struct http_req *req);

void api_ats_status(struct http_req *req);
void api_ats_timeline(struct http_req *req);
void api_ats_statistics(struct http_req *req);
void api_ats_applications(struct http_req *req);
void api_ats_job_notes(struct http_req *req);
void api_ats_job_offers(struct http_req *req);
void api_ats_note_create(struct http_req *req);
void api_ats_note_update(struct http_req *req);
void api_ats_note_delete(struct http_req *req);

void api_offer_create(struct http_req *req);
void api_offer_update(struct http_req *req);
void api_offer_negotiate(struct http_req *req);
void api_offer_accept(struct http_req *req);
void api_offer_reject(struct http_req *req);

void api_interview_create(struct http_req *req);
void api_interview_update(struct http_req *req);
void api_interview_cancel(struct http_req *req);
void api_interview_get(struct http_req *req);
void api_interviews_of_job(struct http_req *req);
void api_interviews_upcoming(struct http_req *req);
void api_interviews_list(struct http_req *req);

void api_calendar_ics(struct http_req *req);
void api_calendar_feed_get(struct http_req *req);
void api_calendar_feed_new(struct http_req *req);
void api_calendar_feed_delete(struct http_req *req);

void api_followup_due(struct http_req *req);
void api_followups_fired(struct http_req *req);
void api_followups_list(struct http_req *req);
void api_followups_create(struct http_req *req);
void api_followup_complete(struct http_req *req);
void api_followup_snooze(struct http_req *req);
void api_followup_dismiss(struct http_req *req);

/* Test builds only (api_routes.c registers them under HIREWIRE_TEST_CLOCK). */
void api_test_clock(struct http_req *req);
void api_test_reactions(struct http_req *req);

#endif
