/* Credential extraction: the Authorization header and the capability base URL
 * "/u/TOKEN/..." that lets clients which only take a base URL (the browser
 * extension, the dashboard) authenticate without sending a header. */
#include <string.h>
#include <strings.h>

#include "hirewire/auth.h"
#include "hirewire/err.h"

int auth_parse_bearer(const char *header, char *tok, size_t n)
{
    if (!header || n == 0)
        return HW_EUNAUTH;
    while (*header == ' ' || *header == '\t')
        header++;
    if (strncasecmp(header, "bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return HW_EUNAUTH;
    header += 6;
    while (*header == ' ' || *header == '\t')
        header++;
    size_t len = strcspn(header, " \t\r\n");
    const char *tail = header + len;
    while (*tail == ' ' || *tail == '\t')
        tail++;
    if (len == 0 || len >= n || len > AUTH_TOKEN_MAX || *tail)
        return HW_EUNAUTH;
    memcpy(tok, header, len);
    tok[len] = '\0';
    return 0;
}

int auth_split_capability(const char *path, char *tok, size_t n, const char **rest)
{
    if (!path || strncmp(path, "/u/", 3) != 0)
        return 0;
    const char *t = path + 3;
    size_t len = strcspn(t, "/");
    if (len == 0 || len >= n || len > AUTH_TOKEN_MAX)
        return HW_EUNAUTH;
    memcpy(tok, t, len);
    tok[len] = '\0';
    *rest = t + len;
    return 1;
}
