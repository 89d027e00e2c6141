/* PostgreSQL array literals built up element by element ("{\"a\",NULL}"),
 * for statements that take many rows as parallel array parameters. */
#ifndef HIREWIRE_PGARRAY_H
#define HIREWIRE_PGARRAY_H

#include <stddef.h>

struct pgarray {
    char *buf; /* always a complete literal ("{}" when empty), or NULL before the first add */
    size_t len, cap, n;
};

/* Appends s (NULL: SQL NULL), quoted and escaped. 0 or -ENOMEM. */
int pgarray_add(struct pgarray *a, const char *s);
void pgarray_free(struct pgarray *a);

#endif
