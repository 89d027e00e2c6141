/* iCalendar feed: build with libical, check by parsing back with libical.
 *
 * libical 3.0 does the RFC 5545 work (TEXT escaping, RFC 6868 parameter
 * quoting, folding at 75 octets on UTF-8 character boundaries, CRLF line ends).
 * Its quirks shape the code:
 *
 * - Every time is made with icaltimezone_get_utc_timezone(), a static zone
 *   object: no tz database is loaded, nothing global is set up or freed, and
 *   a time made without a zone would print as floating local time.
 * - icalcomponent_as_ical_string() returns a buffer of a per-thread ring that
 *   later calls overwrite; the _r variant hands the buffer to us, and we copy
 *   it so that the caller releases the feed with plain free().
 * - The parser never fails on a bad line: it drops it and adds an X-LIC-ERROR
 *   property to the component instead, so checking means looking for those.
 *   It also ignores text outside the VCALENDAR, END lines that close the wrong
 *   component, impossible dates and unknown STATUS values, which ics_check()
 *   looks for itself.
 * - libical can be built or set to abort() on any error it meets
 *   (icalerror_set_errors_are_fatal()). ics_check() faces text from outside,
 *   so it turns that off when it finds it on.
 * - X- property values are written without escaping ',' and ';' and read back
 *   raw, so X-WR-CALNAME round-trips only without backslashes or control
 *   characters; ics_build() refuses such names.
 * - TEXT values lose CR and keep other control characters, which RFC 5545
 *   forbids, on the way out, and lose blanks at either end on the way in;
 *   text_clean() settles all of it before libical sees the text. */
#include "hirewire/ics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#define ICS_PRODID "-//hirewire//hirewire 0.1//EN"
#define ICS_REFRESH "PT15M"
#define ICS_REFRESH_SEC (15 * 60)
#define ICS_UID_MAX 255
#define ICS_IDENT_MAX 2048
#define ICS_NEST_MAX 8
#define ICS_NAME_MAX 40

/* ---- text ---------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t k = c < 0xC2 ? 0 : c <= 0xDF ? 2 : c <= 0xEF ? 3 : c <= 0xF4 ? 4 : 0;
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (k == 0 || left < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++)
        if ((s[j] & 0xC0) != 0x80)
            return 0;
    return k;
}

/* A copy of s that is valid RFC 5545 TEXT before escaping: CR LF and lone CR
 * become LF, other controls but TAB go, ill-formed UTF-8 becomes U+FFFD (3
 * bytes, hence the 3x buffer), and spaces and tabs at either end go because
 * libical's parser strips them from every value. NULL on ENOMEM. */
static char *text_clean(const char *s)
{
    size_t l = strlen(s);
    char *out = l < SIZE_MAX / 3 ? malloc(3 * l + 1) : NULL;
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < l;) {
        if (u[i] == '\r') {
            out[o++] = '\n';
            i += u[i + 1] == '\n' ? 2 : 1;
        } else if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n') || u[i] == 0x7F) {
            i++;
        } else {
            size_t k = utf8_len(u + i, l - i);
            if (k == 0) {
                memcpy(out + o, "\xEF\xBF\xBD", 3);
                o += 3;
                i++;
            } else {
                memcpy(out + o, s + i, k);
                o += k;
                i += k;
            }
        }
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
        o--;
    out[o] = '\0';
    size_t lead = strspn(out, " \t");
    memmove(out, out + lead, o - lead + 1);
    return out;
}

/* Well-formed UTF-8 of 1..max bytes without controls or backslashes, and
 * without spaces or quotes unless it is a display name: what a UID, a URI or a
 * calendar name can hold without escaping rules of its own. */
static bool ident_ok(const char *s, size_t max, bool display)
{
    size_t l = s ? strlen(s) : 0;
    if (l == 0 || l > max)
        return false;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < l;) {
        if (u[i] < 0x20 || u[i] == 0x7F || u[i] == '\\' ||
            ((u[i] == ' ' || u[i] == '"') && !display))
            return false;
        size_t k = utf8_len(u + i, l - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* ---- building ------------------------------------------------------------ */

/* The component being filled and the first error met. Adding goes on after
 * an error so the code reads straight; the component is freed anyway. */
struct build {
    icalcomponent *c;
    int rc;
};

static void put(struct build *b, icalproperty *p)
{
    if (!p) {
        b->rc = -ENOMEM;
        return;
    }
    icalcomponent_add_property(b->c, p);
}

static void put_text(struct build *b, icalproperty *(*ctor)(const char *), const char *s)
{
    if (!s || !*s)
        return;
    char *clean = text_clean(s);
    if (!clean) {
        b->rc = -ENOMEM;
        return;
    }
    if (*clean)
        put(b, ctor(clean));
    free(clean);
}

static void put_x(struct build *b, const char *name, const char *value)
{
    icalproperty *p = icalproperty_new_x(value);
    if (p)
        icalproperty_set_x_name(p, name);
    put(b, p);
}

static struct icaltimetype utc_time(int64_t ms)
{
    return icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, icaltimezone_get_utc_timezone());
}

/* PRIORITY for "high" | "normal" | "low"; -1 for anything else. */
static int priority_value(const char *s)
{
    return !strcmp(s, "high") ? 1 : !strcmp(s, "normal") ? 5 : !strcmp(s, "low") ? 9 : -1;
}

static int item_validate(const struct ics_item *it)
{
    if (!ident_ok(it->uid, ICS_UID_MAX, false) || it->sequence < 0)
        return -EINVAL;
    if (it->kind != ICS_EVENT && it->kind != ICS_TODO)
        return -EINVAL;
    if (it->start_ms < 0 || it->start_ms > ICS_MAX_MS || it->stamp_ms < 0 ||
        it->stamp_ms > ICS_MAX_MS)
        return -EINVAL;
    if (it->kind == ICS_EVENT &&
        (it->completed || it->duration_min < 1 || it->duration_min > ICS_DURATION_MAX_MIN ||
         it->start_ms + (int64_t)it->duration_min * 60000 > ICS_MAX_MS))
        return -EINVAL;
    if (it->cancelled && it->completed)
        return -EINVAL;
    if (it->url && *it->url && !ident_ok(it->url, ICS_IDENT_MAX, false))
        return -EINVAL;
    if (it->attendee_email && *it->attendee_email &&
        (!ident_ok(it->attendee_email, ICS_IDENT_MAX, false) || !strchr(it->attendee_email, '@')))
        return -EINVAL;
    if (it->priority && priority_value(it->priority) < 0)
        return -EINVAL;
    if (it->nalarms && !it->alarms_min)
        return -EINVAL;
    for (size_t i = 0; i < it->nalarms; i++)
        if (it->alarms_min[i] < 0 || it->alarms_min[i] > ICS_ALARM_MAX_MIN)
            return -EINVAL;
    return 0;
}

/* One VALARM per lead time. A VTODO here has DUE and no DTSTART, and RFC 5545
 * ties a relative trigger to DTSTART unless it says RELATED=END (DUE). */
static void put_alarms(struct build *b, const struct ics_item *it)
{
    if (it->cancelled || it->completed)
        return;
    for (size_t i = 0; i < it->nalarms; i++) {
        struct build a = {icalcomponent_new(ICAL_VALARM_COMPONENT), 0};
        if (!a.c) {
            b->rc = -ENOMEM;
            return;
        }
        put(&a, icalproperty_new_action(ICAL_ACTION_DISPLAY));
        /* DISPLAY needs a DESCRIPTION, also when the summary cleans to "". */
        put_text(&a, icalproperty_new_description, it->summary);
        if (!icalcomponent_get_first_property(a.c, ICAL_DESCRIPTION_PROPERTY))
            put(&a, icalproperty_new_description("Reminder"));
        struct icaltriggertype tr = {
            .time = icaltime_null_time(),
            .duration = icaldurationtype_from_int(-it->alarms_min[i] * 60),
        };
        icalproperty *p = icalproperty_new_trigger(tr);
        if (p && it->kind == ICS_TODO)
            icalproperty_add_parameter(p, icalparameter_new_related(ICAL_RELATED_END));
        put(&a, p);
        icalcomponent_add_component(b->c, a.c);
        if (a.rc)
            b->rc = a.rc;
    }
}

static void put_attendee(struct build *b, const struct ics_item *it)
{
    if (!it->attendee_email || !*it->attendee_email)
        return;
    char uri[ICS_IDENT_MAX + sizeof "mailto:"];
    snprintf(uri, sizeof uri, "mailto:%s", it->attendee_email);
    icalproperty *p = icalproperty_new_attendee(uri);
    char *cn = p && it->attendee_name ? text_clean(it->attendee_name) : NULL;
    if (p && it->attendee_name && !cn)
        b->rc = -ENOMEM;
    /* A CN is one line: RFC 6868 can carry a newline, but clients differ. */
    for (char *q = cn; q && *q; q++)
        if (*q == '\n' || *q == '\t')
            *q = ' ';
    if (cn && *cn)
        icalproperty_add_parameter(p, icalparameter_new_cn(cn));
    free(cn);
    if (p)
        icalproperty_add_parameter(p, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    put(b, p);
}

static void put_status(struct build *b, const struct ics_item *it)
{
    enum icalproperty_status st;
    if (it->kind == ICS_EVENT)
        st = it->cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED;
    else if (it->cancelled)
        st = ICAL_STATUS_CANCELLED;
    else
        st = it->completed ? ICAL_STATUS_COMPLETED : ICAL_STATUS_NEEDSACTION;
    put(b, icalproperty_new_status(st));
    if (it->completed) {
        put(b, icalproperty_new_completed(utc_time(it->stamp_ms)));
        put(b, icalproperty_new_percentcomplete(100));
    }
    /* A cancelled interview should not show the user as busy. */
    if (it->kind == ICS_EVENT && it->cancelled)
        put(b, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
}

static int item_component(const struct ics_item *it, icalcomponent **out)
{
    *out = NULL;
    int rc = item_validate(it);
    if (rc)
        return rc;
    struct build b = {
        icalcomponent_new(it->kind == ICS_EVENT ? ICAL_VEVENT_COMPONENT : ICAL_VTODO_COMPONENT), 0};
    if (!b.c)
        return -ENOMEM;
    put(&b, icalproperty_new_uid(it->uid));
    put(&b, icalproperty_new_dtstamp(utc_time(it->stamp_ms)));
    if (it->kind == ICS_EVENT) {
        put(&b, icalproperty_new_dtstart(utc_time(it->start_ms)));
        put(&b, icalproperty_new_dtend(utc_time(it->start_ms + (int64_t)it->duration_min * 60000)));
    } else {
        put(&b, icalproperty_new_due(utc_time(it->start_ms)));
    }
    put(&b, icalproperty_new_sequence(it->sequence));
    put_status(&b, it);
    put_text(&b, icalproperty_new_summary, it->summary);
    put_text(&b, icalproperty_new_description, it->description);
    put_text(&b, icalproperty_new_location, it->location);
    if (it->url && *it->url)
        put(&b, icalproperty_new_url(it->url));
    put_attendee(&b, it);
    if (it->priority)
        put(&b, icalproperty_new_priority(priority_value(it->priority)));
    put(&b, icalproperty_new_lastmodified(utc_time(it->stamp_ms)));
    put_alarms(&b, it);
    if (b.rc) {
        icalcomponent_free(b.c);
        return b.rc;
    }
    *out = b.c;
    return 0;
}

static int calendar_new(const char *calname, icalcomponent **out)
{
    *out = NULL;
    if (calname && *calname && !ident_ok(calname, ICS_IDENT_MAX, true))
        return -EINVAL;
    struct build b = {icalcomponent_new(ICAL_VCALENDAR_COMPONENT), 0};
    if (!b.c)
        return -ENOMEM;
    put(&b, icalproperty_new_version("2.0"));
    put(&b, icalproperty_new_prodid(ICS_PRODID));
    put(&b, icalproperty_new_calscale("GREGORIAN"));
    put(&b, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    if (calname && *calname) {
        put_x(&b, "X-WR-CALNAME", calname);
        put_text(&b, icalproperty_new_name, calname);
    }
    /* RFC 7986 wants VALUE=DURATION spelled out; libical omits it as the
     * default type unless the parameter is set by hand. */
    icalproperty *r = icalproperty_new_refreshinterval(icaldurationtype_from_int(ICS_REFRESH_SEC));
    if (r)
        icalproperty_add_parameter(r, icalparameter_new_value(ICAL_VALUE_DURATION));
    put(&b, r);
    put_x(&b, "X-PUBLISHED-TTL", ICS_REFRESH);
    if (b.rc) {
        icalcomponent_free(b.c);
        return b.rc;
    }
    *out = b.c;
    return 0;
}

int ics_build(const char *calname, const struct ics_item *items, size_t n, char **out, size_t *len)
{
    if (!out || !len || (n && !items))
        return -EINVAL;
    *out = NULL;
    *len = 0;
    icalcomponent *cal = NULL;
    char *text = NULL;
    /* libical reports its own allocation failures only through icalerrno. */
    icalerror_clear_errno();
    int rc = calendar_new(calname, &cal);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        icalcomponent *c;
        rc = item_component(&items[i], &c);
        if (rc == 0)
            icalcomponent_add_component(cal, c);
    }
    if (rc)
        goto out;
    text = icalcomponent_as_ical_string_r(cal);
    if (!text || icalerrno == ICAL_NEWFAILED_ERROR) {
        rc = -ENOMEM;
        goto out;
    }
    size_t l = strlen(text);
    *out = malloc(l + 1);
    if (!*out) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(*out, text, l + 1);
    *len = l;
out:
    icalmemory_free_buffer(text);
    if (cal)
        icalcomponent_free(cal);
    return rc;
}

/* ---- checking ------------------------------------------------------------ */

/* Writes the reason into why (control characters from the input shown as
 * '?', so the reason stays one log line) and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t n, const char *fmt, ...)
{
    if (why && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
        for (char *q = why; *q; q++)
            if ((unsigned char)*q < 0x20 || *q == 0x7F)
                *q = '?';
    }
    return -EINVAL;
}

/* BEGIN/END nesting, which libical does not check: it takes any END as closing
 * the open component and skips text outside the VCALENDAR. Physical lines
 * suffice: a BEGIN or END line folded in two is read here as a content line and
 * fails the nesting, a fair price for a form no generator writes. */
static int check_lines(const char *text, size_t len, char *why, size_t n)
{
    char open[ICS_NEST_MAX][ICS_NAME_MAX + 1];
    int depth = 0;
    bool done = false;
    size_t lineno = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *line = p, *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = (size_t)((nl ? nl : end) - p);
        if (l && line[l - 1] == '\r')
            l--;
        p = nl ? nl + 1 : end;
        lineno++;
        if (l == 0 || (depth > 0 && (line[0] == ' ' || line[0] == '\t')))
            continue;
        bool begin = l > 6 && strncasecmp(line, "BEGIN:", 6) == 0;
        bool fin = l > 4 && strncasecmp(line, "END:", 4) == 0;
        if (done || (depth == 0 && !begin))
            return fail(why, n, "line %zu: text outside VCALENDAR", lineno);
        if (!begin && !fin)
            continue;
        const char *name = line + (begin ? 6 : 4);
        size_t nlen = l - (size_t)(name - line);
        if (nlen > ICS_NAME_MAX)
            return fail(why, n, "line %zu: component name too long", lineno);
        if (begin && depth == 0 && (nlen != 9 || strncasecmp(name, "VCALENDAR", 9) != 0))
            return fail(why, n, "line %zu: expected BEGIN:VCALENDAR", lineno);
        if (begin && depth == ICS_NEST_MAX)
            return fail(why, n, "line %zu: components nested too deep", lineno);
        if (begin) {
            memcpy(open[depth], name, nlen);
            open[depth++][nlen] = '\0';
        } else if (strlen(open[depth - 1]) != nlen || strncasecmp(open[depth - 1], name, nlen)) {
            return fail(why, n, "line %zu: END:%.*s closes BEGIN:%s", lineno, (int)nlen, name,
                        open[depth - 1]);
        } else {
            done = --depth == 0;
        }
    }
    if (depth > 0)
        return fail(why, n, "END:%s missing", open[depth - 1]);
    if (!done)
        return fail(why, n, "no VCALENDAR");
    return 0;
}

static bool time_ok(struct icaltimetype t)
{
    if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > icaltime_days_in_month(t.month, t.year))
        return false;
    return t.is_date || (t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 &&
                         t.second >= 0 && t.second <= 60);
}

static bool status_ok(icalcomponent_kind kind, enum icalproperty_status st)
{
    if (kind == ICAL_VEVENT_COMPONENT)
        return st == ICAL_STATUS_TENTATIVE || st == ICAL_STATUS_CONFIRMED ||
               st == ICAL_STATUS_CANCELLED;
    return st == ICAL_STATUS_NEEDSACTION || st == ICAL_STATUS_COMPLETED ||
           st == ICAL_STATUS_INPROCESS || st == ICAL_STATUS_CANCELLED;
}

static int check_item(icalcomponent *c, char *why, size_t n)
{
    icalcomponent_kind kind = icalcomponent_isa(c);
    const char *kname = icalcomponent_kind_to_string(kind);
    const char *uid = icalcomponent_get_uid(c);
    if (!uid || !*uid)
        return fail(why, n, "%s without UID", kname);
    if (!icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY))
        return fail(why, n, "%s %s without DTSTAMP", kname, uid);
    icalproperty *st = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
    if (st && !status_ok(kind, icalproperty_get_status(st)))
        return fail(why, n, "%s %s: bad STATUS", kname, uid);
    return 0;
}

/* Walks everything under c for the first X-LIC-ERROR, date that does not
 * exist, component where it may not be, VALARM without ACTION or TRIGGER, or
 * VEVENT/VTODO that check_item() refuses; counts the VEVENT/VTODO. */
static int check_tree(icalcomponent *c, int *count, char *why, size_t n)
{
    icalcomponent_kind kind = icalcomponent_isa(c);
    const char *kname = icalcomponent_kind_to_string(kind);
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        if (icalproperty_isa(p) == ICAL_XLICERROR_PROPERTY) {
            const char *err = icalproperty_get_xlicerror(p);
            return fail(why, n, "%s: %s", kname, err ? err : "X-LIC-ERROR");
        }
        icalvalue *v = icalproperty_get_value(p);
        icalvalue_kind vk = v ? icalvalue_isa(v) : ICAL_NO_VALUE;
        if ((vk == ICAL_DATETIME_VALUE || vk == ICAL_DATE_VALUE) &&
            !time_ok(icalvalue_get_datetime(v)))
            return fail(why, n, "%s: %s is not a date", kname, icalproperty_get_property_name(p));
    }
    bool item = kind == ICAL_VEVENT_COMPONENT || kind == ICAL_VTODO_COMPONENT;
    if (kind == ICAL_VALARM_COMPONENT &&
        (!icalcomponent_get_first_property(c, ICAL_ACTION_PROPERTY) ||
         !icalcomponent_get_first_property(c, ICAL_TRIGGER_PROPERTY)))
        return fail(why, n, "VALARM without ACTION or TRIGGER");
    int rc = item ? check_item(c, why, n) : 0;
    if (rc)
        return rc;
    *count += item;
    for (icalcomponent *k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k;
         k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind kk = icalcomponent_isa(k);
        bool kitem = kk == ICAL_VEVENT_COMPONENT || kk == ICAL_VTODO_COMPONENT;
        if ((kitem && kind != ICAL_VCALENDAR_COMPONENT) || (item && kk != ICAL_VALARM_COMPONENT))
            return fail(why, n, "%s inside %s", icalcomponent_kind_to_string(kk), kname);
        rc = check_tree(k, count, why, n);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_calendar(icalcomponent *cal, int *ncomponents, char *why, size_t n)
{
    if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
        return fail(why, n, "top level is %s, not VCALENDAR",
                    icalcomponent_kind_to_string(icalcomponent_isa(cal)));
    icalproperty *v = icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY);
    const char *version = v ? icalproperty_get_version(v) : NULL;
    if (!version || strcmp(version, "2.0") != 0)
        return fail(why, n, "VCALENDAR without VERSION:2.0");
    if (!icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY))
        return fail(why, n, "VCALENDAR without PRODID");
    int count = 0;
    int rc = check_tree(cal, &count, why, n);
    if (rc == 0 && ncomponents)
        *ncomponents = count;
    return rc;
}

int ics_check(const char *text, size_t len, int *ncomponents, char *why, size_t n)
{
    if (ncomponents)
        *ncomponents = 0;
    if (why && n)
        why[0] = '\0';
    if (!text || len == 0)
        return fail(why, n, "empty input");
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return fail(why, n, "NUL byte at offset %zu", (size_t)(nul - text));
    int rc = check_lines(text, len, why, n);
    if (rc)
        return rc;
    /* The parser wants a NUL-terminated string. */
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (icalerror_get_errors_are_fatal())
        icalerror_set_errors_are_fatal(0);
    icalcomponent *root = icalparser_parse_string(copy);
    free(copy);
    if (!root)
        return fail(why, n, "libical found no component");
    rc = check_calendar(root, ncomponents, why, n);
    icalcomponent_free(root);
    return rc;
}

/* ---- titles -------------------------------------------------------------- */

int ics_interview_summary(const char *type_label, const char *job_title, const char *company,
                          char *buf, size_t n)
{
    if (!buf || n == 0)
        return -EINVAL;
    bool ty = type_label && *type_label, ti = job_title && *job_title, co = company && *company;
    int w = snprintf(buf, n, "%s%sInterview%s%s%s%s", ty ? type_label : "", ty ? " " : "",
                     ti ? ": " : "", ti ? job_title : "", co ? " at " : "", co ? company : "");
    if (w < 0)
        return -EINVAL;
    if ((size_t)w < n)
        return 0;
    /* snprintf cut at n - 1 bytes; if that split a character, drop its head:
     * find the last lead byte and see whether its sequence reaches the cut. */
    size_t cut = n - 1, i = cut;
    while (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
        i--;
    if (i > 0) {
        unsigned char c = (unsigned char)buf[i - 1];
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (i - 1 + k > cut)
            buf[i - 1] = '\0';
    }
    return -ENOSPC;
}
