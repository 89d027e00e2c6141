/* Where a request's credential comes from. Pure string handling; the lookup
 * of a token is user_repo_auth(). */
#ifndef HIREWIRE_AUTH_H
#define HIREWIRE_AUTH_H

#include <stddef.h>

/* Longest token accepted from the wire, without the NUL. */
#define AUTH_TOKEN_MAX 128

/* "Bearer TOKEN" (scheme case-insensitive, surrounding blanks ignored) -> tok
 * (n bytes). Returns 0, or HW_EUNAUTH for anything else. */
int auth_parse_bearer(const char *header, char *tok, size_t n);

/* A capability path "/u/TOKEN/rest...": copies TOKEN into tok and points
 * *rest at "/rest..." (or at "" for "/u/TOKEN"). Returns 1 when path has the
 * prefix, 0 when it has not, HW_EUNAUTH when the token part is empty or too
 * long. */
int auth_split_capability(const char *path, char *tok, size_t n, const char **rest);

#endif
