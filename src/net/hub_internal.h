/* Internals of the WebSocket hub, shared by hub.c (connections, protocol,
 * queues) and hub_stream.c (per-user ordered streams, replay). */
#ifndef HIREWIRE_HUB_INTERNAL_H
#define HIREWIRE_HUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hirewire/hub.h"

struct app;
struct event;
struct frame;
struct metric;
struct lws;

#define HUB_BUCKETS 1024
#define HUB_REPLAY_PAGE 500
#define HUB_GAP_WAIT_MS 25
#define HUB_HELD_MAX 4096

struct hub_conn;

/* The ordered stream of one user on this node. */
struct hub_user {
    struct hub_user *next; /* hash chain */
    struct hub *hub;
    int64_t id;
    int refs;        /* connections + reads in flight */
    bool ready;      /* last is known */
    bool reading;    /* an init or gap read is in flight */
    bool catch_up;   /* read everything after last once the current read ends */
    int64_t last;    /* last seq emitted to the connections */
    struct event **held; /* ahead of a missing seq, ascending */
    size_t nheld, capheld;
    int64_t held_since_ms;
    struct hub_conn *conns;
};

enum hub_conn_state {
    CONN_AUTH,   /* the token is being checked */
    CONN_REPLAY, /* replaying the log; live events wait in pending */
    CONN_LIVE,
};

struct hub_conn {
    struct hub_conn *next, *prev;           /* every connection of the hub */
    struct hub_conn *unext, *uprev;         /* the connections of its user */
    struct hub *hub;
    struct lws *wsi; /* NULL once closed */
    struct hub_user *user;
    int refs; /* 1 while open + 1 per read in flight */
    uint64_t id;
    char conn_id[40];
    enum hub_conn_state state;
    unsigned mask;
    bool bad_channels; /* channels= named unknown channels: said after system.connected */
    bool bad_since;    /* since= was not a non-negative integer: likewise */

    int64_t since;  /* asked to resume after this seq; -1 = live only */
    int64_t after;  /* last seq queued (or skipped) for this socket */
    int64_t need;   /* the replay must reach this seq; -1 until known */
    bool replay_inflight;
    bool replay_parked; /* waiting for the queue to drain */
    long replayed;
    bool expired;  /* part of the asked range was pruned */
    int64_t floor;
    struct event **pending; /* live events that came during the replay */
    size_t npending, cappending;

    struct frame **q; /* ring of frames to write */
    size_t qcap, qhead, qlen, qbytes;
    int64_t soft_since_ms;
    bool closing;
    int close_code;
    char close_reason[48];

    char *rx; /* a message being reassembled */
    size_t rxlen;
    char token[136];
};

struct hub {
    struct app *app;
    struct hub_user *buckets[HUB_BUCKETS];
    struct hub_conn *conns;
    int nconns, nusers;
    uint64_t next_id;
    uv_timer_t gap_timer;
    bool gap_timer_on;
    bool closing;

    struct metric *m_deliveries, *m_lagging, *m_gap_fills, *m_replayed, *m_duplicates,
        *m_rejected, *m_system;
};

/* hub.c */
void hub__conn_push(struct hub_conn *c, struct frame *f); /* takes a new ref of f */
void hub__conn_push_event(struct hub_conn *c, struct event *ev);
void hub__conn_system(struct hub_conn *c, const char *type, const char *data_json,
                      const char *extra);
void hub__conn_close(struct hub_conn *c, int code, const char *reason);
void hub__conn_greet(struct hub_conn *c); /* system.connected */
void hub__conn_release(struct hub_conn *c);

/* hub_stream.c */
struct hub_user *hub__user_get(struct hub *h, int64_t id); /* creates; ref taken */
void hub__user_put(struct hub_user *u);
void hub__user_attach(struct hub_user *u, struct hub_conn *c);
void hub__user_detach(struct hub_conn *c);
struct hub_user *hub__user_find(struct hub *h, int64_t id);
/* Starts or continues the replay of c (state CONN_REPLAY). */
void hub__replay_step(struct hub_conn *c);
void hub__gap_tick(uv_timer_t *t);

#endif
