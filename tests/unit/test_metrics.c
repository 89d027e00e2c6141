#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/metrics.h"

/* metrics_new() registers the process gauges first; the tests compare
 * everything from the first family they registered themselves. */
static char *render_from(struct metrics *m, const char *first_family)
{
    size_t len = 0;
    char *out = metrics_render(m, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    char *from = strstr(out, first_family);
    assert_non_null(from);
    char *copy = strdup(from);
    free(out);
    return copy;
}

static void test_counter_with_labels(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    assert_non_null(m);

    struct metric *get2 = metrics_counter(m, "hirewire_http_requests_total",
                                          "method=\"GET\",status=\"2xx\"", "HTTP requests.");
    struct metric *post4 = metrics_counter(m, "hirewire_http_requests_total",
                                           "method=\"POST\",status=\"4xx\"", "HTTP requests.");
    struct metric *drops = metrics_counter(m, "hirewire_ws_drops_total", NULL, "Dropped frames.");
    struct metric *conns = metrics_gauge(m, "hirewire_ws_connections", NULL, "Open sockets.");
    /* Registered after another family: must still render under the first
     * header of its name. */
    struct metric *get5 = metrics_counter(m, "hirewire_http_requests_total",
                                          "method=\"GET\",status=\"5xx\"", "HTTP requests.");
    assert_non_null(get2);
    assert_non_null(post4);
    assert_non_null(get5);

    metric_inc(get2);
    metric_inc(get2);
    metric_add(post4, 3);
    metric_add(post4, -1); /* counters never go down */
    metric_add(drops, 0.5);
    metric_set(conns, 12);
    metric_add(conns, -2);

    assert_true(metrics_counter(m, "hirewire_http_requests_total", "method=\"GET\",status=\"2xx\"",
                                "HTTP requests.") == get2);
    assert_null(metrics_gauge(m, "hirewire_ws_drops_total", NULL, "clash"));
    assert_true(metric_value(get2) == 2.0);
    assert_true(metric_value(conns) == 10.0);

    char *text = render_from(m, "# HELP hirewire_http_requests_total");
    assert_string_equal(text, "# HELP hirewire_http_requests_total HTTP requests.\n"
                              "# TYPE hirewire_http_requests_total counter\n"
                              "hirewire_http_requests_total{method=\"GET\",status=\"2xx\"} 2\n"
                              "hirewire_http_requests_total{method=\"POST\",status=\"4xx\"} 3\n"
                              "hirewire_http_requests_total{method=\"GET\",status=\"5xx\"} 0\n"
                              "# HELP hirewire_ws_drops_total Dropped frames.\n"
                              "# TYPE hirewire_ws_drops_total counter\n"
                              "hirewire_ws_drops_total 0.5\n"
                              "# HELP hirewire_ws_connections Open sockets.\n"
                              "# TYPE hirewire_ws_connections gauge\n"
                              "hirewire_ws_connections 10\n");
    free(text);
    metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    const double bounds[] = {0.01, 0.1, 1};
    struct metric *h = metrics_histogram(m, "hirewire_pg_query_seconds", "op=\"insert\"",
                                         "Statement latency.", bounds, 3);
    struct metric *plain = metrics_histogram(m, "hirewire_size_bytes", NULL, "Sizes.", bounds, 3);
    assert_non_null(h);
    assert_non_null(plain);

    metric_observe(h, 0.005);
    metric_observe(h, 0.01); /* on the bound: counts in le="0.01" */
    metric_observe(h, 0.5);
    metric_observe(h, 7);
    metric_observe(plain, 0.25);
    assert_true(metric_value(h) == 4.0);

    char *text = render_from(m, "# HELP hirewire_pg_query_seconds");
    assert_string_equal(text, "# HELP hirewire_pg_query_seconds Statement latency.\n"
                              "# TYPE hirewire_pg_query_seconds histogram\n"
                              "hirewire_pg_query_seconds_bucket{op=\"insert\",le=\"0.01\"} 2\n"
                              "hirewire_pg_query_seconds_bucket{op=\"insert\",le=\"0.1\"} 2\n"
                              "hirewire_pg_query_seconds_bucket{op=\"insert\",le=\"1\"} 3\n"
                              "hirewire_pg_query_seconds_bucket{op=\"insert\",le=\"+Inf\"} 4\n"
                              "hirewire_pg_query_seconds_sum{op=\"insert\"} 7.515\n"
                              "hirewire_pg_query_seconds_count{op=\"insert\"} 4\n"
                              "# HELP hirewire_size_bytes Sizes.\n"
                              "# TYPE hirewire_size_bytes histogram\n"
                              "hirewire_size_bytes_bucket{le=\"0.01\"} 0\n"
                              "hirewire_size_bytes_bucket{le=\"0.1\"} 0\n"
                              "hirewire_size_bytes_bucket{le=\"1\"} 1\n"
                              "hirewire_size_bytes_bucket{le=\"+Inf\"} 1\n"
                              "hirewire_size_bytes_sum 0.25\n"
                              "hirewire_size_bytes_count 1\n");
    free(text);
    metrics_free(m);
}

static void test_latency_bounds(void **state)
{
    (void)state;
    assert_int_equal(metrics_latency_nbounds, 16);
    assert_true(metrics_latency_bounds[0] == 0.0001);
    assert_true(metrics_latency_bounds[15] == 10);

    struct metrics *m = metrics_new();
    struct metric *h = metrics_histogram(m, "hirewire_lat_seconds", NULL, "Latency.",
                                         metrics_latency_bounds, metrics_latency_nbounds);
    metric_observe(h, 0.0003);
    char *text = render_from(m, "# HELP hirewire_lat_seconds");
    assert_non_null(strstr(text, "hirewire_lat_seconds_bucket{le=\"0.0001\"} 0\n"
                                 "hirewire_lat_seconds_bucket{le=\"0.00025\"} 0\n"
                                 "hirewire_lat_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "hirewire_lat_seconds_bucket{le=\"2.5\"} 1\n"
                                 "hirewire_lat_seconds_bucket{le=\"5\"} 1\n"
                                 "hirewire_lat_seconds_bucket{le=\"10\"} 1\n"
                                 "hirewire_lat_seconds_bucket{le=\"+Inf\"} 1\n"
                                 "hirewire_lat_seconds_sum 0.0003\n"));
    free(text);
    metrics_free(m);
}

static double read_forty_two(void *arg)
{
    return *(double *)arg;
}

static void test_gauge_fn_and_process(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    double v = 42.25;
    metrics_gauge_fn(m, "hirewire_queue_depth", "queue=\"pg\"", "Waiting statements.",
                     read_forty_two, &v);
    char *text = render_from(m, "# HELP hirewire_queue_depth");
    assert_string_equal(text, "# HELP hirewire_queue_depth Waiting statements.\n"
                              "# TYPE hirewire_queue_depth gauge\n"
                              "hirewire_queue_depth{queue=\"pg\"} 42.25\n");
    free(text);

    char *all = metrics_render(m, NULL);
    assert_non_null(all);
    assert_non_null(strstr(all, "# TYPE hirewire_process_resident_memory_bytes gauge\n"));
    char *start = strstr(all, "\nhirewire_process_start_time_seconds ");
    assert_non_null(start);
    assert_true(strtod(start + strlen("\nhirewire_process_start_time_seconds "), NULL) > 1.7e9);
    char *rss = strstr(all, "\nhirewire_process_resident_memory_bytes ");
    assert_non_null(rss);
    assert_true(strtod(rss + strlen("\nhirewire_process_resident_memory_bytes "), NULL) > 0);
    free(all);
    metrics_free(m);

    /* NULL metrics are ignored, as the header promises. */
    metric_inc(NULL);
    metric_observe(NULL, 1);
    metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_with_labels),
        cmocka_unit_test(test_histogram_cumulative),
        cmocka_unit_test(test_latency_bounds),
        cmocka_unit_test(test_gauge_fn_and_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
