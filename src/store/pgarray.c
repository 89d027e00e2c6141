/* PostgreSQL array literals. Every element is double-quoted with backslash
 * and quote escaped, which is valid for any text, so callers never need to
 * know which characters are special to the array syntax. */
#include "hirewire/pgarray.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct pgarray *a, size_t more)
{
    if (a->len + more + 1 <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 64;
    while (cap < a->len + more + 1)
        cap *= 2;
    char *b = realloc(a->buf, cap);
    if (!b)
        return -ENOMEM;
    a->buf = b;
    a->cap = cap;
    return 0;
}

int pgarray_add(struct pgarray *a, const char *s)
{
    size_t need = 8 + (s ? 2 * strlen(s) : 0);
    if (grow(a, need))
        return -ENOMEM;
    if (a->len == 0)
        a->buf[a->len++] = '{';
    else
        a->buf[a->len - 1] = ','; /* replaces the closing brace */
    if (!s) {
        memcpy(a->buf + a->len, "NULL", 4);
        a->len += 4;
    } else {
        a->buf[a->len++] = '"';
        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                a->buf[a->len++] = '\\';
            a->buf[a->len++] = *s;
        }
        a->buf[a->len++] = '"';
    }
    a->buf[a->len++] = '}';
    a->buf[a->len] = '\0';
    a->n++;
    return 0;
}

void pgarray_free(struct pgarray *a)
{
    free(a->buf);
    a->buf = NULL;
    a->len = a->cap = a->n = 0;
}
