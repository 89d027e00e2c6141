/* Asynchronous Redis client: one connection for commands, one for SUBSCRIBE.
 *
 * Each connection goes through the same cycle. An attempt creates a hiredis
 * context and arms a watchdog, because hiredis 0.14 has no connect timeout.
 * Once TCP is up, a handshake (AUTH if configured, SELECT on the command
 * connection, then PING) is pipelined; the connection counts as up only when
 * PING answers, so a server that accepts connections but refuses our password
 * never looks usable. Any failure forgets the context and arms the retry timer
 * with capped exponential backoff, reset by the next success.
 *
 * hiredis owns the context's memory: after a failed connect it frees the
 * context itself once the connect callback returns, and a context freed from
 * inside one of its callbacks is only released after the callback. So we
 * never free a context hiredis is about to free; we only forget the pointer.
 * Every callback checks that its context is still the current one, and
 * ignores contexts that were abandoned. */
#define LOG_MOD "redis"
#include "hirewire/redis.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"

#include "cache/hiredis_uv.h"
#include <hiredis/hiredis.h>

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_CONNECT_TIMEOUT_MS 3000
/* How long redis_close waits for pending replies before it drops them. */
#define REDIS_CLOSE_TIMEOUT_MS 3000
#define REDIS_DOWN_LOG_EVERY_MS 30000
#define REDIS_MAX_LISTENERS 8

struct conn {
    struct redis *r;
    const char *name;      /* "command" or "subscribe", for logs */
    redisAsyncContext *ac; /* the current attempt or connection, or NULL */
    bool connected;        /* TCP is up (the handshake may be pending) */
    bool up;               /* handshake done: usable */
    bool in_outage;        /* failing since the last time it was up */
    int64_t down_since_ms; /* monotonic, valid while in_outage */
    int64_t last_log_ms;   /* last "still down" line */
    uint64_t backoff_ms;
    uv_timer_t retry;
    uv_timer_t watchdog; /* connect timeout, then the close timeout */
};

struct redis_sub {
    char *channel;
    redis_message_cb cb;
    void *arg;
};

struct redis_listener {
    redis_state_cb cb;
    void *arg;
};

struct redis {
    uv_loop_t *loop;
    char *host;
    int port;
    char *password; /* NULL: no AUTH */
    int db;
    char where[128]; /* "host:port" or "unix:/path", for logs */

    struct conn cmd;
    struct conn sub;

    struct redis_listener listeners[REDIS_MAX_LISTENERS];
    int nlisteners;
    struct redis_sub *subs;
    size_t nsubs;

    int handles; /* uv handles (timers, adapter polls) not closed yet */
    bool closing;
    void (*done)(void *arg);
    void *done_arg;

    struct metric *m_commands;
    struct metric *m_err_reply;
    struct metric *m_err_lost;
    struct metric *m_err_unavail;
    struct metric *m_err_connect;
    struct metric *m_reconnects;
    struct metric *m_up;
};

/* A command in flight; hiredis hands it back exactly once, with a NULL reply
 * if the connection went away first. */
struct redis_req {
    struct redis *r;
    redis_reply_cb cb;
    void *arg;
};

static void conn_start(struct conn *c);

static void redis_free_mem(struct redis *r)
{
    for (size_t i = 0; i < r->nsubs; i++)
        free(r->subs[i].channel);
    free(r->subs);
    free(r->host);
    free(r->password);
    free(r);
}

/* r is released only when the last uv handle has closed: the adapter's poll
 * handle closes after hiredis is done with its context, so at that point no
 * hiredis callback can reach r any more. */
static void maybe_free(struct redis *r)
{
    if (!r->closing || r->handles > 0)
        return;
    void (*done)(void *) = r->done;
    void *arg = r->done_arg;
    redis_free_mem(r);
    LOG_DEBUG("closed");
    if (done)
        done(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct redis *r = c->r;
    r->handles--;
    maybe_free(r);
}

static void on_poll_closed(void *arg)
{
    struct redis *r = arg;
    r->handles--;
    maybe_free(r);
}

static void close_timer(uv_timer_t *t)
{
    if (!uv_is_closing((uv_handle_t *)t))
        uv_close((uv_handle_t *)t, on_handle_closed);
}

/* While closing, a connection whose context is gone needs no timer any more. */
static void finish_check(struct redis *r)
{
    if (!r->closing)
        return;
    if (!r->cmd.ac)
        close_timer(&r->cmd.watchdog);
    if (!r->sub.ac)
        close_timer(&r->sub.watchdog);
}

static void notify(struct redis *r, bool up)
{
    /* A listener may remove itself (or another) while we walk, so walk a
     * copy. */
    struct redis_listener copy[REDIS_MAX_LISTENERS];
    int n = r->nlisteners;
    memcpy(copy, r->listeners, sizeof(copy[0]) * (size_t)n);
    for (int i = 0; i < n && !r->closing; i++)
        copy[i].cb(copy[i].arg, up);
}

static void on_retry(uv_timer_t *t)
{
    struct conn *c = t->data;
    metric_inc(c->r->m_reconnects);
    conn_start(c);
}

static void schedule_retry(struct conn *c)
{
    uv_timer_start(&c->retry, on_retry, c->backoff_ms, 0);
    c->backoff_ms *= 2;
    if (c->backoff_ms > REDIS_BACKOFF_MAX_MS)
        c->backoff_ms = REDIS_BACKOFF_MAX_MS;
}

/* Logs one line when an outage starts, then one every 30 s while it lasts,
 * so that a Redis down for hours does not flood the log with the retries. */
static void log_failure(struct conn *c, bool was_up, bool refused, const char *why)
{
    struct redis *r = c->r;
    int64_t now = clock_mono_ms();
    enum log_level lvl = refused ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN;
    const char *what = refused ? "refused the handshake (check the password and db)" : "failed";
    if (was_up) {
        LOG_AT(lvl, "%s connection to %s lost: %s; reconnecting", c->name, r->where, why);
    } else if (!c->in_outage) {
        LOG_AT(lvl, "%s connection to %s %s: %s; retrying", c->name, r->where, what, why);
    } else if (now - c->last_log_ms >= REDIS_DOWN_LOG_EVERY_MS) {
        LOG_AT(lvl, "%s connection to %s still down after %lld s: %s", c->name, r->where,
               (long long)((now - c->down_since_ms) / 1000), why);
    } else {
        return;
    }
    c->last_log_ms = now;
    if (!c->in_outage) {
        c->in_outage = true;
        c->down_since_ms = now;
    }
}

/* The current context is gone or abandoned (the caller frees it, or hiredis
 * does). Forgets it, reports the transition and arms the retry. */
static void conn_lost(struct conn *c, bool refused, const char *why)
{
    struct redis *r = c->r;
    bool was_up = c->up;
    c->ac = NULL;
    c->connected = false;
    c->up = false;
    if (r->closing) {
        finish_check(r);
        return;
    }
    uv_timer_stop(&c->watchdog);
    if (!was_up)
        metric_inc(r->m_err_connect);
    log_failure(c, was_up, refused, why && *why ? why : "connection lost");
    if (was_up && c == &r->cmd) {
        metric_set(r->m_up, 0);
        notify(r, false);
        if (r->closing)
            return;
    }
    schedule_retry(c);
}

static void resubscribe(struct redis *r);

static void conn_up(struct conn *c)
{
    struct redis *r = c->r;
    uv_timer_stop(&c->watchdog);
    c->up = true;
    c->backoff_ms = REDIS_BACKOFF_MIN_MS;
    if (c->in_outage)
        LOG_INFO("%s connection to %s reconnected after %lld ms", c->name, r->where,
                 (long long)(clock_mono_ms() - c->down_since_ms));
    else
        LOG_INFO("%s connection to %s established", c->name, r->where);
    c->in_outage = false;
    if (c == &r->sub) {
        resubscribe(r);
    } else {
        metric_set(r->m_up, 1);
        notify(r, true);
    }
}

/* Runs inside a reply callback, where hiredis defers the free until the
 * callback returns; the remaining handshake replies then arrive with NULL
 * and are ignored because the context is no longer current. */
static void handshake_fail(struct conn *c, redisAsyncContext *ac, const char *why)
{
    conn_lost(c, true, why);
    redisAsyncFree(ac);
}

static void on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;
    redisReply *rep = reply;
    if (c->ac != ac || !rep)
        return; /* abandoned, or lost: on_disconnect reports it */
    if (rep->type == REDIS_REPLY_ERROR)
        handshake_fail(c, ac, rep->str);
}

static void on_handshake_done(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;
    redisReply *rep = reply;
    if (c->ac != ac || !rep)
        return;
    if (rep->type == REDIS_REPLY_ERROR)
        handshake_fail(c, ac, rep->str);
    else
        conn_up(c);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    struct conn *c = ac->data;
    struct redis *r = c->r;
    if (c->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees ac after this callback returns. */
        conn_lost(c, false, ac->errstr);
        return;
    }
    c->connected = true;
    int rc = REDIS_OK;
    if (r->password)
        rc = redisAsyncCommand(ac, on_handshake, c, "AUTH %s", r->password);
    if (rc == REDIS_OK && c == &r->cmd && r->db != 0)
        rc = redisAsyncCommand(ac, on_handshake, c, "SELECT %d", r->db);
    if (rc == REDIS_OK)
        rc = redisAsyncCommand(ac, on_handshake_done, c, "PING");
    /* Freeing the context here would pull it from under hiredis, which is
     * still using it; the connect watchdog, still armed, drops it instead. */
    if (rc != REDIS_OK)
        LOG_ERROR("%s connection to %s: cannot queue the handshake", c->name, r->where);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    struct conn *c = ac->data;
    if (c->ac != ac)
        return;
    conn_lost(c, false, status == REDIS_OK ? "disconnected" : ac->errstr);
}

static void on_watchdog(uv_timer_t *t)
{
    struct conn *c = t->data;
    struct redis *r = c->r;
    redisAsyncContext *ac = c->ac;
    if (!ac)
        return;
    if (r->closing) {
        LOG_WARN("%s connection: replies still pending at close; dropping them", c->name);
        c->ac = NULL;
        redisAsyncFree(ac);
        finish_check(r);
        return;
    }
    conn_lost(c, false, c->connected ? "no answer to the handshake" : "connect timed out");
    redisAsyncFree(ac);
}

static void conn_start(struct conn *c)
{
    struct redis *r = c->r;
    redisAsyncContext *ac;
    if (strncmp(r->host, "unix:", 5) == 0)
        ac = redisAsyncConnectUnix(r->host + 5);
    else
        ac = redisAsyncConnect(r->host, r->port);
    if (!ac) {
        conn_lost(c, false, "out of memory");
        return;
    }
    if (ac->err) {
        /* Failed synchronously (a missing unix socket, an unroutable
         * address): hiredis has called nothing yet, so the context is ours. */
        conn_lost(c, false, ac->errstr);
        redisAsyncFree(ac);
        return;
    }
    ac->data = c;
    if (hiredis_uv_attach(ac, r->loop, on_poll_closed, r) != REDIS_OK) {
        conn_lost(c, false, "cannot watch the socket");
        redisAsyncFree(ac);
        return;
    }
    r->handles++;
    c->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    uv_timer_start(&c->watchdog, on_watchdog, REDIS_CONNECT_TIMEOUT_MS, 0);
}

static void conn_init(struct redis *r, struct conn *c, const char *name)
{
    c->r = r;
    c->name = name;
    c->backoff_ms = REDIS_BACKOFF_MIN_MS;
    uv_timer_init(r->loop, &c->retry);
    uv_timer_init(r->loop, &c->watchdog);
    c->retry.data = c;
    c->watchdog.data = c;
    r->handles += 2;
}

static void register_metrics(struct redis *r, struct metrics *m)
{
    if (!m)
        return;
    r->m_commands = metrics_counter(m, "hirewire_redis_commands_total", NULL,
                                    "Redis commands sent on the command connection");
    const char *help = "Redis failures: error replies, replies lost with the connection, "
                       "commands refused while down, failed connection attempts";
    r->m_err_reply = metrics_counter(m, "hirewire_redis_errors_total", "kind=\"reply\"", help);
    r->m_err_lost = metrics_counter(m, "hirewire_redis_errors_total", "kind=\"lost\"", help);
    r->m_err_unavail =
        metrics_counter(m, "hirewire_redis_errors_total", "kind=\"unavailable\"", help);
    r->m_err_connect = metrics_counter(m, "hirewire_redis_errors_total", "kind=\"connect\"", help);
    r->m_reconnects = metrics_counter(m, "hirewire_redis_reconnects_total", NULL,
                                      "Reconnection attempts to Redis (both connections)");
    r->m_up = metrics_gauge(m, "hirewire_redis_up", NULL,
                            "1 while the Redis command connection is usable");
}

struct redis *redis_new(uv_loop_t *loop, const struct redis_opts *opts, struct metrics *m)
{
    if (!loop || !opts || !opts->host || !*opts->host || opts->db < 0)
        return NULL;
    struct redis *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->loop = loop;
    r->host = strdup(opts->host);
    r->port = opts->port > 0 ? opts->port : 6379;
    r->db = opts->db;
    if (opts->password && *opts->password)
        r->password = strdup(opts->password);
    if (!r->host || (opts->password && *opts->password && !r->password)) {
        redis_free_mem(r);
        return NULL;
    }
    if (strncmp(r->host, "unix:", 5) == 0)
        snprintf(r->where, sizeof(r->where), "%s", r->host);
    else
        snprintf(r->where, sizeof(r->where), "%s:%d", r->host, r->port);
    register_metrics(r, m);
    metric_set(r->m_up, 0);
    conn_init(r, &r->cmd, "command");
    conn_init(r, &r->sub, "subscribe");
    conn_start(&r->cmd);
    conn_start(&r->sub);
    return r;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_req *q = privdata;
    struct redis *r = q->r;
    redisReply *rep = reply;
    int err = 0;
    if (!rep) {
        err = HW_EUNAVAIL;
        metric_inc(r->m_err_lost);
        /* Report the connection down before the callers hear of their lost
         * replies, so that they fall back instead of retrying into it. */
        if (r->cmd.ac == ac)
            conn_lost(&r->cmd, false, ac->errstr);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        err = HW_EDB;
        metric_inc(r->m_err_reply);
        LOG_WARN("command failed: %s", rep->str);
    }
    if (q->cb)
        q->cb(q->arg, err, rep);
    free(q);
}

static struct redis_req *req_new(struct redis *r, redis_reply_cb cb, void *arg, int *err)
{
    if (!r->cmd.up || r->closing) {
        metric_inc(r->m_err_unavail);
        *err = HW_EUNAVAIL;
        return NULL;
    }
    struct redis_req *q = malloc(sizeof(*q));
    if (!q) {
        *err = -ENOMEM;
        return NULL;
    }
    q->r = r;
    q->cb = cb;
    q->arg = arg;
    return q;
}

static int req_sent(struct redis *r, struct redis_req *q, int rc)
{
    if (rc != REDIS_OK) {
        free(q);
        /* hiredis refuses new commands once the context is going away;
         * otherwise it could not format (allocate) the command. */
        if (!r->cmd.ac || (r->cmd.ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING))) {
            metric_inc(r->m_err_unavail);
            return HW_EUNAVAIL;
        }
        return -ENOMEM;
    }
    metric_inc(r->m_commands);
    return 0;
}

int redis_command(struct redis *r, redis_reply_cb cb, void *arg, const char *fmt, ...)
{
    int err = 0;
    struct redis_req *q = req_new(r, cb, arg, &err);
    if (!q)
        return err;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(r->cmd.ac, on_reply, q, fmt, ap);
    va_end(ap);
    return req_sent(r, q, rc);
}

int redis_command_argv(struct redis *r, redis_reply_cb cb, void *arg, int argc, const char **argv,
                       const size_t *argvlen)
{
    if (argc <= 0 || !argv)
        return -EINVAL;
    int err = 0;
    struct redis_req *q = req_new(r, cb, arg, &err);
    if (!q)
        return err;
    int rc = redisAsyncCommandArgv(r->cmd.ac, on_reply, q, argc, argv, argvlen);
    return req_sent(r, q, rc);
}

int redis_on_state(struct redis *r, redis_state_cb cb, void *arg)
{
    if (!cb)
        return -EINVAL;
    if (r->nlisteners == REDIS_MAX_LISTENERS)
        return -ENOSPC;
    r->listeners[r->nlisteners++] = (struct redis_listener){cb, arg};
    return 0;
}

int redis_off_state(struct redis *r, redis_state_cb cb, void *arg)
{
    for (int i = 0; i < r->nlisteners; i++) {
        if (r->listeners[i].cb == cb && r->listeners[i].arg == arg) {
            memmove(&r->listeners[i], &r->listeners[i + 1],
                    sizeof(r->listeners[0]) * (size_t)(r->nlisteners - i - 1));
            r->nlisteners--;
            return 0;
        }
    }
    return HW_ENOTFOUND;
}

static struct redis_sub *find_sub(struct redis *r, const char *channel, size_t len)
{
    for (size_t i = 0; i < r->nsubs; i++) {
        if (strlen(r->subs[i].channel) == len && memcmp(r->subs[i].channel, channel, len) == 0)
            return &r->subs[i];
    }
    return NULL;
}

/* hiredis calls this for the SUBSCRIBE acknowledgement and then for every
 * message on the channel: ["message", channel, data]. */
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;
    redisReply *rep = reply;
    if (!rep || c->ac != ac)
        return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = rep->element[0]->str;
    if (strcmp(kind, "message") == 0 && rep->element[2]->type == REDIS_REPLY_STRING) {
        struct redis_sub *s = find_sub(c->r, rep->element[1]->str, rep->element[1]->len);
        if (s)
            s->cb(s->arg, s->channel, rep->element[2]->str, rep->element[2]->len);
    } else if (strcmp(kind, "subscribe") == 0) {
        LOG_DEBUG("subscribed to %s", rep->element[1]->str);
    }
}

static void send_subscribe(struct redis *r, const struct redis_sub *s)
{
    if (redisAsyncCommand(r->sub.ac, on_sub_reply, &r->sub, "SUBSCRIBE %s", s->channel) != REDIS_OK)
        LOG_ERROR("cannot subscribe to %s", s->channel);
}

static void resubscribe(struct redis *r)
{
    for (size_t i = 0; i < r->nsubs; i++)
        send_subscribe(r, &r->subs[i]);
}

int redis_subscribe(struct redis *r, const char *channel, redis_message_cb cb, void *arg)
{
    if (!channel || !*channel || !cb)
        return -EINVAL;
    if (find_sub(r, channel, strlen(channel)))
        return -EEXIST;
    struct redis_sub *subs = realloc(r->subs, sizeof(*subs) * (r->nsubs + 1));
    if (!subs)
        return -ENOMEM;
    r->subs = subs;
    char *name = strdup(channel);
    if (!name)
        return -ENOMEM;
    struct redis_sub *s = &r->subs[r->nsubs++];
    *s = (struct redis_sub){name, cb, arg};
    if (r->sub.up)
        send_subscribe(r, s);
    return 0;
}

bool redis_is_up(const struct redis *r)
{
    return r && r->cmd.up;
}

bool redis_sub_is_up(const struct redis *r)
{
    return r && r->sub.up;
}

static void conn_close(struct conn *c)
{
    uv_timer_stop(&c->retry);
    close_timer(&c->retry);
    c->up = false;
    redisAsyncContext *ac = c->ac;
    if (!ac)
        return;
    if (c->connected) {
        /* Pending replies are delivered first; on_disconnect runs once they
         * are, possibly right now. The watchdog bounds the wait. */
        uv_timer_start(&c->watchdog, on_watchdog, REDIS_CLOSE_TIMEOUT_MS, 0);
        redisAsyncDisconnect(ac);
    } else {
        /* Still connecting: nothing to drain, and hiredis is not inside one
         * of this context's callbacks (connected is set before any runs). */
        c->ac = NULL;
        redisAsyncFree(ac);
    }
}

void redis_close(struct redis *r, void (*done)(void *arg), void *arg)
{
    if (!r) {
        /* No Redis configured: nothing to wait for. */
        if (done)
            done(arg);
        return;
    }
    assert(!r->closing);
    LOG_DEBUG("closing");
    /* Listeners are not told about the close: they are being torn down too. */
    r->closing = true;
    r->done = done;
    r->done_arg = arg;
    metric_set(r->m_up, 0);
    conn_close(&r->cmd);
    conn_close(&r->sub);
    finish_check(r);
}
