/*
 * wsload: the WebSocket load generator of scripts/bench.
 *
 *   wsload fanout --url ws://HOST:PORT/api/v1/ws?channels=jobs&token=T --conns N
 *                 --rate R --duration S [--http HOST:PORT] [--token T] [--warmup S]
 *                 [--connect-rate C] [--http-conns P] [--drain S] [--server-pid PID]
 *   wsload idle   --url ws://... --conns N [--hold S] [--connect-rate C] [--server-pid PID]
 *   wsload save   --url ws://... [--conns N] [--rate R] [--duration S] [--warmup S]
 *                 [--http HOST:PORT] [--token T | --tokens T1,T2,...] [--http-conns P]
 *                 [--http-conns-max M] [--drain S] [--server-pid PID] [--pg-pid PID]
 *   wsload followup --url ws://...?channels=followups --tokens T1,T2,... --expect N
 *                 --due-at MS [--conns N] [--timeout S] [--grace S] [--connect-rate C]
 *                 [--server-pid PID] [--pg-pid PID]
 *
 * fanout opens N subscribers (C per second, all before anything is measured),
 * posts bench.tick events at R per second for S seconds over keep-alive HTTP
 * connections, waits for the deliveries to drain and prints one result block
 * followed by the same figures as one "RESULT {json}" line. Every subscriber
 * must see every accepted event exactly once; ordering is checked on the
 * server's seq (which follows commit order), loss and duplicates on the n
 * this program put in the event.
 *
 * idle opens N connections, waits until each got system.connected and reports
 * the server's resident memory per connection.
 *
 * save is the browser extension's save path (wsload_save.c): one user or
 * several, a subscriber or a few each, and POST /api/v1/jobs/process of a new
 * job at R per second in all; each save's job.created frame is timed from the
 * moment its POST was written.
 *
 * followup is the follow-up scheduler's firing (wsload_followup.c): N
 * follow-ups that scripts/bench wrote to the database, all due at one
 * moment, each timed from its due_date to its followup.due frame on its
 * user's subscriber, each of which must arrive exactly once.
 *
 * The generator shares the machine with the server, so the receive path is
 * made to cost little: one shared read buffer for all sockets (a connection
 * keeps only the tail of a frame cut by a read), one clock read per read
 * callback, no JSON parser (three memmem calls per event), a log-bucket
 * histogram and one bitmap bit per connection and event.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "wsload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void poster_connect(struct poster *p);
static void post_pump(struct bench *b);

/* ------------------------------------------------------------------ helpers */

void die(const char *fmt, ...)
{
    va_list ap;
    fputs("wsload: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static uint64_t prng_next(struct bench *b)
{
    /* xorshift64*: plenty for masking keys, which only need to vary. */
    b->prng ^= b->prng >> 12;
    b->prng ^= b->prng << 25;
    b->prng ^= b->prng >> 27;
    return b->prng * UINT64_C(2685821657736338717);
}

double secs(uint64_t ns)
{
    return (double)ns / NS_PER_S;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static ssize_t read_small_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* utime + stime of the whole process, plus cutime + cstime (its children
 * that were waited for) when `reaped`, in seconds; -1 when unreadable. */
static double proc_cpu_ex(long pid, bool reaped)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (read_small_file(path, buf, sizeof(buf)) < 0)
        return -1;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    long long cut = 0, cst = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ut, &st,
               &cut, &cst) != 4)
        return -1;
    double ticks = (double)(ut + st) + (reaped ? (double)(cut + cst) : 0);
    return ticks / (double)sysconf(_SC_CLK_TCK);
}

static double proc_cpu(long pid)
{
    return proc_cpu_ex(pid, false);
}

/* The CPU seconds of a process tree one level deep, such as a PostgreSQL
 * postmaster and its backends: a child that exits moves its time into the
 * parent's cutime, so the sum only grows. -1 when unreadable. */
static double proc_tree_cpu(long pid)
{
    char path[96], buf[4096];
    double sum = proc_cpu_ex(pid, true);
    if (sum < 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
    if (read_small_file(path, buf, sizeof(buf)) < 0)
        return -1;
    for (char *s = buf, *end; *s; s = end) {
        long child = strtol(s, &end, 10);
        if (end == s)
            break;
        double c = proc_cpu(child);
        if (c > 0) /* a child that exited since the list was read counts in cutime next time */
            sum += c;
    }
    return sum;
}

long proc_rss_kb(long pid)
{
    char path[64], buf[4096];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if (read_small_file(path, buf, sizeof(buf)) < 0)
        return -1;
    char *p = strstr(buf, "\nVmRSS:");
    return p ? strtol(p + 7, NULL, 10) : -1;
}

/* CPU seconds every processor spent outside idle and iowait, summed; -1 when unreadable. */
static double machine_cpu(void)
{
    char buf[512];
    unsigned long long v[8] = {0};
    if (read_small_file("/proc/stat", buf, sizeof(buf)) < 0 ||
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return -1;
    /* user nice system idle iowait irq softirq steal */
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

void take_snap(struct bench *b, struct snap *s)
{
    s->t = uv_hrtime();
    s->self_cpu = self_cpu();
    s->srv_cpu = proc_cpu(b->o.server_pid);
    s->srv_rss_kb = proc_rss_kb(b->o.server_pid);
    s->pg_cpu = b->o.pg_pid > 0 ? proc_tree_cpu(b->o.pg_pid) : -1;
    s->sys_busy = machine_cpu();
}

static void base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

/* Parses the unsigned integer after `key` in p[0..len); false when absent. */
bool find_uint(const char *p, size_t len, const char *key, size_t klen, uint64_t *out)
{
    const char *k = memmem(p, len, key, klen);
    if (!k)
        return false;
    const char *s = k + klen, *end = p + len;
    while (s < end && *s == ' ')
        s++;
    if (s >= end || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- histogram */

void hist_add(struct hist *h, uint64_t us)
{
    size_t i;
    if (us < 2 * HIST_SUB) {
        i = (size_t)us;
    } else {
        unsigned e = 63u - (unsigned)__builtin_clzll(us) - HIST_SHIFT;
        i = (size_t)e * HIST_SUB + (size_t)(us >> e);
        if (i >= HIST_N)
            i = HIST_N - 1;
    }
    h->b[i]++;
    h->count++;
    if (us > h->max_us)
        h->max_us = us;
}

/* The middle of bucket i, in microseconds. */
static double hist_value(size_t i)
{
    if (i < 2 * HIST_SUB)
        return (double)i;
    unsigned e = (unsigned)(i / HIST_SUB) - 1;
    uint64_t sub = i - (uint64_t)e * HIST_SUB;
    return (double)(sub << e) + (double)(UINT64_C(1) << e) / 2.0;
}

double hist_ms(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)h->count), seen = 0;
    if (want == 0)
        want = 1;
    for (size_t i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= want) {
            double v = hist_value(i);
            return (v > (double)h->max_us ? (double)h->max_us : v) / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* --------------------------------------------------------- client frames */

static void wreq_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = w->c;
    bool close_after = w->close_after;
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        conn_fail(c, "write: %s", uv_strerror(status));
    else if (close_after && c->state < C_CLOSING)
        conn_fail(c, "closed");
}

static int conn_write_raw(struct conn *c, const char *data, size_t len, bool close_after)
{
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_MAX) {
        conn_fail(c, "the server does not read what it is sent");
        return -1;
    }
    struct wreq *w = malloc(sizeof(*w) + len);
    if (!w) {
        conn_fail(c, "out of memory");
        return -1;
    }
    w->c = c;
    w->close_after = close_after;
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, wreq_done);
    if (r < 0) {
        free(w);
        conn_fail(c, "write: %s", uv_strerror(r));
        return -1;
    }
    return 0;
}

/* Sends one masked frame (RFC 6455 5.3: every client frame is masked). */
static void conn_send(struct conn *c, unsigned op, const void *payload, size_t len,
                      bool close_after)
{
    char frame[WS_HDR_MAX + 256];
    if (len > 125)
        return; /* only control frames and tiny messages are ever sent */
    uint32_t key = (uint32_t)prng_next(c->b);
    uint8_t mask[4];
    memcpy(mask, &key, 4);
    frame[0] = (char)(0x80 | op);
    frame[1] = (char)(0x80 | len);
    memcpy(frame + 2, mask, 4);
    const uint8_t *in = payload;
    for (size_t i = 0; i < len; i++)
        frame[6 + i] = (char)(in[i] ^ mask[i & 3]);
    conn_write_raw(c, frame, 6 + len, close_after);
}

/* ------------------------------------------------------------- connections */

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct bench *b = c->b;
    c->state = C_CLOSED;
    free(c->left);
    free(c->frag);
    c->left = c->frag = NULL;
    c->left_len = c->left_cap = c->frag_len = c->frag_cap = 0;
    b->open_handles--;
}

static void conn_close(struct conn *c)
{
    if (c->state == C_NEW || c->state >= C_CLOSING)
        return;
    c->state = C_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_fail(struct conn *c, const char *fmt, ...)
{
    struct bench *b = c->b;
    if (c->state == C_NEW || c->state >= C_CLOSING)
        return;
    if (c->state < C_READY) {
        b->connect_failed++;
        b->pending--;
    } else if (b->phase != PH_DONE) {
        b->dropped++;
    }
    if (b->phase != PH_DONE && !b->first_err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->first_err, sizeof(b->first_err), fmt, ap);
        va_end(ap);
    }
    conn_close(c);
}

static void conn_ready(struct conn *c)
{
    struct bench *b = c->b;
    c->state = C_READY;
    b->pending--;
    b->ready++;
}

void event_seen(struct conn *c, const char *p, size_t len, uint64_t n, uint64_t t, uint64_t now)
{
    struct bench *b = c->b;
    uint64_t seq;
    if (find_uint(p, len, "\"seq\":", 6, &seq)) {
        if ((int64_t)seq < c->last_seq)
            b->out_of_order++;
        else
            c->last_seq = (int64_t)seq;
    } else {
        /* Without a seq, fall back to the order of the sender's numbers. */
        if ((int64_t)n < c->max_n)
            b->out_of_order++;
    }
    if ((int64_t)n > c->max_n)
        c->max_n = (int64_t)n;
    if (n >= b->n_cap || !c->seen) {
        b->late_rx++;
        return;
    }
    uint8_t bit = (uint8_t)(1u << (n & 7));
    if (c->seen[n >> 3] & bit) {
        b->duplicated++;
        return;
    }
    c->seen[n >> 3] |= bit;
    if (n < b->warm_n || !c->counted)
        return;
    b->delivered++;
    b->last_rx = now;
    hist_add(&b->hist, now > t ? (now - t) / 1000 : 0);
}

/* One bench.tick (or any message carrying "t" and "n") reached connection c. */
static void on_tick(struct conn *c, const char *p, size_t len, uint64_t now)
{
    struct bench *b = c->b;
    uint64_t t, n;
    b->rx_ticks++;
    if (!find_uint(p, len, "\"n\":", 4, &n) || !find_uint(p, len, "\"t\":", 4, &t)) {
        b->other_msgs++;
        return;
    }
    event_seen(c, p, len, n, t, now);
}

static void on_message(struct conn *c, unsigned op, const char *p, size_t len, uint64_t now)
{
    if (op != 1) {
        c->b->other_msgs++;
        return;
    }
    /* The envelope of an event starts with its id; system messages do not. */
    if (len > 6 && memcmp(p, "{\"id\":", 6) == 0) {
        if (c->b->o.mode == MODE_SAVE)
            save_event(c, p, len, now);
        else if (c->b->o.mode == MODE_FOLLOWUP)
            followup_event(c, p, len);
        else
            on_tick(c, p, len, now);
        return;
    }
    if (memmem(p, len, "\"system.connected\"", 18)) {
        if (c->state == C_OPEN)
            conn_ready(c);
    } else if (memmem(p, len, "\"system.ping\"", 13)) {
        static const char pong[] = "{\"action\":\"pong\"}";
        conn_send(c, 1, pong, sizeof(pong) - 1, false);
    } else if (memmem(p, len, "\"system.lagging\"", 16)) {
        c->b->lagging_msgs++;
    } else if (memmem(p, len, "\"t\":", 4)) {
        on_tick(c, p, len, now);
    } else {
        c->b->other_msgs++;
    }
}

static bool frag_append(struct conn *c, const char *p, size_t len)
{
    if ((size_t)c->frag_len + len > WS_MSG_MAX) {
        conn_fail(c, "fragmented message over %d bytes", WS_MSG_MAX);
        return false;
    }
    if (c->frag_len + len > c->frag_cap) {
        uint32_t cap = c->frag_cap ? c->frag_cap : 1024;
        while (cap < c->frag_len + len)
            cap *= 2;
        char *nf = realloc(c->frag, cap);
        if (!nf) {
            conn_fail(c, "out of memory");
            return false;
        }
        c->frag = nf;
        c->frag_cap = cap;
    }
    memcpy(c->frag + c->frag_len, p, len);
    c->frag_len += (uint32_t)len;
    return true;
}

/* Handles one complete frame; false once the connection is closing. */
static bool on_frame(struct conn *c, unsigned b0, const char *p, size_t len, uint64_t now)
{
    unsigned op = b0 & 0x0f;
    bool fin = b0 & 0x80;
    switch (op) {
    case 0x1: /* text */
    case 0x2: /* binary */
        if (c->frag_op) {
            conn_fail(c, "protocol: new message inside a fragmented one");
            return false;
        }
        if (fin) {
            on_message(c, op, p, len, now);
            return c->state < C_CLOSING;
        }
        c->frag_op = (uint8_t)op;
        c->frag_len = 0;
        return frag_append(c, p, len);
    case 0x0: /* continuation */
        if (!c->frag_op) {
            conn_fail(c, "protocol: continuation without a message");
            return false;
        }
        if (!frag_append(c, p, len))
            return false;
        if (fin) {
            unsigned fop = c->frag_op;
            size_t flen = c->frag_len;
            c->frag_op = 0;
            c->frag_len = 0;
            on_message(c, fop, c->frag ? c->frag : "", flen, now);
        }
        return c->state < C_CLOSING;
    case 0x8: { /* close: answer with the same code, then close */
        c->b->closed_by_server++;
        unsigned code = len >= 2 ? ((unsigned)(uint8_t)p[0] << 8 | (uint8_t)p[1]) : 0;
        if (c->b->phase != PH_DONE && !c->b->first_err[0])
            snprintf(c->b->first_err, sizeof(c->b->first_err), "server closed with %u %.*s", code,
                     len > 2 ? (int)(len - 2 > 100 ? 100 : len - 2) : 0, p + 2);
        conn_send(c, 0x8, p, len >= 2 ? 2 : 0, true);
        if (c->state < C_CLOSING)
            uv_read_stop((uv_stream_t *)&c->tcp);
        return false;
    }
    case 0x9: /* ping */
        conn_send(c, 0xA, p, len, false);
        return c->state < C_CLOSING;
    case 0xA: /* pong */
        return true;
    default:
        conn_fail(c, "protocol: opcode %u", op);
        return false;
    }
}

/* Consumes the complete frames of p[0..len); returns how many bytes they took. */
static size_t ws_consume(struct conn *c, const uint8_t *p, size_t len, uint64_t now)
{
    size_t off = 0;
    while (len - off >= 2) {
        unsigned b0 = p[off], b1 = p[off + 1];
        size_t hdr = 2;
        uint64_t plen = b1 & 0x7f;
        if ((b0 & 0x70) || (b1 & 0x80)) {
            conn_fail(c, "protocol: %s", (b1 & 0x80) ? "masked server frame" : "RSV bits set");
            return off;
        }
        if (plen == 126) {
            if (len - off < 4)
                break;
            plen = (uint64_t)p[off + 2] << 8 | p[off + 3];
            hdr = 4;
        } else if (plen == 127) {
            if (len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | p[off + 2 + i];
            hdr = 10;
        }
        if ((b0 & 0x08) && (plen > 125 || !(b0 & 0x80))) {
            conn_fail(c, "protocol: bad control frame");
            return off;
        }
        if (plen > WS_MSG_MAX) {
            conn_fail(c, "frame of %" PRIu64 " bytes (limit %d)", plen, WS_MSG_MAX);
            return off;
        }
        if (len - off < hdr + plen)
            break;
        if (!on_frame(c, b0, (const char *)p + off + hdr, (size_t)plen, now))
            return off + hdr + (size_t)plen;
        off += hdr + (size_t)plen;
    }
    return off;
}

/* Reads the 101 answer to the upgrade; returns the header's length, 0 while incomplete. */
static size_t hs_consume(struct conn *c, const char *p, size_t len)
{
    const char *end = memmem(p, len, "\r\n\r\n", 4);
    if (!end) {
        if (len >= HS_MAX)
            conn_fail(c, "upgrade answer header over %d bytes", HS_MAX);
        return 0;
    }
    if (len < 12 || (memcmp(p, "HTTP/1.1 101", 12) != 0 && memcmp(p, "HTTP/1.0 101", 12) != 0)) {
        const char *eol = memchr(p, '\r', len);
        int l = eol ? (int)(eol - p) : (int)(len > 80 ? 80 : len);
        conn_fail(c, "upgrade refused: %.*s", l > 120 ? 120 : l, p);
        return 0;
    }
    c->state = C_OPEN;
    return (size_t)(end - p) + 4;
}

static bool keep_tail(struct conn *c, const char *p, size_t len)
{
    if (len > WS_MSG_MAX + WS_HDR_MAX) {
        conn_fail(c, "unparsed input over %d bytes", WS_MSG_MAX + WS_HDR_MAX);
        return false;
    }
    if (len > c->left_cap) {
        uint32_t cap = c->left_cap ? c->left_cap : 256;
        while (cap < len)
            cap *= 2;
        char *nl = realloc(c->left, cap);
        if (!nl) {
            conn_fail(c, "out of memory");
            return false;
        }
        c->left = nl;
        c->left_cap = cap;
    }
    memmove(c->left, p, len);
    c->left_len = (uint32_t)len;
    return true;
}

/* Every read lands in the shared buffer, after a copy of the tail the
 * previous read left unparsed, so frames are parsed in place. */
static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    struct bench *b = c->b;
    (void)suggested;
    if (c->left_len)
        memcpy(b->rbuf, c->left, c->left_len);
    buf->base = b->rbuf + c->left_len;
    buf->len = READ_BUF_SIZE - c->left_len;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    struct bench *b = c->b;
    (void)buf;
    if (nread < 0) {
        conn_fail(c, "%s",
                  nread == UV_EOF ? "the server closed the connection" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    uint64_t now = uv_hrtime();
    const uint8_t *p = (const uint8_t *)b->rbuf;
    size_t len = c->left_len + (size_t)nread, used = 0;
    c->left_len = 0;
    if (c->state == C_HANDSHAKE) {
        used = hs_consume(c, (const char *)p, len);
        if (c->state != C_OPEN) {
            if (c->state == C_HANDSHAKE)
                keep_tail(c, (const char *)p, len);
            return;
        }
    }
    used += ws_consume(c, p + used, len - used, now);
    if (c->state >= C_CLOSING)
        return;
    if (used < len)
        keep_tail(c, (const char *)p + used, len - used);
}

static void conn_connected(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    struct bench *b = c->b;
    if (c->state != C_CONNECTING)
        return;
    if (status < 0) {
        conn_fail(c, "connect: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uint8_t key[16];
    uint64_t r1 = prng_next(b), r2 = prng_next(b);
    memcpy(key, &r1, 8);
    memcpy(key + 8, &r2, 8);
    char key64[32], hs[2048];
    base64(key, sizeof(key), key64);
    int n = snprintf(hs, sizeof(hs),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     b->ws_paths ? b->ws_paths[(c - b->conns) % b->nusers] : b->ws_path, b->ws_host,
                     ntohs(b->ws_addr.sin_port), key64);
    c->state = C_HANDSHAKE;
    if (conn_write_raw(c, hs, (size_t)n, false) < 0)
        return;
    int r = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
    if (r < 0)
        conn_fail(c, "read: %s", uv_strerror(r));
}

static void conn_start(struct bench *b, struct conn *c)
{
    c->b = b;
    c->last_seq = -1;
    c->max_n = -1;
    int r = uv_tcp_init(&b->loop, &c->tcp);
    if (r < 0) {
        b->connect_failed++;
        if (!b->first_err[0])
            snprintf(b->first_err, sizeof(b->first_err), "socket: %s", uv_strerror(r));
        return;
    }
    c->tcp.data = c;
    c->creq.data = c;
    c->state = C_CONNECTING;
    b->open_handles++;
    b->pending++;
    r = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&b->ws_addr, conn_connected);
    if (r < 0)
        conn_fail(c, "connect: %s", uv_strerror(r));
}

/* ------------------------------------------------------------------ posters */

static void poster_closed(uv_handle_t *h)
{
    struct poster *p = h->data;
    struct bench *b = p->b;
    p->state = P_CLOSED;
    b->posters_open--;
    if ((b->phase == PH_POST || b->phase == PH_CONNECT) && p->reconnects < POSTER_RECONNECTS_MAX) {
        p->reconnects++;
        b->post_reconnects++;
        poster_connect(p);
    }
}

static void poster_close(struct poster *p)
{
    if (p->state == P_CLOSING || p->state == P_CLOSED)
        return;
    if (p->state == P_CONNECTING)
        p->b->posters_connecting--;
    p->state = P_CLOSING;
    uv_close((uv_handle_t *)&p->tcp, poster_closed);
}

void post_failed(struct poster *p, const char *fmt, ...)
{
    struct bench *b = p->b;
    b->post_failed++;
    if (!b->first_post_err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->first_post_err, sizeof(b->first_post_err), fmt, ap);
        va_end(ap);
        /* The answer's body goes on one line. */
        for (char *s = b->first_post_err; *s; s++)
            if ((unsigned char)*s < 0x20)
                *s = ' ';
    }
}

static void poster_fail(struct poster *p, const char *what)
{
    if (p->state == P_BUSY)
        post_failed(p, "%s: %s", p->b->post_what, what);
    poster_close(p);
}

/* Called when both the write and the answer of a request are done. */
static void post_done(struct poster *p)
{
    struct bench *b = p->b;
    if (p->close_after) {
        poster_close(p);
    } else {
        p->state = P_IDLE;
    }
    if (b->phase == PH_POST)
        post_pump(b);
}

/* An answer to an event post: 202 accepts it. */
static void tick_answer(struct poster *p, int status, const char *body, size_t len)
{
    struct bench *b = p->b;
    if (status == 202) {
        if (p->n >= b->warm_n) {
            b->posted_ok++;
            hist_add(&b->post_hist, (uv_hrtime() - p->sent_at) / 1000);
        } else {
            b->posted_ok_warm++;
        }
        b->ok[p->n >> 3] |= (uint8_t)(1u << (p->n & 7));
    } else {
        if (status < 200 || status > 299)
            b->non2xx++;
        int bl = (int)(len > 160 ? 160 : len);
        post_failed(p, "%s answered %d %.*s", b->post_what, status, bl, body);
    }
}

/* Parses the answer in p->rsp; returns 1 when complete, 0 when more is
 * needed, -1 when it cannot be read. */
static int poster_parse(struct poster *p)
{
    struct bench *b = p->b;
    char *hend = memmem(p->rsp, p->rsp_len, "\r\n\r\n", 4);
    if (!hend)
        return p->rsp_len >= HS_MAX ? -1 : 0;
    size_t hlen = (size_t)(hend - p->rsp) + 4;
    if (hlen > HS_MAX)
        return -1;
    int status = 0;
    if (sscanf(p->rsp, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    /* Headers are matched case-insensitively on a NUL-terminated copy. */
    char hdr[HS_MAX + 1];
    for (size_t i = 0; i < hlen; i++)
        hdr[i] = (char)((p->rsp[i] >= 'A' && p->rsp[i] <= 'Z') ? p->rsp[i] + 32 : p->rsp[i]);
    hdr[hlen] = '\0';
    size_t body_len = 0;
    const char *cl = strstr(hdr, "\r\ncontent-length:");
    bool chunked = strstr(hdr, "\r\ntransfer-encoding: chunked") != NULL;
    if (cl) {
        body_len = strtoul(cl + 17, NULL, 10);
        if (hlen + body_len > p->rsp_len)
            return 0;
    } else if (chunked) {
        if (!memmem(p->rsp + hlen, p->rsp_len - hlen, "0\r\n\r\n", 5))
            return 0;
        body_len = p->rsp_len - hlen;
    }
    p->close_after = strstr(hdr, "\r\nconnection: close") != NULL || (!cl && !chunked);
    if (b->o.mode == MODE_SAVE)
        save_answer(p, status, p->rsp + hlen, body_len);
    else
        tick_answer(p, status, p->rsp + hlen, body_len);
    return 1;
}

static void poster_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct poster *p = h->data;
    (void)suggested;
    buf->base = p->rsp + p->rsp_len;
    buf->len = sizeof(p->rsp) - p->rsp_len;
}

static void poster_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct poster *p = s->data;
    (void)buf;
    if (nread < 0) {
        poster_fail(p, nread == UV_EOF ? "connection closed" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0 || p->state != P_BUSY)
        return;
    p->rsp_len += (size_t)nread;
    int r = poster_parse(p);
    if (r <= 0) {
        if (r < 0)
            poster_fail(p, "answer header too large");
        else if (p->rsp_len == sizeof(p->rsp))
            poster_fail(p, "answer too large");
        return;
    }
    p->answered = true;
    if (!p->writing)
        post_done(p);
}

static void poster_written(uv_write_t *req, int status)
{
    struct poster *p = req->data;
    p->writing = false;
    if (status < 0) {
        if (status != UV_ECANCELED)
            poster_fail(p, uv_strerror(status));
        return;
    }
    if (p->answered && p->state == P_BUSY)
        post_done(p);
}

static void poster_connected(uv_connect_t *req, int status)
{
    struct poster *p = req->data;
    struct bench *b = p->b;
    if (p->state != P_CONNECTING)
        return;
    if (status < 0) {
        if (!b->first_post_err[0])
            snprintf(b->first_post_err, sizeof(b->first_post_err), "HTTP connect to %.64s: %s",
                     b->http_host, uv_strerror(status));
        if (!b->poster_connected_once)
            b->poster_setup_failed = true;
        poster_close(p);
        return;
    }
    b->poster_connected_once = true;
    b->posters_connecting--;
    p->state = P_IDLE;
    uv_tcp_nodelay(&p->tcp, 1);
    int r = uv_read_start((uv_stream_t *)&p->tcp, poster_alloc, poster_read);
    if (r < 0) {
        poster_close(p);
        return;
    }
    if (b->phase == PH_POST)
        post_pump(b);
}

static void poster_connect(struct poster *p)
{
    struct bench *b = p->b;
    if (uv_tcp_init(&b->loop, &p->tcp) < 0) {
        p->state = P_CLOSED;
        return;
    }
    p->tcp.data = p;
    p->creq.data = p;
    p->wreq.data = p;
    p->state = P_CONNECTING;
    p->writing = p->answered = p->close_after = false;
    b->posters_open++;
    b->posters_connecting++;
    int r =
        uv_tcp_connect(&p->creq, &p->tcp, (const struct sockaddr *)&b->http_addr, poster_connected);
    if (r < 0)
        poster_close(p);
}

/* Writes event post n into p->req; returns its length. The event carries
 * the time it was posted, so a delivery's latency needs no lookup. */
static size_t tick_request(struct bench *b, struct poster *p, uint64_t n)
{
    char body[160];
    int bl = snprintf(body, sizeof(body),
                      "{\"type\":\"bench.tick\",\"channel\":\"jobs\",\"data\":{\"t\":%" PRIu64
                      ",\"n\":%" PRIu64 "}}",
                      uv_hrtime(), n);
    int hl = snprintf(p->req, sizeof(p->req),
                      "POST /api/v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                      b->http_host, b->o.token, bl, body);
    return (size_t)hl;
}

static void poster_send(struct poster *p, uint64_t n)
{
    struct bench *b = p->b;
    p->req_len = b->o.mode == MODE_SAVE ? save_request(b, p, n) : tick_request(b, p, n);
    p->rsp_len = 0;
    p->n = n;
    p->sent_at = uv_hrtime();
    if (b->sent_at)
        b->sent_at[n] = p->sent_at;
    if (n >= b->warm_n) {
        /* How late the post leaves against its schedule: the timer's
         * millisecond, or a wait for a free connection. */
        uint64_t due = b->post_start + (uint64_t)((double)n / b->o.rate * NS_PER_S);
        hist_add(&b->lag_hist, p->sent_at > due ? (p->sent_at - due) / 1000 : 0);
    }
    p->state = P_BUSY;
    p->writing = true;
    p->answered = false;
    uv_buf_t buf = uv_buf_init(p->req, (unsigned)p->req_len);
    int r = uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &buf, 1, poster_written);
    if (r < 0) {
        p->writing = false;
        poster_fail(p, uv_strerror(r));
    }
}

/* Sends every post that is due by now, as far as idle connections allow. */
static void post_pump(struct bench *b)
{
    uint64_t now = uv_hrtime();
    if (now < b->post_start)
        return;
    double due_f = b->o.rate * secs(now - b->post_start);
    uint64_t due = (uint64_t)due_f + 1;
    if (due > b->n_cap)
        due = b->n_cap;
    for (long i = 0; i < b->nposters && b->n_next < due; i++) {
        if (b->posters[i].state == P_IDLE)
            poster_send(&b->posters[i], b->n_next++);
    }
    /* Posts are due and every connection waits for an answer: more
     * connections, up to the limit, so that the posting does not wait for
     * the server (open loop); beyond the limit the posts fall behind. */
    while (b->n_next + (uint64_t)b->posters_connecting < due && b->nposters < b->o.http_conns_max) {
        struct poster *p = &b->posters[b->nposters++];
        p->b = b;
        poster_connect(p);
    }
}

/* ------------------------------------------------------------------ phases */

static size_t bitmap_len(const struct bench *b)
{
    return (size_t)(b->n_cap / 8 + 1);
}

/* The bitmaps of the posting modes: per subscriber the events it saw, and
 * the events the server accepted. */
static void posting_prepare(struct bench *b)
{
    b->warm_n = (uint64_t)llround(b->o.rate * b->o.warmup);
    b->n_cap = b->warm_n + (uint64_t)llround(b->o.rate * b->o.duration);
    size_t one = bitmap_len(b);
    if (one > BITMAP_BYTES_MAX / (size_t)(b->o.conns + 1))
        die("conns x rate x (duration + warmup) needs more than %zu MiB of bitmaps",
            BITMAP_BYTES_MAX >> 20);
    b->bitmap_bytes = one * (size_t)b->o.conns;
    b->bitmaps = calloc(b->bitmap_bytes, 1);
    b->ok = calloc(one, 1);
    if (!b->bitmaps || !b->ok)
        die("out of memory for %zu bytes of bitmaps", b->bitmap_bytes);
    for (long i = 0; i < b->o.conns; i++)
        b->conns[i].seen = b->bitmaps + one * (size_t)i;
    b->posters = calloc((size_t)b->o.http_conns_max, sizeof(*b->posters));
    if (!b->posters)
        die("out of memory for %ld HTTP connections", b->o.http_conns);
}

static void start_posting(struct bench *b)
{
    for (long i = 0; i < b->o.conns; i++) {
        b->conns[i].counted = b->conns[i].state == C_READY;
        b->counted += b->conns[i].counted;
        if (b->counted_by_user)
            b->counted_by_user[i % b->nusers] += b->conns[i].counted;
    }
    b->nposters = b->o.http_conns;
    for (long i = 0; i < b->nposters; i++) {
        b->posters[i].b = b;
        poster_connect(&b->posters[i]);
    }
    /* The first post leaves after one tick, so the posters have connected. */
    b->post_start = uv_hrtime() + 20 * 1000000ull;
    b->measure_start = b->post_start + (uint64_t)(b->o.warmup * NS_PER_S);
    b->post_end = b->measure_start + (uint64_t)(b->o.duration * NS_PER_S);
    b->phase = PH_POST;
    fprintf(stderr,
            "wsload: posting %.0f %s/s for %.0f s (+%.0f s warm-up) over %ld HTTP connection(s)\n",
            b->o.rate, b->o.mode == MODE_SAVE ? "saves" : "events", b->o.duration, b->o.warmup,
            b->nposters);
}

static void tick_connect(struct bench *b, uint64_t now)
{
    double want = b->o.connect_rate * secs(now - b->t_connect_start) + 1;
    while (b->started < b->o.conns && (double)b->started < want && b->pending < PENDING_MAX) {
        conn_start(b, &b->conns[b->started]);
        b->started++;
    }
    bool all = b->started == b->o.conns && b->ready + b->connect_failed == b->o.conns;
    if (!all && now < b->connect_deadline)
        return;
    b->t_connect_end = now;
    if (!all) {
        for (long i = 0; i < b->started; i++)
            if (b->conns[i].state < C_READY)
                conn_fail(&b->conns[i], "no system.connected before the connect timeout");
    }
    fprintf(stderr, "wsload: %ld of %ld connections ready in %.2f s, %ld failed\n", b->ready,
            b->o.conns, secs(b->t_connect_end - b->t_connect_start), b->connect_failed);
    if (b->ready < b->o.conns) {
        fprintf(stderr,
                "wsload: setup failed: %ld of %ld connections did not open (first "
                "error: %s)\n",
                b->o.conns - b->ready, b->o.conns, b->first_err[0] ? b->first_err : "none");
        finish(b, 1);
        return;
    }
    b->first_err[0] = '\0';
    if (b->o.mode == MODE_FOLLOWUP) {
        followup_start(b, now);
    } else if (b->o.mode == MODE_IDLE) {
        b->rss_ready = proc_rss_kb(b->o.server_pid);
        b->phase = PH_HOLD;
        b->phase_deadline = now + (uint64_t)(b->o.hold * NS_PER_S);
    } else {
        start_posting(b);
    }
}

static void tick_post(struct bench *b, uint64_t now)
{
    if (b->s0.t == 0 && now >= b->measure_start)
        take_snap(b, &b->s0);
    if (b->post_failed && b->posted_ok + b->posted_ok_warm == 0) {
        fprintf(stderr, "wsload: setup failed: %s\n", b->first_post_err);
        finish(b, 1);
        return;
    }
    if (b->poster_setup_failed ||
        (b->posters_open == 0 && now > b->post_start + 5 * 1000000000ull)) {
        fprintf(stderr, "wsload: setup failed: no HTTP connection to %s (%s)\n", b->http_host,
                b->first_post_err[0] ? b->first_post_err : "gave up reconnecting");
        finish(b, 1);
        return;
    }
    if (now >= b->post_end || b->n_next >= b->n_cap) {
        if (b->s0.t == 0)
            take_snap(b, &b->s0);
        if (now < b->post_end)
            return; /* everything is posted; keep the window the requested length */
        b->phase = PH_FLUSH;
        b->phase_deadline = now + 10 * 1000000000ull;
        return;
    }
    post_pump(b);
}

static bool posts_in_flight(const struct bench *b)
{
    for (long i = 0; i < b->nposters; i++)
        if (b->posters[i].state == P_BUSY || b->posters[i].state == P_CONNECTING)
            return true;
    return false;
}

uint64_t expected_deliveries(const struct bench *b)
{
    if (!b->ok_by_user)
        return b->posted_ok * (uint64_t)b->counted;
    uint64_t n = 0;
    for (long u = 0; u < b->nusers; u++)
        n += b->ok_by_user[u] * (uint64_t)b->counted_by_user[u];
    return n;
}

static void tick_flush(struct bench *b, uint64_t now)
{
    if (posts_in_flight(b) && now < b->phase_deadline)
        return;
    for (long i = 0; i < b->nposters; i++)
        if (b->posters[i].state == P_BUSY) {
            post_failed(&b->posters[i], "%s: no answer within 10 s", b->post_what);
            b->posters[i].state = P_IDLE;
        }
    for (long i = 0; i < b->nposters; i++)
        poster_close(&b->posters[i]);
    b->phase = PH_DRAIN;
    b->phase_deadline = now + (uint64_t)(b->o.drain * NS_PER_S);
    b->last_progress_check = now;
    b->last_progress_count = b->delivered;
}

static void tick_drain(struct bench *b, uint64_t now)
{
    bool done = b->delivered >= expected_deliveries(b);
    if (!done && now - b->last_progress_check >= 2 * 1000000000ull) {
        /* Two seconds without a delivery: whatever is missing is lost. */
        if (b->delivered == b->last_progress_count)
            done = true;
        b->last_progress_check = now;
        b->last_progress_count = b->delivered;
    }
    if (!done && now < b->phase_deadline)
        return;
    take_snap(b, &b->s1);
    finish(b, 0);
}

/* Milliseconds until the timer is next needed. Waking the loop costs a
 * context switch, which is much of what a delivery costs, so the timer runs
 * every millisecond only while connecting or posting at high rates. */
static uint64_t next_tick_ms(const struct bench *b, uint64_t now)
{
    switch (b->phase) {
    case PH_CONNECT:
        return 1;
    case PH_POST: {
        uint64_t next = b->post_start + (uint64_t)((double)b->n_next / b->o.rate * NS_PER_S);
        /* Behind schedule with every connection open and waiting: the next
         * answer sends the next post, the timer has nothing to do. */
        if (next <= now && b->nposters == b->o.http_conns_max && b->posters_connecting == 0)
            next = now + 10 * 1000000ull;
        if (b->s0.t == 0 && b->measure_start < next)
            next = b->measure_start;
        if (b->post_end < next)
            next = b->post_end;
        uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 1;
        return ms < 1 ? 1 : ms > 100 ? 100 : ms;
    }
    case PH_FLUSH:
    case PH_DRAIN:
        return 5;
    case PH_HOLD: {
        uint64_t ms = b->phase_deadline > now ? (b->phase_deadline - now) / 1000000 + 1 : 1;
        return ms > 1000 ? 1000 : ms;
    }
    case PH_WAIT:
        return followup_next_tick_ms(b, now);
    case PH_DONE:
        break;
    }
    return 0;
}

static void on_tick_timer(uv_timer_t *t)
{
    struct bench *b = t->data;
    uint64_t now = uv_hrtime();
    switch (b->phase) {
    case PH_CONNECT:
        tick_connect(b, now);
        break;
    case PH_POST:
        tick_post(b, now);
        break;
    case PH_FLUSH:
        tick_flush(b, now);
        break;
    case PH_DRAIN:
        tick_drain(b, now);
        break;
    case PH_HOLD:
        if (now >= b->phase_deadline) {
            b->rss_hold = proc_rss_kb(b->o.server_pid);
            finish(b, 0);
        }
        break;
    case PH_WAIT:
        followup_tick(b, now);
        break;
    case PH_DONE:
        break;
    }
    if (b->phase != PH_DONE)
        uv_timer_start(&b->tick, on_tick_timer, next_tick_ms(b, uv_hrtime()), 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct bench *b = s->data;
    (void)signum;
    if (b->interrupted || b->phase == PH_DONE)
        return;
    b->interrupted = true;
    fprintf(stderr, "wsload: interrupted\n");
    if (b->o.mode != MODE_IDLE && b->s0.t)
        take_snap(b, &b->s1);
    finish(b, 130);
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void finish(struct bench *b, int rc)
{
    if (b->phase == PH_DONE)
        return;
    b->phase = PH_DONE;
    b->rc = rc;
    for (long i = 0; i < b->started; i++)
        conn_close(&b->conns[i]);
    for (long i = 0; i < b->nposters; i++)
        poster_close(&b->posters[i]);
    close_if_open((uv_handle_t *)&b->tick);
    close_if_open((uv_handle_t *)&b->sigint);
    close_if_open((uv_handle_t *)&b->sigterm);
}

/* ------------------------------------------------------------------ report */

void count_missed(const struct bench *b, uint64_t *delivered_ok, uint64_t *unexpected)
{
    size_t one = bitmap_len(b);
    uint64_t ok_hits = 0, all_hits = 0;
    /* Warm-up numbers are masked out of the first bytes. */
    for (long i = 0; i < b->o.conns; i++) {
        const struct conn *c = &b->conns[i];
        if (!c->counted)
            continue;
        for (size_t k = b->warm_n >> 3; k < one; k++) {
            uint8_t m = 0xff;
            if (k == (b->warm_n >> 3))
                m = (uint8_t)(0xff << (b->warm_n & 7));
            ok_hits += (uint64_t)__builtin_popcount(c->seen[k] & b->ok[k] & m);
            all_hits += (uint64_t)__builtin_popcount(c->seen[k] & m);
        }
    }
    *delivered_ok = ok_hits;
    *unexpected = all_hits - ok_hits;
}

static void report_fanout(struct bench *b)
{
    if (b->s0.t == 0 || b->s1.t == 0)
        return;
    uint64_t delivered_ok, unexpected;
    count_missed(b, &delivered_ok, &unexpected);
    uint64_t expected = expected_deliveries(b);
    uint64_t missed = expected > delivered_ok ? expected - delivered_ok : 0;
    uint64_t posted = b->n_next > b->warm_n ? b->n_next - b->warm_n : 0;
    uint64_t t_end = b->last_rx > b->measure_start ? b->last_rx : b->s1.t;
    double window = secs(t_end - b->measure_start);
    double rx_rate = window > 0 ? (double)b->delivered / window : 0;
    double gen_cpu = b->s1.self_cpu - b->s0.self_cpu;
    double gen_us = b->delivered ? gen_cpu * 1e6 / (double)b->delivered : 0;
    double srv_window = secs(b->s1.t - b->s0.t);
    bool srv = b->o.server_pid > 0 && b->s0.srv_cpu >= 0 && b->s1.srv_cpu >= 0;
    double srv_cpu = srv ? b->s1.srv_cpu - b->s0.srv_cpu : -1;
    double srv_100k = srv && b->delivered ? srv_cpu * 1e5 / (double)b->delivered : -1;
    double srv_pct = srv && srv_window > 0 ? 100.0 * srv_cpu / srv_window : -1;
    double p50 = hist_ms(&b->hist, 0.50), p90 = hist_ms(&b->hist, 0.90);
    double p99 = hist_ms(&b->hist, 0.99), pmax = (double)b->hist.max_us / 1000.0;
    double connect_s = secs(b->t_connect_end - b->t_connect_start);

    printf("wsload fanout%s\n", b->interrupted ? " (interrupted)" : "");
    printf("  conns             %ld (connected in %.2f s, %ld failed, %ld dropped later)\n",
           b->o.conns, connect_s, b->connect_failed, b->dropped);
    printf("  rate              %.0f events/s for %.1f s (%ld HTTP connections)\n", b->o.rate,
           b->o.duration, b->nposters);
    double post_rate = b->o.duration > 0 ? (double)posted / b->o.duration : 0;
    double post_p50 = hist_ms(&b->post_hist, 0.50), post_p99 = hist_ms(&b->post_hist, 0.99);
    printf("  events posted     %" PRIu64 " (%" PRIu64 " accepted, %" PRIu64 " failed), %.1f/s%s\n",
           posted, b->posted_ok, b->post_failed, post_rate,
           post_rate < 0.95 * b->o.rate ? " BEHIND: the server answered too slowly" : "");
    printf("  POST answer ms    p50 %.3f  p99 %.3f  max %.3f\n", post_p50, post_p99,
           (double)b->post_hist.max_us / 1000.0);
    if (b->first_post_err[0])
        printf("  first post error  %s\n", b->first_post_err);
    printf("  deliveries        expected %" PRIu64 ", delivered %" PRIu64 ", missed %" PRIu64
           ", duplicated %" PRIu64 ", out-of-order %" PRIu64 ", unexpected %" PRIu64 "\n",
           expected, delivered_ok, missed, b->duplicated, b->out_of_order, unexpected);
    if (b->first_err[0])
        printf("  first conn error  %s (server closes %ld, lagging notices %ld)\n", b->first_err,
               b->closed_by_server, b->lagging_msgs);
    printf("  deliveries/s      %.0f\n", rx_rate);
    printf("  latency ms        p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", p50, p90, p99, pmax);
    printf("  wsload CPU        %.2f s (%.2f us per delivery)\n", gen_cpu, gen_us);
    if (srv && b->delivered)
        printf("  server CPU        %.2f s over %.1f s (%.0f %%), %.3f s per 100k deliveries "
               "(%.2f us each)\n  server RSS        %ld KiB before, %ld KiB after\n",
               srv_cpu, srv_window, srv_pct, srv_100k, srv_100k * 10.0, b->s0.srv_rss_kb,
               b->s1.srv_rss_kb);
    /* Figures that could not be measured are null. */
    char srv_json[256];
    if (srv && b->delivered)
        snprintf(srv_json, sizeof(srv_json),
                 "\"server_cpu_s\":%.3f,\"server_cpu_pct\":%.1f,\"server_cpu_s_per_100k\":%.4f",
                 srv_cpu, srv_pct, srv_100k);
    else if (srv)
        snprintf(srv_json, sizeof(srv_json),
                 "\"server_cpu_s\":%.3f,\"server_cpu_pct\":%.1f,\"server_cpu_s_per_100k\":null",
                 srv_cpu, srv_pct);
    else
        snprintf(srv_json, sizeof(srv_json),
                 "\"server_cpu_s\":null,\"server_cpu_pct\":null,\"server_cpu_s_per_100k\":null");
    printf("RESULT {\"mode\":\"fanout\",\"conns\":%ld,\"rate\":%.0f,\"duration_s\":%.1f,"
           "\"connect_s\":%.3f,\"connect_failed\":%ld,\"dropped\":%ld,\"posted\":%" PRIu64
           ",\"posts_failed\":%" PRIu64 ",\"post_rate\":%.1f,\"post_p50_ms\":%.3f,"
           "\"post_p99_ms\":%.3f,\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64
           ",\"missed\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"out_of_order\":%" PRIu64
           ",\"unexpected\":%" PRIu64 ",\"deliveries_per_s\":%.0f,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"gen_cpu_s\":%.3f,"
           "\"gen_cpu_us_per_delivery\":%.3f,%s,\"server_rss_kb_before\":%ld,"
           "\"server_rss_kb_after\":%ld,\"interrupted\":%s}\n",
           b->o.conns, b->o.rate, b->o.duration, connect_s, b->connect_failed, b->dropped, posted,
           b->post_failed, post_rate, post_p50, post_p99, expected, delivered_ok, missed,
           b->duplicated, b->out_of_order, unexpected, rx_rate, p50, p90, p99, pmax, gen_cpu,
           gen_us, srv_json, b->s0.srv_rss_kb, b->s1.srv_rss_kb, b->interrupted ? "true" : "false");
}

static void report_idle(struct bench *b)
{
    if (b->rss_ready == 0)
        return;
    long after = b->rss_hold > 0 ? b->rss_hold : b->rss_ready;
    double per = b->rss_before > 0 && after > 0
                     ? (double)(after - b->rss_before) * 1024.0 / (double)b->o.conns
                     : -1;
    double connect_s = secs(b->t_connect_end - b->t_connect_start);
    printf("wsload idle%s\n", b->interrupted ? " (interrupted)" : "");
    printf("  conns             %ld (connected in %.2f s, %ld failed, %ld dropped later)\n",
           b->o.conns, connect_s, b->connect_failed, b->dropped);
    if (b->o.server_pid > 0)
        printf("  server RSS        %ld KiB before, %ld KiB all connected, %ld KiB after %.0f s"
               "\n  RSS per idle conn %.0f bytes\n",
               b->rss_before, b->rss_ready, b->rss_hold, b->o.hold, per);
    printf("RESULT {\"mode\":\"idle\",\"conns\":%ld,\"connect_s\":%.3f,\"connect_failed\":%ld,"
           "\"dropped\":%ld,\"server_rss_kb_before\":%ld,\"server_rss_kb_ready\":%ld,"
           "\"server_rss_kb_after\":%ld,\"hold_s\":%.1f,\"rss_bytes_per_conn\":%.0f}\n",
           b->o.conns, connect_s, b->connect_failed, b->dropped, b->rss_before, b->rss_ready,
           b->rss_hold, b->o.hold, per);
}

/* ------------------------------------------------------------------- setup */

static void usage(void)
{
    fputs("usage:\n"
          "  wsload fanout --url ws://HOST:PORT/PATH?QUERY --conns N --rate R --duration S\n"
          "                [--http HOST:PORT] [--token T] [--warmup S] [--connect-rate C]\n"
          "                [--http-conns P] [--drain S] [--server-pid PID]\n"
          "  wsload idle   --url ws://HOST:PORT/PATH?QUERY --conns N [--hold S]\n"
          "                [--connect-rate C] [--server-pid PID]\n"
          "  wsload save   --url ws://HOST:PORT/PATH?QUERY [--conns N (1 per user)] [--rate R "
          "(500)]\n"
          "                [--duration S (20)] [--warmup S (3)] [--http HOST:PORT] [--token T]\n"
          "                [--tokens T1,T2,... (one user each)]\n"
          "                [--http-conns P (32)] [--http-conns-max M (256)] [--drain S]\n"
          "                [--server-pid PID] [--pg-pid POSTMASTER_PID]\n"
          "  wsload followup --url ws://HOST:PORT/PATH?channels=followups --tokens T1,T2,...\n"
          "                --expect N --due-at MS_SINCE_EPOCH [--conns N (1 per user)]\n"
          "                [--timeout S (90)] [--grace S (3)] [--connect-rate C]\n"
          "                [--server-pid PID] [--pg-pid POSTMASTER_PID]\n",
          stderr);
    exit(2);
}

static double num_arg(const char *flag, const char *v, double min, double max)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= min && d <= max))
        die("%s: expected a number from %g to %g, got '%s'", flag, min, max, v);
    return d;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "fanout") == 0)
        o->mode = MODE_FANOUT;
    else if (strcmp(argv[1], "idle") == 0)
        o->mode = MODE_IDLE;
    else if (strcmp(argv[1], "save") == 0)
        o->mode = MODE_SAVE;
    else if (strcmp(argv[1], "followup") == 0)
        o->mode = MODE_FOLLOWUP;
    else
        usage();
    o->connect_rate = 2000;
    o->warmup = 1;
    o->drain = 30;
    o->hold = 2;
    o->rate = -1;
    o->duration = -1;
    o->timeout = 90;
    o->grace = 3;
    if (o->mode == MODE_SAVE) {
        /* A few dashboards watch one user's saves, which arrive from
         * several tabs: the answer to one save must not hold up the next. */
        o->rate = 500;
        o->duration = 20;
        o->warmup = 3;
        o->http_conns = 32;
    }
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "-h") == 0 || strcmp(f, "--help") == 0)
            usage();
        if (i + 1 >= argc)
            die("%s needs a value", f);
        const char *v = argv[++i];
        if (strcmp(f, "--url") == 0)
            o->url = v;
        else if (strcmp(f, "--http") == 0)
            o->http = v;
        else if (strcmp(f, "--token") == 0)
            o->token = v;
        else if (strcmp(f, "--tokens") == 0)
            o->tokens = v;
        else if (strcmp(f, "--conns") == 0)
            o->conns = (long)num_arg(f, v, 1, 1000000);
        else if (strcmp(f, "--rate") == 0)
            o->rate = num_arg(f, v, 0.1, 1000000);
        else if (strcmp(f, "--duration") == 0)
            o->duration = num_arg(f, v, 0.1, 86400);
        else if (strcmp(f, "--warmup") == 0)
            o->warmup = num_arg(f, v, 0, 3600);
        else if (strcmp(f, "--connect-rate") == 0)
            o->connect_rate = num_arg(f, v, 1, 1000000);
        else if (strcmp(f, "--http-conns") == 0)
            o->http_conns = (long)num_arg(f, v, 1, POSTERS_MAX);
        else if (strcmp(f, "--http-conns-max") == 0)
            o->http_conns_max = (long)num_arg(f, v, 1, POSTERS_MAX);
        else if (strcmp(f, "--drain") == 0)
            o->drain = num_arg(f, v, 0, 3600);
        else if (strcmp(f, "--hold") == 0)
            o->hold = num_arg(f, v, 0, 86400);
        else if (strcmp(f, "--server-pid") == 0)
            o->server_pid = (long)num_arg(f, v, 1, 1e9);
        else if (strcmp(f, "--pg-pid") == 0)
            o->pg_pid = (long)num_arg(f, v, 1, 1e9);
        else if (strcmp(f, "--expect") == 0)
            o->expect = (long)num_arg(f, v, 1, 1e8);
        else if (strcmp(f, "--due-at") == 0)
            o->due_ms = (int64_t)num_arg(f, v, 1, 1e15);
        else if (strcmp(f, "--timeout") == 0)
            o->timeout = num_arg(f, v, 1, 86400);
        else if (strcmp(f, "--grace") == 0)
            o->grace = num_arg(f, v, 0, 3600);
        else
            die("unknown flag %s", f);
    }
    bool per_user = o->mode == MODE_SAVE || o->mode == MODE_FOLLOWUP;
    if (!o->url || (o->conns <= 0 && !per_user))
        die("--url and --conns are required");
    if (o->tokens && !per_user)
        die("--tokens is for save and followup");
    if (o->mode == MODE_FOLLOWUP && (!o->tokens || o->expect <= 0 || o->due_ms <= 0))
        die("followup needs --tokens, --expect and --due-at");
    if (o->mode == MODE_FANOUT && (o->rate <= 0 || o->duration <= 0))
        die("fanout needs --rate and --duration");
    if (o->mode == MODE_SAVE && o->rate * (o->warmup + o->duration) > 1e7)
        die("save: rate x (warmup + duration) must stay under 10,000,000 saves");
    if (o->http_conns == 0) {
        /* One request is in flight per connection. Answers slower than
         * 20 ms must not slow the posting down, so the rate holds while the
         * server is busy fanning out. */
        o->http_conns = (long)ceil(o->rate / 50.0) + 1;
        if (o->http_conns > 32)
            o->http_conns = 32;
    }
    if (o->http_conns_max == 0)
        o->http_conns_max = o->mode == MODE_SAVE ? POSTERS_MAX : o->http_conns;
    if (o->http_conns_max < o->http_conns)
        o->http_conns_max = o->http_conns;
}

/* "HOST:PORT" (an optional scheme is skipped); HOST must be an IPv4 address or localhost. */
static void parse_hostport(const char *what, const char *s, size_t slen, int defport, char *host,
                           size_t hostlen, struct sockaddr_in *addr)
{
    const char *colon = memchr(s, ':', slen);
    size_t hl = colon ? (size_t)(colon - s) : slen;
    int port = defport;
    if (colon) {
        char pbuf[8];
        size_t pl = slen - hl - 1;
        if (pl == 0 || pl >= sizeof(pbuf))
            die("%s: bad port", what);
        memcpy(pbuf, colon + 1, pl);
        pbuf[pl] = '\0';
        port = (int)num_arg(what, pbuf, 1, 65535);
    }
    if (hl == 0 || hl >= hostlen)
        die("%s: bad host", what);
    memcpy(host, s, hl);
    host[hl] = '\0';
    const char *ip = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (uv_ip4_addr(ip, port, addr) != 0)
        die("%s: '%s' is not an IPv4 address", what, host);
}

static void setup_addresses(struct bench *b)
{
    const char *u = b->o.url;
    if (strncmp(u, "ws://", 5) != 0)
        die("--url must start with ws:// (got '%s')", u);
    u += 5;
    const char *slash = strchr(u, '/');
    size_t hlen = slash ? (size_t)(slash - u) : strlen(u);
    parse_hostport("--url", u, hlen, 80, b->ws_host, sizeof(b->ws_host), &b->ws_addr);
    b->ws_path = slash ? slash : "/";
    if (strlen(b->ws_path) > 1500)
        die("--url: path too long");
    if (b->o.mode == MODE_IDLE || b->o.mode == MODE_FOLLOWUP)
        return;
    b->post_what = b->o.mode == MODE_SAVE ? "POST /api/v1/jobs/process" : "POST /api/v1/events";
    const char *h = b->o.http;
    char def[300];
    if (!h) {
        snprintf(def, sizeof(def), "%s:%d", b->ws_host, ntohs(b->ws_addr.sin_port));
        h = def;
    }
    if (strncmp(h, "http://", 7) == 0)
        h += 7;
    size_t l = strcspn(h, "/");
    parse_hostport("--http", h, l, 80, b->http_host, sizeof(b->http_host), &b->http_addr);
    size_t hl = strlen(b->http_host);
    snprintf(b->http_host + hl, sizeof(b->http_host) - hl, ":%d", ntohs(b->http_addr.sin_port));
    if (!b->o.token && !b->o.tokens) {
        /* Default to the token of the WebSocket URL. */
        static char tok[512];
        const char *t = strstr(b->ws_path, "token=");
        if (!t)
            die("%s needs --token (or token= in --url)",
                b->o.mode == MODE_SAVE ? "save" : "fanout");
        t += 6;
        size_t tl = strcspn(t, "&");
        if (tl == 0 || tl >= sizeof(tok))
            die("bad token in --url");
        memcpy(tok, t, tl);
        tok[tl] = '\0';
        b->o.token = tok;
    }
    if (b->o.token && (strlen(b->o.token) > 512 || strpbrk(b->o.token, "\r\n")))
        die("--token: bad token");
}

static void walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    fprintf(stderr, "wsload: handle left open: %s\n", uv_handle_type_name(h->type));
}

int main(int argc, char **argv)
{
    struct bench *b = calloc(1, sizeof(*b));
    if (!b)
        die("out of memory");
    parse_args(&b->o, argc, argv);
    setup_addresses(b);
    if (b->o.mode == MODE_SAVE || b->o.mode == MODE_FOLLOWUP)
        save_setup_users(b);
    b->prng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ UINT64_C(0x9e3779b97f4a7c15);
    b->rbuf = malloc(READ_BUF_SIZE);
    b->conns = calloc((size_t)b->o.conns, sizeof(struct conn));
    if (!b->rbuf || !b->conns)
        die("out of memory for %ld connections", b->o.conns);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)b->o.conns + POSTERS_MAX + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)b->o.conns + POSTERS_MAX + 64)
            die("%ld connections need a larger open-file limit (ulimit -n is %llu)", b->o.conns,
                (unsigned long long)rl.rlim_cur);
    }
    if (b->o.server_pid > 0 && proc_cpu(b->o.server_pid) < 0)
        die("--server-pid %ld: cannot read /proc/%ld/stat", b->o.server_pid, b->o.server_pid);
    if (b->o.pg_pid > 0 && proc_tree_cpu(b->o.pg_pid) < 0)
        die("--pg-pid %ld: cannot read /proc/%ld/stat and its children", b->o.pg_pid, b->o.pg_pid);
    if (b->o.mode == MODE_FANOUT || b->o.mode == MODE_SAVE)
        posting_prepare(b);
    if (b->o.mode == MODE_SAVE)
        save_prepare(b);
    if (b->o.mode == MODE_FOLLOWUP)
        followup_prepare(b);

    if (uv_loop_init(&b->loop) != 0)
        die("uv_loop_init failed");
    uv_timer_init(&b->loop, &b->tick);
    uv_signal_init(&b->loop, &b->sigint);
    uv_signal_init(&b->loop, &b->sigterm);
    b->tick.data = b->sigint.data = b->sigterm.data = b;
    uv_signal_start(&b->sigint, on_signal, SIGINT);
    uv_signal_start(&b->sigterm, on_signal, SIGTERM);

    b->rss_before = proc_rss_kb(b->o.server_pid);
    b->t_start = b->t_connect_start = uv_hrtime();
    b->connect_deadline =
        b->t_connect_start + (uint64_t)((10.0 + (double)b->o.conns / b->o.connect_rate) * NS_PER_S);
    b->phase = PH_CONNECT;
    uv_timer_start(&b->tick, on_tick_timer, 0, 0);
    uv_run(&b->loop, UV_RUN_DEFAULT);

    if (b->o.mode == MODE_FANOUT)
        report_fanout(b);
    else if (b->o.mode == MODE_SAVE)
        save_report(b);
    else if (b->o.mode == MODE_FOLLOWUP)
        followup_report(b);
    else if (b->rc == 0 || b->interrupted)
        report_idle(b);
    fflush(stdout);

    int rc = b->rc;
    if (uv_loop_close(&b->loop) != 0) {
        uv_walk(&b->loop, walk_cb, NULL);
        fprintf(stderr, "wsload: uv_loop_close failed\n");
        rc = rc ? rc : 3;
    }
    free(b->bitmaps);
    free(b->ok);
    free(b->sent_at);
    free(b->posters);
    save_free(b);
    followup_free(b);
    free(b->conns);
    free(b->rbuf);
    free(b);
    return rc;
}
