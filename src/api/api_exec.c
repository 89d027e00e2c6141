/* Running a domain statement for a request.
 *
 * A domain statement does the change, appends its events and builds the
 * response body in one round trip. This file turns its result into the
 * reply: events go to the bus (after the commit, which has happened when the
 * result arrives), the body is sent as PostgreSQL rendered it, and the few
 * outcomes that are not success (not found, a conflict the statement
 * reports) become the one error body. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/bus.h"
#include "hirewire/err.h"
#include "hirewire/eventlog.h"
#include "hirewire/http.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"

#include "api_doc.h"

struct exec_ctx {
    struct http_req *req;
    const struct api_exec_opts *o;
};

const char *api_col(const void *res, int row, const char *name)
{
    const PGresult *r = res;
    int c = PQfnumber(r, name);
    if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
        return NULL;
    return PQgetvalue(r, row, c);
}

void api_uid(const struct http_req *req, char out[API_ID_LEN])
{
    snprintf(out, API_ID_LEN, "%" PRId64, http_req_user(req));
}

/* The {id} path parameter as text; false when malformed (nothing answered). */
static bool path_id(struct http_req *req, char out[API_ID_LEN])
{
    int64_t id;
    if (http_req_param_id(req, "id", &id))
        return false;
    snprintf(out, API_ID_LEN, "%" PRId64, id);
    return true;
}

bool api_id_param(struct http_req *req, const char *what, char out[API_ID_LEN])
{
    if (path_id(req, out))
        return true;
    api_error(req, HW_ENOTFOUND, NULL, "%s not found", what);
    return false;
}

static void not_found(struct http_req *req, const struct api_exec_opts *o)
{
    api_error(req, HW_ENOTFOUND, NULL, "%s", o->not_found ? o->not_found : "not found");
}

int api_query_long(struct http_req *req, const char *name, long lo, long hi, long *out)
{
    const char *v = http_req_query(req, name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < lo || x > hi) {
        api_error(req, HW_EVALIDATION, name, "%s must be a whole number %ld..%ld", name, lo, hi);
        return -1;
    }
    *out = x;
    return 1;
}

void api_publish(struct http_req *req, const struct eventlog_result *r)
{
    struct app *app = http_req_app(req);
    for (size_t i = 0; i < r->n; i++)
        bus_publish(app->bus, r->events[i]);
}

void api_reply_body(struct http_req *req, int status, const void *res)
{
    const char *body = api_col(res, 0, "body");
    const char *st = api_col(res, 0, "status");
    if (st)
        status = atoi(st);
    http_reply_raw(req, status, "application/json", body, strlen(body));
}

static void exec_done(void *arg, int err, const struct eventlog_result *r)
{
    struct exec_ctx *c = arg;
    struct http_req *req = c->req;
    const struct api_exec_opts *o = c->o;
    free(c);

    api_publish(req, r);
    if (err) {
        if (err == HW_ECONFLICT && o->conflict)
            api_error(req, HW_ECONFLICT, NULL, "%s", o->conflict);
        else if (err == HW_EVALIDATION && o->invalid)
            api_error(req, HW_EVALIDATION, o->invalid_field, "%s", o->invalid);
        else
            api_store_error(req, err, o->what);
        return;
    }
    if (o->check && o->check(req, r->res))
        return;
    if (!api_col(r->res, 0, "body")) {
        not_found(req, o);
        return;
    }
    api_reply_body(req, o->status, r->res);
}

void api_exec(struct http_req *req, const char *sql, int nparams, const char *const *params,
              const struct api_exec_opts *o)
{
    struct exec_ctx *c = malloc(sizeof *c);
    if (!c) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    c->req = req;
    c->o = o;
    int rc = eventlog_exec(http_req_app(req)->pg, http_req_user(req), sql, nparams, params,
                           exec_done, c);
    if (rc) {
        free(c);
        api_store_error(req, rc, o->what);
    }
}

void api_exec_by_id(struct http_req *req, const char *sql, const struct api_exec_opts *o)
{
    char uid[API_ID_LEN], id[API_ID_LEN];
    if (!path_id(req, id)) {
        not_found(req, o);
        return;
    }
    api_uid(req, uid);
    const char *params[2] = {uid, id};
    api_exec(req, sql, 2, params, o);
}

void api_exec_doc(struct http_req *req, const char *sql, const char *id, json_t *doc,
                  const struct api_exec_opts *o)
{
    char uid[API_ID_LEN];
    char *text = doc ? api_doc_text_take(req, doc) : NULL;
    if (!text)
        return;
    api_uid(req, uid);
    const char *with_id[3] = {uid, id, text}, *without[2] = {uid, text};
    api_exec(req, sql, id ? 3 : 2, id ? with_id : without, o);
    free(text);
}

/* A status move refused by the statement: say where the job may go. No
 * current_status means no row, so no body: exec_done answers o->not_found. */
bool api_transition_refused(struct http_req *req, const void *res)
{
    const char *cur = api_col(res, 0, "current_status");
    if (!cur || api_col(res, 0, "body"))
        return false;
    const char *want = api_col(res, 0, "wanted_status");
    char allowed[400];
    if (ats_names_format(ats_next_mask(ats_status_parse(cur)), ", ", "[", "]", allowed,
                         sizeof allowed) < 0)
        snprintf(allowed, sizeof allowed, "[]");
    api_error(req, HW_ECONFLICT, "status",
              "Invalid status transition from %s to %s. Valid transitions: %s", cur,
              want ? want : "the requested status", allowed);
    return true;
}
