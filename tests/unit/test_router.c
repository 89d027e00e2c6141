#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hirewire/err.h"
#include "hirewire/router.h"

static void h_a(struct http_req *r) { (void)r; }
static void h_b(struct http_req *r) { (void)r; }
static void h_c(struct http_req *r) { (void)r; }

static const struct route routes[] = {
    {HTTP_GET | HTTP_POST, "/api/v1/jobs", h_a, 0},
    {HTTP_POST, "/api/v1/jobs/process", h_b, 0},
    {HTTP_GET | HTTP_PATCH | HTTP_DELETE, "/api/v1/jobs/{id}", h_c, 0},
    {HTTP_POST, "/api/v1/ats/jobs/{id}/status", h_b, 0},
    {HTTP_GET, "/", h_a, ROUTE_PUBLIC},
};
#define N (sizeof(routes) / sizeof(routes[0]))

static void test_literal(void **state)
{
    struct router_match m;
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/jobs", &m), 0);
    assert_ptr_equal(m.route, &routes[0]);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(router_match(routes, N, HTTP_GET, "/", &m), 0);
    assert_ptr_equal(m.route, &routes[4]);
}

static void test_literal_before_param(void **state)
{
    struct router_match m;
    assert_int_equal(router_match(routes, N, HTTP_POST, "/api/v1/jobs/process", &m), 0);
    assert_ptr_equal(m.route, &routes[1]);
    /* GET on /jobs/process falls through to the {id} route */
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/jobs/process", &m), 0);
    assert_ptr_equal(m.route, &routes[2]);
}

static void test_params(void **state)
{
    struct router_match m;
    assert_int_equal(router_match(routes, N, HTTP_POST, "/api/v1/ats/jobs/42/status", &m), 0);
    assert_ptr_equal(m.route, &routes[3]);
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.params[0].name_len, 2);
    assert_memory_equal(m.params[0].name, "id", 2);
    assert_int_equal(m.params[0].len, 2);
    assert_memory_equal(m.params[0].val, "42", 2);
}

static void test_not_found(void **state)
{
    struct router_match m;
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/nope", &m), HW_ENOTFOUND);
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/jobs/1/extra", &m), HW_ENOTFOUND);
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1", &m), HW_ENOTFOUND);
    /* an empty segment never fills a parameter */
    assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/jobs/", &m), HW_ENOTFOUND);
    assert_int_equal(router_match(routes, N, HTTP_GET, "", &m), HW_ENOTFOUND);
}

static void test_method_not_allowed(void **state)
{
    struct router_match m;
    char buf[64];
    assert_int_equal(router_match(routes, N, HTTP_PUT, "/api/v1/jobs/7", &m), HW_EMETHOD);
    assert_int_equal(m.allow, HTTP_GET | HTTP_HEAD | HTTP_PATCH | HTTP_DELETE | HTTP_OPTIONS);
    assert_string_equal(router_allow_str(m.allow, buf, sizeof(buf)),
                        "GET, HEAD, PATCH, DELETE, OPTIONS");
    assert_int_equal(router_match(routes, N, HTTP_DELETE, "/api/v1/jobs", &m), HW_EMETHOD);
    assert_string_equal(router_allow_str(m.allow, buf, sizeof(buf)),
                        "GET, HEAD, POST, OPTIONS");
}

static void test_head_matches_get(void **state)
{
    struct router_match m;
    assert_int_equal(router_match(routes, N, HTTP_HEAD, "/api/v1/jobs/9", &m), 0);
    assert_ptr_equal(m.route, &routes[2]);
}

static void test_method_names(void **state)
{
    assert_int_equal(router_method_parse("PATCH"), HTTP_PATCH);
    assert_int_equal(router_method_parse("patch"), 0);
    assert_int_equal(router_method_parse(NULL), 0);
    assert_string_equal(router_method_name(HTTP_DELETE), "DELETE");
    char small[8];
    assert_string_equal(router_allow_str(HTTP_GET | HTTP_POST | HTTP_DELETE, small, sizeof(small)),
                        "GET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_literal_before_param),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_head_matches_get),
        cmocka_unit_test(test_method_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
