/* A bounded LRU map from string keys to byte values with optional expiry.
 * Pure: no loop, no clock of its own (callers pass now_ms). */
#ifndef HIREWIRE_LRU_H
#define HIREWIRE_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru;

/* Evicts least recently used entries to stay within both limits (each > 0).
 * The byte count includes keys and a small per-entry overhead. */
struct lru *lru_new(size_t max_entries, size_t max_bytes);
void lru_free(struct lru *l);

/* Copies key and value. expires_ms 0 = never. Returns 0, -ENOMEM, or -E2BIG
 * when the one entry alone is larger than max_bytes. */
int lru_set(struct lru *l, const char *key, const void *val, size_t len, int64_t expires_ms);

/* Returns the value (owned by the map, valid until the next call that may
 * change it) and marks it recently used; NULL when missing or expired (an
 * expired entry is removed). */
const void *lru_get(struct lru *l, const char *key, int64_t now_ms, size_t *len);

/* 0 if removed, HW_ENOTFOUND if absent. */
int lru_del(struct lru *l, const char *key);

/* Removes every key matching glob (fnmatch(3) syntax, like Redis's KEYS).
 * Returns how many were removed. */
size_t lru_del_glob(struct lru *l, const char *glob);

/* Calls fn for every live key matching glob, most recent first. */
typedef void (*lru_key_cb)(void *arg, const char *key);
void lru_keys(struct lru *l, const char *glob, int64_t now_ms, lru_key_cb fn, void *arg);

size_t lru_count(const struct lru *l);
size_t lru_bytes(const struct lru *l);
uint64_t lru_evictions(const struct lru *l);

#endif
