/* Names and sentences for error codes.
 *
 * The names are part of the wire protocol: api_error.c copies err_name() into
 * the "code" member of every error body, so they are stable, lower case and
 * never change once released. The sentences are for logs and for the
 * "message" member when a handler has nothing more specific to say. */
#include "hirewire/err.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *str;
};

/* Our own codes first, then the errno values that modules return often enough
 * to deserve a stable name. Anything else falls back to strerror(). */
static const struct err_entry err_table[] = {
    {HW_ENOTFOUND, "not_found", "the object does not exist"},
    {HW_ECONFLICT, "conflict", "the change conflicts with the current state"},
    {HW_EVALIDATION, "invalid_field", "a field has an invalid value"},
    {HW_EUNAVAIL, "unavailable", "a backend service is unavailable"},
    {HW_EUNAUTH, "unauthorized", "a valid credential is required"},
    {HW_ETOOLARGE, "payload_too_large", "the request body is too large"},
    {HW_EMEDIA, "unsupported_media_type", "the content type is not supported"},
    {HW_EBADJSON, "invalid_json", "the body is not well-formed JSON"},
    {HW_ERATELIMIT, "rate_limited", "too many requests"},
    {HW_EMETHOD, "method_not_allowed", "the method is not allowed on this path"},
    {HW_EDB, "database_error", "the database rejected the statement"},
    {HW_ELENGTH, "length_required", "the request needs a Content-Length"},
    {HW_EFORBIDDEN, "forbidden", "the request is refused by policy"},
    {HW_EGONE, "gone", "the data has expired"},
    {HW_EINTERNAL, "internal", "internal error"},
    {-EINVAL, "bad_request", "invalid argument"},
    {-ENOMEM, "out_of_memory", "out of memory"},
    {-EBUSY, "busy", "resource busy"},
    {-EAGAIN, "try_again", "resource temporarily unavailable"},
    {-ETIMEDOUT, "timeout", "operation timed out"},
    {-ECANCELED, "canceled", "operation canceled"},
    {-ECONNREFUSED, "connection_refused", "connection refused"},
    {-ENOENT, "no_such_entry", "no such file or directory"},
    {-EEXIST, "exists", "already exists"},
    {-ERANGE, "out_of_range", "value out of range"},
    {-ENOSPC, "no_space", "no space left"},
    {-EPIPE, "broken_pipe", "broken pipe"},
    {-ECONNRESET, "connection_reset", "connection reset by peer"},
};

static const struct err_entry *err_find(int err)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
        if (err_table[i].code == err)
            return &err_table[i];
    }
    return NULL;
}

const char *err_name(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->name : "unknown";
}

const char *err_str(int err)
{
    const struct err_entry *e = err_find(err);
    if (e)
        return e->str;
    if (err == 0)
        return "success";
    /* A negated errno that has no entry of its own still deserves the C
     * library's sentence; codes in our private range that the table does not
     * know (a newer header than this file) must not reach strerror(), which
     * would print "Unknown error -4099". */
    if (err < 0 && err > -4000)
        return strerror(-err);
    return "unknown error";
}
