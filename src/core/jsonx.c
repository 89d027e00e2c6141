/* Small jansson helpers shared by the API handlers and the event code. */
#include "hirewire/jsonx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *jsonx_dump(const json_t *v, size_t *len)
{
    /* json_dumpb() rather than json_dumps(): the length comes back directly,
     * and a string holding an escaped NUL cannot shorten the result. */
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10);
    if (!v)
        return NULL;
    size_t need = json_dumpb(v, NULL, 0, flags);
    if (need == 0)
        return NULL;
    char *buf = malloc(need + 1);
    if (!buf)
        return NULL;
    if (json_dumpb(v, buf, need, flags) != need) {
        free(buf);
        return NULL;
    }
    buf[need] = '\0';
    if (len)
        *len = need;
    return buf;
}

json_t *jsonx_parse(const char *buf, size_t len, char *msg, size_t msglen)
{
    json_error_t jerr;

    /* Flags 0: only an object or array at the top, nothing after it, and no
     * "\u0000" inside strings, which C code downstream would silently cut.
     * Duplicate keys are accepted and the last one wins, as browsers do. */
    json_t *root = json_loadb(buf ? buf : "", buf ? len : 0, 0, &jerr);
    if (!root && msg && msglen > 0)
        snprintf(msg, msglen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
    return root;
}

/* Copies at most n-1 bytes of src[0..len) into field. */
static const char *jsonx_copy_field(char *field, size_t n, const char *src, size_t len)
{
    if (len >= n)
        len = n - 1;
    memcpy(field, src, len);
    field[len] = '\0';
    return field;
}

const char *jsonx_error_field(const json_error_t *jerr, char *field, size_t n)
{
    /* jansson 2.14 says "not found", earlier releases "not present". */
    static const char *const key_prefixes[] = {
        "Object item not found: ",
        "Object item not present: ",
    };
    static const char strict_marker[] = "left unpacked: ";

    if (!field || n == 0)
        return "";
    field[0] = '\0';
    if (!jerr)
        return field;

    const char *text = jerr->text;
    for (size_t i = 0; i < sizeof(key_prefixes) / sizeof(key_prefixes[0]); i++) {
        size_t pl = strlen(key_prefixes[i]);
        if (strncmp(text, key_prefixes[i], pl) == 0)
            return jsonx_copy_field(field, n, text + pl, strlen(text + pl));
    }

    /* JSON_STRICT lists every extra key ("2 object item(s) left unpacked:
     * a, b"); the first one is enough to point the client at its mistake. */
    const char *strict = strstr(text, strict_marker);
    if (strict) {
        const char *keys = strict + sizeof(strict_marker) - 1;
        return jsonx_copy_field(field, n, keys, strcspn(keys, ","));
    }

    /* jansson fills source with "<validation>", "<format>" or "<args>" for
     * unpack errors; anything else was put there by a caller on purpose. */
    if (jerr->source[0] != '\0' && jerr->source[0] != '<')
        return jsonx_copy_field(field, n, jerr->source, strlen(jerr->source));
    return field;
}

void jsonx_repr(const json_t *v, size_t max, char *buf, size_t n)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s)
        snprintf(buf, n, "(unprintable)");
    else if (strlen(s) > max) {
        size_t cut = max > 4 ? max - 4 : 0;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--; /* not inside a character */
        snprintf(buf, n, "%.*s...", (int)cut, s);
    }
    else
        snprintf(buf, n, "%s", s);
    free(s);
}
