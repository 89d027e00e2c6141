/* WebSocket connections at /api/v1/ws: authentication, channels, the
 * client's actions, and a bounded queue of shared frames per socket.
 *
 * Frames are refcounted and shared by every socket that gets them; the
 * server does not mask, so lws writes the same header into each frame's
 * headroom and sharing is safe. A socket writes up to WRITE_BATCH frames per
 * writable callback while the kernel takes them. A queue over its hard limit,
 * or over its soft limit for longer than the grace period, gets
 * system.lagging and close 1013: the client resumes with since=. */
#define LOG_MOD "hub"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "hirewire/app.h"
#include "hirewire/auth.h"
#include "hirewire/clock.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/log.h"
#include "hirewire/metrics.h"
#include "hirewire/user_repo.h"
#include "net/hub_internal.h"

#define WRITE_BATCH 16
#define RX_MAX 16384
#define KILL_AFTER_S 2
/* The close opcode of lws_write(); lws uses it for its own close frames but
 * leaves it out of the public enum. */
#define WRITE_CLOSE ((enum lws_write_protocol)4)

static double gauge_conns(void *arg)
{
    return ((struct hub *)arg)->nconns;
}

struct hub *hub_new(struct app *app)
{
    struct hub *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->app = app;
    uv_timer_init(app->loop, &h->gap_timer);
    h->gap_timer.data = h;
    struct metrics *m = app->metrics;
    metrics_gauge_fn(m, "hirewire_ws_connections", NULL, "Open WebSocket connections",
                     gauge_conns, h);
    h->m_deliveries = metrics_counter(m, "hirewire_ws_deliveries_total", NULL,
                                      "Events queued to WebSocket connections");
    h->m_lagging = metrics_counter(m, "hirewire_ws_lagging_closed_total", NULL,
                                   "Connections closed because they could not keep up");
    h->m_gap_fills = metrics_counter(m, "hirewire_ws_gap_fills_total", NULL,
                                     "Events read from the log to fill a hole in a stream");
    h->m_replayed = metrics_counter(m, "hirewire_ws_replayed_total", NULL,
                                    "Events replayed to resuming connections");
    h->m_duplicates = metrics_counter(m, "hirewire_ws_duplicates_dropped_total", NULL,
                                      "Events dropped because the stream had them already");
    h->m_rejected = metrics_counter(m, "hirewire_ws_rejected_total", NULL,
                                    "Upgrades refused (path, credential, shutdown)");
    h->m_system = metrics_counter(m, "hirewire_ws_system_messages_total", NULL,
                                  "System messages sent");
    return h;
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    /* The timer handle is closed by hub_close_all(); nothing else is left. */
    free(h);
}

int hub_connections(const struct hub *h)
{
    return h ? h->nconns : 0;
}

/* --- queue --- */

static bool queue_grow(struct hub_conn *c)
{
    size_t cap = c->qcap ? c->qcap * 2 : 8;
    struct frame **q = malloc(cap * sizeof(*q));

    if (!q)
        return false;
    for (size_t i = 0; i < c->qlen; i++)
        q[i] = c->q[(c->qhead + i) % c->qcap];
    free(c->q);
    c->q = q;
    c->qcap = cap;
    c->qhead = 0;
    return true;
}

static void lagging(struct hub_conn *c)
{
    char data[128];

    snprintf(data, sizeof(data), "{\"queued_messages\":%zu,\"queued_bytes\":%zu}", c->qlen,
             c->qbytes);
    LOG_WARN("conn=%llu user=%lld lagging (%zu messages, %zu bytes queued): closing",
             (unsigned long long)c->id, (long long)(c->user ? c->user->id : 0), c->qlen,
             c->qbytes);
    metric_inc(c->hub->m_lagging);
    struct frame *f = event_system_frame("system.lagging", data, NULL);
    if (f && (c->qlen < c->qcap || queue_grow(c))) {
        c->q[(c->qhead + c->qlen++) % c->qcap] = f;
        c->qbytes += f->len;
    } else {
        frame_unref(f);
    }
    hub__conn_close(c, 1013, "lagging: resume with since=");
}

void hub__conn_push(struct hub_conn *c, struct frame *f)
{
    const struct config *cfg = c->hub->app->cfg;

    if (!c->wsi || c->closing || !f)
        return;
    if ((int)c->qlen >= cfg->ws_queue_hard_msgs ||
        (int64_t)(c->qbytes + f->len) > cfg->ws_queue_hard_bytes) {
        lagging(c);
        return;
    }
    if (c->qlen == 0 && c->state != CONN_AUTH && !lws_partial_buffered(c->wsi)) {
        /* Nothing waits before this frame and the kernel took everything so
         * far: write it now. Arming and disarming POLLOUT for a single frame
         * costs more than the write itself; if the kernel takes only part,
         * lws keeps the rest and finishes it before anything else. */
        if (lws_write(c->wsi, f->payload, f->len, LWS_WRITE_TEXT) < (int)f->len)
            hub__conn_close(c, 1011, "write failed");
        return;
    }
    if (c->qlen == c->qcap && !queue_grow(c)) {
        lagging(c);
        return;
    }
    c->q[(c->qhead + c->qlen++) % c->qcap] = frame_ref(f);
    c->qbytes += f->len;
    if ((int)c->qlen > cfg->ws_queue_soft_msgs || (int64_t)c->qbytes > cfg->ws_queue_soft_bytes) {
        int64_t now = clock_mono_ms();
        if (!c->soft_since_ms)
            c->soft_since_ms = now;
        else if (now - c->soft_since_ms > (int64_t)cfg->ws_soft_grace_s * 1000) {
            lagging(c);
            return;
        }
    }
    if (c->qlen == 1)
        lws_callback_on_writable(c->wsi);
}

void hub__conn_push_event(struct hub_conn *c, struct event *ev)
{
    hub__conn_push(c, ev->frame);
    metric_inc(c->hub->m_deliveries);
    app_count_today(c->hub->app, APP_TODAY_WS_EVENTS_SENT, 1);
}

void hub__conn_system(struct hub_conn *c, const char *type, const char *data_json,
                      const char *extra)
{
    struct frame *f = event_system_frame(type, data_json, extra);

    if (!f)
        return;
    hub__conn_push(c, f);
    frame_unref(f);
    metric_inc(c->hub->m_system);
}

void hub__conn_close(struct hub_conn *c, int code, const char *reason)
{
    if (!c->wsi || c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    /* What is queued goes out first; a peer that stops reading must not keep
     * the connection (and its queue) alive for ever. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, KILL_AFTER_S);
    lws_callback_on_writable(c->wsi);
}

static void queue_clear(struct hub_conn *c)
{
    for (size_t i = 0; i < c->qlen; i++)
        frame_unref(c->q[(c->qhead + i) % c->qcap]);
    free(c->q);
    c->q = NULL;
    c->qlen = c->qcap = c->qhead = c->qbytes = 0;
}

void hub__conn_release(struct hub_conn *c)
{
    if (--c->refs > 0)
        return;
    queue_clear(c);
    for (size_t i = 0; i < c->npending; i++)
        event_unref(c->pending[i]);
    free(c->pending);
    free(c->rx);
    free(c);
}

static int conn_write(struct hub_conn *c)
{
    struct lws *wsi = c->wsi;
    const struct config *cfg = c->hub->app->cfg;

    for (int n = 0; c->qlen && n < WRITE_BATCH; n++) {
        struct frame *f = c->q[c->qhead];
        size_t len = f->len;
        int w = lws_write(wsi, f->payload, len, LWS_WRITE_TEXT);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        c->qbytes -= len;
        frame_unref(f);
        if (w < (int)len)
            return -1;
        if (lws_partial_buffered(wsi))
            break;
    }
    if ((int)c->qlen <= cfg->ws_queue_soft_msgs && (int64_t)c->qbytes <= cfg->ws_queue_soft_bytes)
        c->soft_since_ms = 0;
    if (c->closing && !c->qlen) {
        /* lws takes a non-zero return from a writeable callback for a failed
         * write and drops the socket without the close frame that
         * lws_close_reason() prepared: send it here, then drop. */
        unsigned char buf[LWS_PRE + 2 + sizeof(c->close_reason)];
        size_t rl = strlen(c->close_reason);
        buf[LWS_PRE] = (unsigned char)((c->close_code >> 8) & 0xff);
        buf[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
        memcpy(buf + LWS_PRE + 2, c->close_reason, rl);
        lws_write(wsi, buf + LWS_PRE, 2 + rl, WRITE_CLOSE);
        return -1;
    }
    if (c->qlen || c->closing)
        lws_callback_on_writable(wsi);
    if (c->replay_parked)
        hub__replay_step(c);
    return 0;
}

/* --- connection set-up --- */

static void conn_id(char *out, size_t n)
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        memset(b, 0, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, n,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* A query argument's value (lws copies "name=value" into buf and points
 * past the name), NULL when absent. */
static const char *query_arg(struct lws *wsi, const char *name, char *buf, size_t n)
{
    return lws_get_urlarg_by_name(wsi, name, buf, (int)n);
}

/* The credential of an upgrade: capability path, token= or the header. */
static int upgrade_token(struct lws *wsi, char *tok, size_t n, bool *path_ok)
{
    char uri[512], hdr[256];
    const char *rest = uri;

    *path_ok = false;
    tok[0] = '\0';
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return 0;
    int cap = auth_split_capability(uri, tok, n, &rest);
    if (cap < 0)
        tok[0] = '\0';
    size_t len = strlen(rest);
    while (len > 1 && rest[len - 1] == '/')
        len--;
    *path_ok = len == strlen("/api/v1/ws") && memcmp(rest, "/api/v1/ws", len) == 0;
    if (cap == 1)
        return 1;
    const char *v = query_arg(wsi, "token=", hdr, sizeof(hdr));
    if (v && *v && strlen(v) < n) {
        memmove(tok, v, strlen(v) + 1);
        return 1;
    }
    tok[0] = '\0';
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        auth_parse_bearer(hdr, tok, n) == 0)
        return 1;
    return 0;
}

/* Refuses an upgrade with hirewire's error body. lws_return_http_status()
 * would say HTTP/1.0 (lws has not recorded the request's version on the
 * upgrade path), which strict WebSocket clients reject, with an HTML body. */
static int refuse(struct hub *h, struct lws *wsi, int status, const char *code, const char *msg)
{
    unsigned char buf[LWS_PRE + 768];
    char body[384];
    int bl = snprintf(body, sizeof(body),
                      "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"field\":null},"
                      "\"detail\":\"%s\"}",
                      code, msg, msg);
    int n = snprintf((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
                     "HTTP/1.1 %d %s\r\nserver: hirewire\r\ncontent-type: application/json\r\n"
                     "content-length: %d\r\n%sconnection: close\r\n\r\n%s",
                     status,
                     status == 401   ? "Unauthorized"
                     : status == 404 ? "Not Found"
                                     : "Service Unavailable",
                     bl, status == 503 ? "retry-after: 1\r\n" : "", body);

    metric_inc(h->m_rejected);
    if (bl > 0 && bl < (int)sizeof(body) && n > 0 && n < (int)(sizeof(buf) - LWS_PRE))
        lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
    return -1;
}

static int on_filter(struct hub *h, struct lws *wsi)
{
    char tok[AUTH_TOKEN_MAX + 1];
    bool path_ok;
    int has = upgrade_token(wsi, tok, sizeof(tok), &path_ok);

    if (!path_ok)
        return refuse(h, wsi, 404, "not_found", "no WebSocket at this path");
    if (h->closing)
        return refuse(h, wsi, 503, "unavailable", "shutting down");
    if (!has || !user_token_valid(tok))
        return refuse(h, wsi, 401, "unauthorized",
                      "a token is required: token=, Authorization or /u/TOKEN");
    return 0;
}

static void send_connected(struct hub_conn *c)
{
    json_t *chans = json_array();

    for (int i = 0; i < CH__COUNT; i++)
        if (c->mask & CH_MASK(i))
            json_array_append_new(chans, json_string(event_channel_name(i)));
    json_t *data = json_pack("{s:s, s:I, s:o, s:s, s:s}", "connection_id", c->conn_id,
                             "user_id", (json_int_t)c->user->id, "channels", chans, "message",
                             "Connected to Job Automation System", "node_id",
                             c->hub->app->node_id);
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    char extra[96];
    snprintf(extra, sizeof(extra), "\"connection_id\":\"%s\"", c->conn_id);
    hub__conn_system(c, "system.connected", text, extra);
    free(text);
    json_decref(data);
}

static void on_auth(void *arg, int err, int64_t user_id)
{
    struct hub_conn *c = arg;

    if (!c->wsi) {
        hub__conn_release(c);
        return;
    }
    if (err) {
        hub__conn_system(c, "system.error",
                         err == HW_EUNAUTH
                             ? "{\"code\":\"unauthorized\",\"message\":\"the token is unknown "
                               "or revoked\"}"
                             : "{\"code\":\"unavailable\",\"message\":\"cannot check the token "
                               "now; retry shortly\"}",
                         NULL);
        hub__conn_close(c, err == HW_EUNAUTH ? 4401 : 1013,
                        err == HW_EUNAUTH ? "unauthorized" : "try again later");
        hub__conn_release(c);
        return;
    }
    struct hub_user *u = hub__user_get(c->hub, user_id);
    if (!u) {
        hub__conn_close(c, 1011, "out of memory");
        hub__conn_release(c);
        return;
    }
    hub__user_attach(u, c);
    c->state = CONN_REPLAY;
    if (c->need >= 0)
        hub__conn_greet(c);
    hub__replay_step(c);
    hub__conn_release(c);
}

/* system.connected, once the stream's head is known: an event committed
 * after the client saw it has a higher seq, so the client gets it. */
void hub__conn_greet(struct hub_conn *c)
{
    send_connected(c);
    if (c->bad_channels)
        hub__conn_system(c, "system.error",
                         "{\"code\":\"invalid_field\",\"message\":\"unknown channels in "
                         "channels= were ignored\"}",
                         NULL);
    if (c->bad_since)
        hub__conn_system(c, "system.error",
                         "{\"code\":\"invalid_field\",\"message\":\"since must be a "
                         "non-negative integer; ignored\"}",
                         NULL);
}

static int on_established(struct hub *h, struct lws *wsi, void **slot)
{
    char buf[512];
    bool path_ok;
    struct hub_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return -1;
    c->hub = h;
    c->wsi = wsi;
    c->refs = 1;
    c->id = ++h->next_id;
    c->since = -1;
    c->after = -1;
    c->need = -1;
    conn_id(c->conn_id, sizeof(c->conn_id));
    upgrade_token(wsi, c->token, sizeof(c->token), &path_ok);

    int unknown = 0;
    const char *v = query_arg(wsi, "channels=", buf, sizeof(buf));
    if (v)
        c->mask = event_channel_mask_parse(v, &unknown);
    else
        c->mask = CH_MASK_ALL & ~CH_MASK(CH_SYSTEM);
    v = query_arg(wsi, "since=", buf, sizeof(buf));
    if (v) {
        char *end;
        long long s = strtoll(v, &end, 10);
        if (!*v || *end || s < 0) {
            c->bad_since = true;
        } else {
            c->since = s;
        }
    }
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    *slot = c;

    c->bad_channels = unknown > 0;
    c->refs++;
    if (user_repo_auth(h->app->pg, c->token, on_auth, c)) {
        c->refs--;
        hub__conn_system(c, "system.error",
                         "{\"code\":\"unavailable\",\"message\":\"cannot check the token now; "
                         "retry shortly\"}",
                         NULL);
        hub__conn_close(c, 1013, "try again later");
    }
    memset(c->token, 0, sizeof(c->token));
    return 0;
}

static void on_closed(struct hub *h, void **slot)
{
    struct hub_conn *c = *slot;

    if (!c)
        return;
    *slot = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->nconns--;
    c->wsi = NULL;
    hub__user_detach(c);
    queue_clear(c);
    hub__conn_release(c);
}

/* --- client messages --- */

static void reply_stats(struct hub_conn *c)
{
    struct hub *h = c->hub;
    int counts[CH__COUNT] = {0};

    for (struct hub_conn *o = h->conns; o; o = o->next)
        for (int i = 0; i < CH__COUNT; i++)
            if (o->mask & CH_MASK(i))
                counts[i]++;
    json_t *details = json_object();
    json_t *chans = json_array();
    for (int i = 0; i < CH__COUNT; i++) {
        json_object_set_new(details, event_channel_name(i), json_integer(counts[i]));
        if (counts[i])
            json_array_append_new(chans, json_string(event_channel_name(i)));
    }
    json_t *data = json_pack("{s:i, s:i, s:o, s:o}", "total_connections", h->nconns,
                             "unique_users", h->nusers, "channels", chans, "channel_details",
                             details);
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    hub__conn_system(c, "system.stats", text, NULL);
    free(text);
    json_decref(data);
}

static void reply_channels(struct hub_conn *c)
{
    json_t *all = json_array(), *sub = json_array();

    for (int i = 0; i < CH__COUNT; i++) {
        json_array_append_new(all, json_string(event_channel_name(i)));
        if (c->mask & CH_MASK(i))
            json_array_append_new(sub, json_string(event_channel_name(i)));
    }
    json_t *data = json_pack("{s:o, s:o}", "channels", all, "subscribed", sub);
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    hub__conn_system(c, "system.channels", text, NULL);
    free(text);
    json_decref(data);
}

static void send_error(struct hub_conn *c, const char *code, const char *msg)
{
    json_t *data = json_pack("{s:s, s:s}", "code", code, "message", msg);
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_t *m = json_string(msg);
    char *mtext = m ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
    char extra[600];
    snprintf(extra, sizeof(extra), "\"message\":%s", mtext ? mtext : "\"\"");
    hub__conn_system(c, "system.error", text, extra);
    free(mtext);
    json_decref(m);
    free(text);
    json_decref(data);
}

static void on_subscribe(struct hub_conn *c, json_t *msg, bool on)
{
    const char *name = json_string_value(json_object_get(msg, "channel"));
    char data[160], extra[200];

    if (!name) {
        send_error(c, "invalid_field", "channel is required");
        return;
    }
    int ch = event_channel_parse(name, strlen(name));
    if (ch < 0) {
        send_error(c, "invalid_field", "unknown channel");
        return;
    }
    if (on)
        c->mask |= CH_MASK(ch);
    else
        c->mask &= ~CH_MASK(ch);
    int n = 0;
    for (struct hub_conn *o = c->hub->conns; o; o = o->next)
        n += !!(o->mask & CH_MASK(ch));
    snprintf(data, sizeof(data), "{\"channel\":\"%s\",\"subscriber_count\":%d}", name, n);
    snprintf(extra, sizeof(extra), "\"channel\":\"%s\",\"message\":\"%s %s\"", name,
             on ? "Subscribed to" : "Unsubscribed from", name);
    hub__conn_system(c, on ? "system.subscribed" : "system.unsubscribed", data, extra);
}

static void on_resume(struct hub_conn *c, json_t *msg)
{
    json_t *s = json_object_get(msg, "since");

    if (!json_is_integer(s) || json_integer_value(s) < 0) {
        send_error(c, "invalid_field", "since must be a non-negative integer");
        return;
    }
    if (c->state != CONN_LIVE) {
        send_error(c, "conflict", "a replay is already running");
        return;
    }
    c->state = CONN_REPLAY;
    c->since = json_integer_value(s);
    c->after = -1;
    c->need = c->user->last;
    c->replayed = 0;
    c->expired = false;
    hub__replay_step(c);
}

static void on_message(struct hub_conn *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    char buf[200];

    if (!msg) {
        snprintf(buf, sizeof(buf), "invalid JSON at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        send_error(c, "invalid_json", buf);
        return;
    }
    const char *action = json_string_value(json_object_get(msg, "action"));
    if (!json_is_object(msg) || !action) {
        send_error(c, "bad_request", "a message is an object with an \"action\"");
    } else if (c->state == CONN_AUTH) {
        send_error(c, "unavailable", "the token is still being checked");
    } else if (!strcmp(action, "subscribe") || !strcmp(action, "unsubscribe")) {
        on_subscribe(c, msg, action[0] == 's');
    } else if (!strcmp(action, "ping")) {
        hub__conn_system(c, "system.pong", "{\"message\":\"pong\"}", "\"message\":\"pong\"");
    } else if (!strcmp(action, "pong")) {
        /* the answer to our system.ping; nothing to do */
    } else if (!strcmp(action, "get_stats")) {
        reply_stats(c);
    } else if (!strcmp(action, "list_channels")) {
        reply_channels(c);
    } else if (!strcmp(action, "resume")) {
        on_resume(c, msg);
    } else {
        snprintf(buf, sizeof(buf), "Unknown action: %.64s", action);
        send_error(c, "bad_request", buf);
    }
    json_decref(msg);
}

static int on_receive(struct hub_conn *c, const char *in, size_t len)
{
    struct lws *wsi = c->wsi;

    if (lws_frame_is_binary(wsi)) {
        send_error(c, "bad_request", "binary messages are not accepted");
        return 0;
    }
    if (c->rxlen + len > RX_MAX) {
        send_error(c, "payload_too_large", "a message may be at most 16 KiB");
        hub__conn_close(c, 1009, "message too big");
        return 0;
    }
    bool whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
                 !lws_remaining_packet_payload(wsi) && c->rxlen == 0;
    if (whole) {
        on_message(c, in, len);
        return 0;
    }
    char *p = realloc(c->rx, c->rxlen + len + 1);
    if (!p)
        return -1;
    c->rx = p;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        on_message(c, c->rx, c->rxlen);
        free(c->rx);
        c->rx = NULL;
        c->rxlen = 0;
    }
    return 0;
}

int hub_lws_callback(struct hub *h, struct lws *wsi, int reason, void **slot, void *in,
                     size_t len)
{
    struct hub_conn *c = slot ? *slot : NULL;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return on_filter(h, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return slot ? on_established(h, wsi, slot) : -1;
    case LWS_CALLBACK_RECEIVE:
        return c && c->wsi ? on_receive(c, in, len) : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->wsi ? conn_write(c) : 0;
    case LWS_CALLBACK_CLOSED:
        if (slot)
            on_closed(h, slot);
        return 0;
    default:
        return 0;
    }
}

void hub_close_all(struct hub *h, int code, const char *reason)
{
    if (!h || h->closing)
        return;
    h->closing = true;
    uv_timer_stop(&h->gap_timer);
    uv_close((uv_handle_t *)&h->gap_timer, NULL);
    for (struct hub_conn *c = h->conns; c; c = c->next) {
        queue_clear(c);
        hub__conn_close(c, code, reason);
    }
}
