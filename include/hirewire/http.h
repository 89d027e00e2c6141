/* HTTP on libwebsockets, on our loop.
 *
 * The server owns one lws context on the app's uv loop with a single protocol
 * that serves both plain HTTP and the WebSocket upgrade. For each request it
 * reads the headers it needs, strips a capability prefix "/u/TOKEN", strips a
 * trailing slash, matches the route table, enforces the body limit (413),
 * Content-Length (411), content type (415) and JSON well-formedness (400),
 * authenticates (401), answers CORS preflights, and calls the handler.
 *
 * A handler answers exactly once, now or later, with http_reply_*() or
 * api_error(). If the client went away meanwhile, the reply is dropped and the
 * request freed: handlers never see a dangling connection. */
#ifndef HIREWIRE_HTTP_H
#define HIREWIRE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hirewire/router.h"

struct app;
struct http_server;
struct http_req;
struct lws;
struct lws_context;

/* How the server answers the errors it finds itself (404, 405, 401, 413...):
 * the API layer's single error mapping, handed down so that net/ does not
 * depend on api/. */
typedef void (*http_error_fn)(struct http_req *req, int err, const char *field, const char *msg);

/* Creates the lws context on app->loop and listens. 0 or a negative error
 * (-EADDRINUSE when the address is taken); *out is set only on success. */
int http_start(struct app *app, const struct route *routes, size_t nroutes, http_error_fn on_error,
               struct http_server **out);

/* First step of a graceful stop: from now on new requests are answered 503
 * with "connection: close". */
void http_drain(struct http_server *s);

/* Requests dispatched and not yet answered. */
int http_inflight(const struct http_server *s);

/* Closes every connection (phase one of lws teardown). */
void http_stop(struct http_server *s);

/* After uv_run() returned: the second lws_context_destroy() that frees the
 * context (NOTES §5), then frees s. */
void http_free(struct http_server *s);

/* Number of live HTTP and WebSocket connections. */
int http_connections(const struct http_server *s);


/* --- request accessors (valid until the reply) --- */
struct app *http_req_app(const struct http_req *req);
const char *http_req_path(const struct http_req *req); /* normalised, no /u/TOKEN */
int64_t http_req_user(const struct http_req *req);     /* 0 on public routes */
/* Route parameter by name, NULL if the route has none of that name. */
const char *http_req_param(const struct http_req *req, const char *name);
/* Parses a positive int64 route parameter; HW_ENOTFOUND if absent or not a number. */
int http_req_param_id(const struct http_req *req, const char *name, int64_t *out);
/* Query argument value (percent-decoded), NULL if absent. */
const char *http_req_query(const struct http_req *req, const char *name);
/* Request header copied at arrival (lower-case name), NULL if absent. Only the
 * headers the server keeps are available: authorization is never exposed. */
const char *http_req_header(const struct http_req *req, const char *name);
/* The parsed JSON body (borrowed), NULL if the request had none. */
json_t *http_req_json(const struct http_req *req);
const char *http_req_body(const struct http_req *req, size_t *len);
/* Stable id of the request for log lines. */
uint64_t http_req_id(const struct http_req *req);

/* --- replies: exactly one per request --- */
/* Takes body on every path (may be NULL for an empty body). */
void http_reply_json_take(struct http_req *req, int status, json_t *body);
/* Copies body. */
void http_reply_raw(struct http_req *req, int status, const char *content_type, const char *body,
                    size_t len);
/* Adds a response header for the coming reply ("x-total-count", "42").
 * Name must be lower case without ':'. Returns 0 or -ENOMEM. */
int http_reply_header(struct http_req *req, const char *name, const char *value);

/* HTTP reason phrase, "" for unknown codes. */
const char *http_status_text(int status);

#endif
