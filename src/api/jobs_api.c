/* /api/v1/jobs: save (from the dashboard or the extension), list, read,
 * change and delete jobs.
 *
 * A save is one statement (job + history + job.created); saving the same
 * posting again answers the job already saved. With an Idempotency-Key the
 * key is taken first, and the save's own statement records the answer that
 * a retry with the same key replays. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/digest.h"
#include "hirewire/err.h"
#include "hirewire/eventlog.h"
#include "hirewire/http.h"
#include "hirewire/job_repo.h"
#include "hirewire/jsonx.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"

#include "job_input.h"

#define IDEM_KEY_MAX 200
#define CREATE_TRIES 3

struct save {
    struct http_req *req;
    char *doc;           /* the normalised job document */
    char key[IDEM_KEY_MAX + 1];
    char hash[65];       /* of the request, when it has a key */
    bool has_key;
    bool process;        /* the extension's response shape */
    int tries;
};

static void save_free(struct save *s)
{
    free(s->doc);
    free(s);
}

static void save_run(struct save *s);

static void on_saved(void *arg, int err, const struct eventlog_result *r)
{
    struct save *s = arg;
    struct http_req *req = s->req;

    api_publish(req, r);
    if (err) {
        api_store_error(req, err, "saving the job");
        save_free(s);
        return;
    }
    /* No row: the same URL was saved at the same moment by another request
     * whose row this statement's snapshot could not see; now it can. */
    if (!api_col(r->res, 0, "body")) {
        if (++s->tries < CREATE_TRIES) {
            save_run(s);
            return;
        }
        api_error(req, HW_ECONFLICT, NULL, "the job is being saved by another request; retry");
        save_free(s);
        return;
    }
    if (r->n > 0)
        app_count_today(http_req_app(req), APP_TODAY_JOBS_PROCESSED, 1);
    api_reply_body(req, 201, r->res);
    save_free(s);
}

static void save_run(struct save *s)
{
    char uid[API_ID_LEN];
    api_uid(s->req, uid);
    const char *params[4] = {uid, s->doc, s->has_key ? s->key : NULL,
                             s->process ? "process" : NULL};
    int rc = eventlog_exec(http_req_app(s->req)->pg, http_req_user(s->req), job_repo_sql_create, 4,
                           params, on_saved, s);
    if (rc) {
        api_store_error(s->req, rc, "saving the job");
        save_free(s);
    }
}

/* --- Idempotency-Key --- */

static bool key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return false;
    for (const char *p = k; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

/* SHA-256 of path and body: a retry must be the same request. On ENOMEM
 * the digest is empty, which matches no stored one. */
static void request_hash(struct http_req *req, char out[65])
{
    size_t blen = 0;
    const char *body = http_req_body(req, &blen), *path = http_req_path(req);
    size_t plen = strlen(path) + 1;
    char *buf = malloc(plen + blen + 1);

    out[0] = '\0';
    if (!buf)
        return;
    memcpy(buf, path, plen);
    if (blen)
        memcpy(buf + plen, body, blen);
    digest_sha256_hex(buf, plen + blen, out);
    free(buf);
}

static void on_key_taken(void *arg, int err, const PGresult *res)
{
    struct save *s = arg;
    struct http_req *req = s->req;

    if (err) {
        api_store_error(req, err, "taking the Idempotency-Key");
        save_free(s);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "1") == 0) {
        save_run(s);
        return;
    }
    const char *prev = api_col(res, 0, "request_hash");
    if (prev && strcmp(prev, s->hash) != 0)
        api_error(req, HW_EVALIDATION, "idempotency-key",
                  "this Idempotency-Key was used for a different request");
    else if (!api_col(res, 0, "status"))
        api_error(req, HW_ECONFLICT, "idempotency-key",
                  "a request with this Idempotency-Key is still in progress");
    else {
        http_reply_header(req, "idempotent-replayed", "true");
        api_reply_body(req, 200, res);
    }
    save_free(s);
}

static void save(struct http_req *req, enum job_input_mode mode, const char *tz)
{
    struct job_input_error e;
    json_t *doc = NULL;
    const char *key = http_req_header(req, "idempotency-key");

    if (key && !key_valid(key)) {
        api_error(req, HW_EVALIDATION, "idempotency-key",
                  "Idempotency-Key must be 1 to %d visible ASCII characters", IDEM_KEY_MAX);
        return;
    }
    int rc = job_input_parse(http_req_json(req), mode, tz, &doc, &e);
    if (rc) {
        api_doc_reply_error(req, rc, &e);
        return;
    }
    struct save *s = calloc(1, sizeof *s);
    if (s)
        s->doc = jsonx_dump(doc, NULL);
    json_decref(doc);
    if (!s || !s->doc) {
        if (s)
            save_free(s);
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    s->req = req;
    s->process = mode == JOB_INPUT_PROCESS;
    if (!key) {
        save_run(s);
        return;
    }
    s->has_key = true;
    snprintf(s->key, sizeof s->key, "%s", key);
    char uid[API_ID_LEN];
    api_uid(req, uid);
    request_hash(req, s->hash);
    const char *params[3] = {uid, key, s->hash};
    rc = pg_query(http_req_app(req)->pg, job_repo_sql_idem_take, 3, params, on_key_taken, s);
    if (rc) {
        api_store_error(req, rc, "taking the Idempotency-Key");
        save_free(s);
    }
}

static void create_in(struct http_req *req, const char *tz)
{
    save(req, JOB_INPUT_CREATE, tz);
}

static void process_in(struct http_req *req, const char *tz)
{
    save(req, JOB_INPUT_PROCESS, tz);
}

/* The user's zone is read first only when a date comes without one. */
void api_jobs_create(struct http_req *req)
{
    api_doc_with_tz(req, job_input_has_local_time(http_req_json(req)), create_in);
}

void api_jobs_process(struct http_req *req)
{
    api_doc_with_tz(req, job_input_has_local_time(http_req_json(req)), process_in);
}

/* --- one job --- */

static const struct api_exec_opts get_opts = {
    .status = 200, .what = "reading the job", .not_found = "job not found"};
static const struct api_exec_opts delete_opts = {
    .status = 204, .what = "deleting the job", .not_found = "job not found"};

void api_jobs_get(struct http_req *req)
{
    api_exec_by_id(req, job_repo_sql_get, &get_opts);
}

void api_jobs_delete(struct http_req *req)
{
    api_exec_by_id(req, job_repo_sql_delete, &delete_opts);
}

static const struct api_exec_opts patch_opts = {.status = 200,
                                                .what = "updating the job",
                                                .not_found = "job not found",
                                                .conflict = "another job already has this URL",
                                                .invalid = "salary_min must not be greater "
                                                           "than salary_max",
                                                .invalid_field = "salary_min",
                                                .check = api_transition_refused};

static void patch_in(struct http_req *req, const char *tz)
{
    char uid[API_ID_LEN], id[API_ID_LEN], prev[400] = "{}";
    struct job_input_error e;
    json_t *doc = NULL;

    if (!api_id_param(req, "job", id))
        return;
    int rc = job_input_parse(http_req_json(req), JOB_INPUT_PATCH, tz, &doc, &e);
    if (rc) {
        api_doc_reply_error(req, rc, &e);
        return;
    }
    const char *st = json_string_value(json_object_get(doc, "status"));
    if (st)
        ats_names_format(ats_prev_mask(ats_status_parse(st)), ",", "{", "}", prev, sizeof prev);
    char *text = api_doc_text_take(req, doc);
    if (!text)
        return;
    api_uid(req, uid);
    const char *params[4] = {uid, id, text, prev};
    api_exec(req, job_repo_sql_patch, 4, params, &patch_opts);
    free(text);
}

void api_jobs_patch(struct http_req *req)
{
    api_doc_with_tz(req, job_input_has_local_time(http_req_json(req)), patch_in);
}
