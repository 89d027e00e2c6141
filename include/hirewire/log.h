/* Leveled, line-oriented logging to stderr.
 *
 * One line per fact:
 *   2026-11-23T14:20:00.123Z level=warn mod=hub msg="queue over soft limit user=42"
 * Each .c file defines LOG_MOD before using the macros. The macros check the
 * level before any formatting happens. Messages must never contain tokens:
 * use log_redact_path() on anything that came from a request line. */
#ifndef HIREWIRE_LOG_H
#define HIREWIRE_LOG_H

#include <stddef.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERROR = 3,
};

/* The current threshold. Read by the macros; set only through log_set_level(). */
extern enum log_level log__level;

/* Parses "debug", "info", "warn"/"warning", "error". Returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);

/* Formats and writes one line with one write(2). The message is escaped so that
 * it stays on one line inside msg="...". */
void log_write(enum log_level level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log__level)                                                                   \
            log_write((lvl), LOG_MOD, __VA_ARGS__);                                                \
    } while (0)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Routes libwebsockets' own log lines through log_write() (mod=lws). Call
 * before lws_create_context() so the start-up lines are routed too. */
void log_route_lws(void);

/* A libpq notice processor (PQsetNoticeProcessor); arg is unused. */
void log_pq_notice(void *arg, const char *message);

/* Copies path into dst (size n, always NUL-terminated) with any capability
 * token hidden: the segment after a leading "/u/" becomes "***" (so
 * "/u/SECRET/api/v1/jobs" is logged with "***" in place of SECRET), and the
 * value of a "token=" query argument is replaced by "***". Returns dst. */
char *log_redact_path(char *dst, size_t n, const char *path);

#endif
