/* Per-user ordered streams and the replay of resuming connections.
 *
 * A user's events reach this node in any order: two pool connections may
 * report commits in either order, and other nodes' events come over Redis.
 * The stream emits them strictly by seq. An event ahead of a missing seq is
 * held back for HUB_GAP_WAIT_MS, then the hole is read from the events table
 * (a higher seq is visible only once every lower one committed, because the
 * users row lock serialises the writers, so the read always finds it unless
 * retention removed it).
 *
 * A connection attaches to its user's stream first and reads the log second,
 * so every event is either in what it reads or in what the stream emits to it
 * afterwards (its pending list); the overlap is dropped by seq. */
#define LOG_MOD "hub"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/app.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "net/hub_internal.h"

#define HEAD_PROBE (INT64_MAX / 4)

static size_t bucket_of(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 54) % HUB_BUCKETS;
}

struct hub_user *hub__user_find(struct hub *h, int64_t id)
{
    for (struct hub_user *u = h->buckets[bucket_of(id)]; u; u = u->next)
        if (u->id == id)
            return u;
    return NULL;
}

static void user_read(struct hub_user *u, int64_t after, int64_t upto, int limit);

struct hub_user *hub__user_get(struct hub *h, int64_t id)
{
    struct hub_user *u = hub__user_find(h, id);

    if (u) {
        u->refs++;
        return u;
    }
    u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->hub = h;
    u->id = id;
    u->refs = 1;
    size_t b = bucket_of(id);
    u->next = h->buckets[b];
    h->buckets[b] = u;
    h->nusers++;
    /* Learn the head: events up to it are the log's business, not the
     * stream's. */
    user_read(u, HEAD_PROBE, 0, 1);
    return u;
}

void hub__user_put(struct hub_user *u)
{
    if (!u || --u->refs > 0)
        return;
    struct hub *h = u->hub;
    struct hub_user **pp = &h->buckets[bucket_of(u->id)];
    while (*pp && *pp != u)
        pp = &(*pp)->next;
    if (*pp)
        *pp = u->next;
    h->nusers--;
    for (size_t i = 0; i < u->nheld; i++)
        event_unref(u->held[i]);
    free(u->held);
    free(u);
}

void hub__user_attach(struct hub_user *u, struct hub_conn *c)
{
    c->user = u;
    c->uprev = NULL;
    c->unext = u->conns;
    if (u->conns)
        u->conns->uprev = c;
    u->conns = c;
    c->need = u->ready ? u->last : -1;
}

void hub__user_detach(struct hub_conn *c)
{
    struct hub_user *u = c->user;

    if (!u)
        return;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        u->conns = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    c->user = NULL;
    hub__user_put(u);
}

/* --- the stream --- */

static void conn_take_live(struct hub_conn *c, struct event *ev)
{
    if (c->state == CONN_LIVE) {
        if (ev->seq <= c->after)
            return;
        c->after = ev->seq;
        if (c->mask & CH_MASK(ev->channel))
            hub__conn_push_event(c, ev);
        return;
    }
    if (c->state != CONN_REPLAY)
        return;
    if (c->npending == c->cappending) {
        size_t cap = c->cappending ? c->cappending * 2 : 16;
        const struct config *cfg = c->hub->app->cfg;
        if (cap > (size_t)cfg->ws_queue_hard_msgs) {
            hub__conn_close(c, 1013, "too many events during the replay");
            return;
        }
        struct event **p = realloc(c->pending, cap * sizeof(*p));
        if (!p) {
            hub__conn_close(c, 1011, "out of memory");
            return;
        }
        c->pending = p;
        c->cappending = cap;
    }
    c->pending[c->npending++] = event_ref(ev);
}

static void emit(struct hub_user *u, struct event *ev)
{
    u->last = ev->seq;
    for (struct hub_conn *c = u->conns, *next; c; c = next) {
        next = c->unext;
        conn_take_live(c, ev);
    }
}

/* Emits held events that are next in line; drops those already emitted. */
static void drain_held(struct hub_user *u)
{
    size_t i = 0;

    for (; i < u->nheld; i++) {
        struct event *ev = u->held[i];
        if (ev->seq <= u->last) {
            metric_inc(u->hub->m_duplicates);
        } else if (ev->seq == u->last + 1) {
            emit(u, ev);
        } else {
            break;
        }
        event_unref(ev);
    }
    if (!i)
        return;
    memmove(u->held, u->held + i, (u->nheld - i) * sizeof(*u->held));
    u->nheld -= i;
    if (u->nheld)
        u->held_since_ms = clock_mono_ms();
}

static void gap_timer_arm(struct hub *h)
{
    if (h->gap_timer_on || h->closing)
        return;
    h->gap_timer_on = true;
    uv_timer_start(&h->gap_timer, hub__gap_tick, HUB_GAP_WAIT_MS, HUB_GAP_WAIT_MS);
}

static void hold(struct hub_user *u, struct event *ev)
{
    if (u->nheld == u->capheld) {
        size_t cap = u->capheld ? u->capheld * 2 : 8;
        struct event **p = realloc(u->held, cap * sizeof(*p));
        if (!p)
            return; /* the gap read will bring it */
        u->held = p;
        u->capheld = cap;
    }
    size_t i = u->nheld;
    while (i > 0 && u->held[i - 1]->seq > ev->seq)
        i--;
    if (i > 0 && u->held[i - 1]->seq == ev->seq) {
        metric_inc(u->hub->m_duplicates);
        return;
    }
    memmove(u->held + i + 1, u->held + i, (u->nheld - i) * sizeof(*u->held));
    u->held[i] = event_ref(ev);
    if (u->nheld++ == 0)
        u->held_since_ms = clock_mono_ms();
    gap_timer_arm(u->hub);
}

void hub_deliver(struct hub *h, struct event *ev)
{
    struct hub_user *u = hub__user_find(h, ev->user_id);

    if (!u)
        return; /* nobody of this user is connected here */
    if (!u->ready || u->reading || ev->seq > u->last + 1) {
        if (u->ready && ev->seq <= u->last) {
            metric_inc(h->m_duplicates);
            return;
        }
        hold(u, ev);
        if (u->nheld > HUB_HELD_MAX)
            u->held_since_ms = 0; /* read the hole at the next tick */
        return;
    }
    if (ev->seq <= u->last) {
        metric_inc(h->m_duplicates);
        return;
    }
    emit(u, ev);
    drain_held(u);
}

/* --- reads of the log for the stream --- */

struct user_read_ctx {
    struct hub_user *u;
    int64_t upto;
    bool probe;
};

static void start_waiting_conns(struct hub_user *u)
{
    for (struct hub_conn *c = u->conns, *next; c; c = next) {
        next = c->unext;
        if (c->need < 0) {
            c->need = u->last;
            hub__conn_greet(c);
            if (c->state == CONN_REPLAY)
                hub__replay_step(c);
        }
    }
}

static void fail_user(struct hub_user *u, int err)
{
    LOG_WARN("user=%lld stream read failed: %s", (long long)u->id, err_str(err));
    for (struct hub_conn *c = u->conns, *next; c; c = next) {
        next = c->unext;
        hub__conn_system(c, "system.error",
                         "{\"code\":\"unavailable\",\"message\":\"the event log is unavailable; "
                         "reconnect with since= to resume\"}",
                         NULL);
        hub__conn_close(c, 1013, "event log unavailable");
    }
}

static void on_user_read(void *arg, int err, const struct eventlog_page *page)
{
    struct user_read_ctx *r = arg;
    struct hub_user *u = r->u;
    bool probe = r->probe;
    int64_t upto = r->upto;

    free(r);
    u->reading = false;
    if (err) {
        if (u->conns)
            fail_user(u, err);
        hub__user_put(u);
        return;
    }
    if (probe) {
        u->last = page->head;
        u->ready = true;
        start_waiting_conns(u);
    } else {
        for (size_t i = 0; i < page->n; i++) {
            if (page->events[i]->seq > u->last) {
                metric_inc(u->hub->m_gap_fills);
                emit(u, page->events[i]);
            }
        }
        if (!page->more) {
            /* Whatever the read did not find below upto was pruned. */
            int64_t top = upto > 0 ? upto : page->head;
            if (top > u->last)
                u->last = top;
        } else {
            u->catch_up = true;
        }
    }
    drain_held(u);
    if (u->catch_up && u->refs > 1) {
        u->catch_up = false;
        user_read(u, u->last, 0, 1000);
    } else if (u->nheld) {
        gap_timer_arm(u->hub);
    }
    hub__user_put(u);
}

static void user_read(struct hub_user *u, int64_t after, int64_t upto, int limit)
{
    struct user_read_ctx *r = malloc(sizeof(*r));

    if (!r)
        return;
    r->u = u;
    r->upto = upto;
    r->probe = after == HEAD_PROBE;
    u->reading = true;
    u->refs++;
    int rc = eventlog_read(u->hub->app->pg, u->id, after, upto, CH_MASK_ALL, limit,
                           on_user_read, r);
    if (rc) {
        free(r);
        u->reading = false;
        u->refs--;
        if (u->conns)
            fail_user(u, rc);
    }
}

void hub__gap_tick(uv_timer_t *t)
{
    struct hub *h = t->data;
    int64_t now = clock_mono_ms();
    bool any = false;

    for (size_t b = 0; b < HUB_BUCKETS; b++) {
        for (struct hub_user *u = h->buckets[b]; u; u = u->next) {
            if (!u->nheld || !u->ready)
                continue;
            any = true;
            if (u->reading || now - u->held_since_ms < HUB_GAP_WAIT_MS)
                continue;
            user_read(u, u->last, u->held[0]->seq - 1, 1000);
        }
    }
    if (!any) {
        uv_timer_stop(t);
        h->gap_timer_on = false;
    }
}

void hub_catch_up(struct hub *h)
{
    for (size_t b = 0; b < HUB_BUCKETS; b++) {
        for (struct hub_user *u = h->buckets[b]; u; u = u->next) {
            if (!u->ready)
                continue;
            if (u->reading)
                u->catch_up = true;
            else
                user_read(u, u->last, 0, 1000);
        }
    }
}

/* --- replay of one connection --- */

static void send_resumed(struct hub_conn *c)
{
    char data[256];

    snprintf(data, sizeof(data),
             "{\"since\":%lld,\"last_seq\":%lld,\"replayed\":%ld,\"complete\":%s,\"floor\":%lld}",
             (long long)c->since, (long long)c->after, c->replayed, c->expired ? "false" : "true",
             (long long)c->floor);
    hub__conn_system(c, "system.resumed", data, NULL);
}

static void replay_finish(struct hub_conn *c)
{
    if (c->after < c->need)
        c->after = c->need;
    c->state = CONN_LIVE;
    for (size_t i = 0; i < c->npending; i++) {
        struct event *ev = c->pending[i];
        if (ev->seq > c->after) {
            c->after = ev->seq;
            if (c->mask & CH_MASK(ev->channel))
                hub__conn_push_event(c, ev);
        }
        event_unref(ev);
    }
    free(c->pending);
    c->pending = NULL;
    c->npending = c->cappending = 0;
    if (c->since >= 0)
        send_resumed(c);
}

static void on_replay(void *arg, int err, const struct eventlog_page *page)
{
    struct hub_conn *c = arg;

    c->replay_inflight = false;
    if (!c->wsi || c->state != CONN_REPLAY) {
        hub__conn_release(c);
        return;
    }
    if (err) {
        hub__conn_system(c, "system.error",
                         "{\"code\":\"unavailable\",\"message\":\"the event log is unavailable; "
                         "reconnect with since= to resume\"}",
                         NULL);
        hub__conn_close(c, 1013, "event log unavailable");
        hub__conn_release(c);
        return;
    }
    c->floor = page->floor;
    if (c->since >= 0 && page->floor > c->since)
        c->expired = true;
    const struct config *cfg = c->hub->app->cfg;
    bool cut = false;
    for (size_t i = 0; i < page->n; i++) {
        struct event *ev = page->events[i];
        if (ev->seq <= c->after)
            continue;
        /* A page may hold more than the queue's limits allow: stop at the
         * soft limit and read the rest again once the socket took it. */
        if ((int)c->qlen >= cfg->ws_queue_soft_msgs ||
            (int64_t)c->qbytes >= cfg->ws_queue_soft_bytes) {
            cut = true;
            break;
        }
        c->after = ev->seq;
        hub__conn_push_event(c, ev);
        c->replayed++;
        metric_inc(c->hub->m_replayed);
    }
    if (!page->more && !cut)
        c->after = c->need > c->after ? c->need : c->after;
    hub__replay_step(c);
    hub__conn_release(c);
}

void hub__replay_step(struct hub_conn *c)
{
    const struct config *cfg = c->hub->app->cfg;

    if (c->replay_inflight || c->state != CONN_REPLAY || !c->wsi || c->need < 0)
        return;
    if (c->since < 0 && c->after < 0)
        c->after = c->need; /* live only: start at the head */
    if (c->since >= 0 && c->after < 0)
        c->after = c->since < c->need ? c->since : c->need;
    if (c->after >= c->need) {
        replay_finish(c);
        return;
    }
    /* Read the next page only once the socket took most of the last one. */
    if (c->qlen > (size_t)cfg->ws_queue_soft_msgs / 2 ||
        c->qbytes > (size_t)cfg->ws_queue_soft_bytes / 2) {
        c->replay_parked = true;
        return;
    }
    c->replay_parked = false;
    c->replay_inflight = true;
    c->refs++;
    int rc = eventlog_read(c->hub->app->pg, c->user->id, c->after, c->need, c->mask,
                           HUB_REPLAY_PAGE, on_replay, c);
    if (rc) {
        c->replay_inflight = false;
        c->refs--;
        hub__conn_system(c, "system.error",
                         "{\"code\":\"unavailable\",\"message\":\"the event log is unavailable; "
                         "reconnect with since= to resume\"}",
                         NULL);
        hub__conn_close(c, 1013, "event log unavailable");
    }
}
