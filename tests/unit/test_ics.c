#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "hirewire/ics.h"

#include "testutil.h"

/* Golden files live in tests/unit/golden/ics/. Run with HIREWIRE_UPDATE_GOLDEN=1
 * to rewrite the built ones after a deliberate change, then read the diff. */
#define GOLDEN_DIR "tests/unit/golden/ics/"

#define T_STAMP INT64_C(1795089600000)    /* 2026-11-19T12:00:00Z */
#define T_SCREEN INT64_C(1795442400000)   /* 2026-11-23T14:00:00Z */
#define T_ONSITE INT64_C(1795599000000)   /* 2026-11-25T09:30:00Z */
#define T_FOLLOW INT64_C(1795795200000)   /* 2026-11-27T16:00:00Z */
#define T_DEADLINE INT64_C(1796083140000) /* 2026-11-30T23:59:00Z */

static const int interview_alarms[] = {1440, 60, 15};
static const int followup_alarms[] = {1440, 60};
static const int deadline_alarms[] = {4320, 1440, 180};

#define ALARMS(a) .alarms_min = (a), .nalarms = sizeof(a) / sizeof((a)[0])

static const struct ics_item interviews[] = {
    {.kind = ICS_EVENT,
     .uid = "interview-42@hirewire",
     .start_ms = T_SCREEN,
     .duration_min = 30,
     .stamp_ms = T_STAMP,
     .summary = "Phone Screen Interview: Backend Engineer at Acme",
     .description = "Interview Type: Phone Screen\nPosition: Backend Engineer\nCompany: Acme\n"
                    "\nNotes:\nAsk about on-call and the team's release cadence.",
     .location = "Phone",
     .url = "https://jobs.acme.example/backend-engineer?ref=hirewire",
     .attendee_name = "Pat Lee",
     .attendee_email = "pat.lee@acme.example",
     ALARMS(interview_alarms)},
    {.kind = ICS_EVENT,
     .uid = "interview-43@hirewire",
     .sequence = 2,
     .start_ms = T_ONSITE,
     .duration_min = 180,
     .stamp_ms = T_STAMP + 3600000,
     .summary = "Onsite Interview: Backend Engineer at Acme",
     .description = "Interview Type: Onsite\nPosition: Backend Engineer\nCompany: Acme",
     .location = "Acme HQ, 1 Main St; Floor 3",
     .attendee_name = "No Email",
     ALARMS(interview_alarms)},
};

static const struct ics_item cancelled[] = {
    {.kind = ICS_EVENT,
     .uid = "interview-44@hirewire",
     .sequence = 1,
     .cancelled = true,
     .start_ms = T_SCREEN,
     .duration_min = 60,
     .stamp_ms = T_STAMP,
     .summary = "Technical Interview: SRE at Globex",
     .location = "Video call",
     .attendee_name = "Sam Roe",
     .attendee_email = "sam@globex.example",
     ALARMS(interview_alarms)},
};

/* Follow-ups as the feed serves them: VEVENT blocks that every calendar shows. */
static const struct ics_item followups[] = {
    {.kind = ICS_EVENT,
     .uid = "followup-7@hirewire",
     .start_ms = T_FOLLOW,
     .duration_min = 30,
     .stamp_ms = T_STAMP,
     .summary = "Follow-up: Backend Engineer at Acme",
     .description = "Follow-up Type: thank_you\nPosition: Backend Engineer\nCompany: Acme\n\n"
                    "Action Items:\n- Thank Pat for the screen\n- Send the portfolio link",
     .priority = "high",
     ALARMS(followup_alarms)},
    {.kind = ICS_EVENT,
     .uid = "deadline-12@hirewire",
     .start_ms = T_DEADLINE,
     .duration_min = 60,
     .stamp_ms = T_STAMP,
     .summary = "Application Deadline: Data Engineer at Initech",
     .description = "The application closes at this time.\n\nApply at: "
                    "https://initech.example/careers/4711",
     .url = "https://initech.example/careers/4711",
     ALARMS(deadline_alarms)},
};

/* The same follow-ups as tasks, for clients that show VTODO. */
static const struct ics_item todos[] = {
    {.kind = ICS_TODO,
     .uid = "followup-7@hirewire",
     .start_ms = T_FOLLOW,
     .stamp_ms = T_STAMP,
     .summary = "Follow-up: Backend Engineer at Acme",
     .priority = "high",
     ALARMS(followup_alarms)},
    {.kind = ICS_TODO,
     .uid = "followup-8@hirewire",
     .sequence = 1,
     .completed = true,
     .start_ms = T_FOLLOW,
     .stamp_ms = T_STAMP + 60000,
     .summary = "Follow-up: SRE at Globex",
     .priority = "normal",
     ALARMS(followup_alarms)},
    {.kind = ICS_TODO,
     .uid = "followup-9@hirewire",
     .cancelled = true,
     .start_ms = T_DEADLINE,
     .stamp_ms = T_STAMP,
     .summary = "Follow-up: Data Engineer at Initech",
     .priority = "low"},
};

#define TRICKY_SUMMARY "Café, Straße; \"Sales\" \\ 日本 Interview: a,b;c\\d"
#define TRICKY_LOCATION "Bldg 5, Room 2; \\\\server\\share\nsecond line: é"

static const struct ics_item escaping[] = {
    {.kind = ICS_EVENT,
     .uid = "interview-45@hirewire",
     .start_ms = T_ONSITE,
     .duration_min = 45,
     .stamp_ms = T_STAMP,
     .summary = TRICKY_SUMMARY,
     .description = "Line one, with comma; semicolon \\ backslash\nLine two: 東京の本社, 5階\n"
                    "Three: ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"
                    "éééééééééééé and 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 end",
     .location = TRICKY_LOCATION,
     .attendee_name = "O'Brien, \"Pat\"; Jr.",
     .attendee_email = "pat+jobs@example.com",
     ALARMS(interview_alarms)},
};

struct golden {
    const char *file;
    const char *calname;
    const struct ics_item *items;
    size_t n;
};

#define GOLDEN(f, name, arr)                                                                       \
    {                                                                                              \
        f, name, arr, sizeof(arr) / sizeof((arr)[0])                                               \
    }

static const struct golden goldens[] = {
    GOLDEN("interviews.ics", "hirewire: Jane Doe", interviews),
    GOLDEN("cancelled.ics", "hirewire: Jane Doe", cancelled),
    GOLDEN("followups.ics", "hirewire: Jane Doe", followups),
    GOLDEN("todos.ics", "hirewire: Jane Doe", todos),
    GOLDEN("escaping.ics", "hirewire: Zoë, Jobs; 日本", escaping),
    {"empty.ics", "hirewire", NULL, 0},
};

/* ---- helpers --------------------------------------------------------------- */

static char *read_golden(const char *name, size_t *len)
{
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    if (!root || !*root)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/" GOLDEN_DIR "%s", root, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    buf[sz] = '\0';
    *len = (size_t)sz;
    return buf;
}

static void write_golden(const char *name, const char *text, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/" GOLDEN_DIR "%s", getenv("HIREWIRE_SOURCE_ROOT"), name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void require_root(void)
{
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    if (!root || !*root)
        skip();
}

static char *build(const char *calname, const struct ics_item *items, size_t n, size_t *len)
{
    char *out = NULL;
    int rc = ics_build(calname, items, n, &out, len);
    if (rc != 0)
        fail_msg("ics_build = %d", rc);
    assert_int_equal(strlen(out), *len);
    return out;
}

static void expect_valid(const char *text, size_t len, int want_n)
{
    char why[256];
    int got = -1;
    int rc = ics_check(text, len, &got, why, sizeof why);
    if (rc != 0)
        fail_msg("ics_check = %d: %s", rc, why);
    assert_int_equal(got, want_n);
}

/* Reports the first line where got and want differ. */
static void expect_same_text(const char *name, const char *got, size_t glen, const char *want,
                             size_t wlen)
{
    if (glen == wlen && memcmp(got, want, glen) == 0)
        return;
    size_t i = 0, line = 1, bol = 0;
    while (i < glen && i < wlen && got[i] == want[i]) {
        if (got[i] == '\n') {
            line++;
            bol = i + 1;
        }
        i++;
    }
    const char *ge = memchr(got + bol, '\r', glen - bol),
               *we = memchr(want + bol, '\r', wlen - bol);
    fail_msg("%s differs at line %zu:\n got: %.*s\nwant: %.*s", name, line,
             ge ? (int)(ge - got - bol) : (int)(glen - bol), got + bol,
             we ? (int)(we - want - bol) : (int)(wlen - bol), want + bol);
}

/* RFC 5545 §3.1: CRLF line ends, at most 75 octets a line; and each folded
 * piece is whole UTF-8; and every date-time is UTC. */
static void expect_wire_format(const char *text, size_t len)
{
    assert_true(len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n');
    for (size_t bol = 0; bol < len;) {
        const char *lf = memchr(text + bol, '\n', len - bol);
        assert_non_null(lf);
        size_t eol = (size_t)(lf - text);
        assert_true(eol > bol && text[eol - 1] == '\r');
        size_t l = eol - 1 - bol;
        const char *line = text + bol;
        if (l > 75 || memchr(line, '\r', l) || !ref_utf8_valid((const unsigned char *)line, l))
            fail_msg("bad line (%zu octets): %.*s", l, (int)l, line);
        static const char *const dates[] = {"DTSTAMP", "DTSTART",       "DTEND",
                                            "DUE",     "LAST-MODIFIED", "COMPLETED"};
        for (size_t d = 0; d < sizeof dates / sizeof dates[0]; d++) {
            size_t dl = strlen(dates[d]);
            if (l > dl && memcmp(line, dates[d], dl) == 0 && (line[dl] == ':' || line[dl] == ';'))
                assert_true(line[l - 1] == 'Z');
        }
        bol = eol + 1;
    }
}

static bool has_line(const char *text, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(text, want) != NULL;
}

/* ---- building -------------------------------------------------------------- */

static void test_golden_build(void **state)
{
    (void)state;
    require_root();
    bool update = getenv("HIREWIRE_UPDATE_GOLDEN") != NULL;
    for (size_t g = 0; g < sizeof goldens / sizeof goldens[0]; g++) {
        const struct golden *gd = &goldens[g];
        size_t len, wlen;
        char *out = build(gd->calname, gd->items, gd->n, &len);
        if (update)
            write_golden(gd->file, out, len);
        char *want = read_golden(gd->file, &wlen);
        expect_same_text(gd->file, out, len, want, wlen);
        expect_wire_format(out, len);
        expect_valid(out, len, (int)gd->n);
        /* No clock, no randomness: the same items give the same bytes. */
        size_t len2;
        char *again = build(gd->calname, gd->items, gd->n, &len2);
        expect_same_text(gd->file, again, len2, out, len);
        free(again);
        free(want);
        free(out);
    }
}

static void test_feed_header(void **state)
{
    (void)state;
    size_t len;
    char *out = build("hirewire: Jane Doe", interviews, 2, &len);
    assert_memory_equal(out, "BEGIN:VCALENDAR\r\n", 17);
    assert_true(has_line(out, "VERSION:2.0"));
    assert_true(has_line(out, "PRODID:-//hirewire//hirewire 0.1//EN"));
    assert_true(has_line(out, "CALSCALE:GREGORIAN"));
    assert_true(has_line(out, "METHOD:PUBLISH"));
    assert_true(has_line(out, "X-WR-CALNAME:hirewire: Jane Doe"));
    assert_true(has_line(out, "REFRESH-INTERVAL;VALUE=DURATION:PT15M"));
    assert_true(has_line(out, "X-PUBLISHED-TTL:PT15M"));
    assert_true(has_line(out, "DTSTART:20261123T140000Z"));
    assert_true(has_line(out, "DTEND:20261123T143000Z"));
    assert_true(has_line(out, "DTSTAMP:20261119T120000Z"));
    assert_true(has_line(out, "TRIGGER:-P1D"));
    assert_true(has_line(out, "TRIGGER:-PT1H"));
    assert_true(has_line(out, "TRIGGER:-PT15M"));
    assert_true(has_line(out, "ACTION:DISPLAY"));
    assert_true(has_line(out, "SEQUENCE:2"));
    assert_non_null(strstr(out, "ATTENDEE;CN=Pat Lee;ROLE=REQ-PARTICIPANT:mailto:"));
    /* The second interview has a name but no email: no ATTENDEE for it. */
    assert_null(strstr(strstr(out, "interview-43"), "ATTENDEE"));
    free(out);
}

static void test_cancelled_and_completed_stay_silent(void **state)
{
    (void)state;
    size_t len;
    char *out = build(NULL, cancelled, 1, &len);
    assert_true(has_line(out, "STATUS:CANCELLED"));
    assert_true(has_line(out, "TRANSP:TRANSPARENT"));
    assert_null(strstr(out, "BEGIN:VALARM"));
    assert_null(strstr(out, "X-WR-CALNAME"));
    free(out);

    out = build(NULL, &todos[1], 1, &len);
    assert_true(has_line(out, "STATUS:COMPLETED"));
    assert_true(has_line(out, "COMPLETED:20261119T120100Z"));
    assert_true(has_line(out, "PRIORITY:5"));
    assert_null(strstr(out, "BEGIN:VALARM"));
    free(out);

    out = build(NULL, &todos[0], 1, &len);
    assert_true(has_line(out, "DUE:20261127T160000Z"));
    assert_true(has_line(out, "STATUS:NEEDS-ACTION"));
    assert_true(has_line(out, "TRIGGER;RELATED=END:-P1D"));
    assert_null(strstr(out, "DTSTART"));
    free(out);
}

static const char *prop_text(icalcomponent *c, icalproperty_kind kind)
{
    icalproperty *p = icalcomponent_get_first_property(c, kind);
    assert_non_null(p);
    return icalvalue_get_text(icalproperty_get_value(p));
}

/* Builds one event with the given texts, parses the feed back with libical and
 * expects the texts libical reads to be want_* (the input unless cleaned). */
static void roundtrip(const char *summary, const char *description, const char *location,
                      const char *want_summary, const char *want_description)
{
    struct ics_item it = escaping[0];
    it.summary = summary;
    it.description = description;
    it.location = location;
    size_t len;
    char *out = build("hirewire", &it, 1, &len);
    expect_wire_format(out, len);
    expect_valid(out, len, 1);
    icalcomponent *cal = icalparser_parse_string(out);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_count_errors(cal), 0);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_non_null(ev);
    assert_string_equal(prop_text(ev, ICAL_SUMMARY_PROPERTY), want_summary);
    assert_string_equal(prop_text(ev, ICAL_DESCRIPTION_PROPERTY), want_description);
    assert_string_equal(prop_text(ev, ICAL_LOCATION_PROPERTY), location);
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    assert_true(icaltime_is_utc(start));
    assert_int_equal((int64_t)icaltime_as_timet(start) * 1000, it.start_ms);
    assert_int_equal((int64_t)icaltime_as_timet(icalcomponent_get_dtend(ev)) * 1000,
                     it.start_ms + 45 * 60000);
    icalproperty *att = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
    assert_string_equal(icalproperty_get_attendee(att), "mailto:pat+jobs@example.com");
    assert_string_equal(
        icalparameter_get_cn(icalproperty_get_first_parameter(att, ICAL_CN_PARAMETER)),
        "O'Brien, \"Pat\"; Jr.");
    icalcomponent_free(cal);
    free(out);
}

static void test_text_roundtrip(void **state)
{
    (void)state;
    roundtrip(TRICKY_SUMMARY, escaping[0].description, TRICKY_LOCATION, TRICKY_SUMMARY,
              escaping[0].description);
    /* A description far over one line, every kind of character and escape. */
    static const char piece[] = "Tâche, étape; \\n ≠ newline\n日本語のテキスト😀 ";
    size_t reps = 400, pl = sizeof piece - 1;
    char *longtext = malloc(reps * pl + 1);
    assert_non_null(longtext);
    for (size_t i = 0; i < reps; i++)
        memcpy(longtext + i * pl, piece, pl);
    longtext[reps * pl] = '\0';
    char *want = strndup(longtext, reps * pl - 1); /* without the final space */
    assert_non_null(want);
    roundtrip("x", longtext, "y", "x", want);
    free(want);
    free(longtext);
    /* Text is cleaned, never refused: CR LF and CR become LF, controls go,
     * bytes that are not UTF-8 become U+FFFD, blanks at either end go. */
    roundtrip("\t a\r\nb\rc\x01\x7f"
              "d\xff"
              "e\xe6\x97",
              "tab\tkept \x02 ", "z",
              "a\nb\ncd\xef\xbf\xbd"
              "e\xef\xbf\xbd\xef\xbf\xbd",
              "tab\tkept");
}

static void expect_rejected(struct ics_item it)
{
    char *out = (char *)"untouched";
    size_t len = 99;
    assert_int_equal(ics_build("hirewire", &it, 1, &out, &len), -EINVAL);
    assert_null(out);
    assert_int_equal(len, 0);
}

static void test_build_rejects(void **state)
{
    (void)state;
    struct ics_item it = interviews[0];
    static const int bad_alarm[] = {15, -5};
    char *out;
    size_t len;
    expect_rejected((it.uid = NULL, it));
    it = interviews[0];
    expect_rejected((it.uid = "a\nb", it));
    it = interviews[0];
    expect_rejected((it.uid = "", it));
    it = interviews[0];
    expect_rejected((it.sequence = -1, it));
    it = interviews[0];
    expect_rejected((it.completed = true, it)); /* VEVENT has no COMPLETED */
    it = todos[0];
    expect_rejected((it.completed = it.cancelled = true, it));
    it = interviews[0];
    expect_rejected((it.duration_min = 0, it));
    it = interviews[0];
    expect_rejected((it.start_ms = -1, it));
    it = interviews[0];
    expect_rejected((it.start_ms = ICS_MAX_MS + 1, it));
    it = interviews[0];
    expect_rejected((it.priority = "urgent", it));
    it = interviews[0];
    expect_rejected((it.alarms_min = bad_alarm, it.nalarms = 2, it));
    it = interviews[0];
    expect_rejected((it.url = "https://a.example/x y", it));
    it = interviews[0];
    expect_rejected((it.attendee_email = "no-at-sign", it));
    it = interviews[0];
    expect_rejected((it.attendee_email = "a@b\r\nX-EVIL:1", it));
    it = interviews[0];
    expect_rejected((it.kind = (enum ics_kind)7, it));
    assert_int_equal(ics_build("bad\\name", NULL, 0, &out, &len), -EINVAL);
    assert_int_equal(ics_build("bad\nname", NULL, 0, &out, &len), -EINVAL);
    assert_int_equal(ics_build("x", NULL, 1, &out, &len), -EINVAL);
    assert_int_equal(ics_build("x", NULL, 0, NULL, &len), -EINVAL);
    /* A VTODO ignores duration; empty optional fields are omitted. */
    it = todos[0];
    it.duration_min = -3;
    it.location = "";
    it.attendee_name = "Name Without Email";
    it.attendee_email = "";
    assert_int_equal(ics_build(NULL, &it, 1, &out, &len), 0);
    assert_null(strstr(out, "LOCATION"));
    assert_null(strstr(out, "ATTENDEE"));
    free(out);
    /* A summary that cleans to nothing: no SUMMARY, alarms still describe. */
    it = interviews[0];
    it.summary = " \x01\t ";
    assert_int_equal(ics_build(NULL, &it, 1, &out, &len), 0);
    assert_null(strstr(out, "SUMMARY"));
    assert_true(has_line(out, "DESCRIPTION:Reminder"));
    assert_int_equal(ics_check(out, len, NULL, NULL, 0), 0);
    free(out);
}

/* ---- checking -------------------------------------------------------------- */

static const struct {
    const char *file;
    int n;
} good_files[] = {
    {"interviews.ics", 2}, {"cancelled.ics", 1}, {"followups.ics", 2},
    {"todos.ics", 3},      {"escaping.ics", 1},  {"empty.ics", 0},
};

/* Each broken input and a piece of the reason ics_check must give. */
static const struct {
    const char *file;
    const char *why;
} broken_files[] = {
    {"broken-unterminated.ics", "END:VEVENT missing"},
    {"broken-mismatched-end.ics", "END:VTODO closes BEGIN:VEVENT"},
    {"broken-two-calendars.ics", "text outside VCALENDAR"},
    {"broken-not-ical.ics", "text outside VCALENDAR"},
    {"broken-no-uid.ics", "VEVENT without UID"},
    {"broken-no-dtstamp.ics", "without DTSTAMP"},
    {"broken-bad-value.ics", "Can't parse as DATE-TIME"},
    {"broken-month-13.ics", "DTSTAMP is not a date"},
    {"broken-bad-status.ics", "bad STATUS"},
    {"broken-nested.ics", "VEVENT inside VEVENT"},
    {"broken-no-version.ics", "without VERSION:2.0"},
};

static void test_check_golden(void **state)
{
    (void)state;
    require_root();
    for (size_t i = 0; i < sizeof good_files / sizeof good_files[0]; i++) {
        size_t len;
        char *text = read_golden(good_files[i].file, &len);
        expect_valid(text, len, good_files[i].n);
        free(text);
    }
    for (size_t i = 0; i < sizeof broken_files / sizeof broken_files[0]; i++) {
        size_t len;
        char *text = read_golden(broken_files[i].file, &len);
        char why[256];
        int n = 42;
        assert_int_equal(ics_check(text, len, &n, why, sizeof why), -EINVAL);
        assert_int_equal(n, 0);
        if (!strstr(why, broken_files[i].why))
            fail_msg("%s: reason \"%s\", want \"%s\"", broken_files[i].file, why,
                     broken_files[i].why);
        free(text);
    }
}

static void test_check_edges(void **state)
{
    (void)state;
    char why[64];
    assert_int_equal(ics_check(NULL, 0, NULL, why, sizeof why), -EINVAL);
    assert_int_equal(ics_check("", 0, NULL, NULL, 0), -EINVAL);
    static const char cal[] = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\n"
                              "UID:a\nDTSTAMP:20260101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    /* LF line ends, lower-case BEGIN/END names, no final newline: all accepted. */
    assert_int_equal(ics_check(cal, sizeof cal - 1, NULL, NULL, 0), 0);
    assert_int_equal(ics_check(cal, sizeof cal - 2, NULL, why, sizeof why), 0);
    static const char lower[] = "begin:vcalendar\r\nVERSION:2.0\r\nPRODID:x\r\nend:VCALENDAR";
    assert_int_equal(ics_check(lower, sizeof lower - 1, NULL, why, sizeof why), 0);
    /* Only len bytes count, and a NUL inside them is refused. */
    assert_int_equal(ics_check(cal, 20, NULL, why, sizeof why), -EINVAL);
    assert_int_equal(ics_check(cal, sizeof cal, NULL, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "NUL byte"));
    /* A reason longer than why is cut, never overflowing. */
    char tiny[8];
    assert_int_equal(ics_check("junk", 4, NULL, tiny, sizeof tiny), -EINVAL);
    assert_int_equal(strlen(tiny), 7);
}

/* Text from outside must never abort the process, even if something turned
 * libical's errors-are-fatal mode on. */
static void test_check_survives_fatal_mode(void **state)
{
    (void)state;
    static const char bad[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n"
                              "UID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:garbage\r\n"
                              "END:VEVENT\r\nEND:VCALENDAR\r\n";
    icalerror_set_errors_are_fatal(1);
    assert_int_equal(ics_check(bad, sizeof bad - 1, NULL, NULL, 0), -EINVAL);
    assert_int_equal(icalerror_get_errors_are_fatal(), 0);
}

/* ---- titles ---------------------------------------------------------------- */

static void test_interview_summary(void **state)
{
    (void)state;
    char buf[128];
    assert_int_equal(
        ics_interview_summary("Phone Screen", "Backend Engineer", "Acme", buf, sizeof buf), 0);
    assert_string_equal(buf, "Phone Screen Interview: Backend Engineer at Acme");
    assert_int_equal(ics_interview_summary(NULL, "Backend Engineer", "", buf, sizeof buf), 0);
    assert_string_equal(buf, "Interview: Backend Engineer");
    assert_int_equal(ics_interview_summary("Onsite", NULL, "Acme", buf, sizeof buf), 0);
    assert_string_equal(buf, "Onsite Interview at Acme");
    assert_int_equal(ics_interview_summary(NULL, NULL, NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "Interview");
    assert_int_equal(ics_interview_summary("x", "y", "z", NULL, 10), -EINVAL);
    assert_int_equal(ics_interview_summary("x", "y", "z", buf, 0), -EINVAL);
}

/* Every buffer size from 1 up: a fit gives 0 and the whole title, anything
 * smaller -ENOSPC and a prefix that is whole UTF-8 and as long as can be. */
static void test_interview_summary_truncation(void **state)
{
    (void)state;
    static const char full[] = "Téléphone Interview: Ingénieur 日本 at Café 😀";
    size_t fl = sizeof full - 1;
    for (size_t n = 1; n <= fl + 1; n++) {
        char buf[sizeof full];
        memset(buf, 'Q', sizeof buf);
        int rc = ics_interview_summary("Téléphone", "Ingénieur 日本", "Café 😀", buf, n);
        size_t got = strlen(buf);
        assert_true(got < n);
        assert_memory_equal(buf, full, got);
        assert_true(ref_utf8_valid((const unsigned char *)buf, got));
        if (n == fl + 1) {
            assert_int_equal(rc, 0);
            assert_string_equal(buf, full);
            continue;
        }
        assert_int_equal(rc, -ENOSPC);
        /* Longest: the next character of full would not have fit. */
        size_t next = got + 1;
        while (next < fl && ((unsigned char)full[next] & 0xC0) == 0x80)
            next++;
        assert_true(next > n - 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_build),
        cmocka_unit_test(test_feed_header),
        cmocka_unit_test(test_cancelled_and_completed_stay_silent),
        cmocka_unit_test(test_text_roundtrip),
        cmocka_unit_test(test_build_rejects),
        cmocka_unit_test(test_check_golden),
        cmocka_unit_test(test_check_edges),
        cmocka_unit_test(test_check_survives_fatal_mode),
        cmocka_unit_test(test_interview_summary),
        cmocka_unit_test(test_interview_summary_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
