#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hirewire/err.h"
#include "hirewire/lru.h"

/* The per-entry overhead is an implementation constant; learn it from the
 * map instead of copying it here. */
static size_t overhead(void)
{
    struct lru *l = lru_new(10, 1 << 20);
    assert_non_null(l);
    assert_int_equal(lru_set(l, "k", "v", 1, 0), 0);
    size_t o = lru_bytes(l) - 2;
    lru_free(l);
    return o;
}

static const char *get_str(struct lru *l, const char *key, int64_t now)
{
    size_t len = 0;
    const char *v = lru_get(l, key, now, &len);
    if (v)
        assert_int_equal(strlen(v), len); /* values are NUL-terminated for convenience */
    return v;
}

static void test_set_get_overwrite(void **state)
{
    struct lru *l = lru_new(10, 1 << 20);
    assert_null(get_str(l, "a", 0));
    assert_int_equal(lru_set(l, "a", "one", 3, 0), 0);
    assert_string_equal(get_str(l, "a", 0), "one");
    assert_int_equal(lru_set(l, "a", "three", 5, 0), 0);
    assert_string_equal(get_str(l, "a", 0), "three");
    assert_int_equal(lru_count(l), 1);
    assert_int_equal(lru_bytes(l), 1 + 5 + overhead());

    /* binary values and an empty value */
    const char bin[4] = {'x', '\0', 'y', '\0'};
    assert_int_equal(lru_set(l, "bin", bin, sizeof(bin), 0), 0);
    size_t len = 0;
    const char *v = lru_get(l, "bin", 0, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(v, bin, 4);
    assert_int_equal(lru_set(l, "empty", NULL, 0, 0), 0);
    v = lru_get(l, "empty", 0, &len);
    assert_non_null(v);
    assert_int_equal(len, 0);
    lru_free(l);
}

static void test_evict_by_count(void **state)
{
    struct lru *l = lru_new(3, 1 << 20);
    lru_set(l, "a", "1", 1, 0);
    lru_set(l, "b", "2", 1, 0);
    lru_set(l, "c", "3", 1, 0);
    assert_non_null(get_str(l, "a", 0)); /* a is now the most recent; b the least */
    lru_set(l, "d", "4", 1, 0);
    assert_int_equal(lru_count(l), 3);
    assert_null(get_str(l, "b", 0));
    assert_non_null(get_str(l, "a", 0));
    assert_non_null(get_str(l, "c", 0));
    assert_non_null(get_str(l, "d", 0));
    assert_int_equal(lru_evictions(l), 1);
    /* overwriting does not count as a new entry */
    lru_set(l, "c", "33", 2, 0);
    assert_int_equal(lru_count(l), 3);
    assert_int_equal(lru_evictions(l), 1);
    lru_free(l);
}

static void test_evict_by_bytes(void **state)
{
    size_t o = overhead();
    /* room for exactly three entries of key 1 byte + value 10 bytes */
    struct lru *l = lru_new(100, 3 * (o + 11));
    char val[10];
    memset(val, 'x', sizeof(val));
    lru_set(l, "a", val, 10, 0);
    lru_set(l, "b", val, 10, 0);
    lru_set(l, "c", val, 10, 0);
    assert_int_equal(lru_bytes(l), 3 * (o + 11));
    assert_non_null(get_str(l, "a", 0));
    /* a value 10 bytes bigger than the others pushes out two entries: b, then c */
    char big[20];
    memset(big, 'y', sizeof(big));
    lru_set(l, "d", big, sizeof(big), 0);
    assert_null(get_str(l, "b", 0));
    assert_null(get_str(l, "c", 0));
    assert_non_null(get_str(l, "a", 0));
    assert_non_null(get_str(l, "d", 0));
    assert_int_equal(lru_count(l), 2);
    assert_int_equal(lru_bytes(l), (o + 11) + (o + 21));
    assert_true(lru_bytes(l) <= 3 * (o + 11));
    assert_int_equal(lru_evictions(l), 2);
    lru_free(l);
}

static void test_expiry(void **state)
{
    struct lru *l = lru_new(10, 1 << 20);
    lru_set(l, "t", "v", 1, 1000);
    lru_set(l, "forever", "v", 1, 0);
    assert_non_null(get_str(l, "t", 999));
    assert_null(get_str(l, "t", 1000)); /* expired entries are removed on get */
    assert_int_equal(lru_count(l), 1);
    assert_non_null(get_str(l, "forever", INT64_MAX - 1));
    lru_free(l);
}

static void test_expired_evicted_first(void **state)
{
    struct lru *l = lru_new(3, 1 << 20);
    lru_set(l, "old", "1", 1, 0);
    lru_set(l, "dying", "2", 1, 500);
    lru_set(l, "young", "3", 1, 0);
    /* "old" is the least recently used, but once time has passed 500 "dying"
     * is dead weight and goes first. */
    assert_null(get_str(l, "absent", 600));
    lru_set(l, "new", "4", 1, 0);
    assert_non_null(get_str(l, "old", 600));
    assert_null(get_str(l, "dying", 600));
    assert_int_equal(lru_count(l), 3);
    assert_int_equal(lru_evictions(l), 0);
    lru_free(l);
}

static void test_e2big(void **state)
{
    size_t o = overhead();
    struct lru *l = lru_new(10, o + 10);
    assert_int_equal(lru_set(l, "k", "123456789", 9, 0), 0); /* exactly max_bytes */
    assert_int_equal(lru_set(l, "k", "1234567890", 10, 0), -E2BIG);
    /* the old value is dropped rather than served after a failed replace */
    assert_null(get_str(l, "k", 0));
    assert_int_equal(lru_count(l), 0);
    assert_int_equal(lru_bytes(l), 0);
    lru_free(l);
    assert_null(lru_new(0, 10));
    assert_null(lru_new(10, 0));
}

static void test_del(void **state)
{
    struct lru *l = lru_new(10, 1 << 20);
    lru_set(l, "a", "1", 1, 0);
    lru_set(l, "b", "2", 1, 0);
    assert_int_equal(lru_del(l, "a"), 0);
    assert_int_equal(lru_del(l, "a"), HW_ENOTFOUND);
    assert_null(get_str(l, "a", 0));
    assert_non_null(get_str(l, "b", 0));
    assert_int_equal(lru_count(l), 1);
    assert_int_equal(lru_bytes(l), 2 + overhead());
    assert_int_equal(lru_del(l, "b"), 0);
    assert_int_equal(lru_count(l), 0);
    assert_int_equal(lru_bytes(l), 0);
    lru_free(l);
}

static void test_del_glob(void **state)
{
    struct lru *l = lru_new(100, 1 << 20);
    lru_set(l, "jobs:1", "v", 1, 0);
    lru_set(l, "jobs:2", "v", 1, 0);
    lru_set(l, "jobs:list/all", "v", 1, 0);
    lru_set(l, "skills:1", "v", 1, 0);
    lru_set(l, "jobsx", "v", 1, 0);
    assert_int_equal(lru_del_glob(l, "jobs:?"), 2);
    /* flags 0: '*' crosses '/' as in Redis's MATCH */
    assert_int_equal(lru_del_glob(l, "jobs:*"), 1);
    assert_int_equal(lru_del_glob(l, "nothing*"), 0);
    assert_int_equal(lru_count(l), 2);
    assert_non_null(get_str(l, "skills:1", 0));
    assert_non_null(get_str(l, "jobsx", 0));
    assert_int_equal(lru_del_glob(l, "[sj]*"), 2);
    assert_int_equal(lru_count(l), 0);
    lru_free(l);
}

struct keys_seen {
    char keys[8][16];
    int n;
};

static void collect(void *arg, const char *key)
{
    struct keys_seen *s = arg;
    assert_true(s->n < 8);
    snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s", key);
}

static void test_keys_order(void **state)
{
    struct lru *l = lru_new(100, 1 << 20);
    lru_set(l, "a", "v", 1, 0);
    lru_set(l, "b", "v", 1, 0);
    lru_set(l, "c", "v", 1, 100);
    lru_set(l, "x", "v", 1, 0);
    get_str(l, "a", 0);
    struct keys_seen s = {.n = 0};
    lru_keys(l, "[abc]", 0, collect, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "a");
    assert_string_equal(s.keys[1], "c");
    assert_string_equal(s.keys[2], "b");
    /* expired keys are not listed */
    s.n = 0;
    lru_keys(l, "*", 100, collect, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "a");
    assert_string_equal(s.keys[1], "x");
    assert_string_equal(s.keys[2], "b");
    lru_free(l);
}

static void test_many_keys(void **state)
{
    enum { N = 100000 };
    struct lru *l = lru_new(N, (size_t)1 << 30);
    char key[32], val[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        int n = snprintf(val, sizeof(val), "val%d", i);
        assert_int_equal(lru_set(l, key, val, (size_t)n, 0), 0);
    }
    assert_int_equal(lru_count(l), N);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        snprintf(val, sizeof(val), "val%d", i);
        const char *v = get_str(l, key, 0);
        assert_non_null(v);
        assert_string_equal(v, val);
    }
    /* one more evicts exactly the least recently used: key:0 was read first */
    assert_int_equal(lru_set(l, "extra", "v", 1, 0), 0);
    assert_int_equal(lru_count(l), N);
    assert_null(get_str(l, "key:0", 0));
    assert_non_null(get_str(l, "key:1", 0));
    for (int i = 1; i < N; i += 2) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(lru_del(l, key), 0);
    }
    assert_int_equal(lru_count(l), N / 2);
    assert_int_equal(lru_del_glob(l, "key:*"), N / 2 - 1);
    assert_int_equal(lru_count(l), 1);
    lru_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_overwrite),
        cmocka_unit_test(test_evict_by_count),
        cmocka_unit_test(test_evict_by_bytes),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expired_evicted_first),
        cmocka_unit_test(test_e2big),
        cmocka_unit_test(test_del),
        cmocka_unit_test(test_del_glob),
        cmocka_unit_test(test_keys_order),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
