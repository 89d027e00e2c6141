/* The durable per-user event log: append, paged replay and retention.
 *
 * Each operation is one statement, so that it is one round trip and atomic:
 * an append takes its seq and writes its row together, a replay page comes
 * with the user's floor and head read in the same snapshot, and a prune
 * batch raises the floors of exactly the users whose rows it deleted. All
 * parameters travel as text; the statements cast them where PostgreSQL could
 * otherwise guess a narrower type. */
#define LOG_MOD "eventlog"

#include "hirewire/eventlog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"

#define EVENTLOG_LIMIT_MAX 1000

/* A whole decimal int64, nothing else. */
static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* An SQL error on one of these fixed statements means the schema is not what
 * the code expects; it is logged here, once, and reaches the caller as is. */
static void log_failure(const char *what, int err, const PGresult *res)
{
    if (err != HW_EUNAVAIL)
        LOG_ERROR("%s failed: %s sqlstate=%s", what, err_name(err), pg_sqlstate(res));
}

struct event *eventlog_event_from_row(int64_t user_id, const void *pgresult, int row)
{
    const PGresult *res = pgresult;
    if (!res || row < 0 || row >= PQntuples(res))
        return NULL;
    int cseq = PQfnumber(res, "seq"), ctype = PQfnumber(res, "type");
    int cch = PQfnumber(res, "channel"), cms = PQfnumber(res, "created_ms");
    int cdata = PQfnumber(res, "data");
    if (cseq < 0 || ctype < 0 || cch < 0 || cms < 0 || cdata < 0)
        return NULL;
    if (PQgetisnull(res, row, cseq) || PQgetisnull(res, row, ctype) || PQgetisnull(res, row, cch) ||
        PQgetisnull(res, row, cms) || PQgetisnull(res, row, cdata))
        return NULL;

    int64_t seq, created_ms;
    if (!parse_i64(PQgetvalue(res, row, cseq), &seq) ||
        !parse_i64(PQgetvalue(res, row, cms), &created_ms))
        return NULL;
    int channel =
        event_channel_parse(PQgetvalue(res, row, cch), (size_t)PQgetlength(res, row, cch));
    if (channel < 0)
        return NULL;
    /* event_new checks the type and the seq. */
    return event_new(user_id, seq, PQgetvalue(res, row, ctype), channel, created_ms,
                     PQgetvalue(res, row, cdata), (size_t)PQgetlength(res, row, cdata));
}

/* ---- append ---------------------------------------------------------------- */

struct append_req {
    eventlog_append_cb cb;
    void *arg;
    int64_t user_id;
    int channel;
    char type[65];
};

static void append_done(void *arg, int err, const PGresult *res)
{
    struct append_req *r = arg;
    struct event *ev = NULL;
    if (err) {
        log_failure("event append", err, res);
        goto out;
    }
    if (PQntuples(res) == 0) {
        err = HW_ENOTFOUND;
        goto out;
    }
    int64_t seq, created_ms;
    if (!parse_i64(PQgetvalue(res, 0, 0), &seq) || !parse_i64(PQgetvalue(res, 0, 1), &created_ms)) {
        LOG_ERROR("event append returned a malformed row user=%" PRId64, r->user_id);
        err = HW_EDB;
        goto out;
    }
    /* The envelope carries the data as PostgreSQL normalised it, so that a
     * live delivery and a later replay of the same event are the same bytes. */
    ev = event_new(r->user_id, seq, r->type, r->channel, created_ms, PQgetvalue(res, 0, 2),
                   (size_t)PQgetlength(res, 0, 2));
    if (!ev) {
        /* The row is committed; a client that misses it live gets it on resume. */
        LOG_ERROR("event committed but not built user=%" PRId64 " seq=%" PRId64, r->user_id, seq);
        err = -ENOMEM;
    }
out:
    r->cb(r->arg, err, ev);
    free(r);
}

int eventlog_append(struct pg *pg, int64_t user_id, const char *type, int channel,
                    const char *data_json, eventlog_append_cb cb, void *arg)
{
    static const char sql[] = "WITH " EVENTLOG_APPEND_CTE "SELECT seq, created_ms, data FROM ev";
    const char *ch = event_channel_name(channel);
    /* Callers check the type against their rules; this only keeps the copy
     * below in bounds and refuses what could never be written. */
    if (!ch || !event_type_name_valid(type) || !data_json || !cb)
        return -EINVAL;
    struct append_req *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cb = cb;
    r->arg = arg;
    r->user_id = user_id;
    r->channel = channel;
    snprintf(r->type, sizeof r->type, "%s", type);

    char uid[24];
    snprintf(uid, sizeof uid, "%" PRId64, user_id);
    const char *params[4] = {uid, type, ch, data_json};
    int rc = pg_query(pg, sql, 4, params, append_done, r);
    if (rc < 0)
        free(r);
    return rc;
}

/* ---- read ------------------------------------------------------------------ */

struct read_req {
    eventlog_page_cb cb;
    void *arg;
    int64_t user_id;
    int limit;
};

/* Fills page from the rows of the read statement: one row per event, each
 * also carrying the user's floor and head; a user without matching events
 * gives one row whose event columns are NULL. */
static int page_fill(struct eventlog_page *page, const struct read_req *r, const PGresult *res)
{
    int n = PQntuples(res);
    if (n == 0)
        return HW_ENOTFOUND;
    if (!parse_i64(PQgetvalue(res, 0, 0), &page->floor) ||
        !parse_i64(PQgetvalue(res, 0, 1), &page->head))
        return HW_EDB;
    if (PQgetisnull(res, 0, PQfnumber(res, "seq")))
        return 0;

    page->events = calloc((size_t)n, sizeof *page->events);
    if (!page->events)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        struct event *e = eventlog_event_from_row(r->user_id, res, i);
        if (!e) {
            LOG_ERROR("replay row not usable user=%" PRId64 " row=%d", r->user_id, i);
            return HW_EDB;
        }
        page->events[page->n++] = e;
    }
    page->more = n == r->limit;
    return 0;
}

static void read_done(void *arg, int err, const PGresult *res)
{
    struct read_req *r = arg;
    struct eventlog_page page = {0};
    if (err)
        log_failure("event read", err, res);
    else
        err = page_fill(&page, r, res);
    r->cb(r->arg, err, err ? NULL : &page);
    for (size_t i = 0; i < page.n; i++)
        event_unref(page.events[i]);
    free(page.events);
    free(r);
}

/* "{jobs,skills}": channel names are plain words, so the array literal needs
 * no quoting. An empty mask gives "{}", which matches nothing but still
 * returns the user's floor and head. */
static void mask_literal(unsigned mask, char *buf, size_t n)
{
    size_t len = 0;
    buf[len++] = '{';
    for (int ch = 0; ch < CH__COUNT; ch++) {
        if (!(mask & CH_MASK(ch)))
            continue;
        const char *name = event_channel_name(ch);
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len > 1 ? "," : "", name);
    }
    snprintf(buf + len, n - len, "}");
}

int eventlog_read(struct pg *pg, int64_t user_id, int64_t after, int64_t upto, unsigned mask,
                  int limit, eventlog_page_cb cb, void *arg)
{
    static const char sql[] =
        "SELECT u.event_floor, u.event_seq, e.seq, e.type, e.channel, e.created_ms, e.data "
        "FROM users u LEFT JOIN LATERAL ("
        "  SELECT seq, type, channel, "
        "         (extract(epoch FROM created_at) * 1000)::bigint AS created_ms, "
        "         data::text AS data "
        "  FROM events WHERE user_id = u.id AND seq > $2::bigint "
        "    AND ($3::bigint <= 0 OR seq <= $3::bigint) AND channel = ANY ($4::text[]) "
        "  ORDER BY seq LIMIT $5::int) e ON true "
        "WHERE u.id = $1::bigint "
        "ORDER BY e.seq";
    if (limit < 1 || limit > EVENTLOG_LIMIT_MAX || !cb)
        return -EINVAL;
    struct read_req *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cb = cb;
    r->arg = arg;
    r->user_id = user_id;
    r->limit = limit;

    /* Sized for every channel name with its comma and the braces. */
    char uid[24], a[24], u[24], l[16], chans[128];
    snprintf(uid, sizeof uid, "%" PRId64, user_id);
    snprintf(a, sizeof a, "%" PRId64, after);
    snprintf(u, sizeof u, "%" PRId64, upto);
    snprintf(l, sizeof l, "%d", limit);
    mask_literal(mask, chans, sizeof chans);
    const char *params[5] = {uid, a, u, chans, l};
    int rc = pg_query(pg, sql, 5, params, read_done, r);
    if (rc < 0)
        free(r);
    return rc;
}

/* ---- retention ------------------------------------------------------------- */

struct prune_req {
    eventlog_prune_cb cb;
    void *arg;
};

static void prune_done(void *arg, int err, const PGresult *res)
{
    struct prune_req *r = arg;
    int64_t deleted = 0;
    if (err) {
        log_failure("event prune", err, res);
    } else if (PQntuples(res) != 1 || !parse_i64(PQgetvalue(res, 0, 0), &deleted)) {
        LOG_ERROR("event prune returned a malformed count");
        err = HW_EDB;
    }
    r->cb(r->arg, err, (long long)deleted);
    free(r);
}

int eventlog_prune(struct pg *pg, int retention_days, int batch, eventlog_prune_cb cb, void *arg)
{
    /* Deleting by ctid in a LIMITed subquery bounds each batch, so a large
     * backlog after a long outage is worked off in short statements that do
     * not hold locks for long; the batch takes the oldest rows first, along
     * the created_at index. The floor rises to the highest seq deleted per
     * user. created_at is when the appending transaction began while seq
     * follows commit order, so around the cut-off an event may be kept whose
     * seq is below a deleted one's: a replay then reports part of its range
     * as expired while that event is still readable: a harmless false alarm,
     * where the opposite error would hide a real loss. */
    static const char sql[] =
        "WITH d AS (DELETE FROM events WHERE ctid IN ("
        "    SELECT ctid FROM events "
        "    WHERE created_at < now() - make_interval(days => $1::int) "
        "    ORDER BY created_at LIMIT $2::int) "
        "  RETURNING user_id, seq), "
        "m AS (SELECT user_id, max(seq) AS s FROM d GROUP BY user_id), "
        "u AS (UPDATE users SET event_floor = GREATEST(event_floor, m.s) FROM m "
        "  WHERE users.id = m.user_id) "
        "SELECT count(*) FROM d";
    if (retention_days < 1 || batch < 1 || !cb)
        return -EINVAL;
    struct prune_req *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cb = cb;
    r->arg = arg;
    char days[16], lim[16];
    snprintf(days, sizeof days, "%d", retention_days);
    snprintf(lim, sizeof lim, "%d", batch);
    const char *params[2] = {days, lim};
    int rc = pg_query(pg, sql, 2, params, prune_done, r);
    if (rc < 0)
        free(r);
    return rc;
}
