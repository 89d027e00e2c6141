/* Cross-node delivery over Redis pub/sub.
 *
 * Message: "<user_id> <node_id>\n<envelope>". The envelope is the very frame
 * the sockets get, so a receiving node builds its event without serialising
 * anything again. A node ignores its own messages: its hub had the event from
 * the local bus already.
 *
 * Pub/sub forgets what it could not deliver. Two things make up for it: an
 * event this node could not publish is kept (bounded) and published again
 * when Redis is back; and when the subscription comes back after a loss, the
 * hub re-reads the log of every user it serves. */
#define LOG_MOD "broker"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/app.h"
#include "hirewire/broker.h"
#include "hirewire/bus.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/hub.h"
#include "hirewire/scheduler.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/redis.h"

#define WATCH_MS 500
#define UNSENT_MAX 4096
/* Catch-up reads after the subscription came back: one at once, one a little
 * later for events published while SUBSCRIBE was still on its way. */
#define CATCHUP_AGAIN_MS 2000

struct broker {
    struct app *app;
    char channel[160];
    uv_timer_t watch;
    bool sub_up;
    bool sub_seen;
    uint64_t catchup_at; /* loop time of the second catch-up, 0 = none */
    struct event **unsent;
    size_t nunsent;
    int inflight; /* publishes waiting for Redis's answer */
    bool closing; /* broker_free() was called */
    bool watch_closed;

    struct metric *m_published, *m_received, *m_failed, *m_dropped;
};

static void keep_unsent(struct broker *b, struct event *ev)
{
    if (b->nunsent == UNSENT_MAX) {
        /* Other nodes will find it in the log at their next catch-up. */
        metric_inc(b->m_dropped);
        return;
    }
    if (!b->unsent) {
        b->unsent = calloc(UNSENT_MAX, sizeof(*b->unsent));
        if (!b->unsent)
            return;
    }
    b->unsent[b->nunsent++] = event_ref(ev);
}

struct publish_ctx {
    struct broker *b;
    struct event *ev;
};

static void maybe_free(struct broker *b)
{
    if (b->closing && b->watch_closed && b->inflight == 0)
        free(b);
}

static void on_published(void *arg, int err, struct redisReply *reply)
{
    struct publish_ctx *p = arg;
    struct broker *b = p->b;

    (void)reply;
    b->inflight--;
    if (err && !b->closing) {
        metric_inc(b->m_failed);
        keep_unsent(b, p->ev);
    }
    event_unref(p->ev);
    free(p);
    maybe_free(b);
}

static int publish(struct broker *b, struct event *ev)
{
    char head[128];
    int hl = snprintf(head, sizeof(head), "%" PRId64 " %s\n", ev->user_id, b->app->node_id);
    size_t len = (size_t)hl + ev->frame->len;
    char *msg = malloc(len);
    struct publish_ctx *p = malloc(sizeof(*p));

    if (!msg || !p) {
        free(msg);
        free(p);
        return -ENOMEM;
    }
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, ev->frame->payload, ev->frame->len);
    p->b = b;
    p->ev = event_ref(ev);
    int rc = redis_command(b->app->redis, on_published, p, "PUBLISH %s %b", b->channel, msg, len);
    free(msg);
    if (rc) {
        event_unref(p->ev);
        free(p);
        return rc;
    }
    b->inflight++;
    metric_inc(b->m_published);
    return 0;
}

static void on_bus_event(void *arg, struct event *ev)
{
    struct broker *b = arg;

    if (!b->app->redis || b->closing)
        return;
    if (b->nunsent || publish(b, ev)) {
        /* Keep the order: once something waits, everything waits. */
        keep_unsent(b, ev);
    }
}

static void on_message(void *arg, const char *channel, const char *data, size_t len)
{
    struct broker *b = arg;
    const char *nl = memchr(data, '\n', len);
    char *end;

    (void)channel;
    if (!nl)
        return;
    long long uid = strtoll(data, &end, 10);
    if (end == data || *end != ' ' || uid <= 0)
        return;
    const char *node = end + 1;
    size_t nlen = (size_t)(nl - node);
    if (nlen == strlen(b->app->node_id) && memcmp(node, b->app->node_id, nlen) == 0)
        return;
    struct event *ev = event_from_envelope(uid, nl + 1, len - (size_t)(nl + 1 - data));
    if (!ev) {
        LOG_WARN("ignored a malformed message from node %.*s", (int)nlen, node);
        return;
    }
    metric_inc(b->m_received);
    hub_deliver(b->app->hub, ev);
    scheduler_on_event(b->app->sched, ev);
    event_unref(ev);
}

static void flush_unsent(struct broker *b)
{
    size_t i = 0;

    for (; i < b->nunsent; i++)
        if (publish(b, b->unsent[i]))
            break;
    for (size_t j = 0; j < i; j++)
        event_unref(b->unsent[j]);
    memmove(b->unsent, b->unsent + i, (b->nunsent - i) * sizeof(*b->unsent));
    b->nunsent -= i;
    if (i)
        LOG_INFO("published %zu events held while Redis was down", i);
}

static void on_watch(uv_timer_t *t)
{
    struct broker *b = t->data;
    struct redis *r = b->app->redis;
    bool up = redis_sub_is_up(r);
    uint64_t now = uv_now(b->app->loop);

    if (up && !b->sub_up && b->sub_seen) {
        LOG_INFO("subscription back: reading what was published meanwhile from the log");
        hub_catch_up(b->app->hub);
        b->catchup_at = now + CATCHUP_AGAIN_MS;
    }
    if (up)
        b->sub_seen = true;
    b->sub_up = up;
    if (b->catchup_at && now >= b->catchup_at) {
        b->catchup_at = 0;
        hub_catch_up(b->app->hub);
    }
    if (b->nunsent && redis_is_up(r))
        flush_unsent(b);
}

struct broker *broker_new(struct app *app)
{
    struct broker *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->app = app;
    snprintf(b->channel, sizeof(b->channel), "%s:events", app->cfg->redis_prefix);
    uv_timer_init(app->loop, &b->watch);
    b->watch.data = b;
    struct metrics *m = app->metrics;
    b->m_published = metrics_counter(m, "hirewire_broker_published_total", NULL,
                                     "Events published to other nodes");
    b->m_received = metrics_counter(m, "hirewire_broker_received_total", NULL,
                                    "Events received from other nodes");
    b->m_failed = metrics_counter(m, "hirewire_broker_publish_failures_total", NULL,
                                  "Publishes that failed and were kept for later");
    b->m_dropped = metrics_counter(m, "hirewire_broker_unsent_dropped_total", NULL,
                                   "Unpublished events dropped from a full backlog");
    bus_subscribe(app->bus, on_bus_event, b);
    if (app->redis) {
        if (redis_subscribe(app->redis, b->channel, on_message, b)) {
            free(b);
            return NULL;
        }
        uv_timer_start(&b->watch, on_watch, WATCH_MS, WATCH_MS);
    }
    return b;
}

static void on_watch_closed(uv_handle_t *h)
{
    struct broker *b = h->data;

    b->watch_closed = true;
    maybe_free(b);
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    b->closing = true;
    for (size_t i = 0; i < b->nunsent; i++)
        event_unref(b->unsent[i]);
    free(b->unsent);
    b->unsent = NULL;
    b->nunsent = 0;
    uv_timer_stop(&b->watch);
    uv_close((uv_handle_t *)&b->watch, on_watch_closed);
}

const char *broker_state(const struct broker *b)
{
    if (!b || !b->app->redis)
        return "disabled";
    return redis_sub_is_up(b->app->redis) && redis_is_up(b->app->redis) ? "up" : "down";
}
