/* Request objects and the response side of the HTTP server.
 *
 * A reply is stored in the request, then the connection is asked for a
 * writable callback; headers and body go out from there, in slices, for
 * immediate and deferred answers alike. A request whose connection closed
 * while its handler was still waiting on PostgreSQL or Redis is "detached":
 * the reply that eventually comes frees it instead of writing. */
#define LOG_MOD "http"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/app.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/jsonx.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "net/http_internal.h"

#define SLICE 16384

struct http_req *http__req_new(struct http_server *s, struct lws *wsi, struct http_pss *pss)
{
    struct http_req *req = calloc(1, sizeof(*req));

    if (!req)
        return NULL;
    req->srv = s;
    req->wsi = wsi;
    req->pss = pss;
    req->id = ++s->next_req_id;
    req->t0_ns = clock_mono_ns();
    req->content_length = -1;
    return req;
}

static void kv_free(struct http_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

void http__req_free(struct http_req *req)
{
    if (!req)
        return;
    if (req->pss && req->pss->req == req)
        req->pss->req = NULL;
    free(req->path);
    free(req->token);
    kv_free(req->query, req->nquery);
    kv_free(req->params, req->nparams);
    kv_free(req->hdrs, req->nhdrs);
    kv_free(req->resp_hdrs, req->nresp_hdrs);
    free(req->body);
    json_decref(req->json);
    free(req->resp);
    free(req);
}

void http__req_detach(struct http_req *req)
{
    if (!req)
        return;
    if (req->pss && req->pss->req == req)
        req->pss->req = NULL;
    req->pss = NULL;
    req->wsi = NULL;
    /* A handler still owes a reply: it will find the request detached and
     * free it then. Otherwise nothing refers to the request any more. */
    if (req->state != REQ_DISPATCHED)
        http__req_free(req);
}

void http__dispatched(struct http_req *req)
{
    req->state = REQ_DISPATCHED;
    req->srv->inflight++;
}

static int kv_add(struct http_kv **arr, int *n, const char *name, const char *value)
{
    struct http_kv *a = realloc(*arr, sizeof(**arr) * (size_t)(*n + 1));

    if (!a)
        return -ENOMEM;
    *arr = a;
    a[*n].name = strdup(name);
    a[*n].value = strdup(value);
    if (!a[*n].name || !a[*n].value) {
        free(a[*n].name);
        free(a[*n].value);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

int http__req_add_header(struct http_req *req, const char *name, const char *value)
{
    return kv_add(&req->hdrs, &req->nhdrs, name, value);
}

int http__req_add_query(struct http_req *req, const char *name, const char *value)
{
    return kv_add(&req->query, &req->nquery, name, value);
}

int http__req_set_params(struct http_req *req)
{
    char name[64], val[512];

    for (int i = 0; i < req->match.nparams; i++) {
        size_t nl = req->match.params[i].name_len, vl = req->match.params[i].len;
        if (nl >= sizeof(name) || vl >= sizeof(val))
            return -EINVAL;
        memcpy(name, req->match.params[i].name, nl);
        name[nl] = '\0';
        memcpy(val, req->match.params[i].val, vl);
        val[vl] = '\0';
        if (kv_add(&req->params, &req->nparams, name, val))
            return -ENOMEM;
    }
    return 0;
}

/* --- accessors --- */

struct app *http_req_app(const struct http_req *req)
{
    return req->srv->app;
}

const char *http_req_path(const struct http_req *req)
{
    return req->path;
}

int64_t http_req_user(const struct http_req *req)
{
    return req->user_id;
}

uint64_t http_req_id(const struct http_req *req)
{
    return req->id;
}

const char *http_req_param(const struct http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

int http_req_param_id(const struct http_req *req, const char *name, int64_t *out)
{
    const char *v = http_req_param(req, name);
    char *end;

    if (!v || !*v || *v == '-' || *v == '+')
        return HW_ENOTFOUND;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n <= 0)
        return HW_ENOTFOUND;
    *out = n;
    return 0;
}

const char *http_req_query(const struct http_req *req, const char *name)
{
    for (int i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

const char *http_req_header(const struct http_req *req, const char *name)
{
    if (strcmp(name, "authorization") == 0)
        return NULL;
    for (int i = 0; i < req->nhdrs; i++)
        if (strcmp(req->hdrs[i].name, name) == 0)
            return req->hdrs[i].value;
    return NULL;
}

json_t *http_req_json(const struct http_req *req)
{
    return req->json;
}

const char *http_req_body(const struct http_req *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body;
}

/* --- replies --- */

int http_reply_header(struct http_req *req, const char *name, const char *value)
{
    return kv_add(&req->resp_hdrs, &req->nresp_hdrs, name, value);
}

static void log_request(struct http_req *req)
{
    double ms = (double)(clock_mono_ns() - req->t0_ns) / 1e6;
    enum log_level lvl = req->status >= 500   ? LOG_LEVEL_WARN
                         : req->status >= 400 ? LOG_LEVEL_INFO
                                              : LOG_LEVEL_DEBUG;

    if (lvl < log__level)
        return;
    char path[512];
    log_redact_path(path, sizeof(path), req->path ? req->path : "-");
    log_write(lvl, LOG_MOD, "req=%llu user=%lld %s %s %d %.2fms",
              (unsigned long long)req->id, (long long)req->user_id,
              router_method_name(req->method), path, req->status, ms);
}

/* Takes buf (malloc'd) in every case. */
static void reply_take(struct http_req *req, int status, const char *ctype, char *buf, size_t len)
{
    struct http_server *s = req->srv;

    if (req->state == REQ_REPLIED) {
        /* A second reply is a programming error; keep the first. */
        LOG_ERROR("req=%llu replied twice (status %d)", (unsigned long long)req->id, status);
        free(buf);
        return;
    }
    if (req->state == REQ_DISPATCHED)
        s->inflight--;
    req->state = REQ_REPLIED;
    req->status = status;
    req->ctype = ctype;
    req->resp = buf;
    req->resp_len = buf ? len : 0;

    int cls = status / 100 - 1;
    if (cls >= 0 && cls < HTTP_STATUS_CLASSES)
        metric_inc(s->m_requests[cls]);
    metric_observe(s->m_latency, (double)(clock_mono_ns() - req->t0_ns) / 1e9);
    log_request(req);

    if (!req->wsi) {
        metric_inc(s->m_dropped);
        http__req_free(req);
        return;
    }
    lws_set_timeout(req->wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(req->wsi);
}

void http_reply_json_take(struct http_req *req, int status, json_t *body)
{
    size_t len = 0;
    char *buf = NULL;

    if (body) {
        buf = jsonx_dump(body, &len);
        json_decref(body);
        if (!buf) {
            status = 500;
            buf = strdup("{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of "
                         "memory\",\"field\":null},\"detail\":\"out of memory\"}");
            len = buf ? strlen(buf) : 0;
        }
    }
    reply_take(req, status, "application/json", buf, len);
}

void http_reply_raw(struct http_req *req, int status, const char *content_type, const char *body,
                    size_t len)
{
    char *buf = NULL;

    if (body && len) {
        buf = malloc(len);
        if (!buf) {
            reply_take(req, 500, "text/plain", NULL, 0);
            return;
        }
        memcpy(buf, body, len);
    }
    reply_take(req, status, content_type, buf, len);
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
    }
}

/* --- writing --- */

static int add_hdr(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                   unsigned char *end)
{
    char n[96];
    size_t nl = strlen(name);

    if (nl + 2 > sizeof(n))
        return -1;
    memcpy(n, name, nl);
    n[nl] = ':';
    n[nl + 1] = '\0';
    return lws_add_http_header_by_name(wsi, (const unsigned char *)n, (const unsigned char *)value,
                                       (int)strlen(value), p, end);
}

static int write_headers(struct lws *wsi, struct http_req *req)
{
    unsigned char buf[LWS_PRE + 4096];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    bool no_body = req->status == 204 || req->status == 304;

    if (no_body) {
        if (lws_add_http_header_status(wsi, (unsigned)req->status, &p, end))
            return -1;
    } else {
        if (lws_add_http_common_headers(wsi, (unsigned)req->status,
                                        req->ctype ? req->ctype : "application/json",
                                        req->resp_len, &p, end))
            return -1;
        if (req->close_after && add_hdr(wsi, "connection", "close", &p, end))
            return -1;
    }
    for (int i = 0; i < req->nresp_hdrs; i++)
        if (add_hdr(wsi, req->resp_hdrs[i].name, req->resp_hdrs[i].value, &p, end))
            return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    req->hdrs_sent = true;
    if (no_body || req->method == HTTP_HEAD)
        req->resp_off = req->resp_len;
    return 0;
}

static int finish(struct lws *wsi, struct http_req *req)
{
    bool close = req->close_after;

    http__req_free(req);
    if (close)
        return -1;
    /* Non-zero: lws wants the connection closed (no keep-alive). */
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http__writeable(struct lws *wsi, struct http_pss *pss)
{
    struct http_req *req = pss ? pss->req : NULL;

    if (!req || req->state != REQ_REPLIED)
        return 0;
    if (!req->hdrs_sent) {
        if (write_headers(wsi, req))
            return -1;
        if (req->resp_off >= req->resp_len)
            return finish(wsi, req);
        if (lws_partial_buffered(wsi)) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    unsigned char slice[LWS_PRE + SLICE];
    while (req->resp_off < req->resp_len) {
        size_t n = req->resp_len - req->resp_off;
        if (n > SLICE)
            n = SLICE;
        bool last = req->resp_off + n == req->resp_len;
        memcpy(slice + LWS_PRE, req->resp + req->resp_off, n);
        if (lws_write(wsi, slice + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
            (int)n)
            return -1;
        req->resp_off += n;
        if (last)
            return finish(wsi, req);
        if (lws_partial_buffered(wsi))
            break;
    }
    lws_callback_on_writable(wsi);
    return 0;
}
