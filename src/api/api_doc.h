/* Turning a request body into the document a statement reads, by a table of
 * fields (api layer, private). */
#ifndef HIREWIRE_API_DOC_H
#define HIREWIRE_API_DOC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

enum api_doc_kind {
    DOC_LINE, /* one line of text, whitespace folded, max characters */
    DOC_TEXT, /* text with line breaks, max characters */
    DOC_NUM,  /* a number lo..hi */
    DOC_INT,  /* an integer lo..hi */
    DOC_ID,   /* an integer >= 1 */
    DOC_BOOL,
    DOC_TIME, /* ISO-8601; without a zone: wall-clock time in the user's zone; as ms */
    DOC_ENUM, /* a string that valid() accepts */
    DOC_EMAIL,
    DOC_URL,  /* absolute http(s) URL */
};

struct api_doc_field {
    const char *key;   /* the name in the body */
    const char *col;   /* the name in the document; NULL: same as key */
    enum api_doc_kind kind;
    double lo, hi;     /* DOC_LINE/DOC_TEXT: hi = max characters */
    bool required;     /* must be present and not null */
    bool (*valid)(const char *);
    const char *expect; /* DOC_ENUM: what valid() accepts, for the message */
    bool not_null;      /* may be absent, but not null (the column has no NULL) */
};

struct api_doc_error {
    char field[64];
    char msg[256];
};

/* Fills e and returns HW_EVALIDATION. */
int api_doc_fail(struct api_doc_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A malloc'd copy of s, trimmed, with runs of whitespace folded to one
 * space (one_line) or line breaks kept (and CR and the whitespace that ends
 * a line dropped). Control characters other than whitespace make it fail:
 * NULL with *bad set; NULL without it is ENOMEM. */
char *api_doc_tidy(const char *s, bool one_line, bool *bad);

/* Validates body against fields (n of them) into a new object *doc. Keys not
 * in the table are refused unless ignore_unknown. Times without a zone are
 * read in the IANA zone tz (NULL: UTC), see api_doc_time(). Returns 0,
 * HW_EVALIDATION (e filled) or -ENOMEM. */
int api_doc_parse(json_t *body, const struct api_doc_field *fields, size_t n, bool ignore_unknown,
                  const char *tz, json_t **doc, struct api_doc_error *e);

/* *ms = the instant s names. s is ISO-8601 as clock_parse_iso() reads it; a
 * time with "Z" or an offset is taken as it is, one without (the browser's
 * datetime-local "2027-01-15T14:30", a bare date) is the wall-clock time in
 * tz, with the offset tz has on that date (localtime_to_utc(): a time skipped
 * by a DST change moves forward by the gap, one that occurs twice is the
 * first). tz NULL, "UTC" or a zone that does not load: UTC. Returns 0,
 * -EINVAL (not a time) or -ERANGE (a zoneless time outside 1900..2199 in a
 * zone other than UTC). */
int api_doc_time(const char *s, const char *tz, int64_t *ms);

/* api_doc_time() of field key's value s: 0, or HW_EVALIDATION with e naming
 * key and saying what a time must look like. */
int api_doc_time_field(const char *key, const char *s, const char *tz, int64_t *ms,
                       struct api_doc_error *e);

/* True when s is a valid ISO-8601 time without a zone (NULL: false). */
bool api_doc_time_is_local(const char *s);

/* True when body (any JSON, may be NULL) has a DOC_TIME field of fields whose
 * value is a time without a zone: reading it needs the user's zone. */
bool api_doc_has_local_time(json_t *body, const struct api_doc_field *fields, size_t n);

struct http_req;

/* Answers a failed api_doc_parse(): 422 naming e's field, or out of memory. */
void api_doc_reply_error(struct http_req *req, int rc, const struct api_doc_error *e);

/* api_doc_parse() of the request's body; on failure it has replied and
 * returns NULL. Times without a zone are read in tz (NULL: UTC). */
json_t *api_doc_read_tz(struct http_req *req, const struct api_doc_field *fields, size_t n,
                        bool ignore_unknown, const char *tz);

/* api_doc_read_tz() for bodies without times (or with times in UTC). */
json_t *api_doc_read(struct http_req *req, const struct api_doc_field *fields, size_t n,
                     bool ignore_unknown);

/* The continuation of a handler that reads times: tz is the zone to read
 * times without a zone in (NULL: UTC), borrowed for the call. */
typedef void (*api_doc_tz_cb)(struct http_req *req, const char *tz);

/* Calls cb(req, tz) with the request user's time zone (users.timezone) when
 * need is true, now with tz NULL when it is false (nothing to read in it).
 * A stored zone the server cannot load is read as UTC. When the user cannot
 * be read, it has replied (503 / 404) and cb is not called. */
void api_doc_with_tz(struct http_req *req, bool need, api_doc_tz_cb cb);

/* A time from the query parameter name, read like api_doc_time() in tz.
 * 1 when given (*out set), 0 when absent or empty, -1 after answering 422
 * naming the parameter. */
int api_doc_query_time(struct http_req *req, const char *name, const char *tz, int64_t *out);

/* The text of doc, which it takes; on failure it has replied (out of
 * memory) and returns NULL. */
char *api_doc_text_take(struct http_req *req, json_t *doc);

/* api_exec() of sql with ($1 user, $2 id, $3 the text of doc), or without
 * id (NULL) ($1 user, $2 the text of doc). It takes doc; a NULL doc (its
 * reader has replied) does nothing. */
struct api_exec_opts;
void api_exec_doc(struct http_req *req, const char *sql, const char *id, json_t *doc,
                  const struct api_exec_opts *o);

#endif
