/* Asynchronous PostgreSQL pool on the libuv loop.
 *
 * Each connection runs one statement at a time, prepared on that connection
 * the first time it meets the text (then the socket is watched with a
 * uv_poll_t); a deadlock victim is run again. Statements wait in one FIFO
 * shared by the pool, bounded by queue_max. A lost connection is reconnected with capped
 * exponential backoff (100 ms .. 5 s). While no connection is up, pg_query()
 * fails at once with HW_EUNAVAIL so that requests get a quick 503 instead of
 * waiting; service resumes by itself when the server is back. */
#ifndef HIREWIRE_PG_H
#define HIREWIRE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

struct pg;
struct metrics;

struct pg_opts {
    const char *conninfo;  /* copied */
    int pool_size;         /* >= 1 */
    int queue_max;         /* >= 1 */
    int connect_timeout_s; /* a connect attempt that takes longer is abandoned */
};

/* Called exactly once per accepted pg_query(), never from inside pg_query().
 *   err == 0:            res is PGRES_TUPLES_OK or PGRES_COMMAND_OK;
 *   err == HW_ECONFLICT: unique or exclusion violation (res has the details);
 *   err == HW_EVALIDATION: check/not-null/foreign-key violation or bad input
 *                        syntax (SQLSTATE class 22 or 23);
 *   err == HW_EDB:       any other SQL error (res has the details);
 *   err == HW_EUNAVAIL:  the connection was lost or the pool is closing; res NULL.
 * res is owned by the pool and is cleared when the callback returns. */
typedef void (*pg_result_cb)(void *arg, int err, const PGresult *res);

struct pg_stats {
    int size;       /* configured connections */
    int up;         /* connected (idle or busy) */
    int busy;       /* running a statement */
    int queued;     /* waiting for a connection */
    bool available; /* at least one connection is up */
};

/* Starts connecting at once. Returns NULL on ENOMEM or a conninfo that libpq
 * cannot parse (the reason is logged). */
struct pg *pg_new(uv_loop_t *loop, const struct pg_opts *opts, struct metrics *m);

/* Queues one statement: one SQL command, no transaction control (each runs
 * as its own transaction and may be run again after a deadlock). sql is
 * borrowed and must stay valid until cb runs (string literals); params
 * (nparams text values, NULL for SQL NULL) are copied. Returns 0 (cb will
 * run), HW_EUNAVAIL (no connection up, or closing), -EBUSY (queue full) or
 * -ENOMEM; cb never runs on failure. */
int pg_query(struct pg *pg, const char *sql, int nparams, const char *const *params,
             pg_result_cb cb, void *arg);

/* A FROM item that lets the statement's transaction commit without waiting
 * for its WAL to reach the disk. It must be joined into the part of the
 * statement that writes (a CTE of its own would not be run, or not before
 * the write): set_config is volatile, so PostgreSQL evaluates it for the
 * rows written, and when it is not evaluated nothing was written and the
 * commit only waits as usual. synchronous_commit is read when the
 * transaction commits, and a transaction-local setting is still in force
 * then. Only for work whose loss in a crash of PostgreSQL is harmless:
 * work redone from a durable record (a reaction whose event is not marked
 * reacted is run again by the sweeper; a crash loses a tail of the WAL, and
 * a reaction commits before its event's mark, so the mark cannot survive
 * without it), or that records nothing anybody relies on (a token's last
 * use); and that sends nothing to clients. */
#define PG_ASYNC_COMMIT "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"

void pg_stats(const struct pg *pg, struct pg_stats *out);
bool pg_available(const struct pg *pg);

/* SQLSTATE of an error result, or "" */
const char *pg_sqlstate(const PGresult *res);

/* Stops accepting statements, lets those in flight and queued finish (their
 * callbacks run), then closes every handle. done(arg) runs once everything is
 * released; the pool is freed by then. */
void pg_close(struct pg *pg, void (*done)(void *arg), void *arg);

#endif
