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

/* ---- domain statements -------------------------------------------------- */

struct exec_req {
    eventlog_exec_cb cb;
    void *arg;
    int64_t user_id;
};

static int collect_events(struct eventlog_result *r, int64_t user_id, const PGresult *res)
{
    int n = PQntuples(res), cseq = PQfnumber(res, "seq"), cuser = PQfnumber(res, "user_id");
    if (cseq < 0 || n == 0)
        return 0;
    r->events = calloc((size_t)n, sizeof *r->events);
    if (!r->events)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(res, i, cseq))
            continue;
        /* A statement for several users names each row's user. */
        if (cuser >= 0 && !parse_i64(PQgetvalue(res, i, cuser), &user_id))
            return HW_EDB;
        struct event *e = eventlog_event_from_row(user_id, res, i);
        if (!e) {
            LOG_ERROR("event row not usable user=%" PRId64 " row=%d", user_id, i);
            return HW_EDB;
        }
        /* Rows come in the order the final SELECT gives; keep seq order. */
        size_t at = r->n;
        while (at > 0 && r->events[at - 1]->seq > e->seq) {
            r->events[at] = r->events[at - 1];
            at--;
        }
        r->events[at] = e;
        r->n++;
    }
    return 0;
}

static void exec_done(void *arg, int err, const PGresult *res)
{
    struct exec_req *q = arg;
    struct eventlog_result r = {.res = res};

    if (!err)
        err = collect_events(&r, q->user_id, res);
    else if (err == HW_EDB)
        LOG_ERROR("domain statement failed user=%" PRId64 " sqlstate=%s: %s", q->user_id,
                  pg_sqlstate(res), res ? PQresultErrorMessage(res) : "");
    q->cb(q->arg, err, &r);
    for (size_t i = 0; i < r.n; i++)
        event_unref(r.events[i]);
    free(r.events);
    free(q);
}

int eventlog_exec(struct pg *pg, int64_t user_id, const char *sql, int nparams,
                  const char *const *params, eventlog_exec_cb cb, void *arg)
{
    if (!sql || !cb)
        return -EINVAL;
    struct exec_req *q = malloc(sizeof *q);
    if (!q)
        return -ENOMEM;
    q->cb = cb;
    q->arg = arg;
    q->user_id = user_id;
    int rc = pg_query(pg, sql, nparams, params, exec_done, q);
    if (rc < 0)
        free(q);
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

/* ---- reactions --------------------------------------------------------------- */

struct done_req {
    eventlog_done_cb cb;
    void *arg;
};

static void mark_done(void *arg, int err, const PGresult *res)
{
    struct done_req *d = arg;
    if (err)
        log_failure("marking reactions done", err, res);
    if (d->cb)
        d->cb(d->arg, err);
    free(d);
}

/* Appends "{1,2,3}" of n values to a malloc'd buffer. */
static char *i64_array(size_t n, const int64_t *v)
{
    char *buf = malloc(n * 21 + 3), *p = buf;
    if (!buf)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%" PRId64, i ? "," : "", v[i]);
    *p++ = '}';
    *p = '\0';
    return buf;
}

int eventlog_mark_reacted(struct pg *pg, size_t n, const int64_t *users, const int64_t *seqs,
                          eventlog_done_cb cb, void *arg)
{
    static const char sql[] =
        "UPDATE events e SET reacted_at = now(), claimed_until = NULL "
        "FROM unnest($1::bigint[], $2::bigint[]) AS d(user_id, seq), " PG_ASYNC_COMMIT " "
        "WHERE e.user_id = d.user_id AND e.seq = d.seq AND e.reacted_at IS NULL";
    if (n == 0 || !users || !seqs)
        return -EINVAL;
    struct done_req *d = malloc(sizeof *d);
    char *u = i64_array(n, users), *q = i64_array(n, seqs);
    int rc = -ENOMEM;
    if (d && u && q) {
        d->cb = cb;
        d->arg = arg;
        const char *params[2] = {u, q};
        rc = pg_query(pg, sql, 2, params, mark_done, d);
    }
    if (rc < 0)
        free(d);
    free(u);
    free(q);
    return rc;
}

struct claim_req {
    eventlog_page_cb cb;
    void *arg;
};

static void claim_done(void *arg, int err, const PGresult *res)
{
    struct claim_req *c = arg;
    struct eventlog_page page = {0};
    int n = err ? 0 : PQntuples(res);

    if (err)
        log_failure("claiming unreacted events", err, res);
    else if (n > 0 && !(page.events = calloc((size_t)n, sizeof *page.events)))
        err = -ENOMEM;
    for (int i = 0; !err && i < n; i++) {
        int64_t uid;
        if (!parse_i64(PQgetvalue(res, i, PQfnumber(res, "user_id")), &uid))
            continue;
        struct event *e = eventlog_event_from_row(uid, res, i);
        if (e)
            page.events[page.n++] = e;
        else
            LOG_ERROR("unreacted event not usable user=%" PRId64 " row=%d", uid, i);
    }
    c->cb(c->arg, err, err ? NULL : &page);
    for (size_t i = 0; i < page.n; i++)
        event_unref(page.events[i]);
    free(page.events);
    free(c);
}

int eventlog_claim_unreacted(struct pg *pg, int grace_s, int lease_s, int limit,
                             eventlog_page_cb cb, void *arg)
{
    static const char sql[] =
        "UPDATE events e SET claimed_until = now() + make_interval(secs => $2::int) FROM "
        "(SELECT user_id, seq FROM events WHERE reacted_at IS NULL "
        "AND created_at < now() - make_interval(secs => $1::int) "
        "AND (claimed_until IS NULL OR claimed_until < now()) "
        "ORDER BY created_at LIMIT $3::int FOR UPDATE SKIP LOCKED) c "
        "WHERE e.user_id = c.user_id AND e.seq = c.seq "
        "RETURNING e.user_id, e.seq, e.type, e.channel, hw_ms(e.created_at) AS created_ms, "
        "e.data::text AS data";
    if (grace_s < 0 || lease_s < 1 || limit < 1 || limit > EVENTLOG_LIMIT_MAX || !cb)
        return -EINVAL;
    struct claim_req *c = malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->arg = arg;
    char g[16], l[16], n[16];
    snprintf(g, sizeof g, "%d", grace_s);
    snprintf(l, sizeof l, "%d", lease_s);
    snprintf(n, sizeof n, "%d", limit);
    const char *params[3] = {g, l, n};
    int rc = pg_query(pg, sql, 3, params, claim_done, c);
    if (rc < 0)
        free(c);
    return rc;
}
