/*
 * wsload's state, shared by wsload.c (subscribers, HTTP posters, the fanout
 * and idle modes, the phases and main), wsload_save.c (the save mode) and
 * wsload_followup.c (the followup mode).
 */
#ifndef WSLOAD_H
#define WSLOAD_H

#include <uv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_MSG_MAX (64 * 1024)      /* largest message accepted from the server */
#define WS_HDR_MAX 14               /* largest frame header */
#define READ_BUF_SIZE (256 * 1024)  /* one buffer shared by every read */
#define HS_MAX 8192                 /* largest HTTP response header */
#define RSP_MAX (32 * 1024)         /* largest HTTP answer, header and body */
#define REQ_MAX 2048                /* largest HTTP request */
#define WRITE_QUEUE_MAX (64 * 1024) /* bytes of pongs and closes a socket may owe */
#define PENDING_MAX 512             /* connections in their handshake at once */
#define POSTERS_MAX 256
#define POSTER_RECONNECTS_MAX 50
#define BITMAP_BYTES_MAX ((size_t)1 << 30)
#define HIST_SHIFT 9
#define HIST_SUB (1 << HIST_SHIFT) /* sub-buckets per power of two: under 0.2 % error */
#define HIST_N (40 * HIST_SUB)     /* microseconds up to 2^48 */
#define NS_PER_S 1000000000.0

enum mode { MODE_FANOUT, MODE_IDLE, MODE_SAVE, MODE_FOLLOWUP };

enum phase {
    PH_CONNECT, /* opening subscribers */
    PH_POST,    /* warm-up, then the measured posting */
    PH_FLUSH,   /* posting over, waiting for answers to posts in flight */
    PH_DRAIN,   /* waiting for the last deliveries */
    PH_HOLD,    /* idle: holding the connections open */
    PH_WAIT,    /* followup: connected, waiting for the due frames */
    PH_DONE,
};

enum cstate { C_NEW, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_READY, C_CLOSING, C_CLOSED };

enum pstate { P_CONNECTING, P_IDLE, P_BUSY, P_CLOSING, P_CLOSED };

struct opts {
    enum mode mode;
    const char *url;
    const char *http;
    const char *token;
    const char *tokens; /* save, followup: comma-separated tokens, one per user */
    long conns;
    double rate;
    double duration;
    double warmup;
    double connect_rate;
    long http_conns;     /* keep-alive HTTP connections opened at the start */
    long http_conns_max; /* more are opened while every one waits for an answer */
    double drain;
    double hold;
    long server_pid;
    long pg_pid;    /* the PostgreSQL postmaster, whose backends are counted with it */
    long expect;    /* followup: follow-ups due, numbered 0 .. expect - 1 */
    int64_t due_ms; /* followup: their due time, ms since the epoch */
    double timeout; /* followup: seconds after the due time before giving up */
    double grace;   /* followup: seconds of watching for duplicates after the last */
};

struct hist {
    uint64_t count;
    uint64_t max_us;
    uint64_t b[HIST_N];
};

struct bench;

struct conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct bench *b;
    uint8_t *seen; /* one bit per event number n */
    char *left;    /* tail of a frame or header cut by the last read */
    char *frag;    /* a fragmented message being assembled */
    uint32_t left_len, left_cap;
    uint32_t frag_len, frag_cap;
    uint8_t state;
    uint8_t frag_op;
    bool counted; /* ready when the measurement started */
    int64_t last_seq;
    int64_t max_n;
};

/* One keep-alive HTTP connection with at most one request in flight. */
struct poster {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct bench *b;
    enum pstate state;
    bool writing;  /* the request is still being written */
    bool answered; /* the answer to the request in flight is complete */
    bool close_after;
    uint64_t n;
    uint64_t sent_at;
    int reconnects;
    size_t req_len, rsp_len;
    char req[REQ_MAX];
    char rsp[RSP_MAX];
};

struct snap {
    uint64_t t;
    double self_cpu;
    double srv_cpu;
    long srv_rss_kb;
    double pg_cpu;   /* CPU seconds of PostgreSQL, every backend included */
    double sys_busy; /* CPU seconds of the whole machine, every process */
};

/* Client frames: a pong, a close or {"action":"pong"}; freed when written. */
struct wreq {
    uv_write_t req;
    struct conn *c;
    bool close_after;
    char data[];
};

struct bench {
    struct opts o;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    struct sockaddr_in ws_addr, http_addr;
    char ws_host[256];
    const char *ws_path;
    char http_host[256];
    const char *post_what; /* "POST /api/v1/events", for error messages */
    enum phase phase;
    int rc;
    uint64_t prng;
    char *rbuf;

    struct conn *conns;
    long started, counted, open_handles, pending, ready, connect_failed, dropped;
    long closed_by_server, lagging_msgs;
    uint64_t t_start, t_connect_start, t_connect_end, connect_deadline;
    char first_err[256];

    struct poster *posters;
    long nposters, posters_open, posters_connecting;
    uint64_t post_start, measure_start, post_end, phase_deadline;
    uint64_t n_next, warm_n, n_cap;
    /* Accepted posts (202 for events, 201 for saves) of the measurement and
     * of the warm-up; failed ones are transport errors and other statuses. */
    uint64_t posted_ok, posted_ok_warm, post_failed, post_reconnects;
    uint64_t non2xx;   /* answers outside 2xx */
    uint64_t existing; /* saves answered 2xx with a job saved before: no event */
    char first_post_err[256];
    bool poster_connected_once, poster_setup_failed;
    uint8_t *ok; /* one bit per n the server accepted */
    uint8_t *bitmaps;
    size_t bitmap_bytes;
    uint64_t *sent_at; /* save: when post n was written, for its frame's latency */
    uint64_t url_base; /* save: post n saves .../jobs/view/(url_base + n) */
    /* save: post n is user n % nusers's; subscriber i is user i % nusers's,
     * on ws_paths[i % nusers], and sees only that user's events. */
    long nusers;
    char **tokens, **ws_paths;
    long *counted_by_user;
    uint64_t *ok_by_user;
    uint64_t foreign; /* save: frames of another user's saves (must stay 0) */

    uint64_t rx_ticks, delivered, duplicated, out_of_order, late_rx, other_msgs;
    uint64_t last_rx, last_progress_check, last_progress_count;
    struct hist hist;      /* post sent -> event delivered */
    struct hist post_hist; /* post sent -> accepted answer read */
    struct hist lag_hist;  /* post due -> post sent (waiting for a free connection) */
    struct snap s0, s1;
    long rss_before, rss_ready, rss_hold;
    bool interrupted;

    /* followup: one bit per follow-up number seen, and what the frames held */
    uint8_t *fu_seen;
    uint64_t fu_delivered, fu_early, fu_late, fu_wrong_due, fu_unreadable;
    uint64_t fu_snap_at, fu_deadline, fu_all_at;  /* loop times (uv_hrtime) */
    int64_t fu_ready_us, fu_first_us, fu_last_us; /* wall clock, us since the epoch */
    bool fu_waiting, fu_timed_out;
};

/* wsload.c */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
double secs(uint64_t ns);
long proc_rss_kb(long pid);
void take_snap(struct bench *b, struct snap *s);
/* Stops the run: every handle is closed, uv_run then returns by itself. */
void finish(struct bench *b, int rc);
bool find_uint(const char *p, size_t len, const char *key, size_t klen, uint64_t *out);
void hist_add(struct hist *h, uint64_t us);
double hist_ms(const struct hist *h, double q);
/* Accounts event n, posted at time t, reaching c: order, duplicates, latency. */
void event_seen(struct conn *c, const char *p, size_t len, uint64_t n, uint64_t t, uint64_t now);
void post_failed(struct poster *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t expected_deliveries(const struct bench *b);
void count_missed(const struct bench *b, uint64_t *delivered_ok, uint64_t *unexpected);

/* wsload_save.c */
void save_setup_users(struct bench *b);
void save_prepare(struct bench *b);
void save_free(struct bench *b);
size_t save_request(struct bench *b, struct poster *p, uint64_t n);
void save_answer(struct poster *p, int status, const char *body, size_t len);
void save_event(struct conn *c, const char *p, size_t len, uint64_t now);
void save_report(struct bench *b);

/* wsload_followup.c */
void followup_prepare(struct bench *b);
void followup_free(struct bench *b);
void followup_start(struct bench *b, uint64_t now);
void followup_tick(struct bench *b, uint64_t now);
uint64_t followup_next_tick_ms(const struct bench *b, uint64_t now);
void followup_event(struct conn *c, const char *p, size_t len);
void followup_report(struct bench *b);

#endif
