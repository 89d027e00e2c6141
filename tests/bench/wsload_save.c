/*
 * wsload save: the browser extension's save path.
 *
 * Saves go out as POST /api/v1/jobs/process at a fixed rate, each on the
 * first free keep-alive connection, each with a new jobUrl
 * .../jobs/view/(url_base + n)/, so the server creates a job and writes one
 * job.created event per save. The subscribers of the same user find n again
 * in the frame's job_url; the frame's latency runs from the moment post n was
 * written (sent_at[n]), the answer's from the same moment to its last byte.
 *
 * The loop is open: a save that is due while every connection waits for an
 * answer gets a new connection (up to --http-conns-max), so slow answers do
 * not slow the sending down. How late each save left against its schedule
 * is in the lag histogram (the timer's millisecond, or all connections
 * busy); saves never sent make the achieved rate fall short of the offered.
 *
 * The server's CPU per save is its utime + stime over the measurement
 * (answers, frames and whatever the saves set off) divided by the saves
 * answered; PostgreSQL's is that of the postmaster and its backends
 * (--pg-pid), and the machine's includes every process, this generator and
 * anything else running.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "wsload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAVE_P99_LIMIT_MS 1000.0 /* over it, the rate was not kept up */
#define SAVE_RATE_SHARE 0.95     /* under this share of the offered rate, neither */

static char *dup_range(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (!d)
        die("out of memory");
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* The users of the run: --tokens, or the one token of --token or the URL.
 * Each user's subscribers connect with the URL's token= set to theirs. */
void save_setup_users(struct bench *b)
{
    const char *list = b->o.tokens ? b->o.tokens : b->o.token;
    long n = 1;
    for (const char *s = list; *s; s++)
        n += *s == ',';
    b->tokens = calloc((size_t)n, sizeof(*b->tokens));
    b->ws_paths = calloc((size_t)n, sizeof(*b->ws_paths));
    b->counted_by_user = calloc((size_t)n, sizeof(*b->counted_by_user));
    b->ok_by_user = calloc((size_t)n, sizeof(*b->ok_by_user));
    if (!b->tokens || !b->ws_paths || !b->counted_by_user || !b->ok_by_user)
        die("out of memory for %ld users", n);
    const char *path = b->ws_path, *tok = strstr(path, "token=");
    size_t head = tok ? (size_t)(tok - path) + 6 : strlen(path);
    const char *tail = tok ? tok + 6 + strcspn(tok + 6, "&") : "";
    const char *sep = tok ? "" : strchr(path, '?') ? "&token=" : "?token=";
    for (const char *s = list; b->nusers < n; s += strcspn(s, ",") + 1) {
        size_t tl = strcspn(s, ",");
        if (tl == 0 || tl > 512 || memchr(s, '\r', tl) || memchr(s, '\n', tl))
            die("--tokens: bad token");
        char *t = dup_range(s, tl);
        size_t pl = head + strlen(sep) + tl + strlen(tail);
        char *p = malloc(pl + 1);
        if (!p)
            die("out of memory");
        snprintf(p, pl + 1, "%.*s%s%s%s", (int)head, path, sep, t, tail);
        b->tokens[b->nusers] = t;
        b->ws_paths[b->nusers++] = p;
    }
    if (b->o.conns <= 0)
        b->o.conns = b->nusers;
    if (b->o.conns < b->nusers)
        die("save: %ld users need at least as many subscribers (--conns)", b->nusers);
}

void save_free(struct bench *b)
{
    for (long u = 0; u < b->nusers; u++) {
        free(b->tokens[u]);
        free(b->ws_paths[u]);
    }
    free(b->tokens);
    free(b->ws_paths);
    free(b->counted_by_user);
    free(b->ok_by_user);
}

void save_prepare(struct bench *b)
{
    b->sent_at = calloc((size_t)b->n_cap + 1, sizeof(*b->sent_at));
    if (!b->sent_at)
        die("out of memory for %" PRIu64 " saves", b->n_cap);
    /* Unique across runs against the same database: runs are seconds long
     * and a run saves fewer than 10^8 jobs (checked with the options). */
    b->url_base = (uint64_t)time(NULL) * UINT64_C(100000000);
}

size_t save_request(struct bench *b, struct poster *p, uint64_t n)
{
    char body[512];
    int bl = snprintf(body, sizeof(body),
                      "{\"jobTitle\":\"Backend Engineer %" PRIu64 "\",\"company\":\"Acme %" PRIu64
                      "\",\"location\":\"Remote\",\"jobDescription\":\"<p>Build things</p>\","
                      "\"jobUrl\":\"https://www.linkedin.com/jobs/view/%" PRIu64 "/\","
                      "\"salary\":\"$120k-150k a year\",\"source\":\"linkedin\"}",
                      n % 1000, n % 50, b->url_base + n);
    int hl = snprintf(p->req, sizeof(p->req),
                      "POST /api/v1/jobs/process HTTP/1.1\r\nHost: %s\r\n"
                      "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      b->http_host, b->tokens[n % (uint64_t)b->nusers], bl, body);
    return (size_t)hl;
}

/* 201 is a new job (one job.created to come); another 2xx is a job saved
 * before, which writes no event. */
void save_answer(struct poster *p, int status, const char *body, size_t len)
{
    struct bench *b = p->b;
    bool measured = p->n >= b->warm_n;
    int bl = (int)(len > 160 ? 160 : len);
    if (status < 200 || status > 299) {
        b->non2xx++;
        post_failed(p, "%s answered %d %.*s", b->post_what, status, bl, body);
        return;
    }
    if (!memmem(body, len, "\"job_url\"", 9)) {
        post_failed(p, "%s answered %d without a job: %.*s", b->post_what, status, bl, body);
        return;
    }
    if (measured)
        hist_add(&b->post_hist, (uv_hrtime() - p->sent_at) / 1000);
    if (status != 201) {
        b->existing += measured;
        return;
    }
    if (measured) {
        b->posted_ok++;
        b->ok_by_user[p->n % (uint64_t)b->nusers]++;
    } else {
        b->posted_ok_warm++;
    }
    b->ok[p->n >> 3] |= (uint8_t)(1u << (p->n & 7));
}

/* The number after ".../jobs/view/" in the frame's job_url. */
static bool find_job_number(const char *p, size_t len, uint64_t *out)
{
    static const char plain[] = "/jobs/view/", escaped[] = "\\/jobs\\/view\\/";
    const char *m = memmem(p, len, plain, sizeof(plain) - 1);
    size_t ml = sizeof(plain) - 1;
    if (!m) {
        m = memmem(p, len, escaped, sizeof(escaped) - 1);
        ml = sizeof(escaped) - 1;
    }
    if (!m)
        return false;
    const char *s = m + ml, *end = p + len;
    if (s >= end || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    *out = v;
    return true;
}

void save_event(struct conn *c, const char *p, size_t len, uint64_t now)
{
    static const char type[] = "\"type\":\"job.created\"";
    struct bench *b = c->b;
    uint64_t v;
    b->rx_ticks++;
    /* The type is in the envelope's head, before the data. */
    if (!memmem(p, len < 128 ? len : 128, type, sizeof(type) - 1) || !find_job_number(p, len, &v) ||
        v < b->url_base) {
        b->other_msgs++;
        return;
    }
    uint64_t n = v - b->url_base;
    if (n >= b->n_cap || !b->sent_at[n]) {
        b->late_rx++;
        return;
    }
    if (n % (uint64_t)b->nusers != (uint64_t)(c - b->conns) % (uint64_t)b->nusers) {
        b->foreign++;
        return;
    }
    event_seen(c, p, len, n, b->sent_at[n], now);
}

/* ------------------------------------------------------------------ report */

struct save_figures {
    uint64_t posted, answered, expected, delivered_ok, missed, unexpected;
    double window, sent_rate, answered_rate;
    double srv_cpu, srv_pct, srv_us, pg_pct, pg_us, sys_pct, sys_us, gen_cpu, gen_us;
    bool srv, pg, sys, kept_up;
};

static void save_figures(const struct bench *b, struct save_figures *f)
{
    count_missed(b, &f->delivered_ok, &f->unexpected);
    f->posted = b->n_next > b->warm_n ? b->n_next - b->warm_n : 0;
    f->answered = b->posted_ok + b->existing;
    f->expected = expected_deliveries(b);
    f->missed = f->expected > f->delivered_ok ? f->expected - f->delivered_ok : 0;
    f->sent_rate = (double)f->posted / b->o.duration;
    f->answered_rate = (double)f->answered / b->o.duration;
    f->window = secs(b->s1.t - b->s0.t);
    f->gen_cpu = b->s1.self_cpu - b->s0.self_cpu;
    f->gen_us = f->posted ? f->gen_cpu * 1e6 / (double)f->posted : 0;
    f->srv = b->o.server_pid > 0 && b->s0.srv_cpu >= 0 && b->s1.srv_cpu >= 0 && f->window > 0;
    if (f->srv) {
        f->srv_cpu = b->s1.srv_cpu - b->s0.srv_cpu;
        f->srv_pct = 100.0 * f->srv_cpu / f->window;
        f->srv_us = f->answered ? f->srv_cpu * 1e6 / (double)f->answered : -1;
    }
    f->pg = b->s0.pg_cpu >= 0 && b->s1.pg_cpu >= 0 && f->window > 0;
    if (f->pg) {
        double pg_cpu = b->s1.pg_cpu - b->s0.pg_cpu;
        f->pg_pct = 100.0 * pg_cpu / f->window;
        f->pg_us = f->answered ? pg_cpu * 1e6 / (double)f->answered : -1;
    }
    f->sys = b->s0.sys_busy >= 0 && b->s1.sys_busy >= 0 && f->window > 0;
    if (f->sys) {
        double sys_cpu = b->s1.sys_busy - b->s0.sys_busy;
        f->sys_pct = 100.0 * sys_cpu / f->window;
        f->sys_us = f->answered ? sys_cpu * 1e6 / (double)f->answered : -1;
    }
    /* Saves that left late because every connection was busy wait as a
     * user would, so the lag has the same limit as the latencies. */
    f->kept_up = !b->interrupted && f->answered_rate >= SAVE_RATE_SHARE * b->o.rate &&
                 hist_ms(&b->post_hist, 0.99) <= SAVE_P99_LIMIT_MS &&
                 hist_ms(&b->hist, 0.99) <= SAVE_P99_LIMIT_MS &&
                 hist_ms(&b->lag_hist, 0.99) <= SAVE_P99_LIMIT_MS && f->missed == 0 &&
                 b->foreign == 0;
}

static void save_print(const struct bench *b, const struct save_figures *f)
{
    const struct hist *fh = &b->hist, *ah = &b->post_hist, *lh = &b->lag_hist;
    printf("wsload save%s\n", b->interrupted ? " (interrupted)" : "");
    printf("  users             %ld, the saves spread evenly\n", b->nusers);
    printf("  subscribers       %ld (connected in %.2f s, %ld failed, %ld dropped later)\n",
           b->o.conns, secs(b->t_connect_end - b->t_connect_start), b->connect_failed, b->dropped);
    printf("  offered           %.0f saves/s for %.1f s after %.1f s of warm-up\n", b->o.rate,
           b->o.duration, b->o.warmup);
    printf("  HTTP connections  %ld at the start, %ld at the end (limit %ld), %" PRIu64
           " reopened\n",
           b->o.http_conns, b->nposters, b->o.http_conns_max, b->post_reconnects);
    printf("  saves sent        %" PRIu64 " (%.1f/s), behind schedule: p99 %.3f ms, max %.3f ms\n",
           f->posted, f->sent_rate, hist_ms(lh, 0.99), (double)lh->max_us / 1000.0);
    printf("  answered 2xx      %" PRIu64 " (%.1f/s: %" PRIu64 " created, %" PRIu64
           " already saved), non-2xx %" PRIu64 ", failed %" PRIu64 "%s\n",
           f->answered, f->answered_rate, b->posted_ok, b->existing, b->non2xx, b->post_failed,
           f->answered_rate < SAVE_RATE_SHARE * b->o.rate ? " BEHIND" : "");
    printf("  answer ms         p50 %.3f  p99 %.3f  max %.3f\n", hist_ms(ah, 0.50),
           hist_ms(ah, 0.99), (double)ah->max_us / 1000.0);
    if (b->first_post_err[0])
        printf("  first post error  %s\n", b->first_post_err);
    printf("  job.created       expected %" PRIu64 ", delivered %" PRIu64 ", missing %" PRIu64
           ", duplicated %" PRIu64 ", out-of-order %" PRIu64 ", unexpected %" PRIu64 "\n",
           f->expected, f->delivered_ok, f->missed, b->duplicated, b->out_of_order, f->unexpected);
    if (b->foreign)
        printf("  LEAK              %" PRIu64 " frames of another user's saves\n", b->foreign);
    if (b->first_err[0])
        printf("  first conn error  %s (server closes %ld, lagging notices %ld)\n", b->first_err,
               b->closed_by_server, b->lagging_msgs);
    printf("  frame ms          p50 %.3f  p90 %.3f  p99 %.3f  max %.3f (POST written -> "
           "job.created read)\n",
           hist_ms(fh, 0.50), hist_ms(fh, 0.90), hist_ms(fh, 0.99), (double)fh->max_us / 1000.0);
    if (f->srv)
        printf("  server CPU        %.2f s over %.1f s (%.0f %%), %.1f us per save\n", f->srv_cpu,
               f->window, f->srv_pct, f->srv_us);
    if (f->pg)
        printf("  PostgreSQL CPU    %.0f %%, %.1f us per save\n", f->pg_pct, f->pg_us);
    if (f->sys)
        printf("  machine CPU       %.0f %% (all cores, every process), "
               "%.1f us per save\n",
               f->sys_pct, f->sys_us);
    printf("  wsload CPU        %.2f s (%.1f us per save)\n", f->gen_cpu, f->gen_us);
    printf("  kept up           %s\n", f->kept_up ? "yes" : "no");
}

/* A figure for the RESULT line: null when it could not be measured. */
static const char *jnum(char *buf, size_t len, bool ok, double v, int prec)
{
    if (!ok)
        return "null";
    snprintf(buf, len, "%.*f", prec, v);
    return buf;
}

void save_report(struct bench *b)
{
    if (b->s0.t == 0 || b->s1.t == 0)
        return;
    struct save_figures f;
    save_figures(b, &f);
    save_print(b, &f);
    const struct hist *fh = &b->hist, *ah = &b->post_hist, *lh = &b->lag_hist;
    char j1[32], j2[32], j3[32], j4[32], j5[32], j6[32], j7[32];
    /* One line of JSON, written in groups: the run, the sending and the
     * answers, the frames, the CPU. */
    printf("RESULT {\"mode\":\"save\",\"users\":%ld,\"conns\":%ld,\"rate\":%.0f,"
           "\"duration_s\":%.1f,\"warmup_s\":%.1f,\"http_conns\":%ld,\"http_conns_max\":%ld,"
           "\"dropped\":%ld,",
           b->nusers, b->o.conns, b->o.rate, b->o.duration, b->o.warmup, b->nposters,
           b->o.http_conns_max, b->dropped);
    printf("\"posted\":%" PRIu64 ",\"sent_rate\":%.1f,\"lag_p99_ms\":%.3f,\"lag_max_ms\":%.3f,"
           "\"answered\":%" PRIu64 ",\"answered_rate\":%.1f,\"created\":%" PRIu64
           ",\"existing\":%" PRIu64 ",\"non2xx\":%" PRIu64 ",\"posts_failed\":%" PRIu64
           ",\"post_p50_ms\":%.3f,\"post_p99_ms\":%.3f,\"post_max_ms\":%.3f,",
           f.posted, f.sent_rate, hist_ms(lh, 0.99), (double)lh->max_us / 1000.0, f.answered,
           f.answered_rate, b->posted_ok, b->existing, b->non2xx, b->post_failed, hist_ms(ah, 0.50),
           hist_ms(ah, 0.99), (double)ah->max_us / 1000.0);
    printf("\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"missed\":%" PRIu64
           ",\"duplicated\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"unexpected\":%" PRIu64
           ",\"other_users\":%" PRIu64 ",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"max_ms\":%.3f,",
           f.expected, f.delivered_ok, f.missed, b->duplicated, b->out_of_order, f.unexpected,
           b->foreign, hist_ms(fh, 0.50), hist_ms(fh, 0.90), hist_ms(fh, 0.99),
           (double)fh->max_us / 1000.0);
    printf("\"gen_cpu_s\":%.3f,\"gen_cpu_us_per_save\":%.2f,\"server_cpu_s\":%s,"
           "\"server_cpu_pct\":%s,\"server_cpu_us_per_save\":%s,\"pg_cpu_pct\":%s,"
           "\"pg_cpu_us_per_save\":%s,\"machine_cpu_pct\":%s,"
           "\"machine_cpu_us_per_save\":%s,\"kept_up\":%s,\"interrupted\":%s}\n",
           f.gen_cpu, f.gen_us, jnum(j1, sizeof(j1), f.srv, f.srv_cpu, 3),
           jnum(j2, sizeof(j2), f.srv, f.srv_pct, 1),
           jnum(j3, sizeof(j3), f.srv && f.srv_us >= 0, f.srv_us, 2),
           jnum(j6, sizeof(j6), f.pg, f.pg_pct, 1),
           jnum(j7, sizeof(j7), f.pg && f.pg_us >= 0, f.pg_us, 2),
           jnum(j4, sizeof(j4), f.sys, f.sys_pct, 1),
           jnum(j5, sizeof(j5), f.sys && f.sys_us >= 0, f.sys_us, 2), f.kept_up ? "true" : "false",
           b->interrupted ? "true" : "false");
}
