/* Table-driven validation of request bodies: each field is checked on its
 * own and the first bad one is named, with what was expected.
 *
 * Times without a zone are the user's wall-clock time (the dashboard sends
 * its datetime-local inputs that way). They are converted here, in C, by
 * the same localtime module the follow-up sequences use, so that one rule
 * for DST gaps and overlaps holds for the whole server; the handler reads
 * the user's zone first (api_doc_with_tz), but only when the request has
 * such a time, so most requests make no extra round trip. */
#define LOG_MOD "api"

#include "api_doc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/jobnorm.h"
#include "hirewire/jsonx.h"
#include "hirewire/localtime.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"

int api_doc_fail(struct api_doc_error *e, const char *field, const char *fmt, ...)
{
    va_list ap;
    snprintf(e->field, sizeof e->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return HW_EVALIDATION;
}

char *api_doc_tidy(const char *s, bool one_line, bool *bad)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    *bad = false;
    if (!out)
        return NULL;
    bool pending = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        if (!ws && (*p < 0x20 || *p == 0x7f)) {
            free(out);
            *bad = true;
            return NULL;
        }
        if (ws && (one_line || *p != '\n')) {
            pending = o != out;
            continue;
        }
        /* Whitespace that ends a line goes, like that which ends the text. */
        if (pending && *p != '\n')
            *o++ = ' ';
        pending = false;
        *o++ = (char)*p;
    }
    *o = '\0';
    while (o > out && o[-1] == '\n')
        *--o = '\0';
    size_t lead = strspn(out, "\n");
    memmove(out, out + lead, (size_t)(o - out) - lead + 1);
    return out;
}

static int put_string(const struct api_doc_field *f, const char *col, const char *s, json_t *doc,
                      struct api_doc_error *e)
{
    bool bad;
    char *t = api_doc_tidy(s, f->kind != DOC_TEXT, &bad);
    if (!t)
        return bad ? api_doc_fail(e, f->key, "%s must not contain control characters", f->key) : -ENOMEM;
    size_t chars = jobnorm_utf8_chars(t, strlen(t));
    int rc = 0;
    if (chars > (size_t)f->hi)
        rc = api_doc_fail(e, f->key, "%s is %zu characters; the limit is %.0f", f->key, chars, f->hi);
    else if (!*t && (f->required || f->not_null))
        rc = api_doc_fail(e, f->key, "%s must not be empty", f->key);
    else if (f->kind == DOC_EMAIL && *t && (!strchr(t, '@') || strchr(t, ' ') || t[0] == '@'))
        rc = api_doc_fail(e, f->key, "%s must be an e-mail address", f->key);
    else if (f->kind == DOC_URL && *t && strncmp(t, "https://", 8) && strncmp(t, "http://", 7))
        rc = api_doc_fail(e, f->key, "%s must be an absolute http or https URL", f->key);
    else
        json_object_set_new(doc, col, *t ? json_string(t) : json_null());
    free(t);
    return rc;
}

static int put_number(const struct api_doc_field *f, const char *col, json_t *v, json_t *doc,
                      struct api_doc_error *e)
{
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    bool integral = f->kind != DOC_NUM;
    if (isnan(x) || !isfinite(x) || x < f->lo || x > f->hi || (integral && x != floor(x))) {
        if (f->kind == DOC_ID)
            return api_doc_fail(e, f->key, "%s must be the integer id of an existing object", f->key);
        return api_doc_fail(e, f->key, "%s must be %s between %g and %g", f->key,
                    integral ? "an integer" : "a number", f->lo, f->hi);
    }
    json_object_set_new(doc, col, integral ? json_integer((json_int_t)x) : json_real(x));
    return 0;
}

int api_doc_time(const char *s, const char *tz, int64_t *ms)
{
    int64_t t;
    bool zoned;
    if (clock_parse_iso_zoned(s, &t, &zoned))
        return -EINVAL;
    if (zoned || !tz || strcmp(tz, "UTC") == 0) {
        *ms = t;
        return 0;
    }
    int rc = localtime_to_utc(tz, t, ms);
    if (rc == -EINVAL) /* a zone that no longer loads: as api_doc_with_tz() does */
        *ms = t;
    return rc == -ERANGE ? rc : 0;
}

bool api_doc_time_is_local(const char *s)
{
    int64_t t;
    bool zoned;
    return s && clock_parse_iso_zoned(s, &t, &zoned) == 0 && !zoned;
}

bool api_doc_has_local_time(json_t *body, const struct api_doc_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i].kind == DOC_TIME &&
            api_doc_time_is_local(json_string_value(json_object_get(body, fields[i].key))))
            return true;
    return false;
}

int api_doc_time_field(const char *key, const char *s, const char *tz, int64_t *ms,
                       struct api_doc_error *e)
{
    int rc = api_doc_time(s, tz, ms);
    if (rc == -ERANGE)
        return api_doc_fail(e, key, "%s without a time zone must be in the years 1900 to 2199",
                            key);
    if (rc)
        return api_doc_fail(e, key, "%s must be an ISO-8601 time like 2026-11-23T09:00:00Z",
                            key);
    return 0;
}

static int put_time(const struct api_doc_field *f, const char *col, const char *s, const char *tz,
                    json_t *doc, struct api_doc_error *e)
{
    int64_t ms;
    int rc = api_doc_time_field(f->key, s, tz, &ms, e);
    if (rc == 0)
        json_object_set_new(doc, col, json_integer(ms));
    return rc;
}

static int put_field(const struct api_doc_field *f, json_t *v, const char *tz, json_t *doc,
                     struct api_doc_error *e)
{
    const char *col = f->col ? f->col : f->key;
    if (json_is_null(v)) {
        if (f->required)
            return api_doc_fail(e, f->key, "%s is required", f->key);
        if (f->not_null || f->kind == DOC_BOOL)
            return api_doc_fail(e, f->key, "%s must not be null", f->key);
        json_object_set_new(doc, col, json_null());
        return 0;
    }
    switch (f->kind) {
    case DOC_NUM:
    case DOC_INT:
    case DOC_ID: return put_number(f, col, v, doc, e);
    case DOC_BOOL:
        if (!json_is_boolean(v))
            return api_doc_fail(e, f->key, "%s must be true or false", f->key);
        json_object_set(doc, col, v);
        return 0;
    default: break;
    }
    if (!json_is_string(v))
        return api_doc_fail(e, f->key, "%s must be a string", f->key);
    const char *s = json_string_value(v);
    if (f->kind == DOC_TIME)
        return put_time(f, col, s, tz, doc, e);
    if (f->kind == DOC_ENUM) {
        if (!f->valid(s))
            return api_doc_fail(e, f->key, "%s must be one of %s", f->key, f->expect);
        json_object_set(doc, col, v);
        return 0;
    }
    return put_string(f, col, s, doc, e);
}

int api_doc_parse(json_t *body, const struct api_doc_field *fields, size_t n, bool ignore_unknown,
                  const char *tz, json_t **doc_out, struct api_doc_error *e)
{
    const char *key;
    json_t *v, *doc = json_object();
    int rc = 0;

    *doc_out = NULL;
    e->field[0] = e->msg[0] = '\0';
    if (!doc)
        return -ENOMEM;
    if (!json_is_object(body)) {
        rc = api_doc_fail(e, "", "the body must be a JSON object");
        goto out;
    }
    json_object_foreach(body, key, v) {
        size_t i = 0;
        while (i < n && strcmp(fields[i].key, key))
            i++;
        if (i == n) {
            if (!ignore_unknown) {
                rc = api_doc_fail(e, key, "unknown field \"%.60s\"", key);
                goto out;
            }
            continue;
        }
        if ((rc = put_field(&fields[i], v, tz, doc, e)))
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i].required && !json_object_get(body, fields[i].key)) {
            rc = api_doc_fail(e, fields[i].key, "%s is required", fields[i].key);
            goto out;
        }
out:
    if (rc)
        json_decref(doc);
    else
        *doc_out = doc;
    return rc;
}

void api_doc_reply_error(struct http_req *req, int rc, const struct api_doc_error *e)
{
    if (rc == HW_EVALIDATION)
        api_error(req, rc, e->field[0] ? e->field : NULL, "%s", e->msg);
    else
        api_error(req, rc, NULL, "out of memory");
}

json_t *api_doc_read_tz(struct http_req *req, const struct api_doc_field *fields, size_t n,
                        bool ignore_unknown, const char *tz)
{
    struct api_doc_error e;
    json_t *doc = NULL;
    int rc = api_doc_parse(http_req_json(req), fields, n, ignore_unknown, tz, &doc, &e);
    if (rc)
        api_doc_reply_error(req, rc, &e);
    return doc;
}

json_t *api_doc_read(struct http_req *req, const struct api_doc_field *fields, size_t n,
                     bool ignore_unknown)
{
    return api_doc_read_tz(req, fields, n, ignore_unknown, NULL);
}

struct tz_read {
    struct http_req *req;
    api_doc_tz_cb cb;
    char tz[LOCALTIME_TZ_MAX + 1];
};

static void on_zone(void *arg, bool known)
{
    struct tz_read *t = arg;
    if (!known)
        LOG_WARN("user=%" PRId64 " msg=\"unknown time zone, times read as UTC\"",
                 http_req_user(t->req));
    t->cb(t->req, known ? t->tz : NULL);
    free(t);
}

static void on_tz(void *arg, int err, const PGresult *res)
{
    struct tz_read *t = arg;
    struct http_req *req = t->req;
    if (err || PQntuples(res) != 1) {
        free(t);
        if (err)
            api_store_error(req, err, "reading the user's time zone");
        else
            api_error(req, HW_ENOTFOUND, NULL, "the user no longer exists");
        return;
    }
    /* Longer than any zone name: the column has no such limit, and the
     * copy must not turn it into a shorter, valid one. */
    if (PQgetlength(res, 0, 0) > LOCALTIME_TZ_MAX) {
        on_zone(t, false);
        return;
    }
    snprintf(t->tz, sizeof t->tz, "%s", PQgetvalue(res, 0, 0));
    if (app_zone_load(http_req_app(req), t->tz, on_zone, t)) {
        free(t);
        api_error(req, -ENOMEM, NULL, "out of memory");
    }
}

void api_doc_with_tz(struct http_req *req, bool need, api_doc_tz_cb cb)
{
    if (!need) {
        cb(req, NULL);
        return;
    }
    struct tz_read *t = malloc(sizeof *t);
    char uid[API_ID_LEN];
    if (!t) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    t->req = req;
    t->cb = cb;
    api_uid(req, uid);
    const char *params[1] = {uid};
    int rc = pg_query(http_req_app(req)->pg, "SELECT timezone FROM users WHERE id = $1", 1, params,
                      on_tz, t);
    if (rc) {
        free(t);
        api_store_error(req, rc, "reading the user's time zone");
    }
}

int api_doc_query_time(struct http_req *req, const char *name, const char *tz, int64_t *out)
{
    const char *v = http_req_query(req, name);
    if (!v || !*v)
        return 0;
    struct api_doc_error e;
    int rc = api_doc_time_field(name, v, tz, out, &e);
    if (rc) {
        api_doc_reply_error(req, rc, &e);
        return -1;
    }
    return 1;
}

char *api_doc_text_take(struct http_req *req, json_t *doc)
{
    char *text = jsonx_dump(doc, NULL);
    json_decref(doc);
    if (!text)
        api_error(req, -ENOMEM, NULL, "out of memory");
    return text;
}
