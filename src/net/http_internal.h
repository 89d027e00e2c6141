/* Internals shared by http.c (context, intake, dispatch) and http_conn.c
 * (request objects, replies, response writing). */
#ifndef HIREWIRE_HTTP_INTERNAL_H
#define HIREWIRE_HTTP_INTERNAL_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "hirewire/http.h"
#include "hirewire/router.h"

struct metric;

#define HTTP_STATUS_CLASSES 5

struct http_server {
    struct app *app;
    struct lws_context *ctx;
    const struct route *routes;
    size_t nroutes;
    http_error_fn on_error;
    struct lws_retry_bo retry; /* WebSocket ping / idle policy */
    int inflight; /* dispatched requests that owe a reply */
    uint64_t next_req_id;
    bool draining;

    struct metric *m_requests[HTTP_STATUS_CLASSES]; /* by status class 1xx..5xx */
    struct metric *m_latency;
    struct metric *m_dropped; /* replies whose client had gone */
};

struct http_kv {
    char *name;
    char *value;
};

enum http_req_state {
    REQ_BODY,       /* reading the body */
    REQ_DISPATCHED, /* handed to auth / a handler; a reply is owed */
    REQ_REPLIED,    /* the response is being written */
};

/* What lws keeps per connection (pss). It is zeroed again between keep-alive
 * transactions, so it holds nothing but the current request. */
struct http_pss {
    struct http_req *req;
    void *ws; /* the hub's connection, once upgraded */
};

struct http_req {
    struct http_server *srv;
    struct lws *wsi;      /* NULL once the connection is gone */
    struct http_pss *pss; /* NULL once detached */
    uint64_t id;
    enum http_req_state state;
    uint64_t t0_ns;

    unsigned method;
    char *path;  /* normalised: no /u/TOKEN, no trailing slash */
    char *token; /* presented credential, from the path or the header */
    struct http_kv *query;
    int nquery;
    struct http_kv *hdrs; /* kept request headers, lower-case names */
    int nhdrs;
    int64_t content_length; /* -1 when absent */

    char *body;
    size_t body_len, body_cap;
    json_t *json;

    struct router_match match;
    struct http_kv *params; /* route parameters, copied out of the path */
    int nparams;
    int64_t user_id;
    bool cors;        /* the Origin is allowed: CORS headers go on the reply */
    bool bad_credential; /* a credential was sent but cannot be read */
    bool close_after; /* reply with connection: close and close */

    /* response */
    int status;
    const char *ctype;
    char *resp;
    size_t resp_len, resp_off;
    struct http_kv *resp_hdrs;
    int nresp_hdrs;
    bool hdrs_sent;
};

struct http_req *http__req_new(struct http_server *s, struct lws *wsi, struct http_pss *pss);
void http__req_free(struct http_req *req);
/* The connection closed: free the request, or leave it to the pending reply. */
void http__req_detach(struct http_req *req);
/* Marks req as owing a reply (counted in http_inflight()). */
void http__dispatched(struct http_req *req);
int http__req_add_header(struct http_req *req, const char *name, const char *value);
int http__req_add_query(struct http_req *req, const char *name, const char *value);
/* Copies the route parameters of req->match into req->params. */
int http__req_set_params(struct http_req *req);
/* LWS_CALLBACK_HTTP_WRITEABLE. Returns -1 to close the connection. */
int http__writeable(struct lws *wsi, struct http_pss *pss);

#endif
