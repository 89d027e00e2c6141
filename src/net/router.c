/* Route matching. The table is small (tens of routes) and matched by a linear
 * scan segment by segment: no allocation, no regex, and the first route that
 * fits wins, so more specific literal routes go before parameterised ones. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hirewire/err.h"
#include "hirewire/router.h"

/* Matches one pattern against path, filling params. Returns 1 on a match. */
static int match_pattern(const char *pat, const char *path, struct router_match *m)
{
    int np = 0;

    while (*pat && *path) {
        if (*pat != '/' || *path != '/')
            return 0;
        pat++;
        path++;
        const char *pend = strchr(pat, '/');
        const char *send = strchr(path, '/');
        size_t plen = pend ? (size_t)(pend - pat) : strlen(pat);
        size_t slen = send ? (size_t)(send - path) : strlen(path);

        if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
            if (slen == 0 || np == ROUTER_MAX_PARAMS)
                return 0;
            m->params[np].name = pat + 1;
            m->params[np].name_len = plen - 2;
            m->params[np].val = path;
            m->params[np].len = slen;
            np++;
        } else if (plen != slen || memcmp(pat, path, plen) != 0) {
            return 0;
        }
        pat += plen;
        path += slen;
    }
    if (*pat || *path)
        return 0;
    m->nparams = np;
    return 1;
}

int router_match(const struct route *routes, size_t n, unsigned method, const char *path,
                 struct router_match *m)
{
    unsigned want = method == HTTP_HEAD ? (HTTP_HEAD | HTTP_GET) : method;
    struct router_match tmp;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        memset(&tmp, 0, sizeof(tmp));
        if (!match_pattern(routes[i].pattern, path, &tmp))
            continue;
        if (routes[i].methods & want) {
            tmp.route = &routes[i];
            tmp.allow = 0;
            *m = tmp;
            return 0;
        }
        m->allow |= routes[i].methods;
    }
    if (m->allow) {
        if (m->allow & HTTP_GET)
            m->allow |= HTTP_HEAD;
        m->allow |= HTTP_OPTIONS;
        return HW_EMETHOD;
    }
    return HW_ENOTFOUND;
}

static const struct {
    unsigned bit;
    const char *name;
} methods[] = {
    {HTTP_GET, "GET"},       {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
    {HTTP_PUT, "PUT"},       {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},
    {HTTP_OPTIONS, "OPTIONS"},
};

char *router_allow_str(unsigned allow, char *buf, size_t n)
{
    size_t off = 0;

    if (n == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (!(allow & methods[i].bit))
            continue;
        int w = snprintf(buf + off, n - off, "%s%s", off ? ", " : "", methods[i].name);
        if (w < 0 || (size_t)w >= n - off) {
            buf[off] = '\0'; /* never leave half a method name behind */
            break;
        }
        off += (size_t)w;
    }
    return buf;
}

unsigned router_method_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(s, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

const char *router_method_name(unsigned method)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].bit == method)
            return methods[i].name;
    return "?";
}
