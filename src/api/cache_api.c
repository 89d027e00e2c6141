/* The cache over HTTP. Keys are private to the user: the API prefixes every
 * key with "u<id>:" so that one user can neither read nor clear another's. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/cache.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/jsonx.h"

#define KEY_MAX 256
#define TTL_MAX (30 * 86400)

static const char *const namespaces[] = {
    "job_analysis", "job_details", "company_research", "skill_gap", "recommendations",
    "learning_resources", "analytics", "follow_up", "documents", "stats", "user_prefs",
};

static bool known_ns(const char *ns)
{
    for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
        if (strcmp(ns, namespaces[i]) == 0)
            return true;
    return false;
}

/* Unpacks {"namespace", "key"} plus extras, replying on failure. */
static int read_ns_key(struct http_req *req, const char **ns, const char **key, char *full,
                       size_t n)
{
    json_t *body = http_req_json(req);
    json_error_t jerr;
    char field[64];

    if (!json_is_object(body)) {
        api_error(req, -EINVAL, NULL, "the body must be a JSON object");
        return -EINVAL;
    }
    if (json_unpack_ex(body, &jerr, 0, "{s:s, s:s}", "namespace", ns, "key", key)) {
        const char *f = jsonx_error_field(&jerr, field, sizeof(field));
        api_error(req, HW_EVALIDATION, *f ? f : NULL, "%s", jerr.text);
        return HW_EVALIDATION;
    }
    if (!known_ns(*ns)) {
        api_error(req, HW_EVALIDATION, "namespace", "unknown namespace \"%s\"", *ns);
        return HW_EVALIDATION;
    }
    size_t klen = strlen(*key);
    if (klen == 0 || klen > KEY_MAX) {
        api_error(req, HW_EVALIDATION, "key", "key must be 1 to %d bytes", KEY_MAX);
        return HW_EVALIDATION;
    }
    snprintf(full, n, "u%" PRId64 ":%s", http_req_user(req), *key);
    return 0;
}

void api_cache_set(struct http_req *req)
{
    const char *ns, *key;
    char full[KEY_MAX + 32];
    json_error_t jerr;
    json_t *value = NULL;
    json_int_t ttl = 0;

    if (read_ns_key(req, &ns, &key, full, sizeof(full)))
        return;
    if (json_unpack_ex(http_req_json(req), &jerr, 0, "{s:o, s?I}", "value", &value, "ttl", &ttl)) {
        api_error(req, HW_EVALIDATION, strstr(jerr.text, "ttl") ? "ttl" : "value", "%s",
                  jerr.text);
        return;
    }
    if (ttl == 0)
        ttl = cache_ns_ttl(ns);
    if (ttl < 1 || ttl > TTL_MAX) {
        api_error(req, HW_EVALIDATION, "ttl", "ttl must be between 1 and %d seconds", TTL_MAX);
        return;
    }
    size_t len;
    char *text = jsonx_dump(value, &len);
    if (!text) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    int rc = cache_set(http_req_app(req)->cache, ns, full, text, len, (int)ttl);
    free(text);
    if (rc) {
        api_error(req, rc == -EINVAL ? HW_EVALIDATION : rc, "value", "cannot cache this value: %s",
                  err_str(rc));
        return;
    }
    http_reply_json_take(req, 200,
                         json_pack("{s:b, s:s, s:s, s:I}", "success", 1, "namespace", ns, "key",
                                   key, "ttl", ttl));
}

struct cache_get_ctx {
    struct http_req *req;
    char ns[48];
    char key[KEY_MAX + 1];
};

static void on_get(void *arg, int err, const char *val, size_t len)
{
    struct cache_get_ctx *g = arg;
    json_t *value = NULL;

    if (err == 0) {
        value = json_loadb(val, len, JSON_DECODE_ANY, NULL);
        if (!value)
            err = HW_ENOTFOUND; /* not written by us: treat as a miss */
    }
    http_reply_json_take(g->req, 200,
                         json_pack("{s:s, s:s, s:b, s:o}", "namespace", g->ns, "key", g->key,
                                   "found", err == 0, "value", value ? value : json_null()));
    free(g);
}

void api_cache_get(struct http_req *req)
{
    const char *ns, *key;
    char full[KEY_MAX + 32];

    if (read_ns_key(req, &ns, &key, full, sizeof(full)))
        return;
    struct cache_get_ctx *g = calloc(1, sizeof(*g));
    if (!g) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    g->req = req;
    snprintf(g->ns, sizeof(g->ns), "%s", ns);
    snprintf(g->key, sizeof(g->key), "%s", key);
    int rc = cache_get(http_req_app(req)->cache, ns, full, on_get, g);
    if (rc) {
        free(g);
        api_error(req, rc, NULL, "cache lookup failed: %s", err_str(rc));
    }
}

struct cache_clear_ctx {
    struct http_req *req;
    char ns[48];
};

static void on_clear(void *arg, int err, long long deleted)
{
    struct cache_clear_ctx *c = arg;

    if (err)
        api_error(c->req, err, NULL, "clearing the cache failed: %s", err_str(err));
    else
        http_reply_json_take(c->req, 200,
                             json_pack("{s:s, s:I, s:b}", "namespace", c->ns, "keys_deleted",
                                       (json_int_t)deleted, "success", 1));
    free(c);
}

void api_cache_clear(struct http_req *req)
{
    json_t *body = http_req_json(req);
    json_error_t jerr;
    const char *ns = NULL, *pattern = "*";
    char glob[KEY_MAX + 32];

    if (!json_is_object(body) ||
        json_unpack_ex(body, &jerr, 0, "{s:s, s?s}", "namespace", &ns, "pattern", &pattern)) {
        api_error(req, HW_EVALIDATION, "namespace",
                  "the body must be {\"namespace\": NAME, \"pattern\": GLOB?}");
        return;
    }
    if (!known_ns(ns)) {
        api_error(req, HW_EVALIDATION, "namespace", "unknown namespace \"%s\"", ns);
        return;
    }
    if (!*pattern || strlen(pattern) > KEY_MAX) {
        api_error(req, HW_EVALIDATION, "pattern", "pattern must be 1 to %d bytes", KEY_MAX);
        return;
    }
    snprintf(glob, sizeof(glob), "u%" PRId64 ":%s", http_req_user(req), pattern);
    struct cache_clear_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    c->req = req;
    snprintf(c->ns, sizeof(c->ns), "%s", ns);
    int rc = cache_del_pattern(http_req_app(req)->cache, ns, glob, on_clear, c);
    if (rc) {
        free(c);
        api_error(req, rc, NULL, "clearing the cache failed: %s", err_str(rc));
    }
}

void api_cache_stats(struct http_req *req)
{
    struct cache_stats st;

    cache_stats(http_req_app(req)->cache, &st);
    uint64_t total = st.hits + st.misses;
    double rate = total ? (double)st.hits * 100.0 / (double)total : 0.0;
    http_reply_json_take(
        req, 200,
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:s, s:b, s:b, s:I, s:I, s:I, s:I}", "hits",
                  (json_int_t)st.hits, "misses", (json_int_t)st.misses, "sets",
                  (json_int_t)st.sets, "deletes", (json_int_t)st.deletes, "total_requests",
                  (json_int_t)total, "hit_rate_percent", rate, "backend", st.backend,
                  "redis_configured", st.redis_configured, "redis_available",
                  st.redis_available, "fallbacks", (json_int_t)st.fallbacks, "errors",
                  (json_int_t)st.errors, "memory_entries", (json_int_t)st.memory_entries,
                  "memory_bytes", (json_int_t)st.memory_bytes));
}

void api_cache_health(struct http_req *req)
{
    struct cache_stats st;

    cache_stats(http_req_app(req)->cache, &st);
    http_reply_json_take(req, 200,
                         json_pack("{s:s, s:b, s:s}", "status",
                                   st.redis_available ? "healthy" : "degraded", "redis_available",
                                   st.redis_available, "backend", st.backend));
}

void api_cache_namespaces(struct http_req *req)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
        json_array_append_new(arr, json_pack("{s:s, s:i}", "name", namespaces[i], "ttl",
                                             cache_ns_ttl(namespaces[i])));
    http_reply_json_take(req, 200, json_pack("{s:o}", "namespaces", arr));
}
