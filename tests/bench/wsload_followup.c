/*
 * wsload followup: the follow-up scheduler's due frames.
 *
 * scripts/bench writes --expect follow-ups to the database, all due at one
 * moment (--due-at, ms since the epoch): follow-up n belongs to user
 * n % U of the U users of --tokens and carries "bench-due-n:<n>" in its
 * subject. This mode opens one subscriber per user (channels=followups in
 * the URL, the token= replaced by each user's), waits until every one got
 * system.connected, then counts the followup.due frames: each must reach its
 * own user's subscriber exactly once.
 *
 * A frame's latency runs from the due_date it carries to the moment it was
 * read, both on the wall clock (CLOCK_REALTIME), as the server compares the
 * due time to its own wall clock. The run ends --grace seconds after the
 * last expected frame (a duplicate would come in that time) or --timeout
 * seconds after the due time, whichever comes first.
 *
 * The server's resident memory is read when wsload starts, when every
 * subscriber is connected, half a second before the due time and at the
 * end; its CPU from that half second before the due time to the end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "wsload.h"

#include "hirewire/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SNAP_BEFORE_DUE_MS 500 /* the "before the due time" figures are taken this early */
#define SUBJECT_KEY "bench-due-n:"

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The frame's "due_date": "YYYY-MM-DDTHH:MM:SS.mmmZ" in ms since the epoch. */
static bool find_due_ms(const char *p, size_t len, int64_t *out)
{
    static const char key[] = "\"due_date\":";
    const char *k = memmem(p, len, key, sizeof(key) - 1);
    if (!k)
        return false;
    const char *s = k + sizeof(key) - 1, *end = p + len;
    while (s < end && *s == ' ')
        s++;
    if (end - s < 26 || *s != '"')
        return false;
    s++;
    const char *q = memchr(s, '"', (size_t)(end - s));
    char iso[40];
    if (!q || (size_t)(q - s) >= sizeof iso)
        return false;
    memcpy(iso, s, (size_t)(q - s));
    iso[q - s] = '\0';
    return clock_parse_iso(iso, 0, out) == 0;
}

void followup_prepare(struct bench *b)
{
    if (b->o.conns != b->nusers)
        die("followup: one subscriber per user (--conns %ld, %ld users)", b->o.conns, b->nusers);
    b->fu_seen = calloc((size_t)b->o.expect / 8 + 1, 1);
    if (!b->fu_seen)
        die("out of memory for %ld follow-ups", b->o.expect);
}

void followup_free(struct bench *b)
{
    free(b->fu_seen);
    b->fu_seen = NULL;
}

/* Every subscriber is connected: wait for the due time. */
void followup_start(struct bench *b, uint64_t now)
{
    for (long i = 0; i < b->o.conns; i++) {
        b->conns[i].counted = b->conns[i].state == C_READY;
        b->counted += b->conns[i].counted;
    }
    b->rss_ready = proc_rss_kb(b->o.server_pid);
    b->fu_ready_us = wall_us();
    int64_t to_due_us = b->o.due_ms * 1000 - b->fu_ready_us;
    int64_t to_snap_us = to_due_us - SNAP_BEFORE_DUE_MS * 1000;
    b->fu_snap_at = now + (to_snap_us > 0 ? (uint64_t)to_snap_us * 1000 : 0);
    int64_t to_end_us = to_due_us + (int64_t)(b->o.timeout * 1e6);
    b->fu_deadline = now + (to_end_us > 0 ? (uint64_t)to_end_us * 1000 : 0);
    b->fu_waiting = true;
    b->phase = PH_WAIT;
    if (to_due_us <= 0)
        fprintf(stderr, "wsload: the subscribers were ready %.3f s after the due time\n",
                (double)-to_due_us / 1e6);
    else
        fprintf(stderr,
                "wsload: %ld subscribers ready %.1f s before the due time; waiting for %ld "
                "followup.due frames\n",
                b->counted, (double)to_due_us / 1e6, b->o.expect);
}

void followup_event(struct conn *c, const char *p, size_t len)
{
    static const char type[] = "\"type\":\"followup.due\"";
    struct bench *b = c->b;
    int64_t now_us = wall_us();
    uint64_t n;
    int64_t due_ms;
    b->rx_ticks++;
    /* The type is in the envelope's head, before the data. */
    if (!memmem(p, len < 128 ? len : 128, type, sizeof(type) - 1) ||
        !find_uint(p, len, SUBJECT_KEY, sizeof(SUBJECT_KEY) - 1, &n)) {
        b->other_msgs++;
        return;
    }
    if (!find_due_ms(p, len, &due_ms)) {
        b->fu_unreadable++;
        return;
    }
    if (n >= (uint64_t)b->o.expect || !b->fu_waiting) {
        b->late_rx++; /* not one of this run's, or before every subscriber was ready */
        return;
    }
    if (n % (uint64_t)b->nusers != (uint64_t)(c - b->conns) % (uint64_t)b->nusers) {
        b->foreign++;
        return;
    }
    uint8_t bit = (uint8_t)(1u << (n & 7));
    if (b->fu_seen[n >> 3] & bit) {
        b->duplicated++;
        return;
    }
    b->fu_seen[n >> 3] |= bit;
    b->fu_delivered++;
    if (due_ms != b->o.due_ms)
        b->fu_wrong_due++;
    if (memmem(p, len, "\"late\": true", 12) || memmem(p, len, "\"late\":true", 11))
        b->fu_late++;
    int64_t lat_us = now_us - due_ms * 1000;
    if (lat_us < 0) {
        b->fu_early++;
        lat_us = 0;
    }
    hist_add(&b->hist, (uint64_t)lat_us);
    if (!b->fu_first_us)
        b->fu_first_us = now_us;
    b->fu_last_us = now_us;
    if (b->fu_delivered == (uint64_t)b->o.expect)
        b->fu_all_at = uv_hrtime();
}

static void followup_end(struct bench *b)
{
    if (b->s0.t == 0)
        take_snap(b, &b->s0);
    take_snap(b, &b->s1);
    finish(b, 0);
}

void followup_tick(struct bench *b, uint64_t now)
{
    if (b->s0.t == 0 && now >= b->fu_snap_at)
        take_snap(b, &b->s0);
    if (b->fu_all_at && now >= b->fu_all_at + (uint64_t)(b->o.grace * NS_PER_S)) {
        followup_end(b);
    } else if (now >= b->fu_deadline) {
        b->fu_timed_out = b->fu_delivered < (uint64_t)b->o.expect;
        followup_end(b);
    }
}

/* Short ticks only matter for ending on time; the frames come with reads. */
uint64_t followup_next_tick_ms(const struct bench *b, uint64_t now)
{
    uint64_t next = now + 50 * 1000000ull;
    if (b->s0.t == 0 && b->fu_snap_at < next)
        next = b->fu_snap_at;
    if (b->fu_deadline < next)
        next = b->fu_deadline;
    uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 1;
    return ms < 1 ? 1 : ms;
}

/* ------------------------------------------------------------------ report */

static void iso_ms(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t l = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + l, len - l, ".%03dZ", (int)(ms % 1000));
}

void followup_report(struct bench *b)
{
    if (!b->fu_waiting)
        return;
    const struct hist *h = &b->hist;
    uint64_t expect = (uint64_t)b->o.expect;
    uint64_t missing = expect > b->fu_delivered ? expect - b->fu_delivered : 0;
    double connect_s = secs(b->t_connect_end - b->t_connect_start);
    double ready_before_s = (double)(b->o.due_ms * 1000 - b->fu_ready_us) / 1e6;
    double first_ms = b->fu_first_us ? (double)(b->fu_first_us - b->o.due_ms * 1000) / 1000 : -1;
    double last_ms = b->fu_last_us ? (double)(b->fu_last_us - b->o.due_ms * 1000) / 1000 : -1;
    double window = secs(b->s1.t - b->s0.t);
    bool srv = b->o.server_pid > 0 && b->s0.srv_cpu >= 0 && b->s1.srv_cpu >= 0;
    bool pg = b->s0.pg_cpu >= 0 && b->s1.pg_cpu >= 0;
    double srv_cpu = srv ? b->s1.srv_cpu - b->s0.srv_cpu : -1;
    double pg_cpu = pg ? b->s1.pg_cpu - b->s0.pg_cpu : -1;
    char due[40];
    iso_ms(b->o.due_ms, due, sizeof(due));

    printf("wsload followup%s\n", b->interrupted ? " (interrupted)" : "");
    printf("  users             %ld, %ld subscriber(s) (connected in %.2f s, %ld failed, %ld "
           "dropped later)\n",
           b->nusers, b->o.conns, connect_s, b->connect_failed, b->dropped);
    printf("  due at            %s, subscribers ready %.1f s before\n", due, ready_before_s);
    printf("  followup.due      expected %" PRIu64 ", delivered %" PRIu64 ", missing %" PRIu64
           ", duplicated %" PRIu64 ", other users %" PRIu64 ", unexpected %" PRIu64 "%s\n",
           expect, b->fu_delivered, missing, b->duplicated, b->foreign, b->late_rx,
           b->fu_timed_out ? " (timed out)" : "");
    if (b->fu_early || b->fu_late || b->fu_wrong_due || b->fu_unreadable)
        printf("  odd frames        %" PRIu64 " before their due time, %" PRIu64
               " marked late, %" PRIu64 " with another due_date, %" PRIu64 " unreadable\n",
               b->fu_early, b->fu_late, b->fu_wrong_due, b->fu_unreadable);
    if (b->first_err[0])
        printf("  first conn error  %s (server closes %ld, lagging notices %ld)\n", b->first_err,
               b->closed_by_server, b->lagging_msgs);
    printf("  latency ms        p50 %.3f  p90 %.3f  p99 %.3f  max %.3f (due_date -> frame read)\n",
           hist_ms(h, 0.50), hist_ms(h, 0.90), hist_ms(h, 0.99), (double)h->max_us / 1000.0);
    printf("  first, last frame %.3f ms, %.3f ms after the due time\n", first_ms, last_ms);
    if (b->o.server_pid > 0)
        printf("  server RSS        %ld KiB at wsload start, %ld all connected, %ld before the "
               "due time, %ld at the end\n",
               b->rss_before, b->rss_ready, b->s0.srv_rss_kb, b->s1.srv_rss_kb);
    if (srv)
        printf("  server CPU        %.3f s over %.1f s from %.1f s before the due time\n", srv_cpu,
               window, SNAP_BEFORE_DUE_MS / 1000.0);
    if (pg)
        printf("  PostgreSQL CPU    %.3f s over the same time\n", pg_cpu);

    char srv_s[32] = "null", pg_s[32] = "null";
    if (srv)
        snprintf(srv_s, sizeof(srv_s), "%.3f", srv_cpu);
    if (pg)
        snprintf(pg_s, sizeof(pg_s), "%.3f", pg_cpu);
    printf("RESULT {\"mode\":\"followup\",\"users\":%ld,\"conns\":%ld,\"connect_s\":%.3f,"
           "\"connect_failed\":%ld,\"dropped\":%ld,\"due_ms\":%" PRId64
           ",\"ready_before_due_s\":%.3f,",
           b->nusers, b->o.conns, connect_s, b->connect_failed, b->dropped, b->o.due_ms,
           ready_before_s);
    printf("\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"missed\":%" PRIu64
           ",\"duplicated\":%" PRIu64 ",\"other_users\":%" PRIu64 ",\"unexpected\":%" PRIu64
           ",\"early\":%" PRIu64 ",\"marked_late\":%" PRIu64 ",\"wrong_due\":%" PRIu64
           ",\"unreadable\":%" PRIu64 ",\"timed_out\":%s,",
           expect, b->fu_delivered, missing, b->duplicated, b->foreign, b->late_rx, b->fu_early,
           b->fu_late, b->fu_wrong_due, b->fu_unreadable, b->fu_timed_out ? "true" : "false");
    printf("\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"first_ms\":%.3f,"
           "\"last_ms\":%.3f,",
           hist_ms(h, 0.50), hist_ms(h, 0.90), hist_ms(h, 0.99), (double)h->max_us / 1000.0,
           first_ms, last_ms);
    printf("\"server_rss_kb_start\":%ld,\"server_rss_kb_ready\":%ld,\"server_rss_kb_due\":%ld,"
           "\"server_rss_kb_after\":%ld,\"server_cpu_s\":%s,\"pg_cpu_s\":%s,"
           "\"interrupted\":%s}\n",
           b->rss_before, b->rss_ready, b->s0.srv_rss_kb, b->s1.srv_rss_kb, srv_s, pg_s,
           b->interrupted ? "true" : "false");
}
