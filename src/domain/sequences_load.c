/* Loading config/sequences.json.
 *
 * The loader is strict on purpose. The file is edited by hand and its texts
 * end up in mails a job seeker sends, so a typo in a key, a placeholder or a
 * delay must stop the server at start with a sentence that points at the
 * spot, rather than send "{jobtitle}" to a recruiter three days later.
 *
 * The parsed JSON tree is kept inside struct sequences and every string of
 * the public structs points into it: nothing is copied, and freeing the
 * object is one json_decref. */
#include "hirewire/jsonx.h"
#include "hirewire/sequences.h"
#include "hirewire/utf8.h"
#include "sequences_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
        jsonx_repr(k, 48, shown, sizeof(shown));
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
    jsonx_repr(json_object_get(obj, key), 48, shown, sizeof(shown));
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
    jsonx_repr(json_object_get(obj, key), 48, shown, sizeof(shown));
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
    for (size_t i = 0; i < SEQUENCES__N_UNITS; i++) {
        json_t *v = json_object_get(obj, sequences__units[i].key);
        if (!v)
            continue;
        json_int_t amount = json_is_integer(v) ? json_integer_value(v) : -1;
        if (amount < 0 || amount > sequences__units[i].max)
            return parse_fail(p, path, "\"%s\" must be an integer 0..%d", sequences__units[i].key,
                              sequences__units[i].max);
        d->unit = sequences__units[i].unit;
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
        rc = get_enum(p, path, obj, "priority", sequences__priority_names, 3, &prio);
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
        if (sequences__text_check(q->description, false, why, sizeof(why)) != 0)
            return parse_fail(p, field, "%s", why);
    }
    if (!q->description)
        q->description = "";
    int anchor = 0;
    if (rc == 0)
        rc = get_enum(p, q->name, obj, "anchor", sequences__anchor_names, 2, &anchor);
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
    jsonx_repr(json_object_get(root, key), 48, shown, sizeof(shown));
    if (!*out)
        return parse_fail(p, key, "%s is not a defined sequence", shown);
    if ((*out)->anchor != anchor)
        return parse_fail(p, key, "sequence %s is anchored at \"%s\", not \"%s\"", shown,
                          sequences__anchor_names[(*out)->anchor], sequences__anchor_names[anchor]);
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
        size_t n = 1;
        if (c >= 0x80) {
            int32_t cp;
            n = utf8_decode((const unsigned char *)json + i, len - i, &cp);
            if (cp < 0)
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
