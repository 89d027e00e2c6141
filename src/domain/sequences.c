/* Follow-up sequences: loading, template rendering, due times.
 *
 * The loader is strict on purpose. The file is edited by hand and its texts
 * end up in mails a job seeker sends, so a typo in a key, a placeholder or a
 * delay must stop the server at start with a sentence that points at the
 * spot, rather than send "{jobtitle}" to a recruiter three days later.
 *
 * The parsed JSON tree is kept inside struct sequences and every string of
 * the public structs points into it: nothing is copied, and freeing the
 * object is one json_decref. */
#include "hirewire/sequences.h"
#include "hirewire/localtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define SEQUENCES_FILE_MAX (1024 * 1024)
#define SEQUENCES_DESCRIPTION_MAX 500
#define PATH_MAX_LEN 160

struct sequences_seq {
    const char *name;
    const char *description;
    enum sequences_anchor anchor;
    size_t n_steps;
    struct sequences_step steps[SEQUENCES_STEPS_MAX];
};

struct sequences {
    json_t *root; /* owns every string below */
    size_t n;
    struct sequences_seq seqs[SEQUENCES_MAX];
    const struct sequences_seq *on_applied;
    const struct sequences_seq *on_interview;
};

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

static const struct {
    const char *key;
    enum sequences_unit unit;
    int max;
} delay_units[] = {
    {"days", SEQUENCES_UNIT_DAYS, 365},
    {"months", SEQUENCES_UNIT_MONTHS, 24},
    {"hours", SEQUENCES_UNIT_HOURS, 366 * 24},
    {"minutes", SEQUENCES_UNIT_MINUTES, 366 * 24 * 60},
};

#define N_UNITS (sizeof(delay_units) / sizeof(delay_units[0]))

static const char *const priority_names[] = {
    [SEQUENCES_PRIORITY_LOW] = "low",
    [SEQUENCES_PRIORITY_NORMAL] = "normal",
    [SEQUENCES_PRIORITY_HIGH] = "high",
};

static const char *const anchor_names[] = {
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

/* Decodes one UTF-8 sequence strictly (no overlong forms, no surrogates,
 * nothing above U+10FFFF). Returns its length, 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                 : (s[0] & 0xf0) == 0xe0        ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (len == 0)
        return 0;
    uint32_t c = len == 1 ? s[0] : s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
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
static int text_check(const char *s, bool multiline, char *err, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t len = utf8_decode(p, &cp);
        size_t at = (size_t)(p - (const unsigned char *)s);
        if (len == 0)
            return text_fail(err, n, "invalid UTF-8 at byte %zu", at);
        bool allowed = multiline && (cp == '\n' || cp == '\t');
        if ((cp < 0x20 && !allowed) || (cp >= 0x7f && cp <= 0x9f))
            return text_fail(err, n, "control character U+%04X at byte %zu", (unsigned)cp, at);
        p += len;
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
    int rc = text_check(tmpl, multiline, err, n);
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
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

struct parse {
    const char *file;
    char *err;
    size_t n;
};

/* Writes "<file>: <path>: <sentence>" (or "<file>: <sentence>" without a
 * path) and returns -EINVAL. */
static __attribute__((format(printf, 3, 4))) int parse_fail(struct parse *p, const char *path,
                                                            const char *fmt, ...)
{
    if (!p->err || p->n == 0)
        return -EINVAL;
    int w = path ? snprintf(p->err, p->n, "%s: %s: ", p->file, path)
                 : snprintf(p->err, p->n, "%s: ", p->file);
    if (w >= 0 && (size_t)w < p->n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + w, p->n - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Writes an error path such as "post_interview.steps[1].delay". Paths are
 * short by construction (names are at most 48 bytes); one that does not fit
 * is cut, which only shortens an error sentence. */
static __attribute__((format(printf, 2, 3))) void path_fmt(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
    if (w < 0)
        out[0] = '\0';
}

/* A value as an error sentence shows it: JSON, compact, cut short. */
static void repr(const json_t *v, char *buf, size_t n)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        snprintf(buf, n, "(unprintable)");
    else if (strlen(s) > 48)
        snprintf(buf, n, "%.44s...", s);
    else
        snprintf(buf, n, "%s", s);
    free(s);
}

static int check_keys(struct parse *p, const char *path, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (*a)
            continue;
        char list[160] = "", shown[64];
        size_t used = 0;
        for (a = allowed; *a && used < sizeof(list); a++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                     a == allowed ? "" : ", ", *a);
        json_t *k = json_string(key);
        repr(k, shown, sizeof(shown));
        json_decref(k);
        return parse_fail(p, path, "unknown key %s (allowed: %s)", shown, list);
    }
    return 0;
}

/* obj.key as a string. Absent: *out = NULL, an error only when required. */
static int get_string(struct parse *p, const char *path, json_t *obj, const char *key,
                      bool required, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v && !required)
        return 0;
    char field[PATH_MAX_LEN];
    path_fmt(field, "%s%s%s", path ? path : "", path ? "." : "", key);
    if (!v)
        return parse_fail(p, field, "required");
    if (!json_is_string(v))
        return parse_fail(p, field, "must be a string");
    *out = json_string_value(v);
    return 0;
}

/* ^[a-z][a-z0-9_]{0,47}$ */
static bool name_ok(const char *s)
{
    size_t len = strlen(s);
    return len >= 1 && len <= SEQUENCES_NAME_MAX && s[0] >= 'a' && s[0] <= 'z' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

static int get_name(struct parse *p, const char *path, json_t *obj, const char *key,
                    const char **out)
{
    int rc = get_string(p, path, obj, key, true, out);
    if (rc != 0 || name_ok(*out))
        return rc;
    char field[PATH_MAX_LEN], shown[64];
    path_fmt(field, "%s.%s", path, key);
    repr(json_object_get(obj, key), shown, sizeof(shown));
    return parse_fail(p, field, "%s must match ^[a-z][a-z0-9_]{0,47}$", shown);
}

/* obj.key as one of names[0..count), by index. */
static int get_enum(struct parse *p, const char *path, json_t *obj, const char *key,
                    const char *const *names, size_t count, int *out)
{
    const char *s;
    int rc = get_string(p, path, obj, key, true, &s);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char field[PATH_MAX_LEN], shown[64], list[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof(list); i++)
        used +=
            (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i ? ", " : "", names[i]);
    path_fmt(field, "%s.%s", path, key);
    repr(json_object_get(obj, key), shown, sizeof(shown));
    return parse_fail(p, field, "%s is not one of %s", shown, list);
}

/* "HH:MM" -> minute of the day, or -1. */
static int parse_at(const char *s)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++) {
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    return h <= 23 && m <= 59 ? h * 60 + m : -1;
}

static int parse_delay(struct parse *p, const char *path, json_t *obj, struct sequences_delay *d)
{
    static const char *const keys[] = {"days", "months", "hours", "minutes", "at", NULL};
    if (!json_is_object(obj))
        return parse_fail(p, path, "must be an object such as {\"days\": 3}");
    int rc = check_keys(p, path, obj, keys);
    if (rc != 0)
        return rc;
    size_t found = 0;
    for (size_t i = 0; i < N_UNITS; i++) {
        json_t *v = json_object_get(obj, delay_units[i].key);
        if (!v)
            continue;
        json_int_t amount = json_is_integer(v) ? json_integer_value(v) : -1;
        if (amount < 0 || amount > delay_units[i].max)
            return parse_fail(p, path, "\"%s\" must be an integer 0..%d", delay_units[i].key,
                              delay_units[i].max);
        d->unit = delay_units[i].unit;
        d->amount = (int)amount;
        found++;
    }
    if (found != 1)
        return parse_fail(p, path,
                          "give exactly one of \"days\", \"months\", \"hours\", "
                          "\"minutes\"");
    d->at_minute = -1;
    json_t *at = json_object_get(obj, "at");
    if (!at)
        return 0;
    if (d->unit != SEQUENCES_UNIT_DAYS && d->unit != SEQUENCES_UNIT_MONTHS)
        return parse_fail(p, path, "\"at\" is only allowed with \"days\" or \"months\"");
    d->at_minute = json_is_string(at) ? parse_at(json_string_value(at)) : -1;
    if (d->at_minute < 0)
        return parse_fail(p, path, "\"at\" must be a local time \"HH:MM\" from 00:00 to 23:59");
    return 0;
}

static int parse_template(struct parse *p, const char *path, json_t *obj, const char *key,
                          size_t max, const char **out)
{
    int rc = get_string(p, path, obj, key, true, out);
    if (rc != 0)
        return rc;
    char field[PATH_MAX_LEN], why[512];
    path_fmt(field, "%s.%s", path, key);
    bool multiline = strcmp(key, "message") == 0;
    if (**out == '\0')
        return parse_fail(p, field, "must not be empty");
    if (strlen(*out) > max)
        return parse_fail(p, field, "longer than %zu bytes", max);
    if (sequences_template_check(*out, multiline, why, sizeof(why)) != 0)
        return parse_fail(p, field, "%s", why);
    return 0;
}

static int parse_step(struct parse *p, const char *path, json_t *obj, struct sequences_step *st)
{
    static const char *const keys[] = {"type", "priority", "delay", "subject", "message", NULL};
    if (!json_is_object(obj))
        return parse_fail(p, path, "must be an object");
    int rc = check_keys(p, path, obj, keys);
    if (rc == 0)
        rc = get_name(p, path, obj, "type", &st->type);
    int prio = 0;
    if (rc == 0)
        rc = get_enum(p, path, obj, "priority", priority_names, 3, &prio);
    st->priority = (enum sequences_priority)prio;
    if (rc != 0)
        return rc;
    char field[PATH_MAX_LEN];
    path_fmt(field, "%s.delay", path);
    json_t *delay = json_object_get(obj, "delay");
    if (!delay)
        return parse_fail(p, field, "required");
    rc = parse_delay(p, field, delay, &st->delay);
    if (rc == 0)
        rc = parse_template(p, path, obj, "subject", SEQUENCES_SUBJECT_MAX, &st->subject);
    if (rc == 0)
        rc = parse_template(p, path, obj, "message", SEQUENCES_MESSAGE_MAX, &st->message);
    return rc;
}

static int parse_steps(struct parse *p, const char *name, json_t *steps, struct sequences_seq *q)
{
    char path[PATH_MAX_LEN];
    path_fmt(path, "%s.steps", name);
    if (!steps)
        return parse_fail(p, path, "required");
    if (!json_is_array(steps) || json_array_size(steps) < 1 ||
        json_array_size(steps) > SEQUENCES_STEPS_MAX)
        return parse_fail(p, path, "must be an array of 1..%d steps", SEQUENCES_STEPS_MAX);
    size_t i;
    json_t *step;
    json_array_foreach(steps, i, step)
    {
        path_fmt(path, "%s.steps[%zu]", name, i);
        int rc = parse_step(p, path, step, &q->steps[i]);
        if (rc != 0)
            return rc;
    }
    q->n_steps = json_array_size(steps);
    return 0;
}

static int parse_seq(struct parse *p, size_t index, json_t *obj, struct sequences *s)
{
    static const char *const keys[] = {"name", "description", "anchor", "steps", NULL};
    struct sequences_seq *q = &s->seqs[index];
    char path[PATH_MAX_LEN];
    path_fmt(path, "sequences[%zu]", index);
    if (!json_is_object(obj))
        return parse_fail(p, path, "must be an object");
    int rc = get_name(p, path, obj, "name", &q->name);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < index; i++) {
        if (strcmp(s->seqs[i].name, q->name) == 0)
            return parse_fail(p, path, "name \"%s\" is already used by sequences[%zu]", q->name, i);
    }
    rc = check_keys(p, q->name, obj, keys);
    if (rc == 0)
        rc = get_string(p, q->name, obj, "description", false, &q->description);
    if (rc == 0 && q->description) {
        char field[PATH_MAX_LEN], why[128];
        path_fmt(field, "%s.description", q->name);
        if (strlen(q->description) > SEQUENCES_DESCRIPTION_MAX)
            return parse_fail(p, field, "longer than %d bytes", SEQUENCES_DESCRIPTION_MAX);
        if (text_check(q->description, false, why, sizeof(why)) != 0)
            return parse_fail(p, field, "%s", why);
    }
    if (!q->description)
        q->description = "";
    int anchor = 0;
    if (rc == 0)
        rc = get_enum(p, q->name, obj, "anchor", anchor_names, 2, &anchor);
    q->anchor = (enum sequences_anchor)anchor;
    if (rc == 0)
        rc = parse_steps(p, q->name, json_object_get(obj, "steps"), q);
    return rc;
}

static int parse_default(struct parse *p, json_t *root, const char *key,
                         enum sequences_anchor anchor, struct sequences *s,
                         const struct sequences_seq **out)
{
    const char *name;
    int rc = get_string(p, NULL, root, key, true, &name);
    if (rc != 0)
        return rc;
    *out = sequences_find(s, name);
    char shown[64];
    repr(json_object_get(root, key), shown, sizeof(shown));
    if (!*out)
        return parse_fail(p, key, "%s is not a defined sequence", shown);
    if ((*out)->anchor != anchor)
        return parse_fail(p, key, "sequence %s is anchored at \"%s\", not \"%s\"", shown,
                          anchor_names[(*out)->anchor], anchor_names[anchor]);
    return 0;
}

static int parse_root(struct parse *p, json_t *root, struct sequences *s)
{
    static const char *const keys[] = {"default_on_applied", "default_on_interview", "sequences",
                                       NULL};
    if (!json_is_object(root))
        return parse_fail(p, NULL, "the top level must be a JSON object");
    int rc = check_keys(p, NULL, root, keys);
    if (rc != 0)
        return rc;
    json_t *list = json_object_get(root, "sequences");
    if (!list)
        return parse_fail(p, "sequences", "required");
    if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > SEQUENCES_MAX)
        return parse_fail(p, "sequences", "must be an array of 1..%d sequences", SEQUENCES_MAX);
    size_t i;
    json_t *seq;
    json_array_foreach(list, i, seq)
    {
        rc = parse_seq(p, i, seq, s);
        if (rc != 0)
            return rc;
        s->n = i + 1;
    }
    rc = parse_default(p, root, "default_on_applied", SEQUENCES_ANCHOR_APPLIED, s, &s->on_applied);
    if (rc == 0)
        rc = parse_default(p, root, "default_on_interview", SEQUENCES_ANCHOR_INTERVIEW_END, s,
                           &s->on_interview);
    return rc;
}

/* Checks the raw bytes before jansson does, so that a broken byte is reported
 * with its line and column and the words "invalid UTF-8". */
static int check_utf8_bytes(struct parse *p, const char *json, size_t len)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)json[i];
        uint32_t cp;
        size_t n = 1;
        if (c >= 0x80) {
            /* Copy so utf8_decode never reads past len. */
            unsigned char tmp[5] = {0};
            memcpy(tmp, json + i, len - i < 4 ? len - i : 4);
            n = utf8_decode(tmp, &cp);
            if (n == 0)
                return parse_fail(p, NULL, "line %zu, column %zu: invalid UTF-8 (byte 0x%02x)",
                                  line, col, c);
        }
        if (c == '\n') {
            line++;
            col = 0;
        }
        col++;
        i += n;
    }
    return 0;
}

static struct sequences *parse_named(const char *file, const char *json, size_t len, char *err,
                                     size_t n)
{
    struct parse p = {file, err, n};
    if (err && n > 0)
        err[0] = '\0';
    if (!json) {
        parse_fail(&p, NULL, "no input");
        return NULL;
    }
    if (check_utf8_bytes(&p, json, len) != 0)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        parse_fail(&p, NULL, "line %d, column %d: not valid JSON: %s", jerr.line, jerr.column,
                   jerr.text);
        return NULL;
    }
    struct sequences *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(root);
        parse_fail(&p, NULL, "out of memory");
        return NULL;
    }
    s->root = root;
    if (parse_root(&p, root, s) != 0) {
        sequences_free(s);
        return NULL;
    }
    return s;
}

struct sequences *sequences_parse(const char *json, size_t len, char *err, size_t n)
{
    return parse_named("sequences.json", json, len, err, n);
}

struct sequences *sequences_load(const char *path, char *err, size_t n)
{
    struct parse p = {"sequences.json", err, n};
    if (!path) {
        parse_fail(&p, NULL, "no file name");
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    p.file = slash && slash[1] ? slash + 1 : path;
    struct sequences *s = NULL;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        parse_fail(&p, NULL, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    buf = malloc(SEQUENCES_FILE_MAX + 1);
    if (!buf) {
        parse_fail(&p, NULL, "out of memory");
        goto out;
    }
    size_t len = fread(buf, 1, SEQUENCES_FILE_MAX + 1, f);
    if (ferror(f))
        parse_fail(&p, NULL, "cannot read %s: %s", path, strerror(errno));
    else if (len > SEQUENCES_FILE_MAX)
        parse_fail(&p, NULL, "larger than %d bytes", SEQUENCES_FILE_MAX);
    else
        s = parse_named(p.file, buf, len, err, n);
out:
    free(buf);
    if (f)
        fclose(f);
    return s;
}

void sequences_free(struct sequences *s)
{
    if (!s)
        return;
    json_decref(s->root);
    free(s);
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
    return (unsigned)pr < 3 ? priority_names[pr] : "unknown";
}

const char *sequences_anchor_name(enum sequences_anchor a)
{
    return (unsigned)a < 2 ? anchor_names[a] : "unknown";
}

const char *sequences_unit_name(enum sequences_unit u)
{
    for (size_t i = 0; i < N_UNITS; i++) {
        if (delay_units[i].unit == u)
            return delay_units[i].key;
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Due times                                                                */
/* ------------------------------------------------------------------------ */

static bool delay_ok(const struct sequences_delay *d)
{
    for (size_t i = 0; i < N_UNITS; i++) {
        if (delay_units[i].unit != d->unit)
            continue;
        bool calendar = d->unit == SEQUENCES_UNIT_DAYS || d->unit == SEQUENCES_UNIT_MONTHS;
        bool at_ok = d->at_minute == -1 || (calendar && d->at_minute >= 0 && d->at_minute < 1440);
        return d->amount >= 0 && d->amount <= delay_units[i].max && at_ok;
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
