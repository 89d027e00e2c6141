/* The HTTP server: one libwebsockets context on the app's libuv loop.
 *
 * libwebsockets parses the request; this file turns what it parsed into a
 * struct http_req (method, normalised path, query, the few headers we keep,
 * the credential), applies the rules every route shares (body limits,
 * content type, JSON, CORS, authentication) and hands the request to its
 * handler. http_conn.c owns the request object and writes the response. */
#define LOG_MOD "http"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hirewire/app.h"
#include "hirewire/auth.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/hub.h"
#include "hirewire/jsonx.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/user_repo.h"
#include "net/http_internal.h"

#define PATH_MAX_LEN 2048
#define HDR_MAX 1024

static const char cors_methods[] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
static const char cors_expose[] = "X-Total-Count, Link, Retry-After, Allow";

static void fail(struct http_req *req, int err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct http_req *req, int err, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    req->srv->on_error(req, err, field, msg);
}

static unsigned method_of(int lws_method)
{
    switch (lws_method) {
    case LWSHUMETH_GET: return HTTP_GET;
    case LWSHUMETH_POST: return HTTP_POST;
    case LWSHUMETH_OPTIONS: return HTTP_OPTIONS;
    case LWSHUMETH_PUT: return HTTP_PUT;
    case LWSHUMETH_PATCH: return HTTP_PATCH;
    case LWSHUMETH_DELETE: return HTTP_DELETE;
    case LWSHUMETH_HEAD: return HTTP_HEAD;
    default: return 0;
    }
}

/* Copies a known header; returns its length or -1 when absent. */
static int copy_token(struct lws *wsi, enum lws_token_indexes t, char *buf, int n)
{
    if (lws_hdr_total_length(wsi, t) <= 0)
        return -1;
    return lws_hdr_copy(wsi, buf, n, t);
}

/* Copies a header lws does not know by name ("idempotency-key:"). */
static int copy_custom(struct lws *wsi, const char *name, char *buf, int n)
{
    int nlen = (int)strlen(name);

    if (lws_hdr_custom_length(wsi, name, nlen) <= 0)
        return -1;
    return lws_hdr_custom_copy(wsi, buf, n, name, nlen);
}

static int keep_header(struct http_req *req, const char *name, const char *value, int len)
{
    if (len < 0)
        return 0;
    return http__req_add_header(req, name, value);
}

static int read_headers(struct lws *wsi, struct http_req *req, char *auth, size_t authn)
{
    static const struct {
        enum lws_token_indexes tok;
        const char *name;
    } known[] = {
        {WSI_TOKEN_ORIGIN, "origin"},
        {WSI_TOKEN_HTTP_CONTENT_TYPE, "content-type"},
        {WSI_TOKEN_HTTP_AC_REQUEST_HEADERS, "access-control-request-headers"},
        {WSI_TOKEN_HTTP_IF_NONE_MATCH, "if-none-match"},
        {WSI_TOKEN_HTTP_TRANSFER_ENCODING, "transfer-encoding"},
    };
    static const char *const custom[] = {
        "idempotency-key:",
        "access-control-request-method:",
        "access-control-request-private-network:",
        "last-event-id:",
    };
    char buf[HDR_MAX];
    int n;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        n = copy_token(wsi, known[i].tok, buf, sizeof(buf));
        if (keep_header(req, known[i].name, buf, n))
            return -ENOMEM;
    }
    for (size_t i = 0; i < sizeof(custom) / sizeof(custom[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s", custom[i]);
        name[strlen(name) - 1] = '\0';
        n = copy_custom(wsi, custom[i], buf, sizeof(buf));
        if (keep_header(req, name, buf, n))
            return -ENOMEM;
    }
    n = copy_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, buf, sizeof(buf));
    if (n > 0) {
        char *end;
        errno = 0;
        long long cl = strtoll(buf, &end, 10);
        req->content_length = (errno || *end || cl < 0) ? -2 : cl;
    }
    auth[0] = '\0';
    if (copy_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, (int)authn) < 0)
        auth[0] = '\0';
    return 0;
}

static int read_query(struct lws *wsi, struct http_req *req)
{
    char buf[HDR_MAX];

    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char *eq = strchr(buf, '=');
        if (eq)
            *eq = '\0';
        if (!buf[0])
            continue;
        if (http__req_add_query(req, buf, eq ? eq + 1 : ""))
            return -ENOMEM;
    }
    return 0;
}

/* Path without a capability prefix and without trailing slashes. */
static int set_path(struct http_req *req, const char *uri, int ulen, int *cap_err)
{
    char path[PATH_MAX_LEN], tok[AUTH_TOKEN_MAX + 1];
    const char *rest;

    if (ulen <= 0 || ulen >= (int)sizeof(path))
        return -EINVAL;
    memcpy(path, uri, (size_t)ulen);
    path[ulen] = '\0';

    const char *p = path;
    int cap = auth_split_capability(path, tok, sizeof(tok), &rest);
    if (cap < 0) {
        *cap_err = cap;
    } else if (cap == 1) {
        req->token = strdup(tok);
        if (!req->token)
            return -ENOMEM;
        p = *rest ? rest : "/";
    }
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    req->path = strndup(p, len);
    return req->path ? 0 : -ENOMEM;
}

static void add_cors(struct http_req *req)
{
    const char *origin = http_req_header(req, "origin");
    const struct config *cfg = req->srv->app->cfg;

    if (!origin || !config_origin_allowed(cfg, origin))
        return;
    req->cors = true;
    http_reply_header(req, "access-control-allow-origin", origin);
    http_reply_header(req, "access-control-allow-credentials", "true");
    http_reply_header(req, "access-control-expose-headers", cors_expose);
    http_reply_header(req, "vary", "Origin");
}

/* Only header-name characters survive, so a hostile request cannot inject
 * anything into our response headers by way of the echo. */
static void sanitize_header_list(const char *in, char *out, size_t n)
{
    size_t o = 0;

    for (; in && *in && o + 1 < n; in++) {
        unsigned char c = (unsigned char)*in;
        if (isalnum(c) || c == '-' || c == '_' || c == ',' || c == ' ')
            out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
}

static void preflight(struct http_req *req)
{
    struct http_server *s = req->srv;
    const char *acrm = http_req_header(req, "access-control-request-method");
    const char *origin = http_req_header(req, "origin");
    struct router_match m;
    char allow[128];

    if (!acrm || !origin) {
        /* A plain OPTIONS: say which methods the path takes. */
        int rc = router_match(s->routes, s->nroutes, HTTP_OPTIONS, req->path, &m);
        if (rc == HW_ENOTFOUND) {
            fail(req, HW_ENOTFOUND, NULL, "no such path: %s", req->path);
            return;
        }
        http_reply_header(req, "allow", router_allow_str(m.allow, allow, sizeof(allow)));
        http_reply_raw(req, 204, NULL, NULL, 0);
        return;
    }
    if (!req->cors) {
        fail(req, HW_EFORBIDDEN, NULL, "origin %s is not allowed (see cors_origins)", origin);
        return;
    }
    char hdrs[HDR_MAX];
    sanitize_header_list(http_req_header(req, "access-control-request-headers"), hdrs,
                         sizeof(hdrs));
    http_reply_header(req, "access-control-allow-methods", cors_methods);
    char allow_hdrs[HDR_MAX + 64];
    snprintf(allow_hdrs, sizeof(allow_hdrs), "authorization, content-type, idempotency-key%s%s",
             hdrs[0] ? ", " : "", hdrs);
    http_reply_header(req, "access-control-allow-headers", allow_hdrs);
    http_reply_header(req, "access-control-max-age", "600");
    const char *pna = http_req_header(req, "access-control-request-private-network");
    if (pna && strcasecmp(pna, "true") == 0)
        http_reply_header(req, "access-control-allow-private-network", "true");
    http_reply_raw(req, 204, NULL, NULL, 0);
}

static void run_handler(struct http_req *req)
{
    req->match.route->fn(req);
}

static void on_auth(void *arg, int err, int64_t user_id)
{
    struct http_req *req = arg;

    if (!req->wsi) {
        /* The client left while we looked the token up. */
        req->srv->inflight--;
        http__req_free(req);
        return;
    }
    if (err == HW_EUNAUTH) {
        fail(req, HW_EUNAUTH, NULL, "the token is unknown or revoked");
        return;
    }
    if (err) {
        fail(req, err, NULL, "cannot check the credential: the database is unavailable");
        return;
    }
    req->user_id = user_id;
    run_handler(req);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    /* application/merge-patch+json, application/vnd.x+json, ... */
    return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 && strncasecmp(ct, "application/", 12) == 0;
}

static void dispatch(struct http_req *req)
{
    struct http_server *s = req->srv;
    char msg[256], allow[128];

    http__dispatched(req);
    if (req->method == HTTP_OPTIONS) {
        preflight(req);
        return;
    }
    int rc = router_match(s->routes, s->nroutes, req->method, req->path, &req->match);
    if (rc == HW_ENOTFOUND) {
        fail(req, HW_ENOTFOUND, NULL, "no such path: %s", req->path);
        return;
    }
    if (rc == HW_EMETHOD) {
        http_reply_header(req, "allow", router_allow_str(req->match.allow, allow, sizeof(allow)));
        fail(req, HW_EMETHOD, NULL, "%s is not allowed here; allowed: %s",
             router_method_name(req->method), allow);
        return;
    }
    if (http__req_set_params(req)) {
        fail(req, HW_ENOTFOUND, NULL, "no such path: %s", req->path);
        return;
    }
    unsigned flags = req->match.route->flags;
    if (req->body_len > 0 && (flags & ROUTE_JSON)) {
        const char *ct = http_req_header(req, "content-type");
        if (!is_json_type(ct)) {
            fail(req, HW_EMEDIA, NULL, "the body must be application/json, not %s",
                 ct ? ct : "(no content-type)");
            return;
        }
        req->json = jsonx_parse(req->body, req->body_len, msg, sizeof(msg));
        if (!req->json) {
            fail(req, HW_EBADJSON, NULL, "%s", msg);
            return;
        }
    }
    if (flags & ROUTE_PUBLIC) {
        run_handler(req);
        return;
    }
    if (req->bad_credential) {
        fail(req, HW_EUNAUTH, NULL, "the credential is malformed");
        return;
    }
    if (!req->token) {
        fail(req, HW_EUNAUTH, NULL,
             "a credential is required: send Authorization: Bearer TOKEN or use the base "
             "URL /u/TOKEN");
        return;
    }
    rc = user_repo_auth(s->app->pg, req->token, on_auth, req);
    if (rc == HW_EUNAUTH)
        fail(req, HW_EUNAUTH, NULL, "the token is malformed");
    else if (rc == -EBUSY)
        fail(req, HW_EUNAVAIL, NULL,
             "cannot check the credential: the database is busy; try again shortly");
    else if (rc)
        fail(req, HW_EUNAVAIL, NULL, "cannot check the credential: the database is unavailable");
}

static int on_http(struct http_server *s, struct lws *wsi, struct http_pss *pss)
{
    const struct config *cfg = s->app->cfg;
    char *uri = NULL;
    int ulen = 0, cap_err = 0;
    char auth[AUTH_TOKEN_MAX + 64];

    if (pss->req)
        http__req_detach(pss->req);
    struct http_req *req = http__req_new(s, wsi, pss);
    if (!req)
        return -1;
    pss->req = req;

    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    req->method = method_of(m);
    if (set_path(req, uri, ulen, &cap_err) || read_headers(wsi, req, auth, sizeof(auth)) ||
        read_query(wsi, req)) {
        req->close_after = true;
        http__dispatched(req);
        fail(req, -EINVAL, NULL, "the request line or headers cannot be read");
        return 0;
    }
    add_cors(req);
    if (!req->token && auth[0]) {
        char tok[AUTH_TOKEN_MAX + 1];
        if (auth_parse_bearer(auth, tok, sizeof(tok)) == 0)
            req->token = strdup(tok);
        else
            cap_err = HW_EUNAUTH;
    }

    if (!req->method) {
        req->close_after = true;
        http__dispatched(req);
        fail(req, -EINVAL, NULL, "unsupported method");
        return 0;
    }
    if (s->draining) {
        req->close_after = true;
        http_reply_header(req, "retry-after", "1");
        http__dispatched(req);
        fail(req, HW_EUNAVAIL, NULL, "the server is shutting down");
        return 0;
    }
    req->bad_credential = cap_err != 0;
    bool wants_body = req->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH);
    bool chunked = http_req_header(req, "transfer-encoding") != NULL;
    /* Without Content-Length or Transfer-Encoding a request has no body
     * (RFC 9112 6.3): a bodiless POST such as .../accept is fine, and lws
     * sends no BODY_COMPLETION for it, so it is dispatched at once. */
    bool no_body = wants_body && req->content_length == -1 && !chunked;
    if (no_body)
        req->content_length = 0;
    if (req->content_length == -2 || (wants_body && req->content_length < 0)) {
        /* lws 4.1 cannot decode a chunked request body and would wait for a
         * body that never ends: refuse it and close. */
        req->close_after = true;
        http__dispatched(req);
        fail(req, HW_ELENGTH, NULL, "a body needs a valid Content-Length header");
        return 0;
    }
    if (req->content_length > cfg->http_body_max) {
        req->close_after = true;
        http__dispatched(req);
        fail(req, HW_ETOOLARGE, NULL, "the body is %lld bytes; the limit is %lld",
             (long long)req->content_length, (long long)cfg->http_body_max);
        return 0;
    }
    if (req->content_length > 0) {
        req->body_cap = (size_t)req->content_length;
        req->body = malloc(req->body_cap + 1);
        if (!req->body)
            return -1;
        req->state = REQ_BODY;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, cfg->http_timeout_s);
        return 0;
    }
    if (req->method == HTTP_POST && req->content_length == 0 && !no_body) {
        /* lws follows an explicit "content-length: 0" POST with BODY and
         * BODY_COMPLETION; dispatch there, as for any other body. */
        req->state = REQ_BODY;
        return 0;
    }
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, cfg->http_timeout_s);
    dispatch(req);
    return 0;
}

static int on_body(struct http_pss *pss, const void *in, size_t len)
{
    struct http_req *req = pss->req;

    if (!req || req->state != REQ_BODY || !len)
        return 0;
    if (req->body_len + len > req->body_cap) {
        /* lws never passes more than Content-Length; refuse if it did. */
        req->close_after = true;
        http__dispatched(req);
        fail(req, HW_ETOOLARGE, NULL, "the body is longer than its Content-Length");
        return 0;
    }
    memcpy(req->body + req->body_len, in, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return 0;
}

static int on_body_done(struct http_pss *pss)
{
    struct http_req *req = pss->req;

    if (!req || req->state != REQ_BODY)
        return 0;
    dispatch(req);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct http_pss *pss = user;
    struct lws_context *ctx = lws_get_context(wsi);
    struct http_server *s = ctx ? lws_context_user(ctx) : NULL;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(s, wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_done(pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http__writeable(wsi, pss);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss)
            http__req_detach(pss->req);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        if (!s || !s->app->hub)
            return -1;
        return hub_lws_callback(s->app->hub, wsi, (int)reason, pss ? &pss->ws : NULL, in, len);
    default:
        return 0;
    }
}

/* lws allocates rx_buffer_size bytes for every connection; client messages
 * are small, and longer ones arrive in pieces that the hub reassembles. */
#define RX_BUFFER 512

static const struct lws_protocols protocols[] = {
    {"hirewire", callback, sizeof(struct http_pss), RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void register_metrics(struct http_server *s, struct metrics *m)
{
    static const char *const cls[HTTP_STATUS_CLASSES] = {
        "code=\"1xx\"", "code=\"2xx\"", "code=\"3xx\"", "code=\"4xx\"", "code=\"5xx\"",
    };

    for (int i = 0; i < HTTP_STATUS_CLASSES; i++)
        s->m_requests[i] = metrics_counter(m, "hirewire_http_requests_total", cls[i],
                                           "HTTP requests answered, by status class");
    s->m_latency = metrics_histogram(m, "hirewire_http_request_seconds", NULL,
                                     "Time from request to reply", metrics_latency_bounds,
                                     metrics_latency_nbounds);
    s->m_dropped = metrics_counter(m, "hirewire_http_replies_dropped_total", NULL,
                                   "Replies not sent because the client had gone");
}

/* lws sizes its fd table by fd_limit_per_thread, but when that is below the
 * process's open-file limit it switches to a linear search of the table on
 * every poll event, which dominated the cost of a WebSocket delivery. So the
 * soft limit is set to exactly the table size (capped by the hard limit). */
static unsigned fd_table_size(int wanted)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return (unsigned)wanted;
    rlim_t want = (rlim_t)wanted;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
        LOG_WARN("fd_limit %d is above the hard open-file limit %llu; using that", wanted,
                 (unsigned long long)rl.rlim_max);
        want = rl.rlim_max;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        LOG_WARN("cannot set the open-file limit to %llu: %s", (unsigned long long)want,
                 strerror(errno));
        getrlimit(RLIMIT_NOFILE, &rl);
        return (unsigned)rl.rlim_cur;
    }
    return (unsigned)want;
}

/* lws 4.1 logs a failed bind of its default vhost but still returns a
 * context (which then serves nothing), and tearing that half-made context
 * down is not safe on a foreign loop. So the address is tried first. */
static int probe_bind(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof(*a6);
    } else {
        return 0; /* an interface name: lws resolves it */
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
    close(fd);
    return rc;
}

int http_start(struct app *app, const struct route *routes, size_t nroutes, http_error_fn on_error,
               struct http_server **out)
{
    const struct config *cfg = app->cfg;
    struct lws_context_creation_info info;
    void *loops[1] = {app->loop};
    struct http_server *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->app = app;
    s->routes = routes;
    s->nroutes = nroutes;
    s->on_error = on_error;
    register_metrics(s, app->metrics);
    s->retry.secs_since_valid_ping = (uint16_t)cfg->ws_ping_s;
    s->retry.secs_since_valid_hangup = (uint16_t)cfg->ws_idle_s;

    int rc = probe_bind(cfg->listen_host, cfg->port);
    if (rc) {
        LOG_ERROR("cannot listen on %s:%d: %s", cfg->listen_host, cfg->port, strerror(-rc));
        free(s);
        return rc;
    }
    memset(&info, 0, sizeof(info));
    info.port = cfg->port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (!strchr(cfg->listen_host, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.pcontext = &s->ctx;
    info.fd_limit_per_thread = fd_table_size(cfg->fd_limit);
    info.user = s;
    info.server_string = "hirewire";
    info.keepalive_timeout = 60;
    info.timeout_secs = 20;
    info.max_http_header_data = 8192;
    info.retry_and_idle_policy = &s->retry;

    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        LOG_ERROR("cannot create the HTTP server on %s:%d", cfg->listen_host, cfg->port);
        free(s);
        return -EADDRINUSE;
    }
    *out = s;
    return 0;
}

void http_drain(struct http_server *s)
{
    if (s)
        s->draining = true;
}

int http_inflight(const struct http_server *s)
{
    return s ? s->inflight : 0;
}

int http_connections(const struct http_server *s)
{
    return s ? hub_connections(s->app->hub) : 0;
}

void http_stop(struct http_server *s)
{
    if (s && s->ctx) {
        s->draining = true;
        lws_context_destroy(s->ctx);
    }
}

void http_free(struct http_server *s)
{
    if (!s)
        return;
    /* With a foreign loop the first destroy only closes; this one frees
     * and clears s->ctx through info.pcontext. */
    if (s->ctx)
        lws_context_destroy(s->ctx);
    free(s);
}
