/* Namespaced cache with TTLs: Redis when it is reachable, a bounded in-process
 * LRU while Redis is down or not configured.
 *
 * Keys are "<prefix>:<ns>:<key>". Values are opaque bytes (JSON in practice).
 * When Redis comes back after an outage, the namespaces written or deleted
 * meanwhile are cleared in Redis, so that an invalidation made during the
 * outage is never undone by a stale entry. */
#ifndef HIREWIRE_CACHE_H
#define HIREWIRE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cache;
struct redis;
struct metrics;

struct cache_opts {
    const char *prefix; /* "hirewire" */
    size_t lru_max_entries;
    size_t lru_max_bytes;
};

struct cache_stats {
    uint64_t hits, misses, sets, deletes, fallbacks, errors;
    const char *backend; /* "redis" | "memory" */
    bool redis_configured;
    bool redis_available;
    size_t memory_entries;
    size_t memory_bytes;
};

/* err == 0: found, val/len valid during the call only; HW_ENOTFOUND: miss. The
 * callback runs exactly once; from memory it runs before cache_get() returns. */
typedef void (*cache_get_cb)(void *arg, int err, const char *val, size_t len);

/* Called once a pattern delete finishes, with how many keys it removed. */
typedef void (*cache_del_cb)(void *arg, int err, long long deleted);

/* r may be NULL (no Redis configured). */
struct cache *cache_new(uv_loop_t *loop, struct redis *r, const struct cache_opts *opts,
                        struct metrics *m);
void cache_free(struct cache *c);

/* ns: [a-z_]+; key: any string without NUL. ttl_s > 0 (0 = no expiry). All
 * return 0 or -EINVAL/-ENOMEM. set and del are fire-and-forget. */
int cache_get(struct cache *c, const char *ns, const char *key, cache_get_cb cb, void *arg);
int cache_set(struct cache *c, const char *ns, const char *key, const void *val, size_t len,
              int ttl_s);
int cache_del(struct cache *c, const char *ns, const char *key);
/* glob applies to the key part ("job:*"); cb may be NULL. */
int cache_del_pattern(struct cache *c, const char *ns, const char *glob, cache_del_cb cb,
                      void *arg);

void cache_stats(const struct cache *c, struct cache_stats *out);

/* Recommended TTL of a namespace in seconds (job_details 1800, company_research
 * 30 days, skill_gap 1 day, recommendations 1 hour, ...); 0 if unknown. */
int cache_ns_ttl(const char *ns);
bool cache_ns_valid(const char *ns);

#endif
