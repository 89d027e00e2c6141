/* API tokens: their shape, their hash, and the refusal of malformed ones
 * before any database work. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hirewire/err.h"
#include "hirewire/user_repo.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_generate_shape(void **state)
{
    (void)state;
    char tok[USER_TOKEN_LEN + 1];
    assert_int_equal(user_token_generate(tok, sizeof tok), 0);
    assert_int_equal(strlen(tok), USER_TOKEN_LEN);
    assert_int_equal(strlen(tok), 46);
    assert_memory_equal(tok, "hw_", 3);
    assert_int_equal(strspn(tok + 3, B64URL), 43);
    assert_true(user_token_valid(tok));
}

static void test_generate_differs(void **state)
{
    (void)state;
    char a[USER_TOKEN_LEN + 1], b[USER_TOKEN_LEN + 1];
    assert_int_equal(user_token_generate(a, sizeof a), 0);
    assert_int_equal(user_token_generate(b, sizeof b), 0);
    assert_string_not_equal(a, b);
}

static void test_generate_small_buffer(void **state)
{
    (void)state;
    char tok[USER_TOKEN_LEN] = "untouched";
    assert_int_equal(user_token_generate(tok, sizeof tok), -EINVAL);
    assert_string_equal(tok, "untouched");
}

/* 32 random bytes give 256 bits; the 43rd character carries the last 4 of
 * them and two zero bits, so it is one of 16 characters only. */
static void test_generate_last_char(void **state)
{
    (void)state;
    for (int i = 0; i < 64; i++) {
        char tok[USER_TOKEN_LEN + 1];
        assert_int_equal(user_token_generate(tok, sizeof tok), 0);
        const char *p = strchr(B64URL, tok[USER_TOKEN_LEN - 1]);
        assert_non_null(p);
        assert_int_equal((p - B64URL) % 4, 0);
    }
}

static void test_hash_vectors(void **state)
{
    (void)state;
    char hex[65];
    user_token_hash("abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    user_token_hash("", hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    user_token_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hash_of_token(void **state)
{
    (void)state;
    char tok[USER_TOKEN_LEN + 1], h1[65], h2[65];
    assert_int_equal(user_token_generate(tok, sizeof tok), 0);
    user_token_hash(tok, h1);
    user_token_hash(tok, h2);
    assert_string_equal(h1, h2);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(strspn(h1, "0123456789abcdef"), 64);
}

static void test_valid_rejects(void **state)
{
    (void)state;
    const char *good = "hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(strlen(good), USER_TOKEN_LEN);
    assert_true(user_token_valid(good));
    assert_true(user_token_valid("hw_-_0123456789abcdefghijklmnopqrstuvwxyzABCDE"));
    assert_false(user_token_valid(NULL));
    assert_false(user_token_valid(""));
    assert_false(user_token_valid("hw_"));
    /* one character short, one too many */
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* wrong prefix */
    assert_false(user_token_valid("HW_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(user_token_valid("xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(user_token_valid("hwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* standard base64, padding, blanks, URL escapes */
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%41"));
    assert_false(user_token_valid("hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
}

static int auth_calls;

static void auth_cb(void *arg, int err, int64_t user_id)
{
    (void)arg;
    (void)err;
    (void)user_id;
    auth_calls++;
}

/* A malformed token is refused before the pool is touched: no pool is given
 * here at all, and the callback must not run. */
static void test_auth_rejects_malformed(void **state)
{
    (void)state;
    auth_calls = 0;
    assert_int_equal(user_repo_auth(NULL, "nope", auth_cb, NULL), HW_EUNAUTH);
    assert_int_equal(user_repo_auth(NULL, "", auth_cb, NULL), HW_EUNAUTH);
    assert_int_equal(user_repo_auth(NULL, NULL, auth_cb, NULL), HW_EUNAUTH);
    assert_int_equal(
        user_repo_auth(NULL, "hw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", auth_cb, NULL),
        HW_EUNAUTH);
    assert_int_equal(auth_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_shape),        cmocka_unit_test(test_generate_differs),
        cmocka_unit_test(test_generate_small_buffer), cmocka_unit_test(test_generate_last_char),
        cmocka_unit_test(test_hash_vectors),          cmocka_unit_test(test_hash_of_token),
        cmocka_unit_test(test_valid_rejects),         cmocka_unit_test(test_auth_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
