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

/* err: 0 or as pg_result_cb. ev is a new reference (the callee unrefs it),
 * NULL on error. HW_ENOTFOUND when the user does not exist. */
typedef void (*eventlog_append_cb)(void *arg, int err, struct event *ev);

/* Appends one event. type and channel are not checked here (callers do);
 * data_json must be a JSON object text. Returns 0 (cb will run), -EINVAL
 * (unknown channel, a type that event_type_name_valid() rejects, NULL
 * data_json or cb) or the pg_query() error. */
int eventlog_append(struct pg *pg, int64_t user_id, const char *type, int channel,
                    const char *data_json, eventlog_append_cb cb, void *arg);

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

#endif
