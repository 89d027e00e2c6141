/* Line-oriented logging.
 *
 * Every line is built in a stack buffer and handed to the kernel with a single
 * write(2), so lines from this process never interleave with each other even
 * when stderr is a pipe shared with child processes, and a crash in the middle
 * of a log call never leaves half a line behind. Nothing here allocates: the
 * logger must keep working when malloc() is what just failed. */
#include "hirewire/log.h"
#include "hirewire/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

enum log_level log__level = LOG_LEVEL_INFO;

/* The raw message is formatted first, then escaped into the line. Escaping
 * can grow a byte to four ("\x1b"), so the line buffer is larger than the
 * message buffer; whatever still does not fit is cut and marked with "...". */
#define LOG_MSG_MAX 2048
#define LOG_LINE_MAX 4096
#define LOG_ELLIPSIS "..."

static const char *const log_level_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error",
};

int log_level_parse(const char *s, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"debug", LOG_LEVEL_DEBUG},  {"info", LOG_LEVEL_INFO},   {"warn", LOG_LEVEL_WARN},
        {"warning", LOG_LEVEL_WARN}, {"error", LOG_LEVEL_ERROR},
    };

    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            if (out)
                *out = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

void log_set_level(enum log_level level)
{
    if (level < LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    if (level > LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    log__level = level;
}

/* Appends the escaped form of one byte at *pos, or returns false when it would
 * not leave room for the ellipsis and the closing quote and newline. */
static bool log_escape_byte(char *line, size_t *pos, size_t limit, unsigned char c)
{
    const char *esc = NULL;
    char tmp[5];
    size_t n;

    switch (c) {
    case '\\':
        esc = "\\\\";
        break;
    case '"':
        esc = "\\\"";
        break;
    case '\n':
        esc = "\\n";
        break;
    case '\t':
        esc = "\\t";
        break;
    case '\r':
        esc = "\\r";
        break;
    }
    if (esc) {
        memcpy(tmp, esc, 2);
        n = 2;
    } else if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, sizeof(tmp), "\\x%02x", c);
        n = 4;
    } else {
        tmp[0] = (char)c;
        n = 1;
    }
    if (*pos + n > limit)
        return false;
    memcpy(line + *pos, tmp, n);
    *pos += n;
    return true;
}

/* Writes the whole buffer, retrying after signals. A short write to stderr is
 * rare (a full pipe in non-blocking mode); the remainder is retried rather
 * than dropped so the line still arrives in order. */
static void log_emit(const char *buf, size_t len)
{
    int saved = errno;
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        buf += w;
        len -= (size_t)w;
    }
    errno = saved;
}

static void log_write_msg(enum log_level level, const char *mod, const char *msg, size_t msglen,
                          bool truncated)
{
    char line[LOG_LINE_MAX];
    char ts[32];
    struct timespec now;

    /* Logs carry the real wall-clock time, not clock_now_ms(): the test offset
     * moves application time, but operators correlate log lines with other
     * systems' logs. */
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (clock_format_iso(ms, ts, sizeof(ts)) != 0)
        snprintf(ts, sizeof(ts), "-");

    if ((int)level < LOG_LEVEL_DEBUG || (int)level > LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    int head = snprintf(line, sizeof(line), "%s level=%s mod=%s msg=\"", ts, log_level_names[level],
                        mod && *mod ? mod : "-");
    if (head < 0)
        return;
    size_t pos = (size_t)head < sizeof(line) ? (size_t)head : sizeof(line) - 1;

    /* Room kept at the end for the ellipsis, the closing quote and newline. */
    size_t limit = sizeof(line) - (sizeof(LOG_ELLIPSIS) - 1) - 2;
    for (size_t i = 0; i < msglen; i++) {
        if (!log_escape_byte(line, &pos, limit, (unsigned char)msg[i])) {
            truncated = true;
            break;
        }
    }
    if (truncated) {
        memcpy(line + pos, LOG_ELLIPSIS, sizeof(LOG_ELLIPSIS) - 1);
        pos += sizeof(LOG_ELLIPSIS) - 1;
    }
    line[pos++] = '"';
    line[pos++] = '\n';
    log_emit(line, pos);
}

void log_write(enum log_level level, const char *mod, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
        msg[0] = '\0';
    }
    bool truncated = (size_t)n >= sizeof(msg);
    size_t len = truncated ? sizeof(msg) - 1 : (size_t)n;
    log_write_msg(level, mod, msg, len, truncated);
}

/* Writes a message that arrives already formatted (libwebsockets, libpq),
 * without the trailing newlines those libraries put on every line. */
static void log_write_raw(enum log_level level, const char *mod, const char *text)
{
    if (level < log__level || !text)
        return;
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    bool truncated = len > LOG_MSG_MAX;
    if (truncated)
        len = LOG_MSG_MAX;
    log_write_msg(level, mod, text, len, truncated);
}

static void log_lws_emit(int level, const char *line)
{
    enum log_level lvl;

    /* lws notices describe routine start-up and connection events; at info
     * they would dominate the default log, so they are debug. */
    if (level & LLL_ERR)
        lvl = LOG_LEVEL_ERROR;
    else if (level & LLL_WARN)
        lvl = LOG_LEVEL_WARN;
    else if (level & LLL_USER)
        lvl = LOG_LEVEL_INFO;
    else
        lvl = LOG_LEVEL_DEBUG;
    log_write_raw(lvl, "lws", line);
}

void log_route_lws(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER, log_lws_emit);
}

void log_pq_notice(void *arg, const char *message)
{
    (void)arg;
    log_write_raw(LOG_LEVEL_INFO, "pg", message);
}

/* A bounded string builder: bytes past the end are counted but dropped, so
 * the caller can copy blindly and the result is always terminated. */
struct redact_buf {
    char *dst;
    size_t n;
    size_t pos;
};

static void redact_put(struct redact_buf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (b->pos + 1 < b->n)
            b->dst[b->pos++] = s[i];
    }
}

/* True for query argument names that carry a credential: "token" itself and
 * names such as "access_token". */
static bool redact_is_token_name(const char *name, size_t len)
{
    static const char suffix[] = "token";
    size_t sl = sizeof(suffix) - 1;
    return len >= sl && strncasecmp(name + len - sl, suffix, sl) == 0;
}

static void redact_query(struct redact_buf *b, const char *q)
{
    while (*q) {
        size_t arglen = strcspn(q, "&");
        const char *eq = memchr(q, '=', arglen);
        if (eq && redact_is_token_name(q, (size_t)(eq - q))) {
            redact_put(b, q, (size_t)(eq - q) + 1);
            redact_put(b, "***", 3);
        } else {
            redact_put(b, q, arglen);
        }
        q += arglen;
        if (*q == '&') {
            redact_put(b, "&", 1);
            q++;
        }
    }
}

char *log_redact_path(char *dst, size_t n, const char *path)
{
    if (!dst || n == 0)
        return dst;
    struct redact_buf b = {.dst = dst, .n = n, .pos = 0};
    if (!path)
        path = "";

    size_t pathlen = strcspn(path, "?");
    const char *p = path;
    /* The capability-URL form puts the token in the first segment. */
    if (pathlen >= 3 && strncmp(p, "/u/", 3) == 0) {
        redact_put(&b, "/u/***", 6);
        p += 3;
        p += strcspn(p, "/?");
    }
    redact_put(&b, p, (size_t)(path + pathlen - p));
    if (path[pathlen] == '?') {
        redact_put(&b, "?", 1);
        redact_query(&b, path + pathlen + 1);
    }
    dst[b.pos] = '\0';
    return dst;
}
