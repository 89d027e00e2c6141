/* Turning a request body into the document a statement reads, by a table of
 * fields (api layer, private). */
#ifndef HIREWIRE_API_DOC_H
#define HIREWIRE_API_DOC_H

#include <stdbool.h>
#include <jansson.h>

enum api_doc_kind {
    DOC_LINE, /* one line of text, whitespace folded, max characters */
    DOC_TEXT, /* text with line breaks, max characters */
    DOC_NUM,  /* a number lo..hi */
    DOC_INT,  /* an integer lo..hi */
    DOC_ID,   /* an integer >= 1 */
    DOC_BOOL,
    DOC_TIME, /* ISO-8601 (no zone: the user's), stored as ms */
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
 * space (one_line) or line breaks kept (and CR dropped). Control characters
 * other than whitespace make it fail: NULL with *bad set; NULL without it is
 * ENOMEM. */
char *api_doc_tidy(const char *s, bool one_line, bool *bad);

/* Validates body against fields (n of them) into a new object *doc. Keys not
 * in the table are refused unless ignore_unknown. tz_offset_min is used for
 * times without a zone. Returns 0, HW_EVALIDATION (e filled) or -ENOMEM. */
int api_doc_parse(json_t *body, const struct api_doc_field *fields, size_t n,
                  bool ignore_unknown, int tz_offset_min, json_t **doc, struct api_doc_error *e);

struct http_req;

/* Answers a failed api_doc_parse(): 422 naming e's field, or out of memory. */
void api_doc_reply_error(struct http_req *req, int rc, const struct api_doc_error *e);

/* api_doc_parse() of the request's body; on failure it has replied and
 * returns NULL. Times without a zone are UTC. */
json_t *api_doc_read(struct http_req *req, const struct api_doc_field *fields, size_t n,
                     bool ignore_unknown);

/* The text of doc, which it takes; on failure it has replied (out of
 * memory) and returns NULL. */
char *api_doc_text_take(struct http_req *req, json_t *doc);

#endif
