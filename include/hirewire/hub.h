/* The WebSocket hub: connections at /api/v1/ws, their channels and queues,
 * and the per-user ordered stream that makes delivery gap-free.
 *
 * Every event of a user reaches the hub once per node (from the local bus or
 * from the broker), possibly out of order. Per user the hub keeps the last
 * seq it emitted; an event ahead of a missing one is held back briefly and
 * the hole is filled from the events table, so every socket sees its user's
 * events in seq order, without holes and without duplicates. A connection
 * that resumes (since=SEQ) is replayed from the log first and then switched
 * to the live stream without a gap or a duplicate. */
#ifndef HIREWIRE_HUB_H
#define HIREWIRE_HUB_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct hub;
struct event;
struct lws;

struct hub *hub_new(struct app *app);

/* Frees what is left; call after every connection closed. */
void hub_free(struct hub *h);

/* Hands an event committed on this node or received from another one to the
 * users' streams. Borrowed: the hub takes its own references. */
void hub_deliver(struct hub *h, struct event *ev);

/* Re-reads the log of every user served here from the last seq emitted:
 * after the broker lost messages (a Redis outage), nothing stays missed. */
void hub_catch_up(struct hub *h);

/* Asks every connection to close with code (1001 at shutdown). */
void hub_close_all(struct hub *h, int code, const char *reason);

int hub_connections(const struct hub *h);

/* The libwebsockets reasons of WebSocket connections, from http.c. user is
 * the connection's per-session slot (a pointer the hub owns). Returns what
 * the lws callback must return. */
int hub_lws_callback(struct hub *h, struct lws *wsi, int reason, void **slot, void *in,
                     size_t len);

#endif
