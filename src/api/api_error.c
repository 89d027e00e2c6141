/* The one place where error codes become HTTP statuses and error bodies.
 *
 * Body: {"error":{"code","message","field"},"detail":message}. "detail"
 * repeats the message because the dashboard shows error.response.data.detail. */
#define LOG_MOD "api"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "hirewire/api.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/log.h"

int api_error_status(int err)
{
    switch (err) {
    case -EINVAL:
    case HW_EBADJSON: return 400;
    case HW_EUNAUTH: return 401;
    case HW_EFORBIDDEN: return 403;
    case HW_ENOTFOUND: return 404;
    case HW_EMETHOD: return 405;
    case HW_ECONFLICT: return 409;
    case HW_EGONE: return 410;
    case HW_ELENGTH: return 411;
    case HW_ETOOLARGE: return 413;
    case HW_EMEDIA: return 415;
    case HW_EVALIDATION: return 422;
    case HW_ERATELIMIT: return 429;
    case HW_EUNAVAIL:
    case -EBUSY:
    case -EAGAIN: return 503;
    default: return 500;
    }
}

const char *api_error_code(int err)
{
    switch (err) {
    case -EINVAL: return "bad_request";
    case -EBUSY:
    case -EAGAIN: return "unavailable";
    case HW_ENOTFOUND:
    case HW_ECONFLICT:
    case HW_EVALIDATION:
    case HW_EUNAVAIL:
    case HW_EUNAUTH:
    case HW_ETOOLARGE:
    case HW_EMEDIA:
    case HW_EBADJSON:
    case HW_ERATELIMIT:
    case HW_EMETHOD:
    case HW_ELENGTH:
    case HW_EFORBIDDEN:
    case HW_EGONE: return err_name(err);
    default: return "internal";
    }
}

void api_error_msg(struct http_req *req, int err, const char *field, const char *msg)
{
    int status = api_error_status(err);

    if (status == 500)
        LOG_ERROR("req=%llu internal error %s: %s", (unsigned long long)http_req_id(req),
                  err_name(err), msg);
    if (status == 401)
        http_reply_header(req, "www-authenticate", "Bearer realm=\"hirewire\"");
    if (status == 503)
        http_reply_header(req, "retry-after", "1");
    json_t *body = json_pack("{s:{s:s, s:s, s:o}, s:s}", "error", "code", api_error_code(err),
                             "message", msg, "field", field ? json_string(field) : json_null(),
                             "detail", msg);
    http_reply_json_take(req, status, body);
}

void api_error(struct http_req *req, int err, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_error_msg(req, err, field, msg);
}

void api_store_error(struct http_req *req, int err, const char *what)
{
    if (err == -EBUSY)
        api_error(req, HW_EUNAVAIL, NULL,
                  "the database is busy: too many statements are waiting; try again shortly");
    else if (err == HW_EUNAVAIL)
        api_error(req, HW_EUNAVAIL, NULL, "the database is unavailable; try again shortly");
    else
        api_error(req, err == HW_EDB ? HW_EINTERNAL : err, NULL, "%s failed: %s", what,
                  err_str(err));
}
