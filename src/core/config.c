/* Settings, described by one table.
 *
 * Every key of struct config is one row of config_keys[] below: its name (the
 * field name, also the JSON key, the flag "--name" and the environment
 * variable HIREWIRE_NAME), its type, default, limits and whether it is a
 * secret. Defaults, the config file, the environment and the flags all go
 * through config_set(), so a value is parsed and validated the same way
 * whichever source it came from, and the error names that source. Adding a
 * setting is adding a field and a row; nothing else changes. */
#include "hirewire/config.h"
#include "hirewire/jsonx.h"
#include "hirewire/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_ENV_PREFIX "HIREWIRE_"
#define CONFIG_ENV_FILE "HIREWIRE_CONFIG"
#define CONFIG_DEFAULT_FILE "config/hirewire.json"
#define CONFIG_SRC_MAX 96

enum config_type {
    CFG_STRING,
    CFG_INT,
    CFG_INT64,
    CFG_LIST,
};

enum {
    CFG_SECRET = 1 << 0,   /* hidden by config_to_json(redact) */
    CFG_SIZE = 1 << 1,     /* a byte count: "64k", "1MiB" accepted */
    CFG_READONLY = 1 << 2, /* reported, but set only by config_load itself */
};

struct config_key {
    const char *name;
    enum config_type type;
    size_t off;   /* offsetof the field in struct config */
    size_t n_off; /* lists: offsetof the element count */
    const char *def_str;
    int64_t def_int;
    const char *const *def_list; /* NULL-terminated */
    int64_t min, max;
    unsigned flags;
    /* Strings and list elements: returns true when the value is acceptable;
     * expect completes "is not ..." in the error sentence. */
    bool (*valid)(const char *value);
    const char *expect;
    const char *desc;
};

/* A token for hosts, prefixes, origins: non-empty, no spaces or controls. */
static bool valid_token(const char *v)
{
    if (!*v)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p <= ' ' || *p == 0x7f)
            return false;
    }
    return true;
}

static bool valid_node_id(const char *v)
{
    return !*v || (strlen(v) <= 128 && valid_token(v));
}

static bool valid_url(const char *v)
{
    if (!*v)
        return true;
    return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) && valid_token(v) &&
           strlen(v) > 8;
}

static bool valid_log_level(const char *v)
{
    return log_level_parse(v, NULL) == 0;
}

static const char *const default_cors_origins[] = {
    "https://www.linkedin.com",
    "https://www.indeed.com",
    "https://www.glassdoor.com",
    "https://linkedin.com",
    "https://indeed.com",
    "https://glassdoor.com",
    "chrome-extension://*",
    "moz-extension://*",
    "http://localhost",
    "http://localhost:*",
    "http://127.0.0.1",
    "http://127.0.0.1:*",
    "http://[::1]",
    "http://[::1]:*",
    NULL,
};

/* Each row macro stays on one line; clang-format would break them apart. */
// clang-format off
#define OFF(field) offsetof(struct config, field)
#define STR(field, def, flags, valid, expect, desc)                                                \
    {#field, CFG_STRING, OFF(field), 0, def, 0, NULL, 0, 0, flags, valid, expect, desc}
#define INT(field, def, min, max, desc)                                                            \
    {#field, CFG_INT, OFF(field), 0, NULL, def, NULL, min, max, 0, NULL, NULL, desc}
#define SIZE(field, def, min, max, desc)                                                           \
    {#field, CFG_INT64, OFF(field), 0, NULL, def, NULL, min, max, CFG_SIZE, NULL, NULL, desc}
#define LIST(field, def, valid, expect, desc)                                                      \
    {#field, CFG_LIST, OFF(field), OFF(field##_n), NULL, 0, def, 0, 0, 0, valid, expect, desc}
// clang-format on

#define KiB INT64_C(1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

static const struct config_key config_keys[] = {
    STR(listen_host, "127.0.0.1", 0, valid_token, "a host name or address",
        "address the HTTP server listens on"),
    INT(port, 8000, 1, 65535, "TCP port of the HTTP server"),
    STR(public_url, "", 0, valid_url, "empty or an http:// or https:// URL",
        "base URL clients reach this node at; empty derives it from listen_host:port"),
    SIZE(http_body_max, 1 * MiB, 1 * KiB, 1 * GiB, "largest accepted request body"),
    INT(http_timeout_s, 30, 1, 3600, "seconds before an unanswered request is dropped"),
    LIST(cors_origins, default_cors_origins, valid_token, "a list of origin patterns",
         "origins allowed by CORS, '*' matches any characters"),
    INT(fd_limit, 16384, 64, 1048576, "most sockets the server sizes its tables for"),
    STR(pg_conninfo, "dbname=hirewire", CFG_SECRET, NULL, NULL,
        "libpq connection string or postgresql:// URI"),
    INT(pg_pool_size, 4, 1, 64, "PostgreSQL connections in the pool"),
    INT(pg_queue_max, 1024, 1, 1000000, "statements that may wait for a free connection"),
    INT(pg_connect_timeout_s, 5, 1, 300, "seconds to wait for a PostgreSQL connection"),
    STR(redis_host, "", 0, NULL, NULL, "Redis host; empty runs a single node without Redis"),
    INT(redis_port, 6379, 1, 65535, "Redis TCP port"),
    STR(redis_password, "", CFG_SECRET, NULL, NULL, "Redis AUTH password"),
    INT(redis_db, 0, 0, 1023, "Redis database number"),
    STR(redis_prefix, "hirewire", 0, valid_token, "a prefix without spaces",
        "prefix of every Redis key and channel"),
    INT(cache_lru_entries, 10000, 1, 100000000, "entries of the in-process cache"),
    SIZE(cache_lru_bytes, 64 * MiB, 1 * KiB, 64 * GiB, "bytes of the in-process cache"),
    STR(log_level, "info", 0, valid_log_level, "one of debug, info, warn, error",
        "least severe level that is logged"),
    STR(node_id, "", 0, valid_node_id, "a name without spaces of at most 128 bytes",
        "name of this node; empty uses hostname-pid"),
    STR(config_file, "", CFG_READONLY, NULL, NULL, "the config file that was read"),
    INT(event_retention_days, 30, 1, 36500, "days events are kept for resume"),
    STR(sequences_file, "config/sequences.json", 0, NULL, NULL,
        "follow-up sequences (read at start; an error names the entry)"),
    INT(followup_batch, 500, 1, 10000, "due follow-ups one node fires per statement"),
    INT(reaction_retry_s, 30, 1, 86400,
        "seconds after which reactions an event still lacks are run again by any node"),
    INT(reaction_sweep_s, 10, 1, 3600, "seconds between looks for events whose reactions failed"),
    INT(ws_queue_soft_msgs, 1024, 1, 1000000, "WebSocket queue soft limit in messages"),
    SIZE(ws_queue_soft_bytes, 1 * MiB, 1 * KiB, 1 * GiB, "WebSocket queue soft limit in bytes"),
    INT(ws_queue_hard_msgs, 4096, 1, 1000000, "WebSocket queue hard limit in messages"),
    SIZE(ws_queue_hard_bytes, 8 * MiB, 1 * KiB, 1 * GiB, "WebSocket queue hard limit in bytes"),
    INT(ws_soft_grace_s, 10, 0, 3600, "seconds a queue may stay over its soft limit"),
    INT(ws_ping_s, 30, 1, 3600, "seconds of silence before the server pings a client"),
    INT(ws_idle_s, 75, 2, 86400, "seconds of silence before a client is dropped"),
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Where each key's current value came from, for error sentences. */
struct config_load_state {
    char src[CONFIG_NKEYS][CONFIG_SRC_MAX];
};

static __attribute__((format(printf, 3, 4))) int config_fail(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static const struct config_key *config_key_find(const char *name, size_t len)
{
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        if (strlen(config_keys[i].name) == len && strncmp(config_keys[i].name, name, len) == 0)
            return &config_keys[i];
    }
    return NULL;
}

static char **field_str(struct config *cfg, const struct config_key *k)
{
    return (char **)((char *)cfg + k->off);
}

static char ***field_list(struct config *cfg, const struct config_key *k)
{
    return (char ***)((char *)cfg + k->off);
}

static size_t *field_list_n(struct config *cfg, const struct config_key *k)
{
    return (size_t *)((char *)cfg + k->n_off);
}

static int64_t field_int_get(const struct config *cfg, const struct config_key *k)
{
    const char *p = (const char *)cfg + k->off;
    return k->type == CFG_INT ? *(const int *)p : *(const int64_t *)p;
}

static void field_int_set(struct config *cfg, const struct config_key *k, int64_t v)
{
    char *p = (char *)cfg + k->off;
    if (k->type == CFG_INT)
        *(int *)p = (int)v;
    else
        *(int64_t *)p = v;
}

static void list_free(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

/* Appends a copy of s[0..len) to a NULL-terminated list. */
static int list_push(char ***list, size_t *n, const char *s, size_t len)
{
    char **grown = realloc(*list, (*n + 2) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    *list = grown;
    grown[*n] = strndup(s, len);
    if (!grown[*n])
        return -ENOMEM;
    grown[++*n] = NULL;
    return 0;
}

/* "a, b,,c" -> {"a","b","c"}: spaces around items and empty items are
 * dropped, so "" is the empty list. */
static int list_split(const char *text, char ***out, size_t *n_out)
{
    char **list = calloc(1, sizeof(char *));
    size_t n = 0;
    if (!list)
        return -ENOMEM;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s && list_push(&list, &n, s, (size_t)(e - s)) != 0) {
            list_free(list);
            return -ENOMEM;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *out = list;
    *n_out = n;
    return 0;
}

/* Parses a decimal integer, with a binary size suffix when allowed. */
static bool parse_int(const char *text, bool size, int64_t *out)
{
    static const struct {
        const char *suffix;
        int64_t mult;
    } units[] = {
        {"", 1},     {"b", 1},     {"k", KiB}, {"kb", KiB}, {"kib", KiB}, {"m", MiB},
        {"mb", MiB}, {"mib", MiB}, {"g", GiB}, {"gb", GiB}, {"gib", GiB},
    };

    if (!isdigit((unsigned char)text[0]) && !(text[0] == '-' && isdigit((unsigned char)text[1])))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].suffix) != 0)
            continue;
        if (i > 0 && !size)
            return false;
        if (v > INT64_MAX / units[i].mult || v < INT64_MIN / units[i].mult)
            return false;
        *out = (int64_t)v * units[i].mult;
        return true;
    }
    return false;
}

/* The value as it appears in an error sentence: text quoted as a JSON string,
 * JSON shown compactly, both cut short, secrets never shown. */
static void config_value_repr(const struct config_key *k, const char *text, const json_t *json,
                              char *buf, size_t n)
{
    if (k->flags & CFG_SECRET) {
        snprintf(buf, n, "(hidden)");
        return;
    }
    json_t *tmp = text ? json_string(text) : NULL;
    jsonx_repr(text ? tmp : json, 64, buf, n);
    json_decref(tmp);
}

static void config_expectation(const struct config_key *k, char *buf, size_t n)
{
    switch (k->type) {
    case CFG_INT:
        snprintf(buf, n, "an integer between %lld and %lld", (long long)k->min, (long long)k->max);
        break;
    case CFG_INT64:
        snprintf(buf, n, "a size between %lld and %lld bytes (k, M, G suffixes allowed)",
                 (long long)k->min, (long long)k->max);
        break;
    case CFG_STRING:
        snprintf(buf, n, "%s", k->expect ? k->expect : "a string");
        break;
    case CFG_LIST:
        snprintf(buf, n, "%s", k->expect ? k->expect : "a list of strings");
        break;
    }
}

static int config_bad_value(const struct config_key *k, const char *text, const json_t *json,
                            const char *source, char *err, size_t errlen)
{
    char repr[80], expect[96];
    config_value_repr(k, text, json, repr, sizeof(repr));
    config_expectation(k, expect, sizeof(expect));
    return config_fail(err, errlen, "%s: %s is not %s (from %s)", k->name, repr, expect, source);
}

static int config_set_list(struct config *cfg, const struct config_key *k, const char *text,
                           const json_t *json, char ***list, size_t *n)
{
    if (text)
        return list_split(text, list, n);
    if (json_is_string(json))
        return list_split(json_string_value(json), list, n);
    if (!json_is_array(json))
        return -EINVAL;
    *list = calloc(1, sizeof(char *));
    *n = 0;
    if (!*list)
        return -ENOMEM;
    size_t i;
    json_t *item;
    json_array_foreach(json, i, item)
    {
        if (!json_is_string(item))
            return -EINVAL;
        if (list_push(list, n, json_string_value(item), json_string_length(item)) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* The one way a value enters a config: from text (environment, flags) or
 * from a JSON value (defaults, the config file); exactly one of text and json
 * is non-NULL. Validates, replaces the old value, and on failure writes the
 * sentence naming key, value and source. */
static int config_set(struct config *cfg, const struct config_key *k, const char *text,
                      const json_t *json, const char *source, char *err, size_t errlen)
{
    switch (k->type) {
    case CFG_STRING: {
        const char *s = text;
        if (!s && json_is_string(json) &&
            strlen(json_string_value(json)) == json_string_length(json))
            s = json_string_value(json);
        if (!s || (k->valid && !k->valid(s)))
            return config_bad_value(k, text, json, source, err, errlen);
        char *copy = strdup(s);
        if (!copy)
            return config_fail(err, errlen, "%s: out of memory (from %s)", k->name, source);
        free(*field_str(cfg, k));
        *field_str(cfg, k) = copy;
        return 0;
    }
    case CFG_INT:
    case CFG_INT64: {
        int64_t v;
        bool ok;
        if (text)
            ok = parse_int(text, k->flags & CFG_SIZE, &v);
        else if (json_is_integer(json))
            ok = (v = json_integer_value(json), true);
        else if (json_is_string(json) && (k->flags & CFG_SIZE))
            ok = parse_int(json_string_value(json), true, &v);
        else
            ok = false;
        if (!ok || v < k->min || v > k->max)
            return config_bad_value(k, text, json, source, err, errlen);
        field_int_set(cfg, k, v);
        return 0;
    }
    case CFG_LIST: {
        char **list = NULL;
        size_t n = 0;
        int rc = config_set_list(cfg, k, text, json, &list, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (k->valid && !k->valid(list[i]))
                rc = -EINVAL;
        }
        if (rc != 0) {
            list_free(list);
            if (rc == -ENOMEM)
                return config_fail(err, errlen, "%s: out of memory (from %s)", k->name, source);
            return config_bad_value(k, text, json, source, err, errlen);
        }
        list_free(*field_list(cfg, k));
        *field_list(cfg, k) = list;
        *field_list_n(cfg, k) = n;
        return 0;
    }
    }
    return -EINVAL;
}

static void config_note_source(struct config_load_state *st, const struct config_key *k,
                               const char *source)
{
    snprintf(st->src[k - config_keys], CONFIG_SRC_MAX, "%s", source);
}

static int config_apply_defaults(struct config *cfg, struct config_load_state *st, char *err,
                                 size_t errlen)
{
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        json_t *v = NULL;
        switch (k->type) {
        case CFG_STRING:
            v = json_string(k->def_str);
            break;
        case CFG_INT:
        case CFG_INT64:
            v = json_integer(k->def_int);
            break;
        case CFG_LIST:
            v = json_array();
            for (const char *const *p = k->def_list; v && p && *p; p++)
                json_array_append_new(v, json_string(*p));
            break;
        }
        if (!v)
            return config_fail(err, errlen, "%s: out of memory (from defaults)", k->name);
        int rc = config_set(cfg, k, NULL, v, "defaults", err, errlen);
        json_decref(v);
        if (rc != 0)
            return rc;
        config_note_source(st, k, "defaults");
    }
    return 0;
}

/* Matches "--key" (with '-' or '_') against the table; flag points past
 * the dashes and len stops before any '='. */
static const struct config_key *config_flag_key(const char *flag, size_t len)
{
    char name[64];
    if (len == 0 || len >= sizeof(name))
        return NULL;
    for (size_t i = 0; i < len; i++)
        name[i] = flag[i] == '-' ? '_' : flag[i];
    return config_key_find(name, len);
}

/* Finds the config file: --config, then HIREWIRE_CONFIG, then the default
 * path when it exists; src names where the path came from. *path is NULL
 * when there is no file to read, which is not an error. */
static int config_locate_file(int argc, char **argv, const char **path, char *src, size_t srclen,
                              char *err, size_t errlen)
{
    *path = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0) {
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                return config_fail(err, errlen,
                                   "config_file: flag --config needs a file name (from flags)");
            *path = argv[++i];
            snprintf(src, srclen, "flag --config");
        } else if (strncmp(a, "--config=", 9) == 0) {
            *path = a + 9;
            snprintf(src, srclen, "flag --config");
        }
    }
    if (!*path) {
        const char *env = getenv(CONFIG_ENV_FILE);
        if (env && *env) {
            *path = env;
            snprintf(src, srclen, "environment %s", CONFIG_ENV_FILE);
        }
    }
    if (!*path && access(CONFIG_DEFAULT_FILE, F_OK) == 0) {
        *path = CONFIG_DEFAULT_FILE;
        snprintf(src, srclen, "default path");
    }
    if (*path && !**path)
        return config_fail(err, errlen, "config_file: \"\" is not a file name (from %s)", src);
    return 0;
}

static int config_apply_file(struct config *cfg, struct config_load_state *st, const char *path,
                             const char *path_src, char *err, size_t errlen)
{
    json_error_t jerr;
    char source[CONFIG_SRC_MAX];
    int rc = 0;

    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (access(path, R_OK) != 0)
            return config_fail(err, errlen, "config_file: cannot read %s: %s (from %s)", path,
                               strerror(errno), path_src);
        return config_fail(err, errlen,
                           "config_file: %s is not valid JSON at line %d, column %d: %s "
                           "(from %s)",
                           path, jerr.line, jerr.column, jerr.text, path_src);
    }
    if (!json_is_object(root)) {
        rc = config_fail(err, errlen, "config_file: %s does not hold a JSON object (from %s)", path,
                         path_src);
        goto out;
    }
    snprintf(source, sizeof(source), "file %s", path);
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        const struct config_key *k = config_key_find(key, strlen(key));
        if (!k) {
            rc = config_fail(err, errlen, "%s: unknown key (from %s)", key, source);
            goto out;
        }
        if (k->flags & CFG_READONLY) {
            rc = config_fail(err, errlen, "%s: cannot be set in a config file (from %s)", key,
                             source);
            goto out;
        }
        rc = config_set(cfg, k, NULL, value, source, err, errlen);
        if (rc != 0)
            goto out;
        config_note_source(st, k, source);
    }
    rc = config_set(cfg, config_key_find("config_file", 11), path, NULL, source, err, errlen);
out:
    json_decref(root);
    return rc;
}

static int config_apply_env(struct config *cfg, struct config_load_state *st, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->flags & CFG_READONLY)
            continue;
        char name[80];
        size_t pl = strlen(CONFIG_ENV_PREFIX);
        snprintf(name, sizeof(name), "%s%s", CONFIG_ENV_PREFIX, k->name);
        for (char *p = name + pl; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        const char *v = getenv(name);
        if (!v)
            continue;
        char source[CONFIG_SRC_MAX];
        snprintf(source, sizeof(source), "environment %s", name);
        int rc = config_set(cfg, k, v, NULL, source, err, errlen);
        if (rc != 0)
            return rc;
        config_note_source(st, k, source);
    }
    return 0;
}

static int config_apply_flags(struct config *cfg, struct config_load_state *st, int argc,
                              char **argv, char *err, size_t errlen)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return config_fail(err, errlen, "\"%s\" is not a flag (from the command line)", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;

        if (len == 6 && strncmp(name, "config", 6) == 0) {
            if (!eq)
                i++; /* the file name, read by config_locate_file() */
            continue;
        }
        const struct config_key *k = config_flag_key(name, len);
        if (!k || (k->flags & CFG_READONLY))
            return config_fail(err, errlen, "--%.*s: unknown flag (from the command line)",
                               (int)len, name);
        if (!value) {
            /* "--public-url --port 9000" lost its value; a value that really
             * starts with "--" can still be given as --key=--value. */
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                return config_fail(err, errlen,
                                   "%s: flag --%.*s needs a value (from the "
                                   "command line)",
                                   k->name, (int)len, name);
            value = argv[++i];
        }
        char source[CONFIG_SRC_MAX];
        snprintf(source, sizeof(source), "flag --%.*s", (int)len, name);
        int rc = config_set(cfg, k, value, NULL, source, err, errlen);
        if (rc != 0)
            return rc;
        config_note_source(st, k, source);
    }
    return 0;
}

/* Limits that involve two keys, checked once every source has been applied. */
static int config_check_pairs(const struct config *cfg, const struct config_load_state *st,
                              char *err, size_t errlen)
{
    static const struct {
        const char *low, *high;
        bool strict;
    } pairs[] = {
        {"ws_queue_soft_msgs", "ws_queue_hard_msgs", false},
        {"ws_queue_soft_bytes", "ws_queue_hard_bytes", false},
        {"ws_ping_s", "ws_idle_s", true},
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const struct config_key *lo = config_key_find(pairs[i].low, strlen(pairs[i].low));
        const struct config_key *hi = config_key_find(pairs[i].high, strlen(pairs[i].high));
        int64_t a = field_int_get(cfg, lo), b = field_int_get(cfg, hi);
        if (a < b || (!pairs[i].strict && a == b))
            continue;
        return config_fail(err, errlen, "%s: %lld is not %s %s %lld (from %s; %s from %s)",
                           lo->name, (long long)a, pairs[i].strict ? "less than" : "at most",
                           hi->name, (long long)b, st->src[lo - config_keys], hi->name,
                           st->src[hi - config_keys]);
    }
    return 0;
}

static int config_fill_node_id(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->node_id && *cfg->node_id)
        return 0;
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    char id[300];
    snprintf(id, sizeof(id), "%s-%ld", host, (long)getpid());
    return config_set(cfg, config_key_find("node_id", 7), id, NULL, "host name and pid", err,
                      errlen);
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    struct config_load_state *st = calloc(1, sizeof(*st));
    const char *path;
    char path_src[CONFIG_SRC_MAX] = "";
    int rc;

    if (err && errlen > 0)
        err[0] = '\0';
    if (!cfg || argc < 0 || (argc > 0 && !argv)) {
        free(st);
        return config_fail(err, errlen, "config: invalid arguments");
    }
    memset(cfg, 0, sizeof(*cfg));
    if (!st) {
        rc = config_fail(err, errlen, "config: out of memory");
        goto out;
    }
    /* Defaults, file, environment, flags: a later source overrides an
     * earlier one key by key, and limits between keys are checked last. */
    if ((rc = config_apply_defaults(cfg, st, err, errlen)) != 0)
        goto out;
    rc = config_locate_file(argc, argv, &path, path_src, sizeof(path_src), err, errlen);
    if (rc != 0)
        goto out;
    if (path && (rc = config_apply_file(cfg, st, path, path_src, err, errlen)) != 0)
        goto out;
    if ((rc = config_apply_env(cfg, st, err, errlen)) != 0)
        goto out;
    if ((rc = config_apply_flags(cfg, st, argc, argv, err, errlen)) != 0)
        goto out;
    if ((rc = config_check_pairs(cfg, st, err, errlen)) != 0)
        goto out;
    rc = config_fill_node_id(cfg, err, errlen);
out:
    free(st);
    if (rc != 0) {
        config_free(cfg);
        rc = -EINVAL;
    }
    return rc;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->type == CFG_STRING) {
            free(*field_str(cfg, k));
            *field_str(cfg, k) = NULL;
        } else if (k->type == CFG_LIST) {
            list_free(*field_list(cfg, k));
            *field_list(cfg, k) = NULL;
            *field_list_n(cfg, k) = 0;
        }
    }
}

/* Returns a copy of a libpq conninfo with its passwords replaced by "***":
 * the password=... keyword (quoted or not) and the password of a
 * postgresql:// URI, in its user info or its query. */
static char *config_redact_conninfo(const char *s)
{
    /* Each redaction swaps a value, possibly empty, for "***"; there is at
     * most one per "password" in the text plus the URI's user info. */
    size_t n = 1;
    for (const char *q = strstr(s, "password"); q; q = strstr(q + 1, "password"))
        n++;
    char *out = malloc(strlen(s) + 3 * n + 1);
    size_t o = 0;
    if (!out)
        return NULL;

    bool uri = strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
    const char *p = s;
    if (uri) {
        const char *auth = strstr(s, "://") + 3;
        size_t authlen = strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *q = auth; q < auth + authlen; q++) {
            if (*q == '@')
                at = q;
        }
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            memcpy(out, s, (size_t)(colon + 1 - s));
            o = (size_t)(colon + 1 - s);
            memcpy(out + o, "***", 3);
            o += 3;
            p = at;
        }
    }
    while (*p) {
        /* A "password" keyword starts the string, follows whitespace, or (in a
         * URI query) follows '?' or '&'. */
        bool boundary =
            p == s || isspace((unsigned char)p[-1]) || (uri && (p[-1] == '?' || p[-1] == '&'));
        if (boundary && strncmp(p, "password", 8) == 0) {
            const char *q = p + 8;
            while (!uri && isspace((unsigned char)*q))
                q++;
            if (*q == '=') {
                q++;
                while (!uri && isspace((unsigned char)*q))
                    q++;
                memcpy(out + o, p, (size_t)(q - p));
                o += (size_t)(q - p);
                if (uri) {
                    q += strcspn(q, "&#");
                } else if (*q == '\'') {
                    for (q++; *q && *q != '\''; q++) {
                        if (*q == '\\' && q[1])
                            q++;
                    }
                    if (*q == '\'')
                        q++;
                } else {
                    while (*q && !isspace((unsigned char)*q))
                        q++;
                }
                memcpy(out + o, "***", 3);
                o += 3;
                p = q;
                continue;
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

json_t *config_to_json(const struct config *cfg, bool redact)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    struct config *c = (struct config *)cfg; /* the field accessors are shared with setters */
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        json_t *v = NULL;
        switch (k->type) {
        case CFG_STRING: {
            const char *s = *field_str(c, k) ? *field_str(c, k) : "";
            if (redact && (k->flags & CFG_SECRET) && *s) {
                if (k->off == OFF(pg_conninfo)) {
                    char *r = config_redact_conninfo(s);
                    v = r ? json_string(r) : NULL;
                    free(r);
                } else {
                    v = json_string("***");
                }
            } else {
                v = json_string(s);
            }
            break;
        }
        case CFG_INT:
        case CFG_INT64:
            v = json_integer(field_int_get(cfg, k));
            break;
        case CFG_LIST: {
            v = json_array();
            char **list = *field_list(c, k);
            for (size_t j = 0; v && list && list[j]; j++)
                json_array_append_new(v, json_string(list[j]));
            break;
        }
        }
        if (!v || json_object_set_new(obj, k->name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* Case-insensitive glob where '*' matches any run of characters; origins are
 * scheme, host and port only, all of which compare without case. */
static bool origin_glob(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && tolower((unsigned char)*pat) == tolower((unsigned char)*s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool config_origin_allowed(const struct config *cfg, const char *origin)
{
    if (!cfg || !origin || !*origin || !cfg->cors_origins)
        return false;
    for (size_t i = 0; i < cfg->cors_origins_n; i++) {
        if (origin_glob(cfg->cors_origins[i], origin))
            return true;
    }
    return false;
}
