/* Route table matching: method + path pattern with "{name}" segments.
 * Pure: no loop, no I/O. */
#ifndef HIREWIRE_ROUTER_H
#define HIREWIRE_ROUTER_H

#include <stddef.h>

struct http_req;

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
};

/* Route flags */
#define ROUTE_PUBLIC 0x1u /* no credential needed */
#define ROUTE_JSON 0x2u   /* a body, if any, must be application/json */

typedef void (*http_handler_fn)(struct http_req *req);

struct route {
    unsigned methods;    /* HTTP_* bits */
    const char *pattern; /* "/api/v1/jobs/{id}", no trailing slash */
    http_handler_fn fn;
    unsigned flags;
};

#define ROUTER_MAX_PARAMS 6

struct router_match {
    const struct route *route;
    int nparams;
    struct {
        const char *name; /* points into the pattern, name_len bytes */
        size_t name_len;
        const char *val;  /* points into the path, len bytes */
        size_t len;
    } params[ROUTER_MAX_PARAMS];
    unsigned allow; /* with HW_EMETHOD: the methods the path accepts */
};

/* Matches method + path (no query, no trailing slash, already percent-decoded)
 * against n routes; the first match wins. HEAD matches GET routes.
 * Returns 0, HW_ENOTFOUND (no pattern fits the path) or HW_EMETHOD (a pattern
 * fits but not for this method; m->allow says which would). A parameter never
 * matches an empty segment. */
int router_match(const struct route *routes, size_t n, unsigned method, const char *path,
                 struct router_match *m);

/* "GET, HEAD, POST" for an allow mask, into buf. Returns buf. */
char *router_allow_str(unsigned allow, char *buf, size_t n);

/* "GET" -> HTTP_GET ..., 0 if unknown. */
unsigned router_method_parse(const char *s);
const char *router_method_name(unsigned method);

#endif
