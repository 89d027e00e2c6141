/* Prometheus counters, gauges and histograms, rendered as text at /metrics.
 *
 * A module registers its metrics once at start-up and keeps the returned
 * pointers; the registry owns them. Registering the same name and labels twice
 * returns the same metric. Names follow Prometheus conventions
 * ("hirewire_http_requests_total"); labels are given pre-formatted
 * ('method="GET",status="2xx"') or NULL. */
#ifndef HIREWIRE_METRICS_H
#define HIREWIRE_METRICS_H

#include <stddef.h>

struct metrics;
struct metric;

typedef double (*metrics_read_cb)(void *arg);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* All return NULL only on allocation failure or a name clash of different
 * kinds; metric_* functions accept NULL and do nothing. */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *labels,
                               const char *help);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *labels,
                             const char *help);
/* A gauge whose value is read by calling fn(arg) at render time. */
struct metric *metrics_gauge_fn(struct metrics *m, const char *name, const char *labels,
                                const char *help, metrics_read_cb fn, void *arg);
/* bounds: ascending upper bounds (copied), +Inf is implicit. */
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                 const char *help, const double *bounds, size_t nbounds);

void metric_inc(struct metric *c);
void metric_add(struct metric *c, double v);
void metric_set(struct metric *g, double v);
void metric_observe(struct metric *h, double v);
double metric_value(const struct metric *c); /* counter/gauge value, histogram count */

/* Latency buckets in seconds, 100 us .. 10 s, for metrics_histogram(). */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

/* The whole registry in Prometheus text format 0.0.4. Returns a malloc'd
 * string (caller frees) and its length in *len, or NULL on ENOMEM. */
char *metrics_render(struct metrics *m, size_t *len);

#endif
