/* The pool's statement ids: an open-addressing table of SQL texts.
 *
 * The hash covers the length and the first and last 64 bytes of a text, not
 * all of it: statements here run to several kilobytes and are looked up on
 * every query. Texts that share those bytes still get their own ids, since
 * a slot is taken only when the whole text compares equal. */
#include "hirewire/pg_stmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS (PG_STMT_MAX * 2) /* a power of two, at most half full */
#define EDGE 64

struct slot {
    uint64_t hash;
    char *sql; /* a copy; NULL: free */
    int id;
};

struct pg_stmts {
    struct slot slots[SLOTS];
    int count;
};

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t text_hash(const char *sql, size_t len)
{
    uint64_t h = fnv(14695981039346656037ULL, (const unsigned char *)&len, sizeof len);
    if (len <= 2 * EDGE)
        return fnv(h, (const unsigned char *)sql, len);
    h = fnv(h, (const unsigned char *)sql, EDGE);
    return fnv(h, (const unsigned char *)sql + len - EDGE, EDGE);
}

struct pg_stmts *pg_stmts_new(void)
{
    return calloc(1, sizeof(struct pg_stmts));
}

void pg_stmts_free(struct pg_stmts *s)
{
    if (!s)
        return;
    for (int i = 0; i < SLOTS; i++)
        free(s->slots[i].sql);
    free(s);
}

int pg_stmts_id(struct pg_stmts *s, const char *sql)
{
    size_t len = strlen(sql);
    uint64_t h = text_hash(sql, len);
    for (size_t i = (size_t)h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        struct slot *sl = &s->slots[i];
        if (!sl->sql) {
            if (s->count == PG_STMT_MAX)
                return -1;
            char *copy = malloc(len + 1);
            if (!copy)
                return -1;
            memcpy(copy, sql, len + 1);
            sl->sql = copy;
            sl->hash = h;
            sl->id = s->count++;
            return sl->id;
        }
        if (sl->hash == h && strcmp(sl->sql, sql) == 0)
            return sl->id;
    }
}

int pg_stmts_count(const struct pg_stmts *s)
{
    return s->count;
}
