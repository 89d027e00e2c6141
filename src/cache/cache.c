/* Namespaced cache: Redis while it is reachable, the in-process LRU otherwise.
 *
 * The hard part is consistency across an outage. While Redis is down, writes
 * and deletes land in memory only, so Redis still holds entries that may have
 * been replaced or invalidated meanwhile. Every namespace touched during the
 * outage is therefore marked; when Redis returns, each marked namespace is
 * cleared in Redis (SCAN + UNLINK), and until its clear has finished, reads of
 * that namespace keep coming from memory and writes go to both. Once no mark
 * is left the LRU is emptied: Redis is authoritative again.
 *
 * Requests waiting for Redis sit on a list so that cache_free can detach
 * them: the Redis client outlives the cache and still answers every command,
 * and a detached request only frees itself. */
#define LOG_MOD "cache"
#include "hirewire/cache.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/log.h"
#include "hirewire/lru.h"
#include "hirewire/metrics.h"
#include "hirewire/redis.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_NS_MAX 40
#define CACHE_KEY_MAX 512
#define CACHE_VALUE_MAX (1024 * 1024)
#define CACHE_PREFIX_MAX 64
/* prefix (escaped, so doubled at worst) + ':' + ns + ':' + key + NUL */
#define CACHE_FULLKEY_MAX (2 * CACHE_PREFIX_MAX + CACHE_NS_MAX + CACHE_KEY_MAX + 3)
#define CACHE_SCAN_COUNT "500"
#define CACHE_DEFAULT_LRU_ENTRIES 10000
#define CACHE_DEFAULT_LRU_BYTES ((size_t)64 * 1024 * 1024)

enum cache_req_kind {
    REQ_GET,
    REQ_WRITE,   /* SET or UNLINK, nobody waits for it */
    REQ_PATTERN, /* SCAN + UNLINK rounds */
};

struct cache_req {
    struct cache_req *prev, *next;
    struct cache *c; /* NULL once cache_free has detached it */
    enum cache_req_kind kind;
    char ns[CACHE_NS_MAX + 1];
    bool is_delete;
    cache_get_cb get_cb;
    cache_del_cb del_cb;
    void *arg;
    /* pattern deletes */
    bool recovery; /* clearing a namespace after an outage */
    uint64_t gen;
    char cursor[24];
    long long total;
    size_t matchlen;
    char match[]; /* "<prefix>:<ns>:<glob>" */
};

enum ns_state {
    NS_DIRTY,      /* touched while Redis was down; not yet cleared there */
    NS_RECOVERING, /* being cleared in Redis */
};

struct ns_mark {
    struct ns_mark *next;
    enum ns_state state;
    uint64_t gen; /* which clear is the current one */
    char name[CACHE_NS_MAX + 1];
};

struct cache {
    uv_loop_t *loop;
    struct redis *r;
    char *prefix;
    char *prefix_glob; /* prefix with glob characters escaped */
    struct lru *lru;
    struct cache_req *reqs;
    struct ns_mark *marks;
    uint64_t gen;
    struct cache_stats st;
    struct metric *m_hits, *m_misses, *m_sets, *m_deletes, *m_fallbacks, *m_errors;
};

static const struct {
    const char *ns;
    int ttl_s;
} ns_ttls[] = {
    {"job_analysis", 3600}, {"job_details", 1800},     {"company_research", 2592000},
    {"skill_gap", 86400},   {"recommendations", 3600}, {"learning_resources", 86400},
    {"analytics", 300},     {"follow_up", 1800},       {"documents", 3600},
    {"stats", 300},         {"user_prefs", 86400},
};

int cache_ns_ttl(const char *ns)
{
    for (size_t i = 0; ns && i < sizeof(ns_ttls) / sizeof(ns_ttls[0]); i++) {
        if (strcmp(ns, ns_ttls[i].ns) == 0)
            return ns_ttls[i].ttl_s;
    }
    return 0;
}

bool cache_ns_valid(const char *ns)
{
    if (!ns)
        return false;
    size_t n = 0;
    for (; ns[n]; n++) {
        if (n == CACHE_NS_MAX || !((ns[n] >= 'a' && ns[n] <= 'z') || ns[n] == '_'))
            return false;
    }
    return n > 0;
}

static bool key_valid(const char *key)
{
    return key && *key && strnlen(key, CACHE_KEY_MAX + 1) <= CACHE_KEY_MAX;
}

static bool redis_live(const struct cache *c)
{
    return c->r && redis_is_up(c->r);
}

static void count(uint64_t *field, struct metric *m)
{
    (*field)++;
    metric_inc(m);
}

/* ---- namespace marks ---- */

static struct ns_mark *mark_find(struct cache *c, const char *ns)
{
    for (struct ns_mark *mk = c->marks; mk; mk = mk->next) {
        if (strcmp(mk->name, ns) == 0)
            return mk;
    }
    return NULL;
}

static int mark_dirty(struct cache *c, const char *ns)
{
    struct ns_mark *mk = mark_find(c, ns);
    if (!mk) {
        mk = calloc(1, sizeof(*mk));
        if (!mk)
            return -ENOMEM;
        snprintf(mk->name, sizeof(mk->name), "%s", ns);
        mk->next = c->marks;
        c->marks = mk;
    }
    mk->state = NS_DIRTY;
    mk->gen = ++c->gen; /* a clear already running no longer counts */
    return 0;
}

static void mark_remove(struct cache *c, struct ns_mark *mk)
{
    for (struct ns_mark **pp = &c->marks; *pp; pp = &(*pp)->next) {
        if (*pp == mk) {
            *pp = mk->next;
            free(mk);
            return;
        }
    }
}

/* ---- requests ---- */

static struct cache_req *req_new(struct cache *c, enum cache_req_kind kind, const char *ns,
                                 size_t matchlen)
{
    struct cache_req *q = calloc(1, sizeof(*q) + matchlen + 1);
    if (!q)
        return NULL;
    q->c = c;
    q->kind = kind;
    snprintf(q->ns, sizeof(q->ns), "%s", ns);
    q->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = q;
    c->reqs = q;
    return q;
}

static void req_unlink(struct cache *c, struct cache_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        c->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void req_free(struct cache *c, struct cache_req *q)
{
    req_unlink(c, q);
    free(q);
}

static int redis_key(const struct cache *c, const char *ns, const char *key, char *buf)
{
    return snprintf(buf, CACHE_FULLKEY_MAX, "%s:%s:%s", c->prefix, ns, key);
}

static void lru_key(const char *ns, const char *key, char *buf)
{
    snprintf(buf, CACHE_FULLKEY_MAX, "%s:%s", ns, key);
}

/* ---- memory path ---- */

/* Memory serves because Redis is configured but unusable (down, or this
 * namespace is still being cleared there). */
static void note_fallback(struct cache *c)
{
    if (c->r)
        count(&c->st.fallbacks, c->m_fallbacks);
}

static void mem_get(struct cache *c, const char *ns, const char *key, cache_get_cb cb, void *arg)
{
    char lk[CACHE_FULLKEY_MAX];
    lru_key(ns, key, lk);
    note_fallback(c);
    size_t len = 0;
    const char *v = lru_get(c->lru, lk, clock_now_ms(), &len);
    if (v) {
        count(&c->st.hits, c->m_hits);
        cb(arg, 0, v, len);
    } else {
        count(&c->st.misses, c->m_misses);
        cb(arg, HW_ENOTFOUND, NULL, 0);
    }
}

static int mem_set(struct cache *c, const char *ns, const char *key, const void *val, size_t len,
                   int ttl_s)
{
    char lk[CACHE_FULLKEY_MAX];
    lru_key(ns, key, lk);
    int64_t exp = ttl_s > 0 ? clock_now_ms() + (int64_t)ttl_s * 1000 : 0;
    int rc = lru_set(c->lru, lk, val, len, exp);
    /* A value larger than the whole memory budget is simply not cached;
     * lru_set has dropped any older value of the key. */
    return rc == -E2BIG ? 0 : rc;
}

/* A write served by memory while Redis is configured: remember the namespace
 * so that Redis's copy is cleared when it returns. */
static int mem_write_done(struct cache *c, const char *ns, int rc)
{
    if (!c->r)
        return rc;
    note_fallback(c);
    int mrc = mark_dirty(c, ns);
    return rc ? rc : mrc;
}

/* ---- Redis path ---- */

static void on_get_reply(void *arg, int err, struct redisReply *reply)
{
    struct cache_req *q = arg;
    struct cache *c = q->c;
    if (!c) {
        free(q);
        return;
    }
    req_unlink(c, q);
    if (!err && reply->type == REDIS_REPLY_STRING) {
        count(&c->st.hits, c->m_hits);
        q->get_cb(q->arg, 0, reply->str, reply->len);
    } else {
        /* A cache that cannot answer answers "miss": the caller recomputes. */
        if (err)
            count(&c->st.errors, c->m_errors);
        count(&c->st.misses, c->m_misses);
        q->get_cb(q->arg, HW_ENOTFOUND, NULL, 0);
    }
    free(q);
}

static void on_write_reply(void *arg, int err, struct redisReply *reply)
{
    struct cache_req *q = arg;
    struct cache *c = q->c;
    if (!c) {
        free(q);
        return;
    }
    req_unlink(c, q);
    if (err) {
        count(&c->st.errors, c->m_errors);
        /* A delete lost with the connection may not have happened; the
         * namespace is cleared when Redis returns. A lost SET is harmless:
         * the value it carried was current. */
        if (q->is_delete && err == HW_EUNAVAIL)
            mark_dirty(c, q->ns);
    }
    free(q);
}

static void pattern_step(struct cache *c, struct cache_req *q);
static void recovery_done(struct cache *c, struct cache_req *q, int err);
static void clear_lru_if_settled(struct cache *c);

static void pattern_finish(struct cache *c, struct cache_req *q, int err)
{
    req_unlink(c, q);
    if (err) {
        count(&c->st.errors, c->m_errors);
        if (err == HW_EUNAVAIL && !q->recovery)
            mark_dirty(c, q->ns);
    }
    if (q->recovery)
        recovery_done(c, q, err);
    else if (q->del_cb)
        q->del_cb(q->arg, err, q->total);
    free(q);
}

static void on_unlink_reply(void *arg, int err, struct redisReply *reply)
{
    struct cache_req *q = arg;
    struct cache *c = q->c;
    if (!c) {
        free(q);
        return;
    }
    if (err) {
        pattern_finish(c, q, err);
        return;
    }
    if (reply->type == REDIS_REPLY_INTEGER)
        q->total += reply->integer;
    pattern_step(c, q);
}

static void on_scan_reply(void *arg, int err, struct redisReply *reply)
{
    struct cache_req *q = arg;
    struct cache *c = q->c;
    if (!c) {
        free(q);
        return;
    }
    if (err || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[0]->len >= sizeof(q->cursor) ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        pattern_finish(c, q, err ? err : HW_EDB);
        return;
    }
    memcpy(q->cursor, reply->element[0]->str, reply->element[0]->len + 1);
    struct redisReply *keys = reply->element[1];
    if (keys->elements == 0) {
        pattern_step(c, q);
        return;
    }
    /* The key strings belong to this reply; hiredis copies them into the
     * command buffer before redis_command_argv returns. */
    size_t n = keys->elements + 1;
    const char **argv = malloc(n * sizeof(*argv));
    size_t *argvlen = malloc(n * sizeof(*argvlen));
    int rc = -ENOMEM;
    if (argv && argvlen) {
        argv[0] = "UNLINK";
        argvlen[0] = 6;
        for (size_t i = 1; i < n; i++) {
            argv[i] = keys->element[i - 1]->str;
            argvlen[i] = keys->element[i - 1]->len;
        }
        rc = redis_command_argv(c->r, on_unlink_reply, q, (int)n, argv, argvlen);
    }
    free(argv);
    free(argvlen);
    if (rc)
        pattern_finish(c, q, rc);
}

/* Sends the next SCAN, or finishes once the cursor is back at 0. */
static void pattern_step(struct cache *c, struct cache_req *q)
{
    if (strcmp(q->cursor, "0") == 0) {
        pattern_finish(c, q, 0);
        return;
    }
    int rc = redis_command(c->r, on_scan_reply, q, "SCAN %s MATCH %b COUNT " CACHE_SCAN_COUNT,
                           q->cursor, q->match, q->matchlen);
    if (rc)
        pattern_finish(c, q, rc);
}

/* Starts a pattern delete in Redis; recovery_gen is nonzero for the clear of
 * a namespace after an outage. Returns 0 (the request now runs and
 * finishes through pattern_finish) or an error (nothing was started). */
static int pattern_start(struct cache *c, const char *ns, const char *glob, uint64_t recovery_gen,
                         cache_del_cb cb, void *arg)
{
    size_t len = strlen(c->prefix_glob) + 1 + strlen(ns) + 1 + strlen(glob);
    struct cache_req *q = req_new(c, REQ_PATTERN, ns, len);
    if (!q)
        return -ENOMEM;
    q->matchlen = (size_t)snprintf(q->match, len + 1, "%s:%s:%s", c->prefix_glob, ns, glob);
    q->recovery = recovery_gen != 0;
    q->gen = recovery_gen;
    q->del_cb = cb;
    q->arg = arg;
    snprintf(q->cursor, sizeof(q->cursor), "%s", "0");
    int rc = redis_command(c->r, on_scan_reply, q, "SCAN 0 MATCH %b COUNT " CACHE_SCAN_COUNT,
                           q->match, q->matchlen);
    if (rc)
        req_free(c, q);
    return rc;
}

/* ---- recovery after an outage ---- */

static void start_recovery(struct cache *c, struct ns_mark *mk)
{
    mk->state = NS_RECOVERING;
    mk->gen = ++c->gen;
    int rc = pattern_start(c, mk->name, "*", mk->gen, NULL, NULL);
    if (rc == 0)
        return;
    mk->state = NS_DIRTY;
    LOG_WARN("cannot clear namespace %s in redis: %s", mk->name, err_str(rc));
}

static void recovery_done(struct cache *c, struct cache_req *q, int err)
{
    struct ns_mark *mk = mark_find(c, q->ns);
    if (!mk || mk->gen != q->gen || mk->state != NS_RECOVERING)
        return; /* superseded by a newer outage or write */
    if (err) {
        mk->state = NS_DIRTY;
        LOG_WARN("clearing namespace %s in redis failed: %s", q->ns, err_str(err));
        return;
    }
    LOG_INFO("namespace %s cleared in redis after the outage (%lld keys)", q->ns, q->total);
    mark_remove(c, mk);
    clear_lru_if_settled(c);
}

/* Once every touched namespace is cleared in Redis, memory holds nothing
 * Redis should not answer for itself. */
static void clear_lru_if_settled(struct cache *c)
{
    if (c->marks || !redis_live(c) || lru_count(c->lru) == 0)
        return;
    size_t n = lru_del_glob(c->lru, "*");
    LOG_INFO("redis is authoritative again; dropped %zu entries from memory", n);
}

static void on_redis_state(void *arg, bool up)
{
    struct cache *c = arg;
    if (!up) {
        for (struct ns_mark *mk = c->marks; mk; mk = mk->next)
            mk->state = NS_DIRTY;
        LOG_WARN("redis unavailable; serving from memory");
        return;
    }
    int n = 0;
    for (struct ns_mark *mk = c->marks; mk; mk = mk->next)
        n++;
    LOG_INFO("redis available; clearing %d namespace(s) touched meanwhile", n);
    for (struct ns_mark *mk = c->marks; mk; mk = mk->next) {
        if (mk->state == NS_DIRTY)
            start_recovery(c, mk);
    }
    clear_lru_if_settled(c);
}

/* The mark of ns, if any. A namespace left dirty while Redis is up (its
 * clear could not start) gets another attempt here. */
static struct ns_mark *route_mark(struct cache *c, const char *ns)
{
    struct ns_mark *mk = mark_find(c, ns);
    if (mk && mk->state == NS_DIRTY && redis_live(c))
        start_recovery(c, mk);
    return mk;
}

/* ---- public API ---- */

struct cache *cache_new(uv_loop_t *loop, struct redis *r, const struct cache_opts *opts,
                        struct metrics *m)
{
    if (!opts || !opts->prefix || !*opts->prefix || strlen(opts->prefix) > CACHE_PREFIX_MAX)
        return NULL;
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->loop = loop;
    c->r = r;
    c->prefix = strdup(opts->prefix);
    c->prefix_glob = malloc(2 * strlen(opts->prefix) + 1);
    c->lru = lru_new(opts->lru_max_entries ? opts->lru_max_entries : CACHE_DEFAULT_LRU_ENTRIES,
                     opts->lru_max_bytes ? opts->lru_max_bytes : CACHE_DEFAULT_LRU_BYTES);
    if (!c->prefix || !c->prefix_glob || !c->lru)
        goto fail;
    /* The prefix is literal text inside a SCAN MATCH pattern. */
    char *g = c->prefix_glob;
    for (const char *p = opts->prefix; *p; p++) {
        if (strchr("*?[]\\", *p))
            *g++ = '\\';
        *g++ = *p;
    }
    *g = '\0';
    if (r && redis_on_state(r, on_redis_state, c) != 0)
        goto fail;
    if (m) {
        c->m_hits = metrics_counter(m, "hirewire_cache_hits_total", NULL, "Cache hits");
        c->m_misses = metrics_counter(m, "hirewire_cache_misses_total", NULL, "Cache misses");
        c->m_sets = metrics_counter(m, "hirewire_cache_sets_total", NULL, "Cache writes");
        c->m_deletes = metrics_counter(m, "hirewire_cache_deletes_total", NULL, "Cache deletes");
        c->m_fallbacks = metrics_counter(m, "hirewire_cache_fallbacks_total", NULL,
                                         "Cache operations served from memory while Redis "
                                         "is configured but unavailable");
        c->m_errors = metrics_counter(m, "hirewire_cache_errors_total", NULL,
                                      "Redis commands of the cache that failed");
    }
    LOG_INFO("cache ready (%s)", r ? "redis, memory while redis is down" : "memory only");
    return c;
fail:
    lru_free(c->lru);
    free(c->prefix_glob);
    free(c->prefix);
    free(c);
    return NULL;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    if (c->r)
        redis_off_state(c->r, on_redis_state, c);
    /* Callers still waiting hear now, so that they can release what they
     * hold; the requests themselves stay with Redis, which answers each one
     * exactly once, and free themselves when it does. The callbacks must not
     * call back into this cache. */
    while (c->reqs) {
        struct cache_req *q = c->reqs;
        req_unlink(c, q);
        q->c = NULL;
        if (q->kind == REQ_GET)
            q->get_cb(q->arg, HW_ENOTFOUND, NULL, 0);
        else if (q->kind == REQ_PATTERN && q->del_cb)
            q->del_cb(q->arg, HW_EUNAVAIL, q->total);
    }
    while (c->marks)
        mark_remove(c, c->marks);
    lru_free(c->lru);
    free(c->prefix_glob);
    free(c->prefix);
    free(c);
}

int cache_get(struct cache *c, const char *ns, const char *key, cache_get_cb cb, void *arg)
{
    if (!cache_ns_valid(ns) || !key_valid(key) || !cb)
        return -EINVAL;
    if (redis_live(c) && !route_mark(c, ns)) {
        struct cache_req *q = req_new(c, REQ_GET, ns, 0);
        if (!q)
            return -ENOMEM;
        q->get_cb = cb;
        q->arg = arg;
        char k[CACHE_FULLKEY_MAX];
        int klen = redis_key(c, ns, key, k);
        int rc = redis_command(c->r, on_get_reply, q, "GET %b", k, (size_t)klen);
        if (rc == 0)
            return 0;
        req_free(c, q);
        count(&c->st.errors, c->m_errors);
    }
    mem_get(c, ns, key, cb, arg);
    return 0;
}

int cache_set(struct cache *c, const char *ns, const char *key, const void *val, size_t len,
              int ttl_s)
{
    if (!cache_ns_valid(ns) || !key_valid(key) || (!val && len) || len > CACHE_VALUE_MAX ||
        ttl_s < 0)
        return -EINVAL;
    if (!val)
        val = "";
    count(&c->st.sets, c->m_sets);
    if (redis_live(c)) {
        struct ns_mark *mk = route_mark(c, ns);
        char k[CACHE_FULLKEY_MAX];
        size_t klen = (size_t)redis_key(c, ns, key, k);
        struct cache_req *q = req_new(c, REQ_WRITE, ns, 0);
        int rc = -ENOMEM;
        if (q && ttl_s > 0)
            rc =
                redis_command(c->r, on_write_reply, q, "SET %b %b EX %d", k, klen, val, len, ttl_s);
        else if (q)
            rc = redis_command(c->r, on_write_reply, q, "SET %b %b", k, klen, val, len);
        if (rc && q)
            req_free(c, q);
        if (rc == 0)
            /* While the namespace is being cleared, reads come from memory,
             * which must see this write too. */
            return mk ? mem_set(c, ns, key, val, len, ttl_s) : 0;
        count(&c->st.errors, c->m_errors);
    }
    return mem_write_done(c, ns, mem_set(c, ns, key, val, len, ttl_s));
}

int cache_del(struct cache *c, const char *ns, const char *key)
{
    if (!cache_ns_valid(ns) || !key_valid(key))
        return -EINVAL;
    count(&c->st.deletes, c->m_deletes);
    char lk[CACHE_FULLKEY_MAX];
    lru_key(ns, key, lk);
    if (redis_live(c)) {
        struct ns_mark *mk = route_mark(c, ns);
        char k[CACHE_FULLKEY_MAX];
        size_t klen = (size_t)redis_key(c, ns, key, k);
        struct cache_req *q = req_new(c, REQ_WRITE, ns, 0);
        int rc = -ENOMEM;
        if (q) {
            q->is_delete = true;
            rc = redis_command(c->r, on_write_reply, q, "UNLINK %b", k, klen);
            if (rc)
                req_free(c, q);
        }
        if (rc == 0) {
            if (mk)
                lru_del(c->lru, lk);
            return 0;
        }
        count(&c->st.errors, c->m_errors);
    }
    lru_del(c->lru, lk);
    return mem_write_done(c, ns, 0);
}

int cache_del_pattern(struct cache *c, const char *ns, const char *glob, cache_del_cb cb, void *arg)
{
    if (!cache_ns_valid(ns) || !key_valid(glob))
        return -EINVAL;
    count(&c->st.deletes, c->m_deletes);
    char lk[CACHE_FULLKEY_MAX];
    lru_key(ns, glob, lk);
    if (redis_live(c)) {
        struct ns_mark *mk = route_mark(c, ns);
        int rc = pattern_start(c, ns, glob, 0, cb, arg);
        if (rc == 0) {
            if (mk)
                lru_del_glob(c->lru, lk);
            return 0;
        }
        count(&c->st.errors, c->m_errors);
    }
    size_t n = lru_del_glob(c->lru, lk);
    int rc = mem_write_done(c, ns, 0);
    if (cb)
        cb(arg, rc, (long long)n);
    return rc;
}

void cache_stats(const struct cache *c, struct cache_stats *out)
{
    *out = c->st;
    out->backend = redis_live(c) ? "redis" : "memory";
    out->redis_configured = c->r != NULL;
    out->redis_available = redis_live(c);
    out->memory_entries = lru_count(c->lru);
    out->memory_bytes = lru_bytes(c->lru);
}

