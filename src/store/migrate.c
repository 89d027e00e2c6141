/* Versioned SQL migrations, applied over a blocking connection at start-up.
 *
 * The loop is not running yet, so plain PQexec is the right tool here: it is
 * the one place in the server where libpq may block. Nodes that start together
 * queue on a session advisory lock, and each reads the applied versions only
 * once it holds the lock, so a migration is never applied twice. */
#define LOG_MOD "migrate"

#include "hirewire/migrate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hirewire/err.h"
#include "hirewire/log.h"

/* "hirewire" in ASCII, as the advisory lock key every node agrees on. */
#define MIGRATE_LOCK_KEY "7523670432619786853"

static const char SQL_CREATE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 " version int PRIMARY KEY,"
                                 " name text NOT NULL,"
                                 " applied_at timestamptz NOT NULL DEFAULT now())";

/* libpq messages end in a newline and may span lines; logs and the CLI want
 * one line. */
static void one_line(char *dst, size_t n, const char *msg)
{
    size_t w = 0;
    bool space = false;
    for (const char *p = msg ? msg : ""; *p && w + 1 < n; p++) {
        bool blank = *p == '\n' || *p == '\r' || *p == '\t' || *p == ' ';
        if (blank) {
            space = w > 0;
            continue;
        }
        if (space && w + 2 < n)
            dst[w++] = ' ';
        space = false;
        dst[w++] = *p;
    }
    dst[w] = '\0';
}

/* Runs one statement; on failure writes "what: message" into err. */
static int exec_ok(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[512];
        one_line(msg, sizeof msg, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
        snprintf(err, errlen, "%s: %s", what, msg);
        rc = PQstatus(c) == CONNECTION_BAD ? HW_EUNAVAIL : HW_EDB;
    }
    PQclear(res);
    return rc;
}

/* Reads the applied versions into a bitmap over migrate_list's indices. */
static int read_applied(PGconn *c, bool *applied, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, "SELECT version FROM schema_migrations ORDER BY version");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[512];
        one_line(msg, sizeof msg, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
        snprintf(err, errlen, "cannot read schema_migrations: %s", msg);
        rc = HW_EDB;
        goto out;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        int v = atoi(PQgetvalue(res, row, 0));
        bool known = false;
        for (size_t i = 0; i < migrate_count; i++) {
            if (migrate_list[i].version == v) {
                applied[i] = true;
                known = true;
            }
        }
        if (!known)
            LOG_WARN("the database has migration %d, which this build does not know", v);
    }
out:
    PQclear(res);
    return rc;
}

static int apply_one(PGconn *c, const struct migration *m, char *err, size_t errlen)
{
    char what[128];
    snprintf(what, sizeof what, "migration %s failed", m->name);
    int rc = exec_ok(c, "BEGIN", what, err, errlen);
    if (rc < 0)
        return rc;
    rc = exec_ok(c, m->sql, what, err, errlen);
    if (rc == 0) {
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[2] = {version, m->name};
        PGresult *res =
            PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                         NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            char msg[512];
            one_line(msg, sizeof msg, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
            snprintf(err, errlen, "%s: cannot record it: %s", what, msg);
            rc = HW_EDB;
        }
        PQclear(res);
    }
    if (rc == 0)
        rc = exec_ok(c, "COMMIT", what, err, errlen);
    if (rc < 0) {
        /* The message of the failure is kept; a failing ROLLBACK adds nothing. */
        PQclear(PQexec(c, "ROLLBACK"));
        return rc;
    }
    LOG_INFO("applied migration %s", m->name);
    return 0;
}

int migrate_run(const char *conninfo, char *err, size_t errlen)
{
    int rc = 0;
    bool locked = false;
    bool *applied = calloc(migrate_count + 1, sizeof *applied);
    PGconn *c = PQconnectdb(conninfo);
    if (!applied || !c) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, PQerrorMessage(c));
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        rc = HW_EUNAVAIL;
        goto out;
    }
    PQsetNoticeProcessor(c, log_pq_notice, NULL);
    /* "relation already exists, skipping" on every start says nothing. */
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    rc = exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                 "cannot take the migration lock", err, errlen);
    if (rc < 0)
        goto out;
    locked = true;
    /* "relation already exists, skipping" on every start is not news. */
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    rc = exec_ok(c, SQL_CREATE, "cannot create schema_migrations", err, errlen);
    if (rc < 0)
        goto out;
    rc = read_applied(c, applied, err, errlen);
    if (rc < 0)
        goto out;
    int count = 0;
    for (size_t i = 0; i < migrate_count; i++) {
        if (applied[i])
            continue;
        rc = apply_one(c, &migrate_list[i], err, errlen);
        if (rc < 0)
            goto out;
        count++;
    }
    rc = count;
out:
    if (locked && PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    PQfinish(c);
    free(applied);
    return rc;
}
