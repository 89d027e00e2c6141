#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hirewire/api.h"
#include "hirewire/err.h"

static void test_statuses(void **state)
{
    static const struct {
        int err, status;
        const char *code;
    } cases[] = {
        {-EINVAL, 400, "bad_request"},
        {HW_EBADJSON, 400, "invalid_json"},
        {HW_EUNAUTH, 401, "unauthorized"},
        {HW_EFORBIDDEN, 403, "forbidden"},
        {HW_ENOTFOUND, 404, "not_found"},
        {HW_EMETHOD, 405, "method_not_allowed"},
        {HW_ECONFLICT, 409, "conflict"},
        {HW_EGONE, 410, "gone"},
        {HW_ELENGTH, 411, "length_required"},
        {HW_ETOOLARGE, 413, "payload_too_large"},
        {HW_EMEDIA, 415, "unsupported_media_type"},
        {HW_EVALIDATION, 422, "invalid_field"},
        {HW_ERATELIMIT, 429, "rate_limited"},
        {HW_EUNAVAIL, 503, "unavailable"},
        {-EBUSY, 503, "unavailable"},
        {HW_EDB, 500, "internal"},
        {HW_EINTERNAL, 500, "internal"},
        {-ENOMEM, 500, "internal"},
        {-12345, 500, "internal"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(api_error_status(cases[i].err), cases[i].status);
        assert_string_equal(api_error_code(cases[i].err), cases[i].code);
    }
}

static void test_every_hw_code_has_a_name(void **state)
{
    for (int e = HW_EINTERNAL; e <= HW_ENOTFOUND; e++) {
        assert_non_null(err_name(e));
        assert_string_not_equal(err_name(e), "unknown");
        assert_non_null(err_str(e));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_every_hw_code_has_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
