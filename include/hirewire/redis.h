/* Asynchronous Redis client on the libuv loop (hiredis + our own libuv
 * adapter, src/cache/hiredis_uv.h: Debian's hiredis 0.14 adapter drops poll
 * errors, so a refused connect would hang forever).
 *
 * Two connections: one for commands, one for SUBSCRIBE. Both reconnect with
 * capped exponential backoff (100 ms .. 5 s); subscriptions are re-issued after
 * a reconnect. While the command connection is down, redis_command() fails at
 * once with HW_EUNAVAIL. */
#ifndef HIREWIRE_REDIS_H
#define HIREWIRE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct redis;
struct metrics;
struct redisReply;

struct redis_opts {
    const char *host; /* IP address or "unix:/path" (no DNS on the loop) */
    int port;
    const char *password; /* NULL or "" = no AUTH */
    int db;
};

/* reply is NULL with err == HW_EUNAVAIL when the connection died before the
 * answer; an error reply from Redis comes with err == HW_EDB. The reply is
 * owned by hiredis and freed when the callback returns. */
typedef void (*redis_reply_cb)(void *arg, int err, struct redisReply *reply);

/* Called on every change of the command connection's state (up true/false). */
typedef void (*redis_state_cb)(void *arg, bool up);

/* Called for every message published on a subscribed channel. */
typedef void (*redis_message_cb)(void *arg, const char *channel, const char *data, size_t len);

struct redis *redis_new(uv_loop_t *loop, const struct redis_opts *opts, struct metrics *m);

/* Formats like printf (hiredis: %s, %b with pointer+size_t). Returns 0 (cb, if
 * not NULL, will run exactly once, never inside this call), HW_EUNAVAIL or
 * -ENOMEM. */
int redis_command(struct redis *r, redis_reply_cb cb, void *arg, const char *fmt, ...);
int redis_command_argv(struct redis *r, redis_reply_cb cb, void *arg, int argc,
                       const char **argv, const size_t *argvlen);

/* Adds a listener for state changes (at most 8). */
int redis_on_state(struct redis *r, redis_state_cb cb, void *arg);
/* Removes the listener added with the same cb and arg, so that an object
 * freed before r is never called. Returns 0 or HW_ENOTFOUND. */
int redis_off_state(struct redis *r, redis_state_cb cb, void *arg);

/* Subscribes (now or at the next connect) to channel; cb gets its messages.
 * At most one subscriber per channel name. */
int redis_subscribe(struct redis *r, const char *channel, redis_message_cb cb, void *arg);

bool redis_is_up(const struct redis *r);
bool redis_sub_is_up(const struct redis *r);

/* Disconnects both connections (pending replies are delivered), stops the
 * timers, frees r once every handle is closed, then calls done(arg). */
void redis_close(struct redis *r, void (*done)(void *arg), void *arg);

#endif
