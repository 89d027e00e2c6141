#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hirewire/auth.h"
#include "hirewire/err.h"

static void test_bearer(void **state)
{
    char tok[AUTH_TOKEN_MAX + 1];

    assert_int_equal(auth_parse_bearer("Bearer hw_abc", tok, sizeof(tok)), 0);
    assert_string_equal(tok, "hw_abc");
    assert_int_equal(auth_parse_bearer("  bearer   hw_x  ", tok, sizeof(tok)), 0);
    assert_string_equal(tok, "hw_x");
    assert_int_equal(auth_parse_bearer("BEARER\thw_y", tok, sizeof(tok)), 0);
    assert_string_equal(tok, "hw_y");
}

static void test_bearer_rejects(void **state)
{
    char tok[AUTH_TOKEN_MAX + 1], big[AUTH_TOKEN_MAX + 20];

    assert_int_equal(auth_parse_bearer(NULL, tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("", tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Basic dXNlcjpwYXNz", tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Bearer", tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Bearer ", tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Bearerhw_abc", tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Bearer a b", tok, sizeof(tok)), HW_EUNAUTH);
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', sizeof(big) - 8);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(auth_parse_bearer(big, tok, sizeof(tok)), HW_EUNAUTH);
    assert_int_equal(auth_parse_bearer("Bearer abcdef", tok, 4), HW_EUNAUTH);
}

static void test_capability(void **state)
{
    char tok[AUTH_TOKEN_MAX + 1];
    const char *rest = NULL;

    assert_int_equal(auth_split_capability("/u/hw_t/api/v1/jobs", tok, sizeof(tok), &rest), 1);
    assert_string_equal(tok, "hw_t");
    assert_string_equal(rest, "/api/v1/jobs");
    assert_int_equal(auth_split_capability("/u/hw_t", tok, sizeof(tok), &rest), 1);
    assert_string_equal(rest, "");
    assert_int_equal(auth_split_capability("/api/v1/u/x", tok, sizeof(tok), &rest), 0);
    assert_int_equal(auth_split_capability("/users", tok, sizeof(tok), &rest), 0);
    assert_int_equal(auth_split_capability("/u//api", tok, sizeof(tok), &rest), HW_EUNAUTH);
    assert_int_equal(auth_split_capability("/u/", tok, sizeof(tok), &rest), HW_EUNAUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_bearer_rejects),
        cmocka_unit_test(test_capability),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
