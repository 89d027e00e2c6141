/* Users and API tokens.
 *
 * A token is 32 bytes from the kernel's CSPRNG, shown once as "hw_" followed by
 * 43 base64url characters; the database keeps only its SHA-256. A stolen copy
 * of the database therefore holds no usable credential, and because 256 random
 * bits cannot be guessed, a plain unsalted hash is enough (no password-style
 * key stretching is needed, and lookups stay one index probe). */
#define LOG_MOD "user"

#include "hirewire/user_repo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hirewire/digest.h"
#include "hirewire/err.h"
#include "hirewire/log.h"
#include "hirewire/pg.h"

#define TOKEN_PREFIX "hw_"
#define TOKEN_PREFIX_LEN 3
#define TOKEN_RANDOM_BYTES 32

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Base64url without padding; dst must hold 4 * ceil(n / 3) + 1 bytes. */
static void b64url(char *dst, const unsigned char *src, size_t n)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *dst++ = B64URL[v >> 18 & 63];
        *dst++ = B64URL[v >> 12 & 63];
        *dst++ = B64URL[v >> 6 & 63];
        *dst++ = B64URL[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        *dst++ = B64URL[v >> 18 & 63];
        *dst++ = B64URL[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        *dst++ = B64URL[v >> 18 & 63];
        *dst++ = B64URL[v >> 12 & 63];
        *dst++ = B64URL[v >> 6 & 63];
    }
    *dst = '\0';
}

int user_token_generate(char *buf, size_t n)
{
    if (n < USER_TOKEN_LEN + 1)
        return -EINVAL;
    unsigned char raw[TOKEN_RANDOM_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            explicit_bzero(raw, sizeof raw);
            return -e;
        }
        got += (size_t)r;
    }
    memcpy(buf, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    b64url(buf + TOKEN_PREFIX_LEN, raw, sizeof raw);
    explicit_bzero(raw, sizeof raw);
    return 0;
}

void user_token_hash(const char *token, char hex[65])
{
    digest_sha256_hex(token, strlen(token), hex);
}

bool user_token_valid(const char *token)
{
    if (!token || strncmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return false;
    const char *p = token + TOKEN_PREFIX_LEN;
    size_t len = strspn(p, B64URL);
    return len == USER_TOKEN_LEN - TOKEN_PREFIX_LEN && p[len] == '\0';
}

/* ---- blocking helpers for the command line --------------------------------- */

/* libpq's message on one line, without its trailing newline. */
static void pq_message(char *dst, size_t n, PGconn *c, const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
    size_t len = strcspn(msg, "\n");
    if (len >= n)
        len = n - 1;
    memcpy(dst, msg, len);
    dst[len] = '\0';
}

/* Turns a failed result into an error code and a sentence (what: message). */
static int result_fail(PGconn *c, const PGresult *res, const char *what, char *err, size_t errlen)
{
    char msg[256];
    pq_message(msg, sizeof msg, c, res);
    snprintf(err, errlen, "%s: %s", what, msg);
    if (PQstatus(c) == CONNECTION_BAD)
        return HW_EUNAVAIL;
    const char *s = pg_sqlstate(res);
    if (!strcmp(s, "23505"))
        return HW_ECONFLICT;
    if (!strncmp(s, "22", 2) || !strncmp(s, "23", 2))
        return HW_EVALIDATION;
    return HW_EDB;
}

/* A user is named by name or by id. A name made of digits is possible, so the
 * statements match both and prefer the name; this gives the id parameter,
 * or NULL when user cannot be an id. */
static const char *user_id_param(const char *user, char buf[24])
{
    size_t len = strlen(user);
    if (len == 0 || len > 18 || strspn(user, "0123456789") != len)
        return NULL;
    memcpy(buf, user, len + 1);
    return buf;
}

#define USER_MATCH                                                                                 \
    "SELECT id FROM users WHERE name = $1 OR id = $2::bigint ORDER BY (name = $1) DESC LIMIT 1"

int user_repo_add(PGconn *c, const char *name, const char *timezone, int64_t *user_id,
                  char *token, size_t tokn, char *err, size_t errlen)
{
    static const char sql[] = "WITH u AS (INSERT INTO users (name, timezone) "
                              "VALUES ($1, coalesce($3::text, 'UTC')) RETURNING id) "
                              "INSERT INTO api_tokens (user_id, token_hash) "
                              "SELECT id, $2::text FROM u RETURNING user_id";
    char hex[65];
    int rc = user_token_generate(token, tokn);
    if (rc < 0) {
        snprintf(err, errlen, "cannot make a token: %s", err_str(rc));
        return rc;
    }
    user_token_hash(token, hex);
    const char *params[3] = {name, hex, timezone};
    PGresult *res = PQexecParams(c, sql, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char what[128];
        snprintf(what, sizeof what, "cannot add user %.64s", name);
        rc = result_fail(c, res, what, err, errlen);
        if (rc == HW_ECONFLICT)
            snprintf(err, errlen, "user %.64s already exists", name);
        else if (rc == HW_EVALIDATION)
            snprintf(err, errlen,
                     "a user name is 1 to 64 characters among A-Z a-z 0-9 _ . @ - (got \"%.80s\")",
                     name);
        explicit_bzero(token, tokn);
        goto out;
    }
    *user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
out:
    PQclear(res);
    return rc;
}

int user_repo_token_new(PGconn *c, const char *user, const char *label, int64_t *token_id,
                        char *token, size_t tokn, char *err, size_t errlen)
{
    static const char sql[] = "WITH u AS (" USER_MATCH ") "
                              "INSERT INTO api_tokens (user_id, token_hash, label) "
                              "SELECT id, $3::text, coalesce($4::text, '') FROM u RETURNING id";
    char hex[65], idbuf[24];
    int rc = user_token_generate(token, tokn);
    if (rc < 0) {
        snprintf(err, errlen, "cannot make a token: %s", err_str(rc));
        return rc;
    }
    user_token_hash(token, hex);
    const char *params[4] = {user, user_id_param(user, idbuf), hex, label};
    PGresult *res = PQexecParams(c, sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = result_fail(c, res, "cannot make a token", err, errlen);
        if (rc == HW_EVALIDATION)
            snprintf(err, errlen,
                     "a token label is at most 100 characters, without "
                     "control characters");
    } else if (PQntuples(res) == 0) {
        snprintf(err, errlen, "there is no user %.64s", user);
        rc = HW_ENOTFOUND;
    } else {
        *token_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    if (rc < 0)
        explicit_bzero(token, tokn);
    PQclear(res);
    return rc;
}

int user_repo_token_revoke(PGconn *c, int64_t token_id, char *err, size_t errlen)
{
    /* One statement that revokes and still tells "unknown" from "already revoked". */
    static const char sql[] = "WITH t AS (SELECT id, revoked_at FROM api_tokens WHERE id = $1), "
                              "r AS (UPDATE api_tokens a SET revoked_at = now() FROM t "
                              "      WHERE a.id = t.id AND t.revoked_at IS NULL RETURNING a.id) "
                              "SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM r)";
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, token_id);
    const char *params[1] = {id};
    PGresult *res = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = result_fail(c, res, "cannot revoke the token", err, errlen);
    } else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        snprintf(err, errlen, "there is no token %s", id);
        rc = HW_ENOTFOUND;
    } else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0) {
        snprintf(err, errlen, "token %s is already revoked", id);
        rc = HW_ENOTFOUND;
    }
    PQclear(res);
    return rc;
}

int user_repo_list(PGconn *c, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT u.id, u.name, "
        "       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "       count(t.id) FILTER (WHERE t.revoked_at IS NULL) "
        "FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id "
        "GROUP BY u.id ORDER BY u.id";
    PGresult *res = PQexec(c, sql);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = result_fail(c, res, "cannot list the users", err, errlen);
        goto out;
    }
    int n = PQntuples(res), idw = 2, namew = 4;
    for (int i = 0; i < n; i++) {
        int a = (int)strlen(PQgetvalue(res, i, 0)), b = (int)strlen(PQgetvalue(res, i, 1));
        idw = a > idw ? a : idw;
        namew = b > namew ? b : namew;
    }
    printf("%-*s  %-*s  %-20s  %s\n", idw, "ID", namew, "NAME", "CREATED", "LIVE_TOKENS");
    for (int i = 0; i < n; i++)
        printf("%-*s  %-*s  %-20s  %s\n", idw, PQgetvalue(res, i, 0), namew, PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
out:
    PQclear(res);
    return rc;
}

int user_repo_token_list(PGconn *c, const char *user, char *err, size_t errlen)
{
    /* The left join keeps one row for a user without tokens, so that "no
     * such user" (no row) and "no tokens" (a row of NULLs) stay apart. */
    static const char sql[] =
        "WITH u AS (" USER_MATCH ") "
        "SELECT t.id, "
        "       to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "       coalesce(to_char(t.last_used_at AT TIME ZONE 'UTC', "
        "                        'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
        "       CASE WHEN t.revoked_at IS NULL THEN 'live' ELSE 'revoked' END, t.label "
        "FROM u LEFT JOIN api_tokens t ON t.user_id = u.id ORDER BY t.id";
    char idbuf[24];
    const char *params[2] = {user, user_id_param(user, idbuf)};
    PGresult *res = PQexecParams(c, sql, 2, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = result_fail(c, res, "cannot list the tokens", err, errlen);
        goto out;
    }
    if (PQntuples(res) == 0) {
        snprintf(err, errlen, "there is no user %.64s", user);
        rc = HW_ENOTFOUND;
        goto out;
    }
    printf("ID\tCREATED\tLAST_USED\tSTATE\tLABEL\n");
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 0))
            continue;
        printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
    }
out:
    PQclear(res);
    return rc;
}

/* ---- token lookup on the loop ------------------------------------------------ */

struct auth_req {
    user_auth_cb cb;
    void *arg;
};

static void auth_done(void *arg, int err, const PGresult *res)
{
    struct auth_req *a = arg;
    int64_t user_id = 0;
    if (err == 0 && PQntuples(res) == 0) {
        err = HW_EUNAUTH;
    } else if (err == 0) {
        user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    } else if (err != HW_EUNAVAIL) {
        /* The statement is fixed: an SQL error here means a broken schema,
         * which the client can only see as the database not answering. */
        LOG_ERROR("token lookup failed: %s sqlstate=%s", err_name(err), pg_sqlstate(res));
        err = HW_EUNAVAIL;
    }
    a->cb(a->arg, err, user_id);
    free(a);
}

int user_repo_auth(struct pg *pg, const char *token, user_auth_cb cb, void *arg)
{
    /* Revocation takes effect on the next request because nothing is cached.
     * The use is recorded by the same statement, at most once a minute per
     * token, so that busy tokens do not rewrite their row on every request,
     * and without waiting for the disk: a last use lost in a crash of
     * PostgreSQL is harmless, and a request should not wait a flush for it.
     * The main query reads the snapshot from before the update, as every
     * part of one statement does, so it sees the row whether or not it was
     * touched. */
    static const char sql[] =
        "WITH touch AS (UPDATE api_tokens SET last_used_at = now() FROM " PG_ASYNC_COMMIT " "
        "  WHERE token_hash = $1 AND revoked_at IS NULL "
        "    AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) "
        "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL";
    if (!user_token_valid(token))
        return HW_EUNAUTH;
    char hex[65];
    user_token_hash(token, hex);
    struct auth_req *a = malloc(sizeof *a);
    if (!a)
        return -ENOMEM;
    a->cb = cb;
    a->arg = arg;
    const char *params[1] = {hex};
    int rc = pg_query(pg, sql, 1, params, auth_done, a);
    if (rc < 0)
        free(a);
    return rc;
}
