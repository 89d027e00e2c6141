/* The durable per-user event log (PostgreSQL table events).
 *
 * A user's seq comes from users.event_seq, incremented in the same statement
 * that makes the domain change, so seqs have no gaps and follow commit order.
 * Domain statements embed EVENTLOG_APPEND_CTE; eventlog_append() is the same
 * for a bare custom event. Retention deletes old rows and raises
 * users.event_floor, so a replay can tell that part of its range expired. */
#ifndef HIREWIRE_EVENTLOG_H
#define HIREWIRE_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg;
struct event;

/* A CTE pair appending one event for user $1 of type $2 on channel $3 with
 * data $4 (jsonb text); later CTEs and the final SELECT can read
 * ev(seq, created_ms). Callers that number parameters differently write
 * their own; this one is for the simple case. */
#define EVENTLOG_APPEND_CTE                                                                        \
    "s AS (UPDATE users SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq), "       \
    "ev AS (INSERT INTO events (user_id, seq, type, channel, data) "                              \
    "SELECT $1, s.event_seq, $2, $3, $4::jsonb FROM s "                                           \
    "RETURNING seq, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms, data::text AS data) "

/* The same for any number of events in one domain statement. The statement
 * defines a CTE evs(k, type, channel, data) with one row per event to
 * write (k orders them; channel is the channel name, data jsonb) and then
 * embeds this, which numbers them after the user's event_seq and inserts
 * them; later CTEs and the final SELECT read ev(seq, type, channel,
 * created_ms, data). No row in evs takes no seq and no lock. $1 must be the
 * user id. */
#define EVENTLOG_APPEND_MANY_CTE                                                                   \
    "evn AS (SELECT row_number() OVER (ORDER BY k) AS ord, type, channel, data FROM evs), "       \
    "evc AS (SELECT count(*) AS c FROM evn), "                                                    \
    "evs_seq AS (UPDATE users u SET event_seq = u.event_seq + evc.c FROM evc "                    \
    "WHERE u.id = $1::bigint AND evc.c > 0 RETURNING u.event_seq), "                              \
    "ev AS (INSERT INTO events (user_id, seq, type, channel, data) "                              \
    "SELECT $1::bigint, evs_seq.event_seq - evc.c + evn.ord, evn.type, evn.channel, evn.data "    \
    "FROM evn, evc, evs_seq "                                                                     \
    "RETURNING seq, type, channel, hw_ms(created_at) AS created_ms, data::text AS data) "

/* err: 0 or as pg_result_cb. ev is a new reference (the callee unrefs it),
 * NULL on error. HW_ENOTFOUND when the user does not exist. */
typedef void (*eventlog_append_cb)(void *arg, int err, struct event *ev);

/* Appends one event. type and channel are not checked here (callers do);
 * data_json must be a JSON object text. Returns 0 (cb will run), -EINVAL
 * (unknown channel, a type that event_type_name_valid() rejects, NULL
 * data_json or cb) or the pg_query() error. */
int eventlog_append(struct pg *pg, int64_t user_id, const char *type, int channel,
                    const char *data_json, eventlog_append_cb cb, void *arg);

/* What eventlog_exec() hands its callback: the statement's result and the
 * events found in its rows (rows whose seq column is NULL carry none), in
 * seq order. Both are valid during the callback only; take a reference to
 * keep an event. */
struct eventlog_result {
    const void *res; /* the PGresult */
    struct event **events;
    size_t n;
};
typedef void (*eventlog_exec_cb)(void *arg, int err, const struct eventlog_result *r);

/* Runs a domain statement of user_id whose rows carry the columns seq, type,
 * channel, created_ms and data (and user_id, for a statement that writes
 * events of several users) of the events it wrote (NULL on rows without
 * one) beside whatever else it returns. err as pg_result_cb, or HW_EDB when
 * an event row cannot be read back (the statement committed: the events are
 * in the log, a client gets them on resume). Returns 0 (cb will run) or the
 * pg_query() error. */
int eventlog_exec(struct pg *pg, int64_t user_id, const char *sql, int nparams,
                  const char *const *params, eventlog_exec_cb cb, void *arg);

/* Builds an event from row i of a result whose columns are named seq, type,
 * channel, created_ms, data (any order). NULL on a malformed row. */
struct event *eventlog_event_from_row(int64_t user_id, const void *pgresult, int row);

struct eventlog_page {
    struct event **events; /* n new references, in seq order; owned by the page */
    size_t n;
    int64_t floor;   /* the user's highest pruned seq: seqs <= floor are gone */
    int64_t head;    /* the user's current event_seq */
    bool more;       /* the page was full: ask again after the last seq */
};

/* err: 0 or as pg_result_cb; page valid during the call only (its events may
 * be ref'd to keep them). */
typedef void (*eventlog_page_cb)(void *arg, int err, const struct eventlog_page *page);

/* Events of user with seq in (after, upto] (upto <= 0: no upper bound) on the
 * channels of mask, at most limit (1..1000), ascending. One statement that
 * also returns floor and head. Returns 0 (cb will run), -EINVAL (limit out
 * of range, NULL cb) or the pg_query() error. */
int eventlog_read(struct pg *pg, int64_t user_id, int64_t after, int64_t upto, unsigned mask,
                  int limit, eventlog_page_cb cb, void *arg);

/* Deletes events older than retention_days in batches of at most batch rows
 * and raises users.event_floor. cb gets how many rows were deleted (call
 * again while it equals batch). Returns 0 (cb will run), -EINVAL
 * (retention_days or batch below 1, NULL cb) or the pg_query() error. */
typedef void (*eventlog_prune_cb)(void *arg, int err, long long deleted);
int eventlog_prune(struct pg *pg, int retention_days, int batch, eventlog_prune_cb cb, void *arg);

/* Reactions (the orchestrator's bookkeeping). */

/* Marks events done: users and seqs are n parallel values. cb may be NULL.
 * Returns 0 (cb will run), -EINVAL or the pg_query() error. */
typedef void (*eventlog_done_cb)(void *arg, int err);
int eventlog_mark_reacted(struct pg *pg, size_t n, const int64_t *users, const int64_t *seqs,
                          eventlog_done_cb cb, void *arg);

/* Claims up to limit events whose reactions have not finished, older than
 * grace_s and not claimed by anyone in the last lease_s seconds (FOR UPDATE
 * SKIP LOCKED: two nodes never claim the same event), oldest first. The
 * page's events belong to several users (event->user_id); floor and head are
 * 0. Returns 0 (cb will run), -EINVAL or the pg_query() error. */
int eventlog_claim_unreacted(struct pg *pg, int grace_s, int lease_s, int limit,
                             eventlog_page_cb cb, void *arg);

#endif
