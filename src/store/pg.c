/* Asynchronous PostgreSQL pool on the libuv loop.
 *
 * Every connection is a small state machine: DOWN (waiting out its backoff),
 * CONNECTING (PQconnectPoll driven by a uv_poll_t), IDLE (up, watching for the
 * server going away) and BUSY (one statement in flight). Statements wait in one
 * FIFO shared by the pool and are handed to whichever connection turns idle.
 *
 * Callbacks of statements that fail without a result (lost connection, no
 * connection left, pool closing) are not called where the failure is found:
 * they are put on a "failed" list that a zero-delay timer drains from the loop.
 * That keeps pg_query() free of callbacks and spares every failure path from
 * worrying about what a callback may do to the pool while it is being walked.
 * Closing the pool is driven from the same timer for the same reason.
 *
 * Statements run prepared: the first time a connection meets a text it sends
 * the PREPARE and then the execution, and from then on only the execution,
 * so PostgreSQL parses and plans the long CTE statements once per
 * connection instead of once per request. A statement that fails for a
 * reason that running it again cures (a deadlock or serialisation failure
 * it was chosen to lose, a prepared plan outdated by a migration) is run
 * again on the same connection, a few times at most; every statement is a
 * transaction of its own, so nothing of the failed run is left. */
#define LOG_MOD "pg"

#include "hirewire/pg.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/err.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/pg_stmt.h"

#define PG_BACKOFF_MIN_MS 100
#define PG_BACKOFF_MAX_MS 5000
#define PG_FAIL_LOG_EVERY_MS 30000
#define PG_RETRIES 3 /* runs again after a deadlock or a serialisation failure */

enum conn_state {
    CONN_DOWN,       /* no PGconn; the timer runs the backoff before the next attempt */
    CONN_CONNECTING, /* PQconnectPoll in progress; the timer bounds the attempt */
    CONN_IDLE,       /* up, no statement */
    CONN_BUSY,       /* up, one statement in flight */
    CONN_CLOSED,     /* finished for good (pool closing) */
};

struct pg_req {
    struct pg_req *next;
    const char *sql;
    pg_result_cb cb;
    void *arg;
    uint64_t t0;   /* uv_hrtime() when accepted */
    int err;       /* outcome, for requests on the failed list */
    PGresult *res; /* idem (usually NULL) */
    int stmt;      /* pg_stmts id, -1: runs unprepared */
    int retries;   /* runs again so far */
    int nparams;
    char *params[]; /* nparams pointers, then the copied strings */
};

struct pg_conn {
    struct pg *pg;
    int id;
    enum conn_state state;
    PGconn *conn;
    uv_poll_t *poll; /* heap: an old one may still be closing when libpq moves sockets */
    int fd;
    int armed;     /* the events c->poll watches, 0: stopped */
    bool flushing; /* PQflush returned 1: also wait for WRITABLE */
    uv_timer_t timer;
    struct pg_req *req;
    PGresult *last;
    bool preparing;                          /* req's PREPARE is in flight */
    bool forgetting;                         /* DEALLOCATE ALL in flight, or due before req */
    unsigned char prepared[PG_STMT_MAX / 8]; /* ids prepared on this session */

    unsigned backoff_ms;
    bool ever_up;
    bool down;           /* lost, or failed attempts since it was last up */
    uint64_t down_since; /* uv_now() when that started */
};

struct pg {
    uv_loop_t *loop;
    char *conninfo;
    int size;
    int queue_max;
    int connect_timeout_s;
    struct pg_conn *conns;
    struct pg_stmts *stmts;

    struct pg_req *head, *tail; /* waiting for a connection */
    int queued;
    struct pg_req *failed_head, *failed_tail;
    uv_timer_t drain;

    int up;
    int busy;
    bool was_available;
    uint64_t fail_logged_at; /* uv_now() of the last logged connect failure, 0: none yet */

    bool closing;
    bool finishing;
    int handles; /* initialised handles whose close callback has not run */
    void (*done)(void *arg);
    void *done_arg;

    struct metric *m_queries, *m_errors, *m_unavailable, *m_queue_full, *m_reconnects;
    struct metric *m_retries, *m_prepares;
    struct metric *m_seconds, *m_up, *m_queued;
};

static void conn_connect(struct pg_conn *c);
static void conn_on_poll(uv_poll_t *h, int status, int events);
static void pool_dispatch(struct pg *pg);
static void pool_kick(struct pg *pg);

/* First line of libpq's message, without trailing blanks. */
static const char *pq_reason(PGconn *conn, char *buf, size_t n)
{
    const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
    size_t len = strcspn(msg, "\n");
    while (len > 0 && (msg[len - 1] == ' ' || msg[len - 1] == '\t' || msg[len - 1] == '\r'))
        len--;
    if (len == 0) {
        msg = "unknown error";
        len = strlen(msg);
    }
    if (len >= n)
        len = n - 1;
    memcpy(buf, msg, len);
    buf[len] = '\0';
    return buf;
}

static void gauges_update(struct pg *pg)
{
    metric_set(pg->m_up, pg->up);
    metric_set(pg->m_queued, pg->queued);
}

/* Every handle the pool owns is counted; the pool is freed when the last one
 * has finished closing after pg_close() asked for it. */
static void pool_handle_gone(struct pg *pg)
{
    if (--pg->handles > 0 || !pg->finishing)
        return;
    void (*done)(void *) = pg->done;
    void *arg = pg->done_arg;
    pg_stmts_free(pg->stmts);
    free(pg->conns);
    free(pg->conninfo);
    free(pg);
    if (done)
        done(arg);
}

static void pool_handle_closed(uv_handle_t *h)
{
    pool_handle_gone(h->data);
}

/* The handles of a connection (its poll and its timer) point at the connection. */
static void conn_handle_closed(uv_handle_t *h)
{
    struct pg *pg = ((struct pg_conn *)h->data)->pg;
    if (h->type == UV_POLL)
        free(h);
    pool_handle_gone(pg);
}

/* ---- the failed list ---------------------------------------------------- */

static void req_fail_later(struct pg *pg, struct pg_req *r, int err, PGresult *res)
{
    r->err = err;
    r->res = res;
    r->next = NULL;
    if (pg->failed_tail)
        pg->failed_tail->next = r;
    else
        pg->failed_head = r;
    pg->failed_tail = r;
    pool_kick(pg);
}

/* Moves every queued statement to the failed list: nothing is up to run them. */
static void queue_fail_all(struct pg *pg)
{
    struct pg_req *r = pg->head;
    pg->head = pg->tail = NULL;
    pg->queued = 0;
    while (r) {
        struct pg_req *next = r->next;
        req_fail_later(pg, r, HW_EUNAVAIL, NULL);
        r = next;
    }
    gauges_update(pg);
}

static void req_finish(struct pg *pg, struct pg_req *r, int err, PGresult *res)
{
    metric_inc(pg->m_queries);
    if (err)
        metric_inc(pg->m_errors);
    metric_observe(pg->m_seconds, (double)(uv_hrtime() - r->t0) / 1e9);
    r->cb(r->arg, err, err == HW_EUNAVAIL ? NULL : res);
    PQclear(res);
    free(r);
}

/* ---- result classification ----------------------------------------------- */

static int result_err(const PGresult *res)
{
    if (!res)
        return HW_EUNAVAIL;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return 0;
    const char *s = pg_sqlstate(res);
    if (!strcmp(s, "23505") || !strcmp(s, "23P01"))
        return HW_ECONFLICT;
    if (!strncmp(s, "22", 2) || !strncmp(s, "23", 2))
        return HW_EVALIDATION;
    if (!strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02") || !strcmp(s, "57P03"))
        return HW_EUNAVAIL;
    return HW_EDB;
}

const char *pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* ---- connection life ------------------------------------------------------ */

static void conn_poll_release(struct pg_conn *c)
{
    if (!c->poll)
        return;
    uv_close((uv_handle_t *)c->poll, conn_handle_closed);
    c->poll = NULL;
    c->fd = -1;
}

/* Ends the PGconn. The poll handle goes first: once PQfinish has closed the
 * socket its number can be reused at once, and libuv must not touch it then. */
static void conn_drop(struct pg_conn *c)
{
    conn_poll_release(c);
    uv_timer_stop(&c->timer);
    PQfinish(c->conn);
    c->conn = NULL;
    c->flushing = false;
    PQclear(c->last);
    c->last = NULL;
    c->preparing = c->forgetting = false;
    memset(c->prepared, 0, sizeof c->prepared); /* a new session knows none */
}

static void conn_on_timer(uv_timer_t *t);

static void conn_schedule_retry(struct pg_conn *c)
{
    struct pg *pg = c->pg;
    if (pg->closing) {
        c->state = CONN_CLOSED;
        pool_kick(pg);
        return;
    }
    c->state = CONN_DOWN;
    if (c->backoff_ms == 0)
        c->backoff_ms = PG_BACKOFF_MIN_MS;
    uv_timer_start(&c->timer, conn_on_timer, c->backoff_ms, 0);
    c->backoff_ms = c->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void conn_mark_down(struct pg_conn *c)
{
    if (!c->down) {
        c->down = true;
        c->down_since = uv_now(c->pg->loop);
    }
}

/* A connect attempt failed (refused, timed out, rejected). */
static void conn_connect_failed(struct pg_conn *c, const char *reason)
{
    struct pg *pg = c->pg;
    conn_drop(c);
    conn_mark_down(c);
    uint64_t now = uv_now(pg->loop);
    if (pg->fail_logged_at == 0 || now - pg->fail_logged_at >= PG_FAIL_LOG_EVERY_MS) {
        LOG_WARN("conn=%d connect failed: %s (retrying with backoff up to %d s)", c->id, reason,
                 PG_BACKOFF_MAX_MS / 1000);
        pg->fail_logged_at = now ? now : 1;
    }
    conn_schedule_retry(c);
}

static void pool_became_unavailable(struct pg *pg)
{
    if (pg->was_available) {
        pg->was_available = false;
        LOG_WARN("no connection up: statements fail as unavailable until one is back");
    }
    queue_fail_all(pg);
}

/* An established connection went away: fail what it was running and
 * reconnect. req_err is what the statement in flight gets. */
static void conn_lost(struct pg_conn *c, int req_err, const char *reason)
{
    struct pg *pg = c->pg;
    LOG_WARN("conn=%d lost: %s", c->id, reason);
    struct pg_req *r = c->req;
    c->req = NULL;
    if (c->state == CONN_BUSY)
        pg->busy--;
    pg->up--;
    conn_drop(c);
    conn_mark_down(c);
    if (r)
        req_fail_later(pg, r, req_err, NULL);
    if (pg->up == 0)
        pool_became_unavailable(pg);
    gauges_update(pg);
    conn_schedule_retry(c);
}

static void conn_on_timer(uv_timer_t *t)
{
    struct pg_conn *c = t->data;
    if (c->state == CONN_DOWN) {
        metric_inc(c->pg->m_reconnects);
        conn_connect(c);
    } else if (c->state == CONN_CONNECTING) {
        char why[64];
        snprintf(why, sizeof why, "no answer within %d s", c->pg->connect_timeout_s);
        conn_connect_failed(c, why);
    }
}

/* Follows PQsocket() to a new descriptor when libpq changed it. */
static int conn_sync_socket(struct pg_conn *c)
{
    int fd = PQsocket(c->conn);
    if (fd < 0)
        return -EBADF;
    if (c->poll && c->fd == fd)
        return 0;
    conn_poll_release(c);
    uv_poll_t *p = malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = uv_poll_init(c->pg->loop, p, fd);
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->data = c;
    c->pg->handles++;
    c->poll = p;
    c->fd = fd;
    c->armed = 0;
    return 0;
}

/* uv_poll_start re-registers the descriptor with epoll (one or two system
 * calls) even when the events are those already watched, and a statement
 * arms its connection at least twice: unchanged events are left alone. */
static int conn_arm(struct pg_conn *c, int events)
{
    int rc = conn_sync_socket(c);
    if (rc < 0)
        return rc;
    if (c->armed == events)
        return 0;
    rc = uv_poll_start(c->poll, events, conn_on_poll);
    c->armed = rc < 0 ? 0 : events;
    return rc;
}

static void conn_up(struct pg_conn *c)
{
    struct pg *pg = c->pg;
    uv_timer_stop(&c->timer);
    if (PQsetnonblocking(c->conn, 1) != 0) {
        char why[256];
        conn_connect_failed(c, pq_reason(c->conn, why, sizeof why));
        return;
    }
    PQsetNoticeProcessor(c->conn, log_pq_notice, NULL);
    if (c->down)
        LOG_WARN("conn=%d reconnected after %.1f s", c->id,
                 (double)(uv_now(pg->loop) - c->down_since) / 1000.0);
    else if (!c->ever_up)
        LOG_DEBUG("conn=%d connected", c->id);
    c->down = false;
    c->ever_up = true;
    c->backoff_ms = 0;
    c->state = CONN_IDLE;
    pg->up++;
    pg->fail_logged_at = 0;
    if (!pg->was_available) {
        pg->was_available = true;
        LOG_INFO("PostgreSQL available (%d of %d connections up)", pg->up, pg->size);
    }
    gauges_update(pg);
    /* Idle connections watch READABLE so a server going away is seen at once. */
    int rc = conn_arm(c, UV_READABLE);
    if (rc < 0) {
        conn_lost(c, HW_EUNAVAIL, uv_strerror(rc));
        return;
    }
    if (pg->closing)
        pool_kick(pg);
    pool_dispatch(pg);
}

static void conn_connect_step(struct pg_conn *c)
{
    char why[256];
    int events;
    switch (PQconnectPoll(c->conn)) {
    case PGRES_POLLING_OK:
        conn_up(c);
        return;
    case PGRES_POLLING_READING:
        events = UV_READABLE;
        break;
    case PGRES_POLLING_WRITING:
        events = UV_WRITABLE;
        break;
    default:
        conn_connect_failed(c, pq_reason(c->conn, why, sizeof why));
        return;
    }
    int rc = conn_arm(c, events);
    if (rc < 0)
        conn_connect_failed(c, uv_strerror(rc));
}

static void conn_connect(struct pg_conn *c)
{
    struct pg *pg = c->pg;
    char why[256];
    c->conn = PQconnectStart(pg->conninfo);
    if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
        conn_connect_failed(c, pq_reason(c->conn, why, sizeof why));
        return;
    }
    c->state = CONN_CONNECTING;
    if (pg->connect_timeout_s > 0)
        uv_timer_start(&c->timer, conn_on_timer, (uint64_t)pg->connect_timeout_s * 1000, 0);
    /* The documented convention: wait until the socket is writable, then poll. */
    int rc = conn_arm(c, UV_WRITABLE);
    if (rc < 0)
        conn_connect_failed(c, uv_strerror(rc));
}

/* ---- statements ----------------------------------------------------------- */

static bool stmt_prepared(const struct pg_conn *c, int id)
{
    return c->prepared[id / 8] & (1u << (id % 8));
}

/* Sends what the statement in flight needs next: the DEALLOCATE ALL that
 * outdated plans call for, its PREPARE when this session has not prepared it
 * yet, else its execution. */
static void conn_send_step(struct pg_conn *c)
{
    struct pg *pg = c->pg;
    struct pg_req *r = c->req;
    const char *const *params = (const char *const *)r->params;
    char why[256], name[32];
    int ok;
    if (c->forgetting) {
        ok = PQsendQuery(c->conn, "DEALLOCATE ALL");
    } else if (r->stmt < 0) {
        ok = PQsendQueryParams(c->conn, r->sql, r->nparams, NULL, params, NULL, NULL, 0);
    } else {
        snprintf(name, sizeof name, "hw%d", r->stmt);
        c->preparing = !stmt_prepared(c, r->stmt);
        if (c->preparing) {
            metric_inc(pg->m_prepares);
            ok = PQsendPrepare(c->conn, name, r->sql, r->nparams, NULL);
        } else {
            ok = PQsendQueryPrepared(c->conn, name, r->nparams, params, NULL, NULL, 0);
        }
    }
    if (!ok) {
        pq_reason(c->conn, why, sizeof why);
        if (PQstatus(c->conn) == CONNECTION_BAD) {
            conn_lost(c, HW_EUNAVAIL, why);
            return;
        }
        /* libpq refused the statement itself (too many parameters, say); the
         * connection is still good. The error travels in a result of its own. */
        c->req = NULL;
        c->state = CONN_IDLE;
        c->preparing = false;
        pg->busy--;
        LOG_ERROR("statement refused by libpq: %s", why);
        req_fail_later(pg, r, HW_EDB, PQmakeEmptyPGresult(c->conn, PGRES_FATAL_ERROR));
        return;
    }
    int f = PQflush(c->conn);
    if (f < 0) {
        conn_lost(c, HW_EUNAVAIL, pq_reason(c->conn, why, sizeof why));
        return;
    }
    c->flushing = f == 1;
    int rc = conn_arm(c, UV_READABLE | (c->flushing ? UV_WRITABLE : 0));
    if (rc < 0)
        conn_lost(c, HW_EUNAVAIL, uv_strerror(rc));
}

static void conn_send(struct pg_conn *c, struct pg_req *r)
{
    c->req = r;
    c->state = CONN_BUSY;
    c->pg->busy++;
    conn_send_step(c);
}

/* Whether the statement in flight failed in a way that running it again on
 * this connection cures. A prepared plan that a schema change outdated
 * ("cached plan must not change result type", raised while revalidating it;
 * other 0A000 errors are the statement's own) is cured by forgetting every
 * statement of the session and preparing them anew. */
static bool conn_retry(struct pg_conn *c, const PGresult *res)
{
    struct pg_req *r = c->req;
    const char *state = pg_sqlstate(res);
    const char *where = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
    if (!strcmp(state, "0A000") && r->stmt >= 0 && r->retries == 0 && where &&
        !strcmp(where, "RevalidateCachedQuery")) {
        LOG_INFO("conn=%d prepared statements outdated by a schema change: preparing them anew",
                 c->id);
        c->forgetting = true;
        memset(c->prepared, 0, sizeof c->prepared);
    } else if ((!strcmp(state, "40P01") || !strcmp(state, "40001")) && r->retries < PG_RETRIES) {
        LOG_WARN("conn=%d statement lost a %s (sqlstate=%s): running it again", c->id,
                 state[1] == 'P' ? "deadlock" : "serialisation conflict", state);
    } else {
        return false;
    }
    r->retries++;
    metric_inc(c->pg->m_retries);
    return true;
}

/* Hands queued statements to idle connections, oldest first. */
static void pool_dispatch(struct pg *pg)
{
    while (pg->head) {
        struct pg_conn *c = NULL;
        for (int i = 0; i < pg->size && !c; i++)
            if (pg->conns[i].state == CONN_IDLE)
                c = &pg->conns[i];
        if (!c)
            break;
        struct pg_req *r = pg->head;
        pg->head = r->next;
        if (!pg->head)
            pg->tail = NULL;
        pg->queued--;
        conn_send(c, r);
    }
    gauges_update(pg);
}

static void conn_complete(struct pg_conn *c)
{
    struct pg *pg = c->pg;
    char why[256];
    /* A statement whose connection broke before ReadyForQuery may or may not
     * have committed: its caller gets "unavailable", not the partial result. */
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        conn_lost(c, HW_EUNAVAIL, pq_reason(c->conn, why, sizeof why));
        return;
    }
    struct pg_req *r = c->req;
    PGresult *res = c->last;
    c->last = NULL;
    int err = result_err(res);
    if (c->forgetting) {
        /* It does not fail on a live session; were it to, the PREPAREs
         * that follow would report it as the statement's error. */
        c->forgetting = false;
        PQclear(res);
        conn_send_step(c);
        return;
    }
    bool prepare = c->preparing;
    c->preparing = false;
    if (prepare && !err) {
        c->prepared[r->stmt / 8] |= (unsigned char)(1u << (r->stmt % 8));
        PQclear(res);
        conn_send_step(c);
        return;
    }
    if (!prepare && err == HW_EDB && conn_retry(c, res)) {
        PQclear(res);
        conn_send_step(c);
        return;
    }
    c->req = NULL;
    c->state = CONN_IDLE;
    pg->busy--;
    if (err == HW_EDB) {
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        LOG_ERROR("statement failed: sqlstate=%s %s", pg_sqlstate(res), msg ? msg : "no result");
    }
    req_finish(pg, r, err, res);
    if (pg->closing)
        pool_kick(pg);
    pool_dispatch(pg);
}

/* Readiness of an established connection (idle or busy). */
static void conn_io(struct pg_conn *c, int events)
{
    char why[256];
    if ((events & UV_WRITABLE) && c->flushing) {
        int f = PQflush(c->conn);
        if (f < 0) {
            conn_lost(c, HW_EUNAVAIL, pq_reason(c->conn, why, sizeof why));
            return;
        }
        c->flushing = f == 1;
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(c->conn)) {
            conn_lost(c, HW_EUNAVAIL, pq_reason(c->conn, why, sizeof why));
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c->conn)))
            PQfreemem(n);
    }
    while (c->state == CONN_BUSY && !c->flushing && !PQisBusy(c->conn)) {
        PGresult *res = PQgetResult(c->conn);
        if (!res) {
            conn_complete(c); /* runs the callback: c may be in any state after */
            break;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(res);
            conn_lost(c, HW_EDB, "COPY cannot run through the pool");
            return;
        }
        /* A multi-result statement answers with its last result. */
        PQclear(c->last);
        c->last = res;
    }
    if (c->state != CONN_IDLE && c->state != CONN_BUSY)
        return;
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        conn_lost(c, HW_EUNAVAIL, pq_reason(c->conn, why, sizeof why));
        return;
    }
    int rc = conn_arm(c, UV_READABLE | (c->flushing ? UV_WRITABLE : 0));
    if (rc < 0)
        conn_lost(c, HW_EUNAVAIL, uv_strerror(rc));
}

static void conn_on_poll(uv_poll_t *h, int status, int events)
{
    struct pg_conn *c = h->data;
    /* On an error libuv has stopped the handle. libpq is driven as if the
     * socket were ready both ways so that it finds and reports the real
     * error (or moves on to the next host while connecting). */
    if (status < 0) {
        events = UV_READABLE | UV_WRITABLE;
        c->armed = 0;
    }
    if (c->state == CONN_CONNECTING)
        conn_connect_step(c);
    else if (c->state == CONN_IDLE || c->state == CONN_BUSY)
        conn_io(c, events);
}

/* ---- the pool ------------------------------------------------------------- */

static void pool_close_step(struct pg *pg);

static void pool_on_drain(uv_timer_t *t)
{
    struct pg *pg = t->data;
    while (pg->failed_head) {
        struct pg_req *r = pg->failed_head;
        pg->failed_head = r->next;
        if (!pg->failed_head)
            pg->failed_tail = NULL;
        req_finish(pg, r, r->err, r->res);
    }
    if (pg->closing)
        pool_close_step(pg);
}

static void pool_kick(struct pg *pg)
{
    if (!pg->finishing)
        uv_timer_start(&pg->drain, pool_on_drain, 0, 0);
}

static void pool_close_step(struct pg *pg)
{
    if (pg->finishing)
        return;
    for (int i = 0; i < pg->size; i++) {
        struct pg_conn *c = &pg->conns[i];
        if (c->state == CONN_IDLE && pg->head)
            continue; /* cannot happen after dispatch, but never drop work */
        if (c->state == CONN_IDLE)
            pg->up--;
        if (c->state == CONN_DOWN || c->state == CONN_CONNECTING || c->state == CONN_IDLE) {
            conn_drop(c);
            c->state = CONN_CLOSED;
        }
    }
    gauges_update(pg);
    if (pg->up == 0 && pg->head)
        queue_fail_all(pg); /* their callbacks run on the next drain */
    if (pg->failed_head)
        return;
    for (int i = 0; i < pg->size; i++)
        if (pg->conns[i].state != CONN_CLOSED)
            return;
    pg->finishing = true;
    uv_close((uv_handle_t *)&pg->drain, pool_handle_closed);
    for (int i = 0; i < pg->size; i++)
        uv_close((uv_handle_t *)&pg->conns[i].timer, conn_handle_closed);
}

/* libpq's parse errors may quote a piece of the conninfo, which can be a
 * password: quoted text is masked before it is logged. */
static void redact_quoted(char *dst, size_t n, const char *src)
{
    bool inside = false;
    size_t w = 0;
    for (const char *p = src; *p && w + 5 < n; p++) {
        if (*p == '"' && !inside) {
            memcpy(dst + w, "\"***", 4);
            w += 4;
            inside = true;
        } else if (*p == '"') {
            dst[w++] = '"';
            inside = false;
        } else if (!inside && *p != '\n') {
            dst[w++] = *p;
        }
    }
    dst[w] = '\0';
}

static bool conninfo_ok(const char *conninfo)
{
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &perr);
    if (o) {
        PQconninfoFree(o);
        return true;
    }
    char why[256];
    redact_quoted(why, sizeof why, perr ? perr : "out of memory");
    LOG_ERROR("the PostgreSQL conninfo cannot be parsed: %s", why);
    PQfreemem(perr);
    return false;
}

static void pool_metrics(struct pg *pg, struct metrics *m)
{
    if (!m)
        return;
    pg->m_queries = metrics_counter(m, "hirewire_pg_queries_total", NULL,
                                    "Statements completed, whatever the outcome");
    pg->m_errors = metrics_counter(m, "hirewire_pg_errors_total", NULL,
                                   "Statements that completed with an error");
    pg->m_unavailable = metrics_counter(m, "hirewire_pg_unavailable_total", NULL,
                                        "Statements rejected at once: no connection up");
    pg->m_queue_full = metrics_counter(m, "hirewire_pg_queue_full_total", NULL,
                                       "Statements rejected because the queue was full");
    pg->m_reconnects = metrics_counter(m, "hirewire_pg_reconnects_total", NULL,
                                       "Connection attempts after a loss or a failed attempt");
    pg->m_retries = metrics_counter(m, "hirewire_pg_retries_total", NULL,
                                    "Statements run again after a deadlock, a serialisation "
                                    "failure or an outdated prepared plan");
    pg->m_prepares = metrics_counter(m, "hirewire_pg_prepares_total", NULL,
                                     "Statements prepared on a connection");
    pg->m_seconds = metrics_histogram(m, "hirewire_pg_query_seconds", NULL,
                                      "Time from pg_query() to the callback, queueing included",
                                      metrics_latency_bounds, metrics_latency_nbounds);
    /* Set on every change rather than read through a callback: a registry
     * outlives the pool and must never call back into freed memory. */
    pg->m_up = metrics_gauge(m, "hirewire_pg_connections_up", NULL, "Connections up");
    pg->m_queued =
        metrics_gauge(m, "hirewire_pg_queued", NULL, "Statements waiting for a connection");
}

struct pg *pg_new(uv_loop_t *loop, const struct pg_opts *opts, struct metrics *m)
{
    if (!opts->conninfo || opts->pool_size < 1 || opts->queue_max < 1) {
        LOG_ERROR("invalid pool options: pool_size=%d queue_max=%d", opts->pool_size,
                  opts->queue_max);
        return NULL;
    }
    if (!conninfo_ok(opts->conninfo))
        return NULL;
    struct pg *pg = calloc(1, sizeof *pg);
    if (!pg)
        goto nomem;
    pg->conns = calloc((size_t)opts->pool_size, sizeof *pg->conns);
    pg->conninfo = strdup(opts->conninfo);
    pg->stmts = pg_stmts_new();
    if (!pg->conns || !pg->conninfo || !pg->stmts) {
        pg_stmts_free(pg->stmts);
        free(pg->conns);
        free(pg->conninfo);
        free(pg);
        goto nomem;
    }
    pg->loop = loop;
    pg->size = opts->pool_size;
    pg->queue_max = opts->queue_max;
    pg->connect_timeout_s = opts->connect_timeout_s;
    pool_metrics(pg, m);
    uv_timer_init(loop, &pg->drain);
    pg->drain.data = pg;
    pg->handles = 1;
    for (int i = 0; i < pg->size; i++) {
        struct pg_conn *c = &pg->conns[i];
        c->pg = pg;
        c->id = i + 1;
        c->fd = -1;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        pg->handles++;
    }
    gauges_update(pg);
    for (int i = 0; i < pg->size; i++)
        conn_connect(&pg->conns[i]);
    return pg;
nomem:
    LOG_ERROR("cannot create the PostgreSQL pool: out of memory");
    return NULL;
}

int pg_query(struct pg *pg, const char *sql, int nparams, const char *const *params,
             pg_result_cb cb, void *arg)
{
    if (nparams < 0 || (nparams > 0 && !params))
        return -EINVAL;
    /* A callback that runs while the pool drains at shutdown may try to go
     * on; the application has let go of the pool by then. */
    if (!pg)
        return HW_EUNAVAIL;
    if (pg->closing || pg->up == 0) {
        metric_inc(pg->m_unavailable);
        return HW_EUNAVAIL;
    }
    if (pg->queued >= pg->queue_max) {
        metric_inc(pg->m_queue_full);
        return -EBUSY;
    }
    size_t bytes = sizeof(struct pg_req) + (size_t)nparams * sizeof(char *);
    for (int i = 0; i < nparams; i++)
        if (params[i])
            bytes += strlen(params[i]) + 1;
    struct pg_req *r = malloc(bytes);
    if (!r)
        return -ENOMEM;
    char *p = (char *)&r->params[nparams];
    for (int i = 0; i < nparams; i++) {
        if (!params[i]) {
            r->params[i] = NULL;
            continue;
        }
        size_t len = strlen(params[i]) + 1;
        memcpy(p, params[i], len);
        r->params[i] = p;
        p += len;
    }
    r->next = NULL;
    r->sql = sql;
    r->cb = cb;
    r->arg = arg;
    r->t0 = uv_hrtime();
    r->err = 0;
    r->res = NULL;
    r->stmt = pg_stmts_id(pg->stmts, sql);
    r->retries = 0;
    r->nparams = nparams;
    if (pg->tail)
        pg->tail->next = r;
    else
        pg->head = r;
    pg->tail = r;
    pg->queued++;
    pool_dispatch(pg);
    return 0;
}

void pg_stats(const struct pg *pg, struct pg_stats *out)
{
    out->size = pg->size;
    out->up = pg->up;
    out->busy = pg->busy;
    out->queued = pg->queued;
    out->available = pg_available(pg);
}

bool pg_available(const struct pg *pg)
{
    return pg->up > 0 && !pg->closing;
}

void pg_close(struct pg *pg, void (*done)(void *arg), void *arg)
{
    if (pg->closing)
        return;
    pg->closing = true;
    pg->done = done;
    pg->done_arg = arg;
    pool_kick(pg);
}
