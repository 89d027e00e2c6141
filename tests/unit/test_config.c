#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hirewire/config.h"
#include "hirewire/jsonx.h"

#include <jansson.h>

extern char **environ;

/* Every test runs in an empty scratch directory, so a config/hirewire.json
 * in the build tree cannot leak in, and with no HIREWIRE_* variable set. */
static char scratch[64];
static char source_root[4096];

static void clear_env(void)
{
    for (;;) {
        char **e = environ;
        while (*e &&
               (strncmp(*e, "HIREWIRE_", 9) != 0 || strncmp(*e, "HIREWIRE_SOURCE_ROOT=", 21) == 0))
            e++;
        if (!*e)
            break;
        char name[128];
        size_t len = strcspn(*e, "=");
        snprintf(name, sizeof(name), "%.*s", (int)len, *e);
        unsetenv(name);
    }
}

static int group_setup(void **state)
{
    (void)state;
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    snprintf(source_root, sizeof(source_root), "%s", root ? root : "");
    snprintf(scratch, sizeof(scratch), "/tmp/hirewire-config-XXXXXX");
    if (!mkdtemp(scratch) || chdir(scratch) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (chdir("/") != 0)
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/config/hirewire.json", scratch);
    unlink(path);
    snprintf(path, sizeof(path), "%s/config", scratch);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/c.json", scratch);
    unlink(path);
    rmdir(scratch);
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[160];
    snprintf(path, sizeof(path), "%s/%s", scratch, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.port, 8000);
    assert_string_equal(cfg.public_url, "");
    assert_int_equal(cfg.http_body_max, 1048576);
    assert_int_equal(cfg.http_timeout_s, 30);
    assert_int_equal(cfg.cors_origins_n, 14);
    assert_string_equal(cfg.cors_origins[0], "https://www.linkedin.com");
    assert_string_equal(cfg.cors_origins[13], "http://[::1]:*");
    assert_null(cfg.cors_origins[14]);
    assert_int_equal(cfg.fd_limit, 16384);
    assert_string_equal(cfg.pg_conninfo, "dbname=hirewire");
    assert_int_equal(cfg.pg_pool_size, 4);
    assert_int_equal(cfg.pg_queue_max, 1024);
    assert_int_equal(cfg.pg_connect_timeout_s, 5);
    assert_string_equal(cfg.redis_host, "");
    assert_int_equal(cfg.redis_port, 6379);
    assert_string_equal(cfg.redis_password, "");
    assert_int_equal(cfg.redis_db, 0);
    assert_string_equal(cfg.redis_prefix, "hirewire");
    assert_int_equal(cfg.cache_lru_entries, 10000);
    assert_int_equal(cfg.cache_lru_bytes, 67108864);
    assert_string_equal(cfg.log_level, "info");
    assert_string_equal(cfg.config_file, "");
    assert_int_equal(cfg.event_retention_days, 30);
    assert_int_equal(cfg.ws_queue_soft_msgs, 1024);
    assert_int_equal(cfg.ws_queue_soft_bytes, 1048576);
    assert_int_equal(cfg.ws_queue_hard_msgs, 4096);
    assert_int_equal(cfg.ws_queue_hard_bytes, 8388608);
    assert_int_equal(cfg.ws_soft_grace_s, 10);
    assert_int_equal(cfg.ws_ping_s, 30);
    assert_int_equal(cfg.ws_idle_s, 75);

    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    char want[300];
    snprintf(want, sizeof(want), "%s-%ld", host, (long)getpid());
    assert_string_equal(cfg.node_id, want);

    json_t *j = config_to_json(&cfg, true);
    assert_int_equal(json_object_size(j), 33);
    assert_int_equal(json_integer_value(json_object_get(j, "port")), 8000);
    assert_int_equal(json_array_size(json_object_get(j, "cors_origins")), 14);
    /* Empty secrets have nothing to hide. */
    assert_string_equal(json_string_value(json_object_get(j, "redis_password")), "");
    json_decref(j);

    config_free(&cfg);
    config_free(&cfg);
    assert_null(cfg.listen_host);
    assert_null(cfg.cors_origins);
}

static void test_precedence(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    const char *path = write_file("c.json", "{\"port\": 9001, \"redis_host\": \"file-host\","
                                            " \"pg_pool_size\": 8}");

    char *file_only[] = {"--config", (char *)path};
    assert_int_equal(config_load(&cfg, 2, file_only, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 9001);
    assert_string_equal(cfg.redis_host, "file-host");
    assert_string_equal(cfg.config_file, path);
    config_free(&cfg);

    setenv("HIREWIRE_CONFIG", path, 1);
    setenv("HIREWIRE_PORT", "9002", 1);
    setenv("HIREWIRE_PG_POOL_SIZE", "9", 1);
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 9002);
    assert_int_equal(cfg.pg_pool_size, 9);
    assert_string_equal(cfg.redis_host, "file-host");
    config_free(&cfg);

    char *flags[] = {"--port=9003", "--pg_pool_size", "10", "--redis-host", "flag-host"};
    assert_int_equal(config_load(&cfg, 5, flags, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 9003);
    assert_int_equal(cfg.pg_pool_size, 10);
    assert_string_equal(cfg.redis_host, "flag-host");
    assert_string_equal(cfg.config_file, path);
    config_free(&cfg);
}

static void test_default_file_in_cwd(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    assert_int_equal(mkdir("config", 0700), 0);
    write_file("config/hirewire.json", "{\"port\": 9100}");
    int rc = config_load(&cfg, 0, NULL, err, sizeof(err));
    unlink("config/hirewire.json");
    rmdir("config");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.port, 9100);
    assert_string_equal(cfg.config_file, "config/hirewire.json");
    config_free(&cfg);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    char *flags[] = {"--config=/nonexistent/hirewire.json"};
    assert_int_equal(config_load(&cfg, 1, flags, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "config_file: cannot read /nonexistent/hirewire.json: No such file "
                             "or directory (from flag --config)");
    assert_null(cfg.listen_host);

    setenv("HIREWIRE_CONFIG", "/nonexistent/env.json", 1);
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "config_file: cannot read /nonexistent/env.json: No such file or "
                             "directory (from environment HIREWIRE_CONFIG)");
}

static void expect_file_error(const char *text, const char *want_fmt)
{
    struct config cfg;
    char err[512], want[512];
    const char *path = write_file("c.json", text);
    char *flags[] = {"--config", (char *)path};
    assert_int_equal(config_load(&cfg, 2, flags, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), want_fmt, path);
    assert_string_equal(err, want);
    assert_null(cfg.pg_conninfo);
}

static void test_file_errors(void **state)
{
    (void)state;
    expect_file_error("{\"port\": 9000, \"bogus\": 1}", "bogus: unknown key (from file %s)");
    expect_file_error("{\"port\": \"8000\"}",
                      "port: \"8000\" is not an integer between 1 and 65535 (from file %s)");
    expect_file_error("{\"listen_host\": 5}", "listen_host: 5 is not a host name or address "
                                              "(from file %s)");
    expect_file_error("{\"cors_origins\": [\"https://a.example\", 3]}",
                      "cors_origins: [\"https://a.example\",3] is not a list of origin patterns "
                      "(from file %s)");
    expect_file_error("{\"config_file\": \"x\"}",
                      "config_file: cannot be set in a config file (from file %s)");
    expect_file_error("[1]", "config_file: %s does not hold a JSON object (from flag --config)");
    expect_file_error("{\"port\": 80,}", "config_file: %s is not valid JSON at line 1, column 13: "
                                         "string or '}' expected near '}' (from flag --config)");
}

static void expect_env_error(const char *name, const char *value, const char *want)
{
    struct config cfg;
    char err[512];
    clear_env();
    setenv(name, value, 1);
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, want);
    unsetenv(name);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_env_error("HIREWIRE_PORT", "abc",
                     "port: \"abc\" is not an integer between 1 and 65535 "
                     "(from environment HIREWIRE_PORT)");
    expect_env_error("HIREWIRE_PORT", "65536",
                     "port: \"65536\" is not an integer between 1 and 65535 "
                     "(from environment HIREWIRE_PORT)");
    expect_env_error("HIREWIRE_PORT", "1k",
                     "port: \"1k\" is not an integer between 1 and 65535 "
                     "(from environment HIREWIRE_PORT)");
    expect_env_error("HIREWIRE_PG_POOL_SIZE", "65",
                     "pg_pool_size: \"65\" is not an integer between 1 and 64 "
                     "(from environment HIREWIRE_PG_POOL_SIZE)");
    expect_env_error("HIREWIRE_LISTEN_HOST", "",
                     "listen_host: \"\" is not a host name or address "
                     "(from environment HIREWIRE_LISTEN_HOST)");
    expect_env_error("HIREWIRE_HTTP_BODY_MAX", "1.5M",
                     "http_body_max: \"1.5M\" is not a size between 1024 and 1073741824 bytes "
                     "(k, M, G suffixes allowed) (from environment HIREWIRE_HTTP_BODY_MAX)");
    expect_env_error("HIREWIRE_WS_QUEUE_SOFT_MSGS", "5000",
                     "ws_queue_soft_msgs: 5000 is not at most ws_queue_hard_msgs 4096 "
                     "(from environment HIREWIRE_WS_QUEUE_SOFT_MSGS; ws_queue_hard_msgs from "
                     "defaults)");
    expect_env_error("HIREWIRE_WS_IDLE_S", "30",
                     "ws_ping_s: 30 is not less than ws_idle_s 30 (from defaults; ws_idle_s "
                     "from environment HIREWIRE_WS_IDLE_S)");
    expect_env_error("HIREWIRE_PUBLIC_URL", "ftp://x",
                     "public_url: \"ftp://x\" is not empty or an http:// or https:// URL "
                     "(from environment HIREWIRE_PUBLIC_URL)");

    struct config cfg;
    char err[512];
    clear_env();
    char *level[] = {"--log-level=loud"};
    assert_int_equal(config_load(&cfg, 1, level, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "log_level: \"loud\" is not one of debug, info, warn, error "
                             "(from flag --log-level)");
    char *warning[] = {"--log-level=warning"};
    assert_int_equal(config_load(&cfg, 1, warning, err, sizeof(err)), 0);
    assert_string_equal(cfg.log_level, "warning");
    config_free(&cfg);
}

static void test_flag_errors(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];

    char *unknown[] = {"--nope=1"};
    assert_int_equal(config_load(&cfg, 1, unknown, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--nope: unknown flag (from the command line)");

    char *missing[] = {"--port"};
    assert_int_equal(config_load(&cfg, 1, missing, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "port: flag --port needs a value (from the command line)");

    char *swallowed[] = {"--public-url", "--port", "9000"};
    assert_int_equal(config_load(&cfg, 3, swallowed, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "public_url: flag --public-url needs a value (from the command line)");

    char *positional[] = {"--port=9000", "serve"};
    assert_int_equal(config_load(&cfg, 2, positional, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"serve\" is not a flag (from the command line)");

    char *readonly[] = {"--config-file=x"};
    assert_int_equal(config_load(&cfg, 1, readonly, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--config-file: unknown flag (from the command line)");

    char *noconfig[] = {"--config"};
    assert_int_equal(config_load(&cfg, 1, noconfig, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "config_file: flag --config needs a file name (from flags)");
}

static const char *redacted(const struct config *cfg, const char *key)
{
    static char buf[512];
    json_t *j = config_to_json(cfg, true);
    snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(j, key)));
    json_decref(j);
    return buf;
}

static void check_conninfo(const char *conninfo, const char *want)
{
    struct config cfg;
    char err[512];
    char flag[512];
    snprintf(flag, sizeof(flag), "--pg-conninfo=%s", conninfo);
    char *flags[] = {flag, "--redis-password", "hunter2"};
    assert_int_equal(config_load(&cfg, 3, flags, err, sizeof(err)), 0);
    assert_string_equal(cfg.pg_conninfo, conninfo);
    assert_string_equal(redacted(&cfg, "pg_conninfo"), want);
    assert_string_equal(redacted(&cfg, "redis_password"), "***");

    json_t *plain = config_to_json(&cfg, false);
    assert_string_equal(json_string_value(json_object_get(plain, "pg_conninfo")), conninfo);
    assert_string_equal(json_string_value(json_object_get(plain, "redis_password")), "hunter2");
    json_decref(plain);
    config_free(&cfg);
}

static void test_redaction(void **state)
{
    (void)state;
    check_conninfo("host=db user=app password=s3cret dbname=hirewire",
                   "host=db user=app password=*** dbname=hirewire");
    check_conninfo("password = 'a b\\' c' dbname=x", "password = *** dbname=x");
    check_conninfo("dbname=hirewire", "dbname=hirewire");
    check_conninfo("host=db passwordless=1", "host=db passwordless=1");
    check_conninfo("postgresql://app:s3cret@db:5432/hirewire?sslmode=require&password=x",
                   "postgresql://app:***@db:5432/hirewire?sslmode=require&password=***");
    check_conninfo("postgres://app@db/hirewire", "postgres://app@db/hirewire");

    /* A secret that fails validation is not echoed in the error. */
    struct config cfg;
    char err[512];
    const char *path = write_file("c.json", "{\"redis_password\": 1234}");
    char *flags[] = {"--config", (char *)path};
    assert_int_equal(config_load(&cfg, 2, flags, err, sizeof(err)), -EINVAL);
    char want[512];
    snprintf(want, sizeof(want), "redis_password: (hidden) is not a string (from file %s)", path);
    assert_string_equal(err, want);
}

static void test_lists(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];

    setenv("HIREWIRE_CORS_ORIGINS", " https://a.example , http://b.example:*,,", 1);
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.cors_origins_n, 2);
    assert_string_equal(cfg.cors_origins[0], "https://a.example");
    assert_string_equal(cfg.cors_origins[1], "http://b.example:*");
    assert_null(cfg.cors_origins[2]);
    config_free(&cfg);

    char *empty[] = {"--cors-origins="};
    assert_int_equal(config_load(&cfg, 1, empty, err, sizeof(err)), 0);
    assert_int_equal(cfg.cors_origins_n, 0);
    assert_false(config_origin_allowed(&cfg, "http://localhost"));
    config_free(&cfg);

    unsetenv("HIREWIRE_CORS_ORIGINS");
    const char *path = write_file("c.json", "{\"cors_origins\": [\"https://c.example\"]}");
    char *flags[] = {"--config", (char *)path};
    assert_int_equal(config_load(&cfg, 2, flags, err, sizeof(err)), 0);
    assert_int_equal(cfg.cors_origins_n, 1);
    assert_string_equal(cfg.cors_origins[0], "https://c.example");
    config_free(&cfg);

    setenv("HIREWIRE_CORS_ORIGINS", "https://ok.example, bad origin", 1);
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "cors_origins: \"https://ok.example, bad origin\" is not a list of "
                             "origin patterns (from environment HIREWIRE_CORS_ORIGINS)");
}

static void test_origin_matching(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), 0);
    assert_true(config_origin_allowed(&cfg, "chrome-extension://abc"));
    assert_true(config_origin_allowed(&cfg, "moz-extension://1234-abcd"));
    assert_true(config_origin_allowed(&cfg, "http://127.0.0.1:3000"));
    assert_true(config_origin_allowed(&cfg, "http://127.0.0.1"));
    assert_true(config_origin_allowed(&cfg, "http://localhost:8000"));
    assert_true(config_origin_allowed(&cfg, "HTTP://LocalHost:8000"));
    assert_true(config_origin_allowed(&cfg, "http://[::1]:8080"));
    assert_true(config_origin_allowed(&cfg, "https://www.linkedin.com"));
    assert_true(config_origin_allowed(&cfg, "https://indeed.com"));
    assert_false(config_origin_allowed(&cfg, "https://www.linkedin.com.evil.example"));
    assert_false(config_origin_allowed(&cfg, "https://evil.example"));
    assert_false(config_origin_allowed(&cfg, "http://127.0.0.2:3000"));
    assert_false(config_origin_allowed(&cfg, "https://localhost"));
    assert_false(config_origin_allowed(&cfg, "null"));
    assert_false(config_origin_allowed(&cfg, ""));
    assert_false(config_origin_allowed(&cfg, NULL));
    assert_false(config_origin_allowed(NULL, "http://localhost"));
    config_free(&cfg);
}

static void test_size_suffix(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];

    setenv("HIREWIRE_WS_QUEUE_HARD_BYTES", "16MiB", 1);
    const char *path = write_file("c.json", "{\"cache_lru_bytes\": \"1G\"}");
    char *flags[] = {"--http-body-max=64k", "--ws_queue_soft_bytes", "2mb", "--config",
                     (char *)path};
    assert_int_equal(config_load(&cfg, 5, flags, err, sizeof(err)), 0);
    assert_int_equal(cfg.http_body_max, 65536);
    assert_int_equal(cfg.ws_queue_soft_bytes, 2097152);
    assert_int_equal(cfg.ws_queue_hard_bytes, 16777216);
    assert_int_equal(cfg.cache_lru_bytes, 1073741824);
    config_free(&cfg);

    char *huge[] = {"--http-body-max=9999999999999999G"};
    assert_int_equal(config_load(&cfg, 1, huge, err, sizeof(err)), -EINVAL);
}

/* The shipped config/hirewire.json documents the defaults; it must agree with
 * the table in config.c. */
/* Values in error sentences (config, sequences) are cut whole characters at
 * a time: "é" is two bytes, and a cut inside one would be invalid UTF-8. */
static void test_value_repr(void **state)
{
    (void)state;
    char buf[64];
    json_t *v = json_string("abcdefgh");
    jsonx_repr(v, 100, buf, sizeof buf);
    assert_string_equal(buf, "\"abcdefgh\"");
    jsonx_repr(v, 8, buf, sizeof buf);
    assert_string_equal(buf, "\"abc...");
    json_decref(v);
    v = json_string("\u00e9\u00e9\u00e9");
    jsonx_repr(v, 7, buf, sizeof buf); /* the quote and one é */
    assert_string_equal(buf, "\"\xc3\xa9...");
    jsonx_repr(v, 6, buf, sizeof buf); /* two bytes would split the é */
    assert_string_equal(buf, "\"...");
    json_decref(v);
    jsonx_repr(NULL, 8, buf, sizeof buf);
    assert_string_equal(buf, "(unprintable)");
}

static void test_shipped_file_matches_defaults(void **state)
{
    (void)state;
    if (!source_root[0])
        skip();
    struct config defaults, shipped;
    char err[512], path[4200];
    snprintf(path, sizeof(path), "%s/config/hirewire.json", source_root);
    char *flags[] = {"--config", path};
    assert_int_equal(config_load(&defaults, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(config_load(&shipped, 2, flags, err, sizeof(err)), 0);
    assert_string_equal(shipped.config_file, path);

    json_t *a = config_to_json(&defaults, false);
    json_t *b = config_to_json(&shipped, false);
    json_object_del(a, "config_file");
    json_object_del(b, "config_file");
    assert_true(json_equal(a, b));

    /* And it names every key, so it doubles as the reference of all settings. */
    json_error_t jerr;
    json_t *file = json_load_file(path, 0, &jerr);
    assert_non_null(file);
    assert_int_equal(json_object_size(file), json_object_size(a));
    json_decref(file);
    json_decref(a);
    json_decref(b);
    config_free(&defaults);
    config_free(&shipped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, test_setup),
        cmocka_unit_test_setup(test_precedence, test_setup),
        cmocka_unit_test_setup(test_default_file_in_cwd, test_setup),
        cmocka_unit_test_setup(test_missing_file, test_setup),
        cmocka_unit_test_setup(test_file_errors, test_setup),
        cmocka_unit_test_setup(test_bad_values, test_setup),
        cmocka_unit_test_setup(test_flag_errors, test_setup),
        cmocka_unit_test_setup(test_redaction, test_setup),
        cmocka_unit_test_setup(test_lists, test_setup),
        cmocka_unit_test_setup(test_origin_matching, test_setup),
        cmocka_unit_test_setup(test_size_suffix, test_setup),
        cmocka_unit_test_setup(test_shipped_file_matches_defaults, test_setup),
        cmocka_unit_test(test_value_repr),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
