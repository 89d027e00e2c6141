/* Validating and normalising a job as the clients send it.
 *
 * The extension sends camelCase (jobTitle, jobUrl, salary as text), the
 * dashboard snake_case; both become one document keyed by column name, the
 * form the job statements read. Each field is checked on its own, and the
 * first bad one is named in the error. */
#define LOG_MOD "api"

#include "job_input.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/ats.h"
#include "hirewire/err.h"
#include "hirewire/jobnorm.h"

enum kind {
    K_LINE,   /* one line of text: whitespace runs become one space */
    K_TEXT,   /* free text, line breaks kept */
    K_HTML,   /* a description that may be HTML: reduced to text */
    K_URL,    /* absolute http(s) URL; also sets url_key */
    K_SALARY, /* "$120k–150k a year", a number or null: fills the salary_* fields */
    K_MONEY,  /* a number 0 .. 100 million */
    K_SCORE,  /* a number 0 .. 100 */
    K_BOOL,
    K_TIME,   /* ISO-8601, stored as milliseconds; without a zone, in the user's */
    K_SOURCE, /* one of sources[] */
    K_STATUS, /* an application status or its alias, stored canonical */
    K_WORD,   /* a short token: job_type, remote_type, currency, ... */
};

struct field {
    const char *key;
    const char *alias[2];
    enum kind kind;
    unsigned max;  /* characters */
    bool not_null; /* the column has no NULL: a null is refused */
};

static const struct field fields[] = {
    {"company", {"companyName", NULL}, K_LINE, 200},
    {"job_title", {"jobTitle", "title"}, K_LINE, 300},
    {"job_description", {"jobDescription", "description"}, K_HTML, 100000, true},
    {"job_url", {"jobUrl", "url"}, K_URL, 2048},
    {"location", {NULL, NULL}, K_LINE, 200},
    {"salary", {NULL, NULL}, K_SALARY, 200},
    {"salary_min", {"salaryMin", NULL}, K_MONEY, 0},
    {"salary_max", {"salaryMax", NULL}, K_MONEY, 0},
    {"salary_currency", {"currency", NULL}, K_WORD, 3},
    {"salary_period", {NULL, NULL}, K_WORD, 10},
    {"remote_type", {NULL, NULL}, K_WORD, 40, true},
    {"job_type", {"jobType", NULL}, K_WORD, 40, true},
    {"source", {NULL, NULL}, K_SOURCE, 0},
    {"status", {NULL, NULL}, K_STATUS, 0},
    {"match_score", {"matchScore", NULL}, K_SCORE, 0},
    {"recommendation", {NULL, NULL}, K_WORD, 40},
    {"notes", {NULL, NULL}, K_TEXT, 20000},
    {"application_deadline", {NULL, NULL}, K_TIME, 0},
    {"posted_date", {NULL, NULL}, K_TIME, 0},
    {"is_active", {NULL, NULL}, K_BOOL, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const sources[] = {
    "manual", "linkedin", "indeed", "glassdoor", "company_website", "referral", "recruiter", "other",
};

/* Keys of the job shape a client may send back unchanged in a PATCH. */
static const char *const readonly[] = {
    "id", "job_id", "external_id", "company_id", "created_at", "updated_at", "applied_date",
    "analysis_completed", "strengths", "concerns", "missing_skills", "drive_folder_url",
    "salary_text", "followup_sequence", "jobId", "success", "message", "driveUrl",
};

#define fail api_doc_fail

static char *clean_text(const char *s, bool one_line, int *err)
{
    bool bad;
    char *t = api_doc_tidy(s, one_line, &bad);
    if (!t)
        *err = bad ? HW_EVALIDATION : -ENOMEM;
    return t;
}

static int put_text(const struct field *f, const char *s, json_t *doc, struct job_input_error *e)
{
    int err = 0;
    char *t = clean_text(s, f->kind == K_LINE || f->kind == K_WORD, &err);
    if (!t)
        return err == -ENOMEM ? err : fail(e, f->key, "%s must not contain control characters",
                                             f->key);
    size_t chars = jobnorm_utf8_chars(t, strlen(t));
    if (chars > f->max) {
        free(t);
        return fail(e, f->key, "%s is %zu characters; the limit is %u", f->key, chars, f->max);
    }
    json_object_set_new(doc, f->key, *t ? json_string(t) : json_null());
    free(t);
    return 0;
}

static int put_html(const struct field *f, const char *s, json_t *doc, struct job_input_error *e)
{
    size_t n = strlen(s), len = 0;
    if (jobnorm_utf8_chars(s, n) > 4 * (size_t)f->max)
        return fail(e, f->key, "%s is longer than %u characters", f->key, 4 * f->max);
    char *t = jobnorm_html_to_text(s, n, &len);
    if (!t)
        return -ENOMEM;
    size_t chars = jobnorm_utf8_chars(t, len);
    int rc = 0;
    if (chars > f->max)
        rc = fail(e, f->key, "%s is %zu characters as text; the limit is %u", f->key, chars,
                  f->max);
    else
        json_object_set_new(doc, f->key, json_stringn(t, len));
    free(t);
    return rc;
}

static int put_url(const struct field *f, const char *s, json_t *doc, struct job_input_error *e)
{
    char key[2200];
    if (!*s) {
        json_object_set_new(doc, f->key, json_null());
        json_object_set_new(doc, "url_key", json_null());
        return 0;
    }
    if (strlen(s) > f->max)
        return fail(e, f->key, "%s is longer than %u bytes", f->key, f->max);
    int rc = jobnorm_url_canon(s, key, sizeof key);
    if (rc)
        return fail(e, f->key, "%s must be an absolute http or https URL", f->key);
    /* The canonical form is also what is shown: the same page without the
     * board's tracking parameters. */
    json_object_set_new(doc, f->key, json_string(key));
    json_object_set_new(doc, "url_key", json_string(key));
    return 0;
}

static bool number_of(json_t *v, double *out)
{
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

static int put_salary(const struct field *f, json_t *v, json_t *doc, struct job_input_error *e)
{
    double x;
    if (json_is_null(v))
        return 0;
    if (number_of(v, &x)) {
        if (x < 0 || x > 1e8)
            return fail(e, f->key, "salary must be between 0 and 100000000");
        json_object_set_new(doc, "salary_min", json_real(x));
        json_object_set_new(doc, "salary_max", json_real(x));
        return 0;
    }
    if (!json_is_string(v))
        return fail(e, f->key, "salary must be a text like \"$120k-150k a year\", a number or null");
    const char *s = json_string_value(v);
    if (jobnorm_utf8_chars(s, strlen(s)) > f->max)
        return fail(e, f->key, "salary is longer than %u characters", f->max);
    int err = 0;
    char *t = clean_text(s, true, &err);
    if (!t)
        return err == -ENOMEM ? err : fail(e, f->key, "salary must not contain control characters");
    if (*t)
        json_object_set_new(doc, "salary_text", json_string(t));
    /* Text that names no amount ("Competitive") is kept as text only. */
    struct jobnorm_salary sal;
    if (*t && jobnorm_salary_parse(t, &sal) == 0) {
        if (!isnan(sal.min))
            json_object_set_new(doc, "salary_min", json_real(sal.min));
        if (!isnan(sal.max))
            json_object_set_new(doc, "salary_max", json_real(sal.max));
        if (sal.currency[0])
            json_object_set_new(doc, "salary_currency", json_string(sal.currency));
        const char *period = jobnorm_period_name(sal.period);
        if (period)
            json_object_set_new(doc, "salary_period", json_string(period));
    }
    free(t);
    return 0;
}

static int put_value(const struct field *f, json_t *v, const char *tz, json_t *doc,
                     struct job_input_error *e)
{
    double x;
    if (f->kind == K_SALARY)
        return put_salary(f, v, doc, e);
    if (json_is_null(v)) {
        if (f->kind == K_SOURCE || f->kind == K_STATUS || f->kind == K_BOOL || f->not_null)
            return fail(e, f->key, "%s must not be null", f->key);
        json_object_set_new(doc, f->key, json_null());
        if (f->kind == K_URL)
            json_object_set_new(doc, "url_key", json_null());
        return 0;
    }
    switch (f->kind) {
    case K_MONEY:
        if (!number_of(v, &x) || x < 0 || x > 1e8)
            return fail(e, f->key, "%s must be a number between 0 and 100000000", f->key);
        json_object_set_new(doc, f->key, json_real(x));
        return 0;
    case K_SCORE:
        if (!number_of(v, &x) || x < 0 || x > 100)
            return fail(e, f->key, "%s must be a number between 0 and 100", f->key);
        json_object_set_new(doc, f->key, json_real(x));
        return 0;
    case K_BOOL:
        if (!json_is_boolean(v))
            return fail(e, f->key, "%s must be true or false", f->key);
        json_object_set(doc, f->key, v);
        return 0;
    default:
        break;
    }
    if (!json_is_string(v))
        return fail(e, f->key, "%s must be a string", f->key);
    const char *s = json_string_value(v);
    switch (f->kind) {
    case K_HTML: return put_html(f, s, doc, e);
    case K_URL: return put_url(f, s, doc, e);
    case K_TIME: {
        int64_t ms;
        int rc = api_doc_time_field(f->key, s, tz, &ms, e);
        if (rc == 0)
            json_object_set_new(doc, f->key, json_integer(ms));
        return rc;
    }
    case K_SOURCE:
        for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
            if (strcmp(s, sources[i]) == 0) {
                json_object_set(doc, f->key, v);
                return 0;
            }
        return fail(e, f->key,
                    "source must be one of manual, linkedin, indeed, glassdoor, "
                    "company_website, referral, recruiter, other");
    case K_STATUS: {
        int st = ats_status_parse(s);
        if (st < 0)
            return fail(e, f->key, "unknown status \"%.40s\"", s);
        json_object_set_new(doc, f->key, json_string(ats_status_name(st)));
        return 0;
    }
    default: return put_text(f, s, doc, e);
    }
}

static const struct field *find_field(const char *key, bool *alias)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (strcmp(fields[i].key, key) == 0) {
            *alias = false;
            return &fields[i];
        }
        for (int a = 0; a < 2; a++)
            if (fields[i].alias[a] && strcmp(fields[i].alias[a], key) == 0) {
                *alias = true;
                return &fields[i];
            }
    }
    return NULL;
}

static bool is_readonly(const char *key)
{
    for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++)
        if (strcmp(readonly[i], key) == 0)
            return true;
    return false;
}

static int check_required(enum job_input_mode mode, json_t *doc, struct job_input_error *e)
{
    static const char *const req[] = {"company", "job_title"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(doc, req[i]);
        if (v && !json_is_string(v))
            return fail(e, req[i], "%s must not be empty", req[i]);
        if (!v && mode != JOB_INPUT_PATCH)
            return fail(e, req[i], "%s is required", req[i]);
    }
    if (mode == JOB_INPUT_PATCH)
        return 0;
    if (mode == JOB_INPUT_PROCESS && !json_is_string(json_object_get(doc, "job_url")))
        return fail(e, "jobUrl", "jobUrl is required");
    double lo, hi;
    if (number_of(json_object_get(doc, "salary_min"), &lo) &&
        number_of(json_object_get(doc, "salary_max"), &hi) && lo > hi)
        return fail(e, "salary_min", "salary_min must not be greater than salary_max");
    return 0;
}

bool job_input_has_local_time(json_t *body)
{
    const char *key;
    json_t *v;
    bool alias;
    json_object_foreach(body, key, v) {
        const struct field *f = find_field(key, &alias);
        if (f && f->kind == K_TIME && api_doc_time_is_local(json_string_value(v)))
            return true;
    }
    return false;
}

int job_input_parse(json_t *body, enum job_input_mode mode, const char *tz, json_t **doc_out,
                    struct job_input_error *e)
{
    const char *key;
    json_t *v, *doc = json_object();
    int rc = 0;

    *doc_out = NULL;
    e->field[0] = e->msg[0] = '\0';
    if (!doc)
        return -ENOMEM;
    if (!json_is_object(body)) {
        rc = fail(e, "", "the body must be a JSON object");
        goto out;
    }
    /* Canonical keys first, so that "salary_min" wins over what "salary"
     * text implies and over an alias of the same field. */
    for (int pass = 0; pass < 3 && !rc; pass++) {
        json_object_foreach(body, key, v) {
            bool alias = false;
            const struct field *f = find_field(key, &alias);
            if (!f) {
                if (pass == 0 && mode != JOB_INPUT_PROCESS && !is_readonly(key)) {
                    rc = fail(e, key, "unknown field \"%.60s\"", key);
                    break;
                }
                continue;
            }
            int want = f->kind == K_SALARY ? 0 : alias ? 1 : 2;
            if (want != pass)
                continue;
            rc = put_value(f, v, tz, doc, e);
            if (rc)
                break;
        }
    }
    if (!rc)
        rc = check_required(mode, doc, e);
    if (!rc && mode == JOB_INPUT_PATCH && json_object_size(doc) == 0)
        rc = fail(e, "", "nothing to change: the body names no field of a job");
out:
    if (rc)
        json_decref(doc);
    else
        *doc_out = doc;
    return rc;
}
