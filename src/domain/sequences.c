/* Follow-up sequences: template checking and rendering, access to the loaded
 * sequences, due times. Loading is in sequences_load.c. */
#include "hirewire/sequences.h"
#include "hirewire/localtime.h"
#include "hirewire/utf8.h"
#include "sequences_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* One row per placeholder: the name between the braces, where its value sits
 * in struct sequences_vars, and what a missing value renders as. */
struct placeholder {
    const char *name;
    size_t off;
    const char *missing;
};

static const struct placeholder placeholders[] = {
    {"job_title", offsetof(struct sequences_vars, job_title), "[job title]"},
    {"company", offsetof(struct sequences_vars, company), "[company]"},
    {"candidate_name", offsetof(struct sequences_vars, candidate_name), "[candidate name]"},
    {"recipient_name", offsetof(struct sequences_vars, recipient_name), "[recipient name]"},
    {"interviewer_name", offsetof(struct sequences_vars, interviewer_name), "[interviewer name]"},
    {"interview_type", offsetof(struct sequences_vars, interview_type), "[interview type]"},
    {"interview_date", offsetof(struct sequences_vars, interview_date), "[interview date]"},
    {"applied_date", offsetof(struct sequences_vars, applied_date), "[applied date]"},
};

#define N_PLACEHOLDERS (sizeof(placeholders) / sizeof(placeholders[0]))

const struct sequences__unit sequences__units[] = {
    {"days", SEQUENCES_UNIT_DAYS, 365},
    {"months", SEQUENCES_UNIT_MONTHS, 24},
    {"hours", SEQUENCES_UNIT_HOURS, 366 * 24},
    {"minutes", SEQUENCES_UNIT_MINUTES, 366 * 24 * 60},
};

const char *const sequences__priority_names[] = {
    [SEQUENCES_PRIORITY_LOW] = "low",
    [SEQUENCES_PRIORITY_NORMAL] = "normal",
    [SEQUENCES_PRIORITY_HIGH] = "high",
};

const char *const sequences__anchor_names[] = {
    [SEQUENCES_ANCHOR_APPLIED] = "applied",
    [SEQUENCES_ANCHOR_INTERVIEW_END] = "interview_end",
};

/* ------------------------------------------------------------------------ */
/* Templates                                                                */
/* ------------------------------------------------------------------------ */

static const struct placeholder *placeholder_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_PLACEHOLDERS; i++) {
        if (strlen(placeholders[i].name) == len && memcmp(placeholders[i].name, name, len) == 0)
            return &placeholders[i];
    }
    return NULL;
}

/* The '}' closing the '{' at s when it comes within a name's length, else
 * NULL. Bounded so that a template full of '{' stays linear. */
static const char *brace_close(const char *s)
{
    return memchr(s + 1, '}', strnlen(s + 1, SEQUENCES_NAME_MAX + 1));
}

/* A known placeholder starting at the '{' at s, or NULL; *end is set past its
 * closing '}'. */
static const struct placeholder *placeholder_at(const char *s, const char **end)
{
    const char *close = brace_close(s);
    if (!close)
        return NULL;
    const struct placeholder *ph = placeholder_find(s + 1, (size_t)(close - s - 1));
    if (ph)
        *end = close + 1;
    return ph;
}

static __attribute__((format(printf, 3, 4))) int text_fail(char *err, size_t n, const char *fmt,
                                                           ...)
{
    if (err && n > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* UTF-8 and control characters: C0 (but line breaks and tabs when
 * multiline), DEL and C1. */
int sequences__text_check(const char *s, bool multiline, char *err, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (*p) {
        int32_t cp;
        size_t len = utf8_decode(p, left, &cp);
        size_t at = (size_t)(p - (const unsigned char *)s);
        if (cp < 0)
            return text_fail(err, n, "invalid UTF-8 at byte %zu", at);
        bool allowed = multiline && (cp == '\n' || cp == '\t');
        if ((cp < 0x20 && !allowed) || (cp >= 0x7f && cp <= 0x9f))
            return text_fail(err, n, "control character U+%04X at byte %zu", (unsigned)cp, at);
        p += len;
        left -= len;
    }
    return 0;
}

static void placeholder_list(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_PLACEHOLDERS && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s{%s}", i ? ", " : "", placeholders[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* A '{' that is neither "{{" nor a known placeholder. */
static int brace_fail(const char *tmpl, const char *s, char *err, size_t n)
{
    const char *close = brace_close(s);
    size_t len = close ? (size_t)(close - s - 1) : 0;
    bool namelike = close && len > 0 && len <= SEQUENCES_NAME_MAX &&
                    strspn(s + 1, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
    if (namelike) {
        char known[256];
        placeholder_list(known, sizeof(known));
        return text_fail(err, n, "unknown placeholder {%.*s} (known: %s)", (int)len, s + 1, known);
    }
    return text_fail(err, n,
                     "\"{\" at byte %zu does not start a placeholder (write \"{{\" for a "
                     "literal brace)",
                     (size_t)(s - tmpl));
}

int sequences_template_check(const char *tmpl, bool multiline, char *err, size_t n)
{
    if (!tmpl)
        return text_fail(err, n, "missing template");
    int rc = sequences__text_check(tmpl, multiline, err, n);
    if (rc != 0)
        return rc;
    for (const char *s = tmpl; *s;) {
        const char *end;
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}'))
            s += 2;
        else if (s[0] == '{' && placeholder_at(s, &end))
            s = end;
        else if (s[0] == '{')
            return brace_fail(tmpl, s, err, n);
        else if (s[0] == '}')
            return text_fail(err, n,
                             "\"}\" at byte %zu closes nothing (write \"}}\" for a literal "
                             "brace)",
                             (size_t)(s - tmpl));
        else
            s++;
    }
    return 0;
}

struct strbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void strbuf_add(struct strbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (b->len + len + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static bool value_missing(const char *v)
{
    return !v || v[strspn(v, " \t\r\n")] == '\0';
}

char *sequences_render(const char *tmpl, const struct sequences_vars *vars)
{
    struct strbuf b = {0};
    strbuf_add(&b, "", 0);
    for (const char *s = tmpl ? tmpl : ""; *s && !b.oom;) {
        const char *end;
        const struct placeholder *ph;
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            strbuf_add(&b, s, 1);
            s += 2;
        } else if (s[0] == '{' && (ph = placeholder_at(s, &end))) {
            const char *v = vars ? *(const char *const *)((const char *)vars + ph->off) : NULL;
            if (value_missing(v))
                v = ph->missing;
            strbuf_add(&b, v, strlen(v));
            s = end;
        } else {
            size_t len = 1 + strcspn(s + 1, "{}");
            strbuf_add(&b, s, len);
            s += len;
        }
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------------------ */
/* Access                                                                   */
/* ------------------------------------------------------------------------ */

size_t sequences_count(const struct sequences *s)
{
    return s ? s->n : 0;
}

const struct sequences_seq *sequences_at(const struct sequences *s, size_t i)
{
    return s && i < s->n ? &s->seqs[i] : NULL;
}

const struct sequences_seq *sequences_find(const struct sequences *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->n; i++) {
        if (strcmp(s->seqs[i].name, name) == 0)
            return &s->seqs[i];
    }
    return NULL;
}

const struct sequences_seq *sequences_default_on_applied(const struct sequences *s)
{
    return s ? s->on_applied : NULL;
}

const struct sequences_seq *sequences_default_on_interview(const struct sequences *s)
{
    return s ? s->on_interview : NULL;
}

const char *sequences_seq_name(const struct sequences_seq *q)
{
    return q->name;
}

const char *sequences_seq_description(const struct sequences_seq *q)
{
    return q->description;
}

enum sequences_anchor sequences_seq_anchor(const struct sequences_seq *q)
{
    return q->anchor;
}

size_t sequences_seq_step_count(const struct sequences_seq *q)
{
    return q->n_steps;
}

const struct sequences_step *sequences_seq_step(const struct sequences_seq *q, size_t i)
{
    return i < q->n_steps ? &q->steps[i] : NULL;
}

const char *sequences_priority_name(enum sequences_priority pr)
{
    return (unsigned)pr < 3 ? sequences__priority_names[pr] : "unknown";
}

const char *sequences_anchor_name(enum sequences_anchor a)
{
    return (unsigned)a < 2 ? sequences__anchor_names[a] : "unknown";
}

const char *sequences_unit_name(enum sequences_unit u)
{
    for (size_t i = 0; i < SEQUENCES__N_UNITS; i++) {
        if (sequences__units[i].unit == u)
            return sequences__units[i].key;
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Due times                                                                */
/* ------------------------------------------------------------------------ */

static bool delay_ok(const struct sequences_delay *d)
{
    for (size_t i = 0; i < SEQUENCES__N_UNITS; i++) {
        if (sequences__units[i].unit != d->unit)
            continue;
        bool calendar = d->unit == SEQUENCES_UNIT_DAYS || d->unit == SEQUENCES_UNIT_MONTHS;
        bool at_ok = d->at_minute == -1 || (calendar && d->at_minute >= 0 && d->at_minute < 1440);
        return d->amount >= 0 && d->amount <= sequences__units[i].max && at_ok;
    }
    return false;
}

int sequences_due_ms(const struct sequences_delay *d, int64_t anchor_ms, const char *tz,
                     int64_t *due_ms)
{
    if (!d || !due_ms || !delay_ok(d))
        return -EINVAL;
    if (anchor_ms < LOCALTIME_MIN_MS || anchor_ms >= LOCALTIME_MAX_MS)
        return -ERANGE;
    if (d->unit == SEQUENCES_UNIT_HOURS || d->unit == SEQUENCES_UNIT_MINUTES) {
        /* Elapsed time needs no zone, but an unknown one is refused all the
         * same so that a bad zone fails the same way for every step. */
        if (!localtime_tz_valid(tz))
            return -EINVAL;
        int64_t unit_ms = d->unit == SEQUENCES_UNIT_HOURS ? 3600000 : 60000;
        *due_ms = anchor_ms + d->amount * unit_ms;
        return 0;
    }
    int64_t local;
    int rc = localtime_from_utc(tz, anchor_ms, &local);
    if (rc != 0)
        return rc;
    /* Going through the wall clock would turn an anchor in the second pass
     * of a repeated hour into the first pass, before the anchor. */
    if (d->amount == 0 && d->at_minute < 0) {
        *due_ms = anchor_ms;
        return 0;
    }
    if (d->unit == SEQUENCES_UNIT_DAYS)
        local = localtime_add_days(local, d->amount);
    else
        local = localtime_add_months(local, d->amount);
    if (d->at_minute >= 0)
        local = localtime_at_minute(local, d->at_minute);
    return localtime_to_utc(tz, local, due_ms);
}

bool sequences_tz_valid(const char *tz)
{
    return localtime_tz_valid(tz);
}

void sequences_global_cleanup(void)
{
    localtime_global_cleanup();
}
