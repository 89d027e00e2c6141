/* Small jansson helpers. */
#ifndef HIREWIRE_JSONX_H
#define HIREWIRE_JSONX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Compact serialisation; malloc'd (free()), length in *len. NULL on ENOMEM. */
char *jsonx_dump(const json_t *v, size_t *len);

/* Parses a request body. On failure returns NULL and writes
 * "invalid JSON at line L, column C: <reason>" into msg. */
json_t *jsonx_parse(const char *buf, size_t len, char *msg, size_t msglen);

/* Field name of a json_unpack_ex() error: jansson reports
 * "Object item not present: salary_min" or similar; this extracts the key
 * into field (size n). Returns field, or "" when none is named. */
const char *jsonx_error_field(const json_error_t *jerr, char *field, size_t n);

/* v as an error sentence shows it: compact JSON, cut to at most max bytes
 * at a character boundary (then ending in "..."), "(unprintable)" when it
 * cannot be dumped. */
void jsonx_repr(const json_t *v, size_t max, char *buf, size_t n);


#endif
