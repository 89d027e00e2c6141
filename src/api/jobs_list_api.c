/* GET /api/v1/jobs: filters, sorting and cursor pagination.
 *
 * The dashboard maps over the answer, so the body is a bare array; the total
 * and the next page travel in X-Total-Count and Link (a relative reference,
 * so that it keeps a /u/TOKEN prefix). A cursor is the sort key and id of the
 * last job of the page, so that pages stay stable while jobs are added; the
 * dashboard's skip/limit still work for the first pages. */
#define LOG_MOD "api"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/ats.h"
#include "hirewire/err.h"
#include "hirewire/eventlog.h"
#include "hirewire/http.h"
#include "hirewire/job_repo.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define SKIP_MAX 100000
#define CURSOR_MAX 1024

struct list_q {
    char statuses[400]; /* text[] literal, "" for none */
    const char *company, *source, *job_type, *location, *search;
    char min_score[32];
    const char *sort, *order;
    char sk[CURSOR_MAX], cid[24];
    bool has_cursor;
    int limit, skip;
};

static const char *const sorts[] = {"created_at", "updated_at", "match_score", "company",
                                    "job_title"};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* cursor = hex of "sort\x1forder\x1fsk\x1fid" */
static bool cursor_decode(const char *hex, struct list_q *q)
{
    size_t n = strlen(hex);
    char raw[CURSOR_MAX + 64];
    if (n % 2 || n / 2 >= sizeof raw)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        raw[i] = (char)(hi << 4 | lo);
    }
    raw[n / 2] = '\0';
    char *parts[4], *save = NULL, *p = raw;
    for (int i = 0; i < 4; i++, p = NULL)
        if (!(parts[i] = strtok_r(p, "\x1f", &save)))
            return false;
    if (strcmp(parts[0], q->sort) || strcmp(parts[1], q->order) || strlen(parts[2]) >= CURSOR_MAX)
        return false;
    char *end;
    long long id = strtoll(parts[3], &end, 10);
    if (*end || id < 1)
        return false;
    snprintf(q->sk, sizeof q->sk, "%s", parts[2]);
    snprintf(q->cid, sizeof q->cid, "%lld", id);
    q->has_cursor = true;
    return true;
}

static char *cursor_encode(const struct list_q *q, const char *sk, const char *id)
{
    char raw[CURSOR_MAX + 64];
    int n = snprintf(raw, sizeof raw, "%s\x1f%s\x1f%s\x1f%s", q->sort, q->order, sk, id);
    if (n < 0 || (size_t)n >= sizeof raw)
        return NULL;
    char *hex = malloc(2 * (size_t)n + 1);
    if (!hex)
        return NULL;
    for (int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)raw[i]);
    return hex;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static const char *opt(struct http_req *req, const char *a, const char *b)
{
    const char *v = http_req_query(req, a);
    if ((!v || !*v) && b)
        v = http_req_query(req, b);
    return v && *v ? v : NULL;
}

static int parse_statuses(const char *list, struct list_q *q)
{
    unsigned mask = 0;
    char buf[400];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int st = ats_status_parse(t);
        if (st < 0)
            return -1;
        mask |= ATS_BIT(st);
    }
    return ats_names_format(mask, ",", "{", "}", q->statuses, sizeof q->statuses) < 0 ? -1 : 0;
}

static int parse_query(struct http_req *req, struct list_q *q)
{
    const char *v;
    memset(q, 0, sizeof *q);
    q->limit = LIST_DEFAULT;
    if ((v = opt(req, "status_filter", "status")) && parse_statuses(v, q))
        return api_error(req, HW_EVALIDATION, "status", "unknown status in \"%.60s\"", v), -1;
    q->company = opt(req, "company", NULL);
    q->source = opt(req, "source", NULL);
    q->job_type = opt(req, "job_type", NULL);
    q->location = opt(req, "location", NULL);
    q->search = opt(req, "search", "q");
    if ((v = opt(req, "min_score", NULL))) {
        char *end;
        double x = strtod(v, &end);
        if (*end || x < 0 || x > 100)
            return api_error(req, HW_EVALIDATION, "min_score",
                             "min_score must be a number between 0 and 100"), -1;
        snprintf(q->min_score, sizeof q->min_score, "%g", x);
    }
    q->sort = "created_at";
    if ((v = opt(req, "sort", "sort_by"))) {
        bool desc = *v == '-';
        q->sort = NULL;
        for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
            if (strcmp(v + desc, sorts[i]) == 0)
                q->sort = sorts[i];
        if (!q->sort)
            return api_error(req, HW_EVALIDATION, "sort",
                             "sort must be created_at, updated_at, match_score, company or "
                             "job_title (a leading - sorts descending)"), -1;
        if (desc)
            q->order = "desc";
    }
    if (!q->order)
        q->order = strcmp(q->sort, "company") && strcmp(q->sort, "job_title") ? "desc" : "asc";
    if ((v = opt(req, "order", "sort_order"))) {
        if (strcmp(v, "asc") && strcmp(v, "desc"))
            return api_error(req, HW_EVALIDATION, "order", "order must be asc or desc"), -1;
        q->order = strcmp(v, "asc") ? "desc" : "asc";
    }
    if ((v = opt(req, "limit", NULL)) && parse_int(v, 1, LIST_MAX, &q->limit))
        return api_error(req, HW_EVALIDATION, "limit", "limit must be 1..%d", LIST_MAX), -1;
    if ((v = opt(req, "skip", "offset")) && parse_int(v, 0, SKIP_MAX, &q->skip))
        return api_error(req, HW_EVALIDATION, "skip", "skip must be 0..%d", SKIP_MAX), -1;
    if ((v = opt(req, "cursor", NULL)) && !cursor_decode(v, q))
        return api_error(req, -EINVAL, "cursor",
                         "cursor is not one this list gave out for this sort order"), -1;
    if (q->has_cursor)
        q->skip = 0;
    return 0;
}

/* Appends &name=value, percent-encoded, to the Link reference. */
static void link_add(char *buf, size_t n, const char *name, const char *value)
{
    size_t len = strlen(buf);
    if (!value || len + strlen(name) + 2 >= n)
        return;
    len += (size_t)snprintf(buf + len, n - len, "%s%s=", len > 1 ? "&" : "", name);
    for (const unsigned char *p = (const unsigned char *)value; *p && len + 4 < n; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            buf[len++] = (char)*p;
        else
            len += (size_t)snprintf(buf + len, n - len, "%%%02X", *p);
    }
    buf[len] = '\0';
}

struct list_ctx {
    struct http_req *req;
    struct list_q q;
};

static void add_link(struct list_ctx *c, const void *res)
{
    const char *sk = api_col(res, 0, "last_sk"), *id = api_col(res, 0, "last_id");
    const char *more = api_col(res, 0, "more");
    if (!sk || !id || !more || strcmp(more, "t"))
        return;
    char *cur = cursor_encode(&c->q, sk, id);
    if (!cur)
        return;
    char link[4096] = "?", limit[16];
    snprintf(limit, sizeof limit, "%d", c->q.limit);
    const char *statuses = c->q.statuses[0] ? c->q.statuses : NULL;
    char st[400] = "";
    if (statuses) { /* {a,b} -> a,b */
        snprintf(st, sizeof st, "%.*s", (int)strlen(statuses) - 2, statuses + 1);
        statuses = st;
    }
    link_add(link, sizeof link, "limit", limit);
    link_add(link, sizeof link, "sort", c->q.sort);
    link_add(link, sizeof link, "order", c->q.order);
    link_add(link, sizeof link, "status", statuses);
    link_add(link, sizeof link, "company", c->q.company);
    link_add(link, sizeof link, "min_score", c->q.min_score[0] ? c->q.min_score : NULL);
    link_add(link, sizeof link, "source", c->q.source);
    link_add(link, sizeof link, "job_type", c->q.job_type);
    link_add(link, sizeof link, "location", c->q.location);
    link_add(link, sizeof link, "search", c->q.search);
    link_add(link, sizeof link, "cursor", cur);
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "<%s>; rel=\"next\"", link);
    http_reply_header(c->req, "link", hdr);
    http_reply_header(c->req, "x-next-cursor", cur);
    free(cur);
}

static void on_list(void *arg, int err, const struct eventlog_result *r)
{
    struct list_ctx *c = arg;
    if (err) {
        api_store_error(c->req, err, "listing jobs");
    } else {
        const char *total = api_col(r->res, 0, "total");
        http_reply_header(c->req, "x-total-count", total ? total : "0");
        add_link(c, r->res);
        api_reply_body(c->req, 200, r->res);
    }
    free(c);
}

void api_jobs_list(struct http_req *req)
{
    struct list_ctx *c = malloc(sizeof *c);
    if (!c) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    c->req = req;
    if (parse_query(req, &c->q)) {
        free(c);
        return;
    }
    struct list_q *q = &c->q;
    char uid[API_ID_LEN], limit[16], skip[16];
    api_uid(req, uid);
    snprintf(limit, sizeof limit, "%d", q->limit);
    snprintf(skip, sizeof skip, "%d", q->skip);
    const char *params[14] = {
        uid,         q->statuses[0] ? q->statuses : NULL,
        q->company,  q->min_score[0] ? q->min_score : NULL,
        q->source,   q->job_type,
        q->location, q->search,
        q->sort,     q->order,
        q->has_cursor ? q->sk : NULL, q->has_cursor ? q->cid : "0",
        limit,       skip,
    };
    int rc = eventlog_exec(http_req_app(req)->pg, http_req_user(req), job_repo_sql_list, 14,
                           params, on_list, c);
    if (rc) {
        free(c);
        api_store_error(req, rc, "listing jobs");
    }
}
