#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hirewire/pg_stmt.h"

static void test_same_text_same_id(void **state)
{
    (void)state;
    struct pg_stmts *s = pg_stmts_new();
    assert_non_null(s);
    int a = pg_stmts_id(s, "SELECT 1");
    int b = pg_stmts_id(s, "SELECT 2");
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    /* The same text at another address is the same statement. */
    char copy[] = "SELECT 1";
    assert_int_equal(pg_stmts_id(s, copy), a);
    assert_int_equal(pg_stmts_count(s), 2);
    pg_stmts_free(s);
}

/* A buffer reused for another text must not find the first one's id. */
static void test_reused_buffer(void **state)
{
    (void)state;
    struct pg_stmts *s = pg_stmts_new();
    char buf[64];
    snprintf(buf, sizeof buf, "SELECT * FROM jobs WHERE id = $1");
    int a = pg_stmts_id(s, buf);
    snprintf(buf, sizeof buf, "DELETE FROM jobs WHERE id = $1");
    int b = pg_stmts_id(s, buf);
    assert_int_not_equal(a, b);
    assert_int_equal(pg_stmts_id(s, "SELECT * FROM jobs WHERE id = $1"), a);
    pg_stmts_free(s);
}

/* Long texts that differ only in the middle (where the hash does not look)
 * are still told apart. */
static void test_long_texts_differing_in_the_middle(void **state)
{
    (void)state;
    struct pg_stmts *s = pg_stmts_new();
    char x[1000], y[1000];
    memset(x, 'a', sizeof x - 1);
    x[sizeof x - 1] = '\0';
    memcpy(y, x, sizeof x);
    y[500] = 'b';
    int a = pg_stmts_id(s, x);
    int b = pg_stmts_id(s, y);
    assert_true(a >= 0 && b >= 0);
    assert_int_not_equal(a, b);
    assert_int_equal(pg_stmts_id(s, x), a);
    assert_int_equal(pg_stmts_id(s, y), b);
    pg_stmts_free(s);
}

/* Past PG_STMT_MAX texts no new id is given (the text runs unprepared),
 * while the known ones keep theirs. */
static void test_bounded(void **state)
{
    (void)state;
    struct pg_stmts *s = pg_stmts_new();
    char sql[64];
    for (int i = 0; i < PG_STMT_MAX; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(pg_stmts_id(s, sql), i);
    }
    assert_int_equal(pg_stmts_id(s, "SELECT 'one more'"), -1);
    assert_int_equal(pg_stmts_count(s), PG_STMT_MAX);
    for (int i = 0; i < PG_STMT_MAX; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(pg_stmts_id(s, sql), i);
    }
    pg_stmts_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_text_same_id),
        cmocka_unit_test(test_reused_buffer),
        cmocka_unit_test(test_long_texts_differing_in_the_middle),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
