/* The iCalendar feed of a user's interviews and follow-ups: GET /api/v1/calendar.ics with
 * the usual credentials, or a secret feed URL that calendar apps subscribe
 * to without a header (POST /api/v1/calendar/feed makes or replaces it,
 * DELETE revokes it). Each interview is one VEVENT whose UID never changes
 * and whose SEQUENCE grows with every reschedule; cancelled interviews stay
 * in the feed as STATUS:CANCELLED so that subscribed calendars drop them. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/ics.h"
#include "hirewire/interview_repo.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"
#include "hirewire/user_repo.h"

#define SECRET_LEN (USER_TOKEN_LEN - 3)

static const int alarms[] = {1440, 60, 15};

static const char sql_feed_user[] = "SELECT user_id FROM calendar_feeds WHERE secret_hash = $1";
static const char sql_feed_new[] =
    "INSERT INTO calendar_feeds (user_id, secret_hash) VALUES ($1, $2) "
    "ON CONFLICT (user_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, created_at = now() "
    "RETURNING hw_ts(created_at) AS created_at";
static const char sql_feed_delete[] = "DELETE FROM calendar_feeds WHERE user_id = $1";

static const char *val(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Columns of interview_repo_sql_feed. */
enum { C_KIND, C_ID, C_SEQ, C_STATUS, C_START, C_DUR, C_STAMP, C_TYPE, C_TITLE, C_COMPANY,
       C_LOCATION, C_LINK, C_WHO, C_EMAIL, C_NOTES, C_URL, C_SUBJECT, C_PRIORITY };

static const int followup_alarms[] = {0};

/* The text of one interview's DESCRIPTION, into buf. */
static void describe(const PGresult *res, int r, const char *label, char *buf, size_t n)
{
    const char *who = val(res, r, C_WHO), *link = val(res, r, C_LINK), *notes = val(res, r, C_NOTES);
    int len = snprintf(buf, n, "Interview Type: %s\nPosition: %s\nCompany: %s", label,
                       PQgetvalue(res, r, C_TITLE), PQgetvalue(res, r, C_COMPANY));
    if (who && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, "\nInterviewer: %s", who);
    if (link && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, "\nMeeting link: %s", link);
    if (notes && len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, "\n\nNotes:\n%s", notes);
}

static void interview_item(const PGresult *res, int r, struct ics_item *it, char *uid, char *title,
                           char *desc)
{
    const char *label = ats_interview_type_label(PQgetvalue(res, r, C_TYPE));
    if (!label)
        label = "Other";
    snprintf(uid, 48, "interview-%s@hirewire", PQgetvalue(res, r, C_ID));
    if (ics_interview_summary(label, PQgetvalue(res, r, C_TITLE), PQgetvalue(res, r, C_COMPANY),
                              title, 1200) < 0)
        title[0] = '\0';
    describe(res, r, label, desc, 4096);
    it->cancelled = strcmp(PQgetvalue(res, r, C_STATUS), "cancelled") == 0;
    it->location = val(res, r, C_LOCATION) ? val(res, r, C_LOCATION) : val(res, r, C_LINK);
    it->url = val(res, r, C_LINK) ? val(res, r, C_LINK) : val(res, r, C_URL);
    it->attendee_name = val(res, r, C_WHO);
    it->attendee_email = val(res, r, C_EMAIL);
    it->alarms_min = alarms;
    it->nalarms = sizeof(alarms) / sizeof(alarms[0]);
}

/* A follow-up: a half-hour block at its due time with an alarm then. */
static void followup_item(const PGresult *res, int r, struct ics_item *it, char *uid, char *title,
                          char *desc)
{
    const char *st = PQgetvalue(res, r, C_STATUS);
    const char *job = val(res, r, C_TITLE), *company = val(res, r, C_COMPANY);
    snprintf(uid, 48, "followup-%s@hirewire", PQgetvalue(res, r, C_ID));
    if (job && company)
        snprintf(title, 1200, "Follow-up: %s (%s at %s)", PQgetvalue(res, r, C_SUBJECT), job,
                 company);
    else
        snprintf(title, 1200, "Follow-up: %s", PQgetvalue(res, r, C_SUBJECT));
    snprintf(desc, 4096, "%s", val(res, r, C_NOTES) ? val(res, r, C_NOTES) : "");
    it->cancelled = strcmp(st, "dismissed") == 0 || strcmp(st, "cancelled") == 0;
    it->url = val(res, r, C_URL);
    it->priority = val(res, r, C_PRIORITY);
    if (strcmp(st, "pending") == 0 || strcmp(st, "due") == 0) {
        it->alarms_min = followup_alarms;
        it->nalarms = 1;
    }
}

static int build_feed(const PGresult *res, char **out, size_t *len)
{
    int n = PQntuples(res), rc = -ENOMEM;
    struct ics_item *items = calloc((size_t)(n ? n : 1), sizeof *items);
    char (*uids)[48] = calloc((size_t)(n ? n : 1), sizeof *uids);
    char (*titles)[1200] = calloc((size_t)(n ? n : 1), sizeof *titles);
    char (*descs)[4096] = calloc((size_t)(n ? n : 1), sizeof *descs);
    if (!items || !uids || !titles || !descs)
        goto out;
    for (int r = 0; r < n; r++) {
        struct ics_item *it = &items[r];
        if (strcmp(PQgetvalue(res, r, C_KIND), "interview") == 0)
            interview_item(res, r, it, uids[r], titles[r], descs[r]);
        else
            followup_item(res, r, it, uids[r], titles[r], descs[r]);
        it->kind = ICS_EVENT;
        it->uid = uids[r];
        it->sequence = atoi(PQgetvalue(res, r, C_SEQ));
        it->start_ms = strtoll(PQgetvalue(res, r, C_START), NULL, 10);
        it->duration_min = atoi(PQgetvalue(res, r, C_DUR));
        it->stamp_ms = strtoll(PQgetvalue(res, r, C_STAMP), NULL, 10);
        it->summary = titles[r];
        it->description = descs[r];
    }
    rc = ics_build("hirewire", items, (size_t)n, out, len);
out:
    free(items);
    free(uids);
    free(titles);
    free(descs);
    return rc;
}

static void on_feed(void *arg, int err, const PGresult *res)
{
    struct http_req *req = arg;
    char *text = NULL;
    size_t len = 0;

    if (err) {
        api_store_error(req, err, "reading the calendar");
        return;
    }
    int rc = build_feed(res, &text, &len);
    if (rc) {
        LOG_ERROR("calendar feed not built: %s", err_str(rc));
        api_error(req, rc == -ENOMEM ? rc : HW_EINTERNAL, NULL, "the calendar could not be built");
        return;
    }
    http_reply_header(req, "cache-control", "no-cache");
    http_reply_header(req, "content-disposition", "inline; filename=\"hirewire.ics\"");
    http_reply_raw(req, 200, "text/calendar; charset=utf-8", text, len);
    free(text);
}

static void feed_of(struct http_req *req, int64_t user)
{
    char uid[API_ID_LEN];
    snprintf(uid, sizeof uid, "%" PRId64, user);
    const char *params[1] = {uid};
    int rc = pg_query(http_req_app(req)->pg, interview_repo_sql_feed, 1, params, on_feed, req);
    if (rc)
        api_store_error(req, rc, "reading the calendar");
}

void api_calendar_ics(struct http_req *req)
{
    feed_of(req, http_req_user(req));
}

static void on_secret(void *arg, int err, const PGresult *res)
{
    struct http_req *req = arg;
    if (err) {
        api_store_error(req, err, "reading the calendar");
        return;
    }
    if (PQntuples(res) == 0) {
        api_error(req, HW_ENOTFOUND, NULL, "no calendar feed at this address (it was revoked?)");
        return;
    }
    feed_of(req, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
}

static bool secret_shape(const char *s, size_t n)
{
    if (n != SECRET_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

void api_calendar_feed_get(struct http_req *req)
{
    const char *s = http_req_param(req, "secret");
    size_t n = s ? strlen(s) : 0;
    if (n > 4 && strcmp(s + n - 4, ".ics") == 0)
        n -= 4;
    if (!s || !secret_shape(s, n)) {
        api_error(req, HW_ENOTFOUND, NULL, "no calendar feed at this address (it was revoked?)");
        return;
    }
    char secret[SECRET_LEN + 1], hex[65];
    memcpy(secret, s, n);
    secret[n] = '\0';
    user_token_hash(secret, hex);
    const char *params[1] = {hex};
    int rc = pg_query(http_req_app(req)->pg, sql_feed_user, 1, params, on_secret, req);
    if (rc)
        api_store_error(req, rc, "reading the calendar");
}

struct feed_new {
    struct http_req *req;
    char path[128];
};

static void on_feed_new(void *arg, int err, const PGresult *res)
{
    struct feed_new *f = arg;
    struct http_req *req = f->req;
    if (err) {
        api_store_error(req, err, "making the calendar feed");
        free(f);
        return;
    }
    const struct config *cfg = http_req_app(req)->cfg;
    char url[512];
    if (cfg->public_url[0])
        snprintf(url, sizeof url, "%s%s", cfg->public_url, f->path);
    else
        snprintf(url, sizeof url, "http://%s:%d%s", cfg->listen_host, cfg->port, f->path);
    http_reply_json_take(req, 201,
                         json_pack("{s:s, s:s, s:s, s:s}", "url", url, "path", f->path,
                                   "created_at", PQgetvalue(res, 0, 0), "message",
                                   "Subscribe to this URL in your calendar app; it replaces any "
                                   "earlier one. Keep it secret: it works without a token."));
    free(f);
}

void api_calendar_feed_new(struct http_req *req)
{
    char token[USER_TOKEN_LEN + 1], hex[65], uid[API_ID_LEN];
    struct feed_new *f = malloc(sizeof *f);
    if (!f || user_token_generate(token, sizeof token)) {
        free(f);
        api_error(req, HW_EINTERNAL, NULL, "cannot make a secret");
        return;
    }
    f->req = req;
    const char *secret = token + 3; /* without the API token's "hw_" */
    snprintf(f->path, sizeof f->path, "/api/v1/calendar/feed/%s.ics", secret);
    user_token_hash(secret, hex);
    api_uid(req, uid);
    const char *params[2] = {uid, hex};
    int rc = pg_query(http_req_app(req)->pg, sql_feed_new, 2, params, on_feed_new, f);
    explicit_bzero(token, sizeof token);
    if (rc) {
        free(f);
        api_store_error(req, rc, "making the calendar feed");
    }
}

static void on_feed_deleted(void *arg, int err, const PGresult *res)
{
    struct http_req *req = arg;
    if (err)
        api_store_error(req, err, "revoking the calendar feed");
    else if (strcmp(PQcmdTuples((PGresult *)res), "0") == 0)
        api_error(req, HW_ENOTFOUND, NULL, "there is no calendar feed to revoke");
    else
        http_reply_raw(req, 204, "application/json", "", 0);
}

void api_calendar_feed_delete(struct http_req *req)
{
    char uid[API_ID_LEN];
    api_uid(req, uid);
    const char *params[1] = {uid};
    int rc = pg_query(http_req_app(req)->pg, sql_feed_delete, 1, params, on_feed_deleted, req);
    if (rc)
        api_store_error(req, rc, "revoking the calendar feed");
}
