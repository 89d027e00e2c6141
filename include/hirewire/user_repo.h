/* Users and API tokens (store layer).
 *
 * Tokens are 32 random bytes shown once as "hw_" + 43 base64url characters;
 * only their SHA-256 is stored. The blocking functions are for the command
 * line (user add, token new/revoke), never for the loop; token lookup on the
 * loop goes through user_repo_auth(). */
#ifndef HIREWIRE_USER_REPO_H
#define HIREWIRE_USER_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg;

#define USER_TOKEN_LEN 46 /* "hw_" + 43, without the NUL */

/* Makes a fresh token into buf (>= USER_TOKEN_LEN + 1 bytes). 0 or -errno. */
int user_token_generate(char *buf, size_t n);

/* Lower-case hex SHA-256 of token into hex (65 bytes). */
void user_token_hash(const char *token, char hex[65]);

/* True when token has the shape of one made by user_token_generate(): "hw_"
 * and 43 base64url characters. Says nothing about whether it is live. */
bool user_token_valid(const char *token);

/* Blocking, for the CLI. Each returns 0 or a negative error with a sentence in
 * err. A user is named by its name or its numeric id. user_repo_add's
 * timezone (checked by the caller) may be NULL: UTC. */
int user_repo_add(PGconn *c, const char *name, const char *timezone, int64_t *user_id,
                  char *token, size_t tokn, char *err, size_t errlen);
int user_repo_token_new(PGconn *c, const char *user, const char *label, int64_t *token_id,
                        char *token, size_t tokn, char *err, size_t errlen);
int user_repo_token_revoke(PGconn *c, int64_t token_id, char *err, size_t errlen);
/* Prints the users (id, name, created, live tokens) on stdout. */
int user_repo_list(PGconn *c, char *err, size_t errlen);
/* Prints a header and one line per token of user (name or id) on stdout:
 * "ID\tCREATED\tLAST_USED\tSTATE\tLABEL", STATE being live or revoked, times
 * in UTC ISO-8601, "-" for never used. HW_ENOTFOUND for an unknown user. */
int user_repo_token_list(PGconn *c, const char *user, char *err, size_t errlen);

/* Asynchronous lookup of a presented token. cb(arg, 0, user_id) when the token
 * is live, cb(arg, HW_EUNAUTH, 0) when it is unknown or revoked, or
 * cb(arg, HW_EUNAVAIL, 0) when the database cannot answer. Returns 0 or the
 * error of pg_query() (cb not called); a token that is not even well formed
 * (user_token_valid() false) gives HW_EUNAUTH at once, without a query, and cb
 * is not called either. Each use is recorded in last_used_at, at most once a
 * minute per token, by the same statement. */
typedef void (*user_auth_cb)(void *arg, int err, int64_t user_id);
int user_repo_auth(struct pg *pg, const char *token, user_auth_cb cb, void *arg);

#endif
