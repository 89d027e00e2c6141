/* A bounded LRU map: a chained hash table for O(1) lookup and a doubly linked
 * recency list for O(1) promotion and eviction. Each entry is one allocation
 * holding the node, the key and the value, so a set costs one malloc. */
#include "hirewire/lru.h"
#include "hirewire/err.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Charged per entry on top of key and value bytes: roughly the node, the
 * allocator's header and the bucket slot. A fixed number keeps the limit
 * predictable for callers and tests. */
#define LRU_ENTRY_OVERHEAD 64
#define LRU_MIN_BUCKETS 16
/* How many entries from the cold end eviction inspects for expired ones
 * before it evicts a live entry; bounded so that a set stays O(1). */
#define LRU_EXPIRED_SCAN 8

struct lru_entry {
    struct lru_entry *hnext; /* bucket chain */
    struct lru_entry *prev;  /* towards the most recently used */
    struct lru_entry *next;  /* towards the least recently used */
    uint64_t hash;
    int64_t expires_ms;
    size_t klen;
    size_t vlen;
    char data[]; /* key, NUL, value, NUL */
};

struct lru {
    struct lru_entry **buckets;
    size_t nbuckets;        /* a power of two */
    struct lru_entry *head; /* most recently used */
    struct lru_entry *tail; /* least recently used */
    size_t count;
    size_t bytes;
    size_t max_entries;
    size_t max_bytes;
    uint64_t evictions;
    int64_t last_now_ms; /* the latest time a caller passed in */
};

/* FNV-1a: short keys, no adversary worth a keyed hash (the keys are our own
 * namespaced cache keys), and it is fast to compute. */
static uint64_t lru_hash(const char *key, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t entry_cost(size_t klen, size_t vlen)
{
    return klen + vlen + LRU_ENTRY_OVERHEAD;
}

static const char *entry_val(const struct lru_entry *e)
{
    return e->data + e->klen + 1;
}

struct lru *lru_new(size_t max_entries, size_t max_bytes)
{
    if (max_entries == 0 || max_bytes == 0)
        return NULL;
    struct lru *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->nbuckets = LRU_MIN_BUCKETS;
    l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
    if (!l->buckets) {
        free(l);
        return NULL;
    }
    l->max_entries = max_entries;
    l->max_bytes = max_bytes;
    return l;
}

void lru_free(struct lru *l)
{
    if (!l)
        return;
    struct lru_entry *e = l->head;
    while (e) {
        struct lru_entry *next = e->next;
        free(e);
        e = next;
    }
    free(l->buckets);
    free(l);
}

static struct lru_entry **bucket_slot(struct lru *l, const char *key, size_t klen, uint64_t h)
{
    struct lru_entry **pp = &l->buckets[h & (l->nbuckets - 1)];
    while (*pp) {
        struct lru_entry *e = *pp;
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            return pp;
        pp = &e->hnext;
    }
    return pp;
}

static void list_unlink(struct lru *l, struct lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_head(struct lru *l, struct lru_entry *e)
{
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    l->head = e;
    if (!l->tail)
        l->tail = e;
}

/* Removes e from the bucket chain and the list, and frees it. */
static void entry_remove(struct lru *l, struct lru_entry *e)
{
    struct lru_entry **pp = bucket_slot(l, e->data, e->klen, e->hash);
    *pp = e->hnext;
    list_unlink(l, e);
    l->count--;
    l->bytes -= entry_cost(e->klen, e->vlen);
    free(e);
}

/* Doubles the table once the load factor passes 1. A failed allocation only
 * leaves chains longer; the map stays correct. */
static void maybe_grow(struct lru *l)
{
    if (l->count <= l->nbuckets)
        return;
    size_t n = l->nbuckets * 2;
    struct lru_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < l->nbuckets; i++) {
        struct lru_entry *e = l->buckets[i];
        while (e) {
            struct lru_entry *next = e->hnext;
            size_t slot = e->hash & (n - 1);
            e->hnext = b[slot];
            b[slot] = e;
            e = next;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
}

static bool over_limits(const struct lru *l)
{
    return l->count > l->max_entries || l->bytes > l->max_bytes;
}

static bool is_expired(const struct lru_entry *e, int64_t now_ms)
{
    return e->expires_ms != 0 && now_ms >= e->expires_ms;
}

/* The map has no clock: lru_set takes no time, so expiry during eviction is
 * judged against the latest time lru_get or lru_keys was given. An entry
 * expired then is expired now. */
static void note_now(struct lru *l, int64_t now_ms)
{
    if (now_ms > l->last_now_ms)
        l->last_now_ms = now_ms;
}

/* Expired entries go first (they are dead weight), then the least recently
 * used. keep is the entry just inserted, which must survive; it fits alone
 * because lru_set checked it against max_bytes. */
static void evict(struct lru *l, const struct lru_entry *keep)
{
    if (!over_limits(l))
        return;
    struct lru_entry *e = l->tail;
    for (int i = 0; e && i < LRU_EXPIRED_SCAN && over_limits(l); i++) {
        struct lru_entry *prev = e->prev;
        if (e != keep && is_expired(e, l->last_now_ms))
            entry_remove(l, e);
        e = prev;
    }
    while (over_limits(l) && l->tail && l->tail != keep) {
        entry_remove(l, l->tail);
        l->evictions++;
    }
}

int lru_set(struct lru *l, const char *key, const void *val, size_t len, int64_t expires_ms)
{
    size_t klen = strlen(key);
    uint64_t h = lru_hash(key, klen);
    struct lru_entry **pp = bucket_slot(l, key, klen, h);
    struct lru_entry *old = *pp;

    if (entry_cost(klen, len) > l->max_bytes) {
        /* The new value cannot be stored; keeping the previous one would
         * serve data the caller has just replaced. */
        if (old)
            entry_remove(l, old);
        return -E2BIG;
    }
    struct lru_entry *e = malloc(sizeof(*e) + klen + 1 + len + 1);
    if (!e)
        return -ENOMEM;
    e->hash = h;
    e->expires_ms = expires_ms;
    e->klen = klen;
    e->vlen = len;
    memcpy(e->data, key, klen + 1);
    if (len)
        memcpy(e->data + klen + 1, val, len);
    e->data[klen + 1 + len] = '\0';

    if (old) {
        /* Take the old entry's place in its chain, then drop it. */
        e->hnext = old->hnext;
        *pp = e;
        list_unlink(l, old);
        l->count--;
        l->bytes -= entry_cost(old->klen, old->vlen);
        free(old);
    } else {
        e->hnext = NULL;
        *pp = e;
    }
    list_push_head(l, e);
    l->count++;
    l->bytes += entry_cost(klen, len);
    evict(l, e);
    maybe_grow(l);
    return 0;
}

const void *lru_get(struct lru *l, const char *key, int64_t now_ms, size_t *len)
{
    size_t klen = strlen(key);
    uint64_t h = lru_hash(key, klen);
    struct lru_entry *e = *bucket_slot(l, key, klen, h);
    note_now(l, now_ms);
    if (!e)
        return NULL;
    if (is_expired(e, now_ms)) {
        entry_remove(l, e);
        return NULL;
    }
    if (l->head != e) {
        list_unlink(l, e);
        list_push_head(l, e);
    }
    if (len)
        *len = e->vlen;
    return entry_val(e);
}

int lru_del(struct lru *l, const char *key)
{
    size_t klen = strlen(key);
    struct lru_entry *e = *bucket_slot(l, key, klen, lru_hash(key, klen));
    if (!e)
        return HW_ENOTFOUND;
    entry_remove(l, e);
    return 0;
}

size_t lru_del_glob(struct lru *l, const char *glob)
{
    size_t n = 0;
    struct lru_entry *e = l->head;
    while (e) {
        struct lru_entry *next = e->next;
        if (fnmatch(glob, e->data, 0) == 0) {
            entry_remove(l, e);
            n++;
        }
        e = next;
    }
    return n;
}

void lru_keys(struct lru *l, const char *glob, int64_t now_ms, lru_key_cb fn, void *arg)
{
    /* fn must not change the map; expired entries are skipped, not removed,
     * so that the walk never frees the node it stands on. */
    note_now(l, now_ms);
    for (struct lru_entry *e = l->head; e; e = e->next) {
        if (!is_expired(e, now_ms) && fnmatch(glob, e->data, 0) == 0)
            fn(arg, e->data);
    }
}

size_t lru_count(const struct lru *l)
{
    return l->count;
}

size_t lru_bytes(const struct lru *l)
{
    return l->bytes;
}

uint64_t lru_evictions(const struct lru *l)
{
    return l->evictions;
}
