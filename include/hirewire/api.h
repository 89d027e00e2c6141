/* The API layer: route handlers and the one place where errors become HTTP
 * statuses and error bodies. */
#ifndef HIREWIRE_API_H
#define HIREWIRE_API_H

#include <stddef.h>

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

/* Handlers */
void api_root(struct http_req *req);
void api_health(struct http_req *req);        /* GET /health */
void api_integrations_health(struct http_req *req);
void api_metrics(struct http_req *req);
void api_me(struct http_req *req);
void api_cache_stats(struct http_req *req);
void api_cache_health(struct http_req *req);
void api_cache_get(struct http_req *req);
void api_cache_set(struct http_req *req);
void api_cache_clear(struct http_req *req);
void api_cache_namespaces(struct http_req *req);
void api_events_post(struct http_req *req);

#endif
