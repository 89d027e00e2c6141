/* Prometheus registry.
 *
 * Metrics are plain doubles updated from the loop thread without locks or
 * atomics: every module that counts runs on the one loop, and a scrape renders
 * on that same loop, so there is never a concurrent reader. Work done in
 * uv_queue_work threads reports its numbers back in the after-work callback.
 *
 * The registry is a singly linked list in registration order. Metrics sharing
 * a name form a family that Prometheus wants under one HELP/TYPE header, so
 * each metric also points at the next member of its family; rendering walks
 * the list once and prints a family when it meets the family's first member. */
#include "hirewire/metrics.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum metric_kind {
    METRIC_COUNTER,
    METRIC_GAUGE,
    METRIC_HISTOGRAM,
};

struct metric {
    enum metric_kind kind;
    char *name;
    char *labels; /* "" when none */
    char *help;
    double value;
    metrics_read_cb read_fn; /* gauges read at render time */
    void *read_arg;
    double *bounds;    /* histograms: ascending upper bounds */
    uint64_t *buckets; /* nbounds + 1 counts, not cumulative; the last is +Inf */
    size_t nbounds;
    uint64_t count;
    double sum;
    bool family_head;        /* first registered metric of its name */
    struct metric *next;     /* registration order */
    struct metric *next_fam; /* next member of the same family */
};

struct metrics {
    struct metric *head;
    struct metric *tail;
};

const double metrics_latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
const size_t metrics_latency_nbounds = sizeof(metrics_latency_bounds) / sizeof(double);

static void metric_free(struct metric *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->labels);
    free(c->help);
    free(c->bounds);
    free(c->buckets);
    free(c);
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    struct metric *c = m->head;
    while (c) {
        struct metric *next = c->next;
        metric_free(c);
        c = next;
    }
    free(m);
}

/* Finds the metric with this name and labels, and the last member of the
 * name's family (where a new member is appended). */
static struct metric *metrics_find(struct metrics *m, const char *name, const char *labels,
                                   struct metric **fam_tail)
{
    *fam_tail = NULL;
    for (struct metric *c = m->head; c; c = c->next) {
        if (strcmp(c->name, name) != 0)
            continue;
        *fam_tail = c;
        if (strcmp(c->labels, labels) == 0)
            return c;
    }
    return NULL;
}

/* Returns the registered metric of this name and labels, or a new unlinked
 * one (*created set) that the caller finishes and passes to metrics_link(). */
static struct metric *metrics_register(struct metrics *m, enum metric_kind kind, const char *name,
                                       const char *labels, const char *help, bool *created)
{
    *created = false;
    assert(m && name && *name);
    if (!labels)
        labels = "";
    if (!help)
        help = "";

    struct metric *fam_tail;
    struct metric *found = metrics_find(m, name, labels, &fam_tail);
    /* One name is one Prometheus family with one TYPE line, so a second
     * registration of another kind under the same name cannot be rendered. */
    if (fam_tail && fam_tail->kind != kind)
        return NULL;
    if (found)
        return found;

    struct metric *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->kind = kind;
    c->name = strdup(name);
    c->labels = strdup(labels);
    c->help = strdup(help);
    if (!c->name || !c->labels || !c->help) {
        metric_free(c);
        return NULL;
    }
    *created = true;
    return c;
}

/* Links a fully built metric into the registry and its family. */
static struct metric *metrics_link(struct metrics *m, struct metric *c)
{
    struct metric *fam_tail;
    metrics_find(m, c->name, c->labels, &fam_tail);
    if (fam_tail)
        fam_tail->next_fam = c;
    else
        c->family_head = true;
    if (m->tail)
        m->tail->next = c;
    else
        m->head = c;
    m->tail = c;
    return c;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *labels,
                               const char *help)
{
    bool created;
    struct metric *c = metrics_register(m, METRIC_COUNTER, name, labels, help, &created);
    return created ? metrics_link(m, c) : c;
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *labels,
                             const char *help)
{
    bool created;
    struct metric *c = metrics_register(m, METRIC_GAUGE, name, labels, help, &created);
    return created ? metrics_link(m, c) : c;
}

struct metric *metrics_gauge_fn(struct metrics *m, const char *name, const char *labels,
                                const char *help, metrics_read_cb fn, void *arg)
{
    bool created;
    struct metric *c = metrics_register(m, METRIC_GAUGE, name, labels, help, &created);
    if (!created)
        return c;
    c->read_fn = fn;
    c->read_arg = arg;
    return metrics_link(m, c);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                 const char *help, const double *bounds, size_t nbounds)
{
    bool created;
    struct metric *c = metrics_register(m, METRIC_HISTOGRAM, name, labels, help, &created);
    if (!created)
        return c;
    for (size_t i = 1; i < nbounds; i++)
        assert(bounds[i - 1] < bounds[i]);
    c->nbounds = nbounds;
    c->bounds = malloc((nbounds ? nbounds : 1) * sizeof(double));
    c->buckets = calloc(nbounds + 1, sizeof(uint64_t));
    if (!c->bounds || !c->buckets) {
        metric_free(c);
        return NULL;
    }
    if (nbounds)
        memcpy(c->bounds, bounds, nbounds * sizeof(double));
    return metrics_link(m, c);
}

void metric_inc(struct metric *c)
{
    metric_add(c, 1);
}

void metric_add(struct metric *c, double v)
{
    if (!c || c->kind == METRIC_HISTOGRAM || c->read_fn)
        return;
    /* A counter that goes down reads as a process restart to Prometheus. */
    if (c->kind == METRIC_COUNTER && !(v >= 0))
        return;
    c->value += v;
}

void metric_set(struct metric *g, double v)
{
    if (!g || g->kind != METRIC_GAUGE || g->read_fn)
        return;
    g->value = v;
}

void metric_observe(struct metric *h, double v)
{
    if (!h || h->kind != METRIC_HISTOGRAM)
        return;
    /* Binary search for the first bound >= v; NaN compares false everywhere
     * and ends up in +Inf, as in the reference client. */
    size_t lo = 0, hi = h->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= h->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    h->buckets[lo]++;
    h->count++;
    h->sum += v;
}

double metric_value(const struct metric *c)
{
    if (!c)
        return 0;
    if (c->kind == METRIC_HISTOGRAM)
        return (double)c->count;
    if (c->read_fn)
        return c->read_fn(c->read_arg);
    return c->value;
}

/* A growing output buffer; on allocation failure it stays failed and the
 * render returns NULL. */
struct mbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
}

/* The shortest decimal form that reads back as the same double, so counters
 * print as "42" and 0.1 as "0.1" rather than 0.10000000000000001. */
static const char *metrics_fmt_double(double v, char *buf, size_t n)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* HELP text escapes backslash and newline (text format 0.0.4). */
static void mbuf_help(struct mbuf *b, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            mbuf_printf(b, "\\\\");
        else if (*p == '\n')
            mbuf_printf(b, "\\n");
        else
            mbuf_printf(b, "%c", *p);
    }
}

static void render_histogram(struct mbuf *b, const struct metric *c)
{
    char num[64];
    const char *sep = c->labels[0] ? "," : "";
    uint64_t cum = 0;

    for (size_t i = 0; i < c->nbounds; i++) {
        cum += c->buckets[i];
        mbuf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", c->name, c->labels, sep,
                    metrics_fmt_double(c->bounds[i], num, sizeof(num)), (unsigned long long)cum);
    }
    cum += c->buckets[c->nbounds];
    mbuf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", c->name, c->labels, sep,
                (unsigned long long)cum);
    const char *ob = c->labels[0] ? "{" : "", *cb = c->labels[0] ? "}" : "";
    mbuf_printf(b, "%s_sum%s%s%s %s\n", c->name, ob, c->labels, cb,
                metrics_fmt_double(c->sum, num, sizeof(num)));
    mbuf_printf(b, "%s_count%s%s%s %llu\n", c->name, ob, c->labels, cb,
                (unsigned long long)c->count);
}

static void render_family(struct mbuf *b, const struct metric *head)
{
    static const char *const types[] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
    };
    char num[64];

    mbuf_printf(b, "# HELP %s ", head->name);
    mbuf_help(b, head->help);
    mbuf_printf(b, "\n# TYPE %s %s\n", head->name, types[head->kind]);
    for (const struct metric *c = head; c; c = c->next_fam) {
        if (c->kind == METRIC_HISTOGRAM) {
            render_histogram(b, c);
            continue;
        }
        const char *v = metrics_fmt_double(metric_value(c), num, sizeof(num));
        if (c->labels[0])
            mbuf_printf(b, "%s{%s} %s\n", c->name, c->labels, v);
        else
            mbuf_printf(b, "%s %s\n", c->name, v);
    }
}

char *metrics_render(struct metrics *m, size_t *len)
{
    struct mbuf b = {.cap = 4096};
    b.data = malloc(b.cap);
    if (!b.data)
        return NULL;
    b.data[0] = '\0';
    for (const struct metric *c = m ? m->head : NULL; c; c = c->next) {
        if (c->family_head)
            render_family(&b, c);
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}

/* Resident set size from /proc/self/statm (pages). It is a small procfs read
 * done only when /metrics is scraped, never on a request path. */
static double process_rss_bytes(void *arg)
{
    (void)arg;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return NAN;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return NAN;
    long page = sysconf(_SC_PAGESIZE);
    return (double)resident * (double)(page > 0 ? page : 4096);
}

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct metric *start = metrics_gauge(m, "hirewire_process_start_time_seconds", NULL,
                                         "Start time of the process since the Unix epoch.");
    struct metric *rss =
        metrics_gauge_fn(m, "hirewire_process_resident_memory_bytes", NULL,
                         "Resident memory size in bytes.", process_rss_bytes, NULL);
    if (!start || !rss) {
        metrics_free(m);
        return NULL;
    }
    metric_set(start, (double)now.tv_sec + (double)(now.tv_nsec / 1000000) / 1000.0);
    return m;
}
