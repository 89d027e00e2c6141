#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hirewire/clock.h"
#include "hirewire/sequences.h"

#include "testutil.h"

#define HOUR INT64_C(3600000)

static char shipped[4096];

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* JSON written with single quotes, for readable test tables. */
static struct sequences *parse_sq(const char *sq, char *err, size_t n)
{
    char *json = strdup(sq);
    assert_non_null(json);
    for (char *p = json; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    struct sequences *s = sequences_parse(json, strlen(json), err, n);
    free(json);
    return s;
}

static const char *due(const struct sequences_delay *d, const char *anchor, const char *tz)
{
    int64_t out = 0;
    int rc = sequences_due_ms(d, t(anchor), tz, &out);
    if (rc != 0)
        fail_msg("sequences_due_ms(%s, %s) = %d", anchor, tz, rc);
    return iso(out);
}

static const struct sequences_delay DAYS_3 = {SEQUENCES_UNIT_DAYS, 3, -1};
static const struct sequences_delay DAYS_1 = {SEQUENCES_UNIT_DAYS, 1, -1};
static const struct sequences_delay DAYS_3_AT_9 = {SEQUENCES_UNIT_DAYS, 3, 9 * 60};
static const struct sequences_delay MONTHS_1 = {SEQUENCES_UNIT_MONTHS, 1, -1};

static const struct sequences_vars ALL_VARS = {
    .job_title = "Backend Engineer",
    .company = "Acme",
    .candidate_name = "Ada Lovelace",
    .recipient_name = "Grace",
    .interviewer_name = "Alan Turing",
    .interview_type = "technical interview",
    .interview_date = "Tuesday, March 3",
    .applied_date = "February 20",
};

/* ------------------------------------------------------------------------ */
/* The shipped file                                                         */
/* ------------------------------------------------------------------------ */

static void expect_step(const struct sequences_seq *q, size_t i, const char *type,
                        enum sequences_priority prio, int days, int at)
{
    const struct sequences_step *st = sequences_seq_step(q, i);
    assert_non_null(st);
    assert_string_equal(st->type, type);
    assert_int_equal(st->priority, prio);
    assert_int_equal(st->delay.unit, SEQUENCES_UNIT_DAYS);
    assert_int_equal(st->delay.amount, days);
    assert_int_equal(st->delay.at_minute, at);
}

static void test_shipped_config(void **state)
{
    (void)state;
    char err[512] = "";
    struct sequences *s = sequences_load(shipped, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    assert_int_equal(sequences_count(s), 4);
    const char *names[] = {"post_application", "post_interview", "aggressive_followup",
                           "passive_followup"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(sequences_seq_name(sequences_at(s, i)), names[i]);
    assert_null(sequences_at(s, 4));
    assert_null(sequences_find(s, "nope"));
    assert_null(sequences_find(s, NULL));
    assert_ptr_equal(sequences_default_on_applied(s), sequences_find(s, "post_application"));
    assert_ptr_equal(sequences_default_on_interview(s), sequences_find(s, "post_interview"));

    const struct sequences_seq *q = sequences_find(s, "post_application");
    assert_int_equal(sequences_seq_anchor(q), SEQUENCES_ANCHOR_APPLIED);
    assert_int_equal(sequences_seq_step_count(q), 3);
    expect_step(q, 0, "post_application_followup", SEQUENCES_PRIORITY_NORMAL, 3, 540);
    expect_step(q, 1, "check_in", SEQUENCES_PRIORITY_NORMAL, 7, 540);
    expect_step(q, 2, "final_followup", SEQUENCES_PRIORITY_NORMAL, 14, 540);
    assert_null(sequences_seq_step(q, 3));

    q = sequences_find(s, "post_interview");
    assert_int_equal(sequences_seq_anchor(q), SEQUENCES_ANCHOR_INTERVIEW_END);
    assert_int_equal(sequences_seq_step_count(q), 2);
    expect_step(q, 0, "thank_you", SEQUENCES_PRIORITY_HIGH, 1, -1);
    expect_step(q, 1, "check_in", SEQUENCES_PRIORITY_NORMAL, 7, 540);

    q = sequences_find(s, "aggressive_followup");
    assert_int_equal(sequences_seq_step_count(q), 3);
    expect_step(q, 0, "post_application_followup", SEQUENCES_PRIORITY_HIGH, 2, 540);
    expect_step(q, 1, "check_in", SEQUENCES_PRIORITY_HIGH, 5, 540);
    expect_step(q, 2, "final_followup", SEQUENCES_PRIORITY_HIGH, 10, 540);

    q = sequences_find(s, "passive_followup");
    assert_int_equal(sequences_seq_step_count(q), 2);
    expect_step(q, 0, "post_application_followup", SEQUENCES_PRIORITY_LOW, 7, 540);
    expect_step(q, 1, "final_followup", SEQUENCES_PRIORITY_LOW, 21, 540);
    sequences_free(s);
}

/* Every shipped text renders completely with full values, and shows what is
 * missing without them. */
static void test_shipped_texts_render(void **state)
{
    (void)state;
    char err[512] = "";
    struct sequences *s = sequences_load(shipped, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    for (size_t i = 0; i < sequences_count(s); i++) {
        const struct sequences_seq *q = sequences_at(s, i);
        assert_true(strlen(sequences_seq_description(q)) > 0);
        for (size_t j = 0; j < sequences_seq_step_count(q); j++) {
            const struct sequences_step *st = sequences_seq_step(q, j);
            const char *texts[] = {st->subject, st->message};
            for (size_t k = 0; k < 2; k++) {
                char *full = sequences_render(texts[k], &ALL_VARS);
                char *bare = sequences_render(texts[k], NULL);
                assert_non_null(full);
                assert_non_null(bare);
                if (strpbrk(full, "{}[]"))
                    fail_msg("%s step %zu: %s", sequences_seq_name(q), j, full);
                assert_non_null(strchr(bare, '['));
                free(full);
                free(bare);
            }
            char *msg = sequences_render(st->message, &ALL_VARS);
            assert_non_null(strstr(msg, "Ada Lovelace"));
            assert_non_null(strstr(msg, "Backend Engineer"));
            free(msg);
        }
    }
    sequences_free(s);
}

static void test_load_errors(void **state)
{
    (void)state;
    char err[512];
    assert_null(sequences_load("/nonexistent/dir/sequences.json", err, sizeof(err)));
    assert_string_equal(err, "sequences.json: cannot open /nonexistent/dir/sequences.json: No "
                             "such file or directory");

    char path[] = "/tmp/hirewire-seq-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *body = "{\"sequences\": []}";
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    assert_null(sequences_load(path, err, sizeof(err)));
    char expect[128];
    snprintf(expect, sizeof(expect), "%s: sequences: must be an array of 1..64 sequences",
             strrchr(path, '/') + 1);
    assert_string_equal(err, expect);
    unlink(path);

    /* A short buffer gets a terminated prefix; no buffer is fine. */
    char small[16];
    assert_null(parse_sq("[]", small, sizeof(small)));
    assert_string_equal(small, "sequences.json:");
    assert_null(parse_sq("[]", NULL, 0));
    assert_null(sequences_parse(NULL, 0, err, sizeof(err)));
    sequences_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

// clang-format off
#define STEP_OK "{'type':'check_in','priority':'normal','delay':{'days':3}," \
                "'subject':'S {company}','message':'M {job_title}'}"
#define STEP(delay) "{'type':'check_in','priority':'normal','delay':" delay "," \
                    "'subject':'S','message':'M'}"
#define STEP_TEXT(subject, message) "{'type':'check_in','priority':'normal','delay':{'days':3}," \
                                    "'subject':'" subject "','message':'" message "'}"
#define SEQ_A(steps) "{'name':'a','anchor':'applied','steps':[" steps "]}"
#define SEQ_B "{'name':'b','anchor':'interview_end','steps':[" STEP_OK "]}"
#define DOC(seqs) "{'default_on_applied':'a','default_on_interview':'b','sequences':[" seqs "]}"
#define DOC_A(steps) DOC(SEQ_A(steps) "," SEQ_B)
// clang-format on

struct bad_case {
    const char *json; /* single quotes */
    const char *err;  /* the whole message; "..." matches any text */
};

static const struct bad_case bad_cases[] = {
    /* the example of the file format's documentation */
    {"{'default_on_applied':'a','default_on_interview':'post_interview','sequences':[" SEQ_A(
         STEP_OK) ",{'name':'post_interview','anchor':'interview_end','steps':[" STEP_OK
                  "," STEP("{'days':400}") "]}]}",
     "sequences.json: post_interview.steps[1].delay: \"days\" must be an integer 0..365"},
    /* unknown keys, at each level */
    {"{'default_on_applied':'a','default_on_interview':'b','defaults':1,'sequences':[" SEQ_A(
         STEP_OK) "," SEQ_B "]}",
     "sequences.json: unknown key \"defaults\" (allowed: default_on_applied, "
     "default_on_interview, sequences)"},
    {DOC("{'name':'a','anchor':'applied','step':[]}," SEQ_B),
     "sequences.json: a: unknown key \"step\" (allowed: name, description, anchor, steps)"},
    {DOC_A("{'type':'check_in','priority':'normal','dealy':{'days':3},'subject':'S',"
           "'message':'M'}"),
     "sequences.json: a.steps[0]: unknown key \"dealy\" (allowed: type, priority, delay, "
     "subject, message)"},
    {DOC_A(STEP("{'day':3}")), "sequences.json: a.steps[0].delay: unknown key \"day\" (allowed: "
                               "days, months, hours, minutes, at)"},
    /* delays */
    {DOC_A(STEP("{'days':-1}")),
     "sequences.json: a.steps[0].delay: \"days\" must be an integer 0..365"},
    {DOC_A(STEP("{'days':3.5}")),
     "sequences.json: a.steps[0].delay: \"days\" must be an integer 0..365"},
    {DOC_A(STEP("{'days':'3'}")),
     "sequences.json: a.steps[0].delay: \"days\" must be an integer 0..365"},
    {DOC_A(STEP("{'months':25}")),
     "sequences.json: a.steps[0].delay: \"months\" must be an integer 0..24"},
    {DOC_A(STEP("{'hours':9000}")),
     "sequences.json: a.steps[0].delay: \"hours\" must be an integer 0..8784"},
    {DOC_A(STEP("{'minutes':true}")),
     "sequences.json: a.steps[0].delay: \"minutes\" must be an integer 0..527040"},
    {DOC_A(STEP("{'days':1,'hours':2}")), "sequences.json: a.steps[0].delay: give exactly one of "
                                          "\"days\", \"months\", \"hours\", \"minutes\""},
    {DOC_A(STEP("{}")), "sequences.json: a.steps[0].delay: give exactly one of \"days\", "
                        "\"months\", \"hours\", \"minutes\""},
    {DOC_A(STEP("3")), "sequences.json: a.steps[0].delay: must be an object such as {\"days\": 3}"},
    {DOC_A(STEP("{'hours':2,'at':'09:00'}")),
     "sequences.json: a.steps[0].delay: \"at\" is only allowed with \"days\" or \"months\""},
    {DOC_A(STEP("{'days':2,'at':'9:00'}")), "sequences.json: a.steps[0].delay: \"at\" must be a "
                                            "local time \"HH:MM\" from 00:00 to 23:59"},
    {DOC_A(STEP("{'days':2,'at':'24:00'}")), "sequences.json: a.steps[0].delay: \"at\" must be a "
                                             "local time \"HH:MM\" from 00:00 to 23:59"},
    {DOC_A("{'type':'check_in','priority':'normal','subject':'S','message':'M'}"),
     "sequences.json: a.steps[0].delay: required"},
    /* templates */
    {DOC_A(STEP_TEXT("S", "Dear {interviewer}")),
     "sequences.json: a.steps[0].message: unknown placeholder {interviewer} (known: {job_title}, "
     "{company}, {candidate_name}, {recipient_name}, {interviewer_name}, {interview_type}, "
     "{interview_date}, {applied_date})"},
    {DOC_A(STEP_TEXT("About {Company}", "M")),
     "sequences.json: a.steps[0].subject: \"{\" at byte 6 does not start a placeholder (write "
     "\"{{\" for a literal brace)"},
    {DOC_A(STEP_TEXT("S", "M {job_title")),
     "sequences.json: a.steps[0].message: \"{\" at byte 2 does not start a placeholder (write "
     "\"{{\" for a literal brace)"},
    {DOC_A(STEP_TEXT("S", "a } b")), "sequences.json: a.steps[0].message: \"}\" at byte 2 closes "
                                     "nothing (write \"}}\" for a literal brace)"},
    {DOC_A(STEP_TEXT("S", "{job_title}}")), "sequences.json: a.steps[0].message: \"}\" at byte "
                                            "11 closes nothing (write \"}}\" for a literal "
                                            "brace)"},
    {DOC_A(STEP_TEXT("Line\\nbreak", "M")),
     "sequences.json: a.steps[0].subject: control character U+000A at byte 4"},
    {DOC_A(STEP_TEXT("S", "bell\\u0007")),
     "sequences.json: a.steps[0].message: control character U+0007 at byte 4"},
    {DOC_A(STEP_TEXT("S", "cr\\r\\n")),
     "sequences.json: a.steps[0].message: control character U+000D at byte 2"},
    {DOC_A(STEP_TEXT("", "M")), "sequences.json: a.steps[0].subject: must not be empty"},
    {DOC_A("{'type':'check_in','priority':'normal','delay':{'days':1},'message':'M'}"),
     "sequences.json: a.steps[0].subject: required"},
    {DOC_A("{'type':'check_in','priority':'normal','delay':{'days':1},'subject':'S',"
           "'message':7}"),
     "sequences.json: a.steps[0].message: must be a string"},
    /* enums and names */
    {DOC_A("{'type':'check_in','priority':'urgent','delay':{'days':3},'subject':'S',"
           "'message':'M'}"),
     "sequences.json: a.steps[0].priority: \"urgent\" is not one of \"low\", \"normal\", "
     "\"high\""},
    {DOC_A("{'type':'Thank-You','priority':'high','delay':{'days':3},'subject':'S',"
           "'message':'M'}"),
     "sequences.json: a.steps[0].type: \"Thank-You\" must match ^[a-z][a-z0-9_]{0,47}$"},
    {DOC("{'name':'a','anchor':'offer','steps':[" STEP_OK "]}," SEQ_B),
     "sequences.json: a.anchor: \"offer\" is not one of \"applied\", \"interview_end\""},
    {DOC("{'name':'Post-App','anchor':'applied','steps':[" STEP_OK "]}," SEQ_B),
     "sequences.json: sequences[0].name: \"Post-App\" must match ^[a-z][a-z0-9_]{0,47}$"},
    {DOC("{'name':'a1234567890123456789012345678901234567890123456789','anchor':'applied',"
         "'steps':[" STEP_OK "]}," SEQ_B),
     "sequences.json: sequences[0].name: \"a123456789012345678901234567890123456789012... "
     "must match ^[a-z][a-z0-9_]{0,47}$"},
    {DOC("{'anchor':'applied','steps':[" STEP_OK "]}," SEQ_B),
     "sequences.json: sequences[0].name: required"},
    {DOC("{'name':'a','anchor':'applied','description':'two\\nlines','steps':[" STEP_OK
         "]}," SEQ_B),
     "sequences.json: a.description: control character U+000A at byte 3"},
    /* counts */
    {DOC_A(""), "sequences.json: a.steps: must be an array of 1..10 steps"},
    {DOC_A(STEP_OK "," STEP_OK "," STEP_OK "," STEP_OK "," STEP_OK "," STEP_OK "," STEP_OK
                   "," STEP_OK "," STEP_OK "," STEP_OK "," STEP_OK),
     "sequences.json: a.steps: must be an array of 1..10 steps"},
    {DOC("{'name':'a','anchor':'applied'}," SEQ_B), "sequences.json: a.steps: required"},
    {DOC_A("'x'"), "sequences.json: a.steps[0]: must be an object"},
    {"{'default_on_applied':'a','default_on_interview':'b','sequences':[]}",
     "sequences.json: sequences: must be an array of 1..64 sequences"},
    {"{'default_on_applied':'a','default_on_interview':'b'}",
     "sequences.json: sequences: required"},
    /* names and defaults */
    {DOC(SEQ_A(STEP_OK) "," SEQ_A(STEP_OK) "," SEQ_B),
     "sequences.json: sequences[1]: name \"a\" is already used by sequences[0]"},
    {"{'default_on_applied':'post_aplication','default_on_interview':'b','sequences':[" SEQ_A(
         STEP_OK) "," SEQ_B "]}",
     "sequences.json: default_on_applied: \"post_aplication\" is not a defined sequence"},
    {"{'default_on_applied':'b','default_on_interview':'b','sequences':[" SEQ_A(STEP_OK) "," SEQ_B
                                                                                         "]}",
     "sequences.json: default_on_applied: sequence \"b\" is anchored at \"interview_end\", not "
     "\"applied\""},
    {"{'default_on_applied':'a','sequences':[" SEQ_A(STEP_OK) "," SEQ_B "]}",
     "sequences.json: default_on_interview: required"},
    /* not JSON, or not the right JSON */
    {"{'sequences': [", "sequences.json: line 1, column 15: not valid JSON: ..."},
    {"", "sequences.json: line 1, column 0: not valid JSON: ..."},
    {"[]", "sequences.json: the top level must be a JSON object"},
    {"{'sequences':1,'sequences':2}",
     "sequences.json: line 1, column 26: not valid JSON: duplicate object key near ..."},
    {DOC_A(STEP_TEXT("S", "nul \\u0000")), "sequences.json: line 1, column ...: not valid JSON: "
                                           "..."},
};

/* want with "..." standing for any text. */
static bool glob_match(const char *want, const char *got)
{
    const char *star = strstr(want, "...");
    if (!star)
        return strcmp(want, got) == 0;
    size_t head = (size_t)(star - want);
    if (strncmp(want, got, head) != 0)
        return false;
    if (star[3] == '\0')
        return true;
    for (const char *g = got + head; *g; g++) {
        if (glob_match(star + 3, g))
            return true;
    }
    return false;
}

static void test_validation_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[1024] = "";
        struct sequences *s = parse_sq(bad_cases[i].json, err, sizeof(err));
        if (s) {
            sequences_free(s);
            fail_msg("accepted: %s", bad_cases[i].json);
        }
        if (!glob_match(bad_cases[i].err, err))
            fail_msg("for %s\nwant: %s\ngot:  %s", bad_cases[i].json, bad_cases[i].err, err);
    }
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bytes[] = {
        "\xc3\x28",         /* a lead byte without its continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* a UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xff",
    };
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        char json[256], err[256] = "";
        snprintf(json, sizeof(json), "{\n  \"sequences\": \"x%s\"\n}", bytes[i]);
        assert_null(sequences_parse(json, strlen(json), err, sizeof(err)));
        char want[96];
        snprintf(want, sizeof(want),
                 "sequences.json: line 2, column 18: invalid UTF-8 (byte 0x%02x)",
                 (unsigned char)bytes[i][0]);
        assert_string_equal(err, want);
    }
    /* A truncated sequence at the very end of the input. */
    char err[256];
    assert_null(sequences_parse("{\"a\":\"\xe2\x82", 8, err, sizeof(err)));
    assert_string_equal(err, "sequences.json: line 1, column 7: invalid UTF-8 (byte 0xe2)");
    /* Valid multibyte text passes, and columns count characters. */
    char ok[] = "{\"x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\": \xff}";
    assert_null(sequences_parse(ok, strlen(ok), err, sizeof(err)));
    assert_string_equal(err, "sequences.json: line 1, column 10: invalid UTF-8 (byte 0xff)");
}

static void test_minimal_and_unicode_config(void **state)
{
    (void)state;
    char err[512] = "";
    struct sequences *s = parse_sq(
        DOC_A("{'type':'t','priority':'low','delay':{'months':1,'at':'23:59'},"
              "'subject':'Gr\xc3\xbc\xc3\x9f"
              "e {{ok}}','message':'\xe2\x9c\x93 {company}\\n\\tTab'},"
              "{'type':'t2','priority':'high','delay':{'minutes':0},'subject':'S','message':'M'}"),
        err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    assert_string_equal(err, "");
    const struct sequences_seq *a = sequences_find(s, "a");
    assert_string_equal(sequences_seq_description(a), "");
    const struct sequences_step *st = sequences_seq_step(a, 0);
    assert_int_equal(st->delay.unit, SEQUENCES_UNIT_MONTHS);
    assert_int_equal(st->delay.at_minute, 23 * 60 + 59);
    assert_string_equal(st->subject, "Gr\xc3\xbc\xc3\x9f"
                                     "e {{ok}}");
    st = sequences_seq_step(a, 1);
    assert_int_equal(st->delay.unit, SEQUENCES_UNIT_MINUTES);
    assert_int_equal(st->delay.at_minute, -1);
    assert_string_equal(sequences_priority_name(st->priority), "high");
    assert_string_equal(sequences_anchor_name(sequences_seq_anchor(a)), "applied");
    assert_string_equal(sequences_unit_name(SEQUENCES_UNIT_MONTHS), "months");
    assert_string_equal(sequences_unit_name((enum sequences_unit)42), "unknown");
    assert_string_equal(sequences_priority_name((enum sequences_priority)42), "unknown");
    sequences_free(s);
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */
/* ------------------------------------------------------------------------ */

static void expect_render(const char *tmpl, const struct sequences_vars *vars, const char *want)
{
    char *got = sequences_render(tmpl, vars);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("render %s\nwant: %s\ngot:  %s", tmpl ? tmpl : "(null)", want, got);
    free(got);
}

static void test_render_all_placeholders(void **state)
{
    (void)state;
    expect_render("{job_title}|{company}|{candidate_name}|{recipient_name}|{interviewer_name}|"
                  "{interview_type}|{interview_date}|{applied_date}",
                  &ALL_VARS,
                  "Backend Engineer|Acme|Ada Lovelace|Grace|Alan Turing|technical interview|"
                  "Tuesday, March 3|February 20");
    expect_render("Dear {interviewer_name}, thanks for the {interview_type}.", &ALL_VARS,
                  "Dear Alan Turing, thanks for the technical interview.");
    expect_render("", &ALL_VARS, "");
    expect_render(NULL, &ALL_VARS, "");
    expect_render("no placeholders", NULL, "no placeholders");
}

static void test_render_missing_is_visible(void **state)
{
    (void)state;
    expect_render("{job_title}|{company}|{candidate_name}|{recipient_name}|{interviewer_name}|"
                  "{interview_type}|{interview_date}|{applied_date}",
                  NULL,
                  "[job title]|[company]|[candidate name]|[recipient name]|[interviewer name]|"
                  "[interview type]|[interview date]|[applied date]");
    struct sequences_vars v = {
        .job_title = "", .company = "  \t\n", .interviewer_name = NULL, .candidate_name = "Ada"};
    expect_render("Dear {interviewer_name}, {job_title} at {company}. {candidate_name}", &v,
                  "Dear [interviewer name], [job title] at [company]. Ada");
}

static void test_render_escapes(void **state)
{
    (void)state;
    expect_render("{{job_title}} is literal, {job_title} is not", &ALL_VARS,
                  "{job_title} is literal, Backend Engineer is not");
    expect_render("a {{ b }} c }}{{", NULL, "a { b } c }{");
    expect_render("{{{company}}}", &ALL_VARS, "{Acme}");
    expect_render("{{{{", NULL, "{{");
    /* Text the loader would refuse is copied as it is. */
    expect_render("{unknown} {Company} {job_title lone } {", &ALL_VARS,
                  "{unknown} {Company} {job_title lone } {");
}

static void test_render_values_verbatim(void **state)
{
    (void)state;
    struct sequences_vars v = {
        .company = "{job_title} {{x}} }",
        .job_title = "C++ {dev}",
        .candidate_name = "Zo\xc3\xab \xe6\x9d\x8e",
        .recipient_name = "M\xc3\xbcller & S\xc3\xb6hne",
    };
    expect_render("{company} / {job_title}", &v, "{job_title} {{x}} } / C++ {dev}");
    expect_render("Gr\xc3\xbc\xc3\x9f"
                  "e, {recipient_name}! \xe2\x80\x94 {candidate_name} \xe2\x9c\x93",
                  &v,
                  "Gr\xc3\xbc\xc3\x9f"
                  "e, M\xc3\xbcller & S\xc3\xb6hne! \xe2\x80\x94 Zo\xc3\xab \xe6\x9d\x8e "
                  "\xe2\x9c\x93");
    /* A long value grows the buffer. */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    v.company = big;
    char *out = sequences_render("<{company}><{company}>", &v);
    assert_non_null(out);
    assert_int_equal(strlen(out), 2 * strlen(big) + 4);
    free(out);
}

static void test_template_check(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(
        sequences_template_check("Hi {recipient_name}, {{literal}}", false, err, sizeof(err)), 0);
    assert_int_equal(sequences_template_check("a\n\tb", true, err, sizeof(err)), 0);
    assert_int_equal(sequences_template_check("a\nb", false, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "control character U+000A at byte 1");
    assert_int_equal(sequences_template_check("\xc2\x85", true, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "control character U+0085 at byte 0");
    assert_int_equal(sequences_template_check("ok \xe2\x82", true, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "invalid UTF-8 at byte 3");
    assert_int_equal(sequences_template_check("{jobtitle}", true, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "unknown placeholder {jobtitle} (known: {job_title}"));
    assert_int_equal(sequences_template_check(NULL, true, err, sizeof(err)), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Due times                                                                */
/* ------------------------------------------------------------------------ */

static void test_due_days_keep_wall_clock(void **state)
{
    (void)state;
    /* Berlin spring forward 2026-03-29: 10:00 CET + 3 days = 10:00 CEST (71 h). */
    assert_string_equal(due(&DAYS_3, "2026-03-27T09:00:00Z", "Europe/Berlin"),
                        "2026-03-30T08:00:00.000Z");
    /* Berlin fall back 2026-10-25: 10:00 CEST + 3 days = 10:00 CET (73 h). */
    assert_string_equal(due(&DAYS_3, "2026-10-23T08:00:00Z", "Europe/Berlin"),
                        "2026-10-26T09:00:00.000Z");
    /* New York 2026-03-08 and 2026-11-01: 14:00 stays 14:00. */
    assert_string_equal(due(&DAYS_3, "2026-03-06T19:00:00Z", "America/New_York"),
                        "2026-03-09T18:00:00.000Z");
    assert_string_equal(due(&DAYS_3, "2026-10-30T18:00:00Z", "America/New_York"),
                        "2026-11-02T19:00:00.000Z");
    /* Milliseconds survive. */
    assert_string_equal(due(&DAYS_3, "2026-03-27T09:00:00.123Z", "Europe/Berlin"),
                        "2026-03-30T08:00:00.123Z");
    /* In UTC a day is always 24 hours. */
    assert_string_equal(due(&DAYS_3, "2026-03-27T09:00:00Z", "UTC"), "2026-03-30T09:00:00.000Z");
}

static void test_due_at_local_time(void **state)
{
    (void)state;
    /* Applied at 16:45 CET; follow up three days later at 09:00 CEST. */
    assert_string_equal(due(&DAYS_3_AT_9, "2026-03-27T15:45:00Z", "Europe/Berlin"),
                        "2026-03-30T07:00:00.000Z");
    assert_string_equal(due(&DAYS_3_AT_9, "2026-10-23T15:00:00Z", "Europe/Berlin"),
                        "2026-10-26T08:00:00.000Z");
    assert_string_equal(due(&DAYS_3_AT_9, "2026-03-06T23:30:00Z", "America/New_York"),
                        "2026-03-09T13:00:00.000Z");
    /* 23:30 EDT on Oct 29 + 3 days is Nov 1, after the change at 02:00. */
    assert_string_equal(due(&DAYS_3_AT_9, "2026-10-30T03:30:00Z", "America/New_York"),
                        "2026-11-01T14:00:00.000Z");
    /* The local date counts, not the UTC one: 23:30 UTC is already the next
     * day in Berlin. */
    assert_string_equal(due(&DAYS_3_AT_9, "2026-06-01T23:30:00Z", "Europe/Berlin"),
                        "2026-06-05T07:00:00.000Z");
    /* 0 days at 09:00 from an afternoon anchor lies before the anchor. */
    struct sequences_delay today_9 = {SEQUENCES_UNIT_DAYS, 0, 540};
    assert_string_equal(due(&today_9, "2026-06-01T13:00:00Z", "Europe/Berlin"),
                        "2026-06-01T07:00:00.000Z");
}

static void test_due_gap_and_overlap(void **state)
{
    (void)state;
    /* 02:30 does not exist on 2026-03-29 in Berlin: it becomes 03:30 CEST. */
    assert_string_equal(due(&DAYS_1, "2026-03-28T01:30:00Z", "Europe/Berlin"),
                        "2026-03-29T01:30:00.000Z");
    struct sequences_delay at_230 = {SEQUENCES_UNIT_DAYS, 1, 150};
    assert_string_equal(due(&at_230, "2026-03-28T12:00:00Z", "Europe/Berlin"),
                        "2026-03-29T01:30:00.000Z");
    assert_string_equal(due(&DAYS_1, "2026-03-07T07:30:00Z", "America/New_York"),
                        "2026-03-08T07:30:00.000Z");
    /* 02:30 happens twice on 2026-10-25 in Berlin: the first, CEST, is taken. */
    assert_string_equal(due(&DAYS_1, "2026-10-24T00:30:00Z", "Europe/Berlin"),
                        "2026-10-25T00:30:00.000Z");
    assert_string_equal(due(&at_230, "2026-10-24T12:00:00Z", "Europe/Berlin"),
                        "2026-10-25T00:30:00.000Z");
    assert_string_equal(due(&DAYS_1, "2026-10-31T05:30:00Z", "America/New_York"),
                        "2026-11-01T05:30:00.000Z");
    /* An anchor in the second 02:30 plus 0 days stays where it is. */
    struct sequences_delay none = {SEQUENCES_UNIT_DAYS, 0, -1};
    assert_string_equal(due(&none, "2026-10-25T01:30:00Z", "Europe/Berlin"),
                        "2026-10-25T01:30:00.000Z");
}

static void test_due_months(void **state)
{
    (void)state;
    assert_string_equal(due(&MONTHS_1, "2026-01-31T09:00:00Z", "Europe/Berlin"),
                        "2026-02-28T09:00:00.000Z");
    assert_string_equal(due(&MONTHS_1, "2028-01-31T09:00:00Z", "Europe/Berlin"),
                        "2028-02-29T09:00:00.000Z");
    /* 10:00 CEST on March 31 (after the change) -> April 30 10:00 CEST. */
    assert_string_equal(due(&MONTHS_1, "2026-03-31T08:00:00Z", "Europe/Berlin"),
                        "2026-04-30T08:00:00.000Z");
    /* March 2 10:00 CET -> April 2 10:00 CEST. */
    assert_string_equal(due(&MONTHS_1, "2026-03-02T09:00:00Z", "Europe/Berlin"),
                        "2026-04-02T08:00:00.000Z");
    struct sequences_delay two = {SEQUENCES_UNIT_MONTHS, 2, 9 * 60};
    assert_string_equal(due(&two, "2026-12-31T20:00:00Z", "America/New_York"),
                        "2027-02-28T14:00:00.000Z");
    /* 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Berlin: one month later is
     * 00:30 on March 1, 23:30 UTC on Feb 28 (not Feb 28 + clamping). */
    assert_string_equal(due(&MONTHS_1, "2026-01-31T23:30:00Z", "Europe/Berlin"),
                        "2026-02-28T23:30:00.000Z");
}

static void test_due_year_end(void **state)
{
    (void)state;
    assert_string_equal(due(&DAYS_3, "2026-12-30T10:00:00Z", "UTC"), "2027-01-02T10:00:00.000Z");
    assert_string_equal(due(&DAYS_3_AT_9, "2026-12-30T22:00:00Z", "Europe/Berlin"),
                        "2027-01-02T08:00:00.000Z");
    assert_string_equal(due(&MONTHS_1, "2026-12-31T10:00:00Z", "UTC"), "2027-01-31T10:00:00.000Z");
    struct sequences_delay year = {SEQUENCES_UNIT_DAYS, 365, -1};
    assert_string_equal(due(&year, "2027-03-01T10:00:00Z", "UTC"), "2028-02-29T10:00:00.000Z");
}

static void test_due_elapsed_time(void **state)
{
    (void)state;
    /* On the day Berlin springs forward, 24 hours is not one day. */
    struct sequences_delay h24 = {SEQUENCES_UNIT_HOURS, 24, -1};
    assert_string_equal(due(&h24, "2026-03-28T12:00:00Z", "Europe/Berlin"),
                        "2026-03-29T12:00:00.000Z");
    assert_string_equal(due(&DAYS_1, "2026-03-28T12:00:00Z", "Europe/Berlin"),
                        "2026-03-29T11:00:00.000Z");
    assert_string_equal(due(&h24, "2026-10-24T12:00:00Z", "Europe/Berlin"),
                        "2026-10-25T12:00:00.000Z");
    assert_string_equal(due(&DAYS_1, "2026-10-24T12:00:00Z", "Europe/Berlin"),
                        "2026-10-25T13:00:00.000Z");
    struct sequences_delay m90 = {SEQUENCES_UNIT_MINUTES, 90, -1};
    assert_string_equal(due(&m90, "2026-11-01T05:15:00Z", "America/New_York"),
                        "2026-11-01T06:45:00.000Z");
    assert_string_equal(due(&m90, "2026-03-29T00:45:00Z", "Europe/Berlin"),
                        "2026-03-29T02:15:00.000Z");
}

static void test_due_shipped_post_interview(void **state)
{
    (void)state;
    char err[512] = "";
    struct sequences *s = sequences_load(shipped, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    const struct sequences_seq *q = sequences_default_on_interview(s);
    /* An interview that ends 16:00 CET the day before Berlin springs forward. */
    assert_string_equal(
        due(&sequences_seq_step(q, 0)->delay, "2026-03-28T15:00:00Z", "Europe/Berlin"),
        "2026-03-29T14:00:00.000Z");
    assert_string_equal(
        due(&sequences_seq_step(q, 1)->delay, "2026-03-28T15:00:00Z", "Europe/Berlin"),
        "2026-04-04T07:00:00.000Z");
    sequences_free(s);
}

static void test_due_errors(void **state)
{
    (void)state;
    int64_t out = 42;
    int64_t anchor = t("2026-06-01T12:00:00Z");
    struct sequences_delay h1 = {SEQUENCES_UNIT_HOURS, 1, -1};
    assert_int_equal(sequences_due_ms(&DAYS_3, anchor, "Europe/Nowhere", &out), -EINVAL);
    assert_int_equal(sequences_due_ms(&h1, anchor, "Europe/Nowhere", &out), -EINVAL);
    assert_int_equal(sequences_due_ms(&DAYS_3, anchor, NULL, &out), -EINVAL);
    assert_int_equal(sequences_due_ms(&DAYS_3, anchor, "../etc/passwd", &out), -EINVAL);
    assert_int_equal(out, 42);
    struct sequences_delay bad[] = {
        {SEQUENCES_UNIT_DAYS, 366, -1},  {SEQUENCES_UNIT_DAYS, -1, -1},
        {SEQUENCES_UNIT_DAYS, 1, 1440},  {SEQUENCES_UNIT_DAYS, 1, -2},
        {SEQUENCES_UNIT_HOURS, 1, 540},  {SEQUENCES_UNIT_MONTHS, 25, -1},
        {(enum sequences_unit)9, 1, -1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sequences_due_ms(&bad[i], anchor, "UTC", &out), -EINVAL);
    assert_int_equal(sequences_due_ms(NULL, anchor, "UTC", &out), -EINVAL);
    assert_int_equal(sequences_due_ms(&DAYS_3, anchor, "UTC", NULL), -EINVAL);
    assert_int_equal(sequences_due_ms(&DAYS_3, INT64_MAX, "UTC", &out), -ERANGE);
    assert_int_equal(sequences_due_ms(&h1, INT64_MIN, "UTC", &out), -ERANGE);
    assert_true(sequences_tz_valid("America/New_York"));
    assert_false(sequences_tz_valid("America/New York"));
}

static int group_setup(void **state)
{
    (void)state;
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    snprintf(shipped, sizeof(shipped), "%s/config/sequences.json", root ? root : ".");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sequences_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_shipped_texts_render),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_minimal_and_unicode_config),
        cmocka_unit_test(test_render_all_placeholders),
        cmocka_unit_test(test_render_missing_is_visible),
        cmocka_unit_test(test_render_escapes),
        cmocka_unit_test(test_render_values_verbatim),
        cmocka_unit_test(test_template_check),
        cmocka_unit_test(test_due_days_keep_wall_clock),
        cmocka_unit_test(test_due_at_local_time),
        cmocka_unit_test(test_due_gap_and_overlap),
        cmocka_unit_test(test_due_months),
        cmocka_unit_test(test_due_year_end),
        cmocka_unit_test(test_due_elapsed_time),
        cmocka_unit_test(test_due_shipped_post_interview),
        cmocka_unit_test(test_due_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
