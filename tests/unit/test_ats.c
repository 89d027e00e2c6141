#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hirewire/ats.h"

static const char *const all_names[ATS__COUNT] = {
    "saved",
    "analyzing",
    "analyzed",
    "ready_to_apply",
    "applied",
    "screening",
    "interview_scheduled",
    "interviewing",
    "offer_received",
    "offer_accepted",
    "offer_rejected",
    "rejected",
    "withdrawn",
    "archived",
};

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < ATS__COUNT; s++) {
        assert_string_equal(ats_status_name(s), all_names[s]);
        assert_int_equal(ats_status_parse(all_names[s]), s);
    }
    assert_null(ats_status_name(-1));
    assert_null(ats_status_name(ATS__COUNT));
    assert_null(ats_status_name(1000));
}

static void test_parse_aliases(void **state)
{
    (void)state;
    assert_int_equal(ats_status_parse("discovered"), ATS_SAVED);
    assert_int_equal(ats_status_parse("technical_assessment"), ATS_SCREENING);
    assert_int_equal(ats_status_parse("accepted"), ATS_OFFER_ACCEPTED);
    assert_int_equal(ats_status_parse("declined"), ATS_OFFER_REJECTED);
    /* Aliases are input only: the name of a parsed alias is canonical. */
    assert_string_equal(ats_status_name(ats_status_parse("discovered")), "saved");
    assert_string_equal(ats_status_name(ats_status_parse("accepted")), "offer_accepted");
}

static void test_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "Saved",
        "APPLIED",
        " applied",
        "applied ",
        "applied\n",
        "processing",
        "imported",
        "error",
        "offer",
        "interview",
        "ready-to-apply",
        "save",
        "appliedx",
        "archive",
        "documents_generated",
        "analyzed_low_score",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ats_status_parse(bad[i]) != -1)
            fail_msg("ats_status_parse(\"%s\") accepted", bad[i]);
    assert_int_equal(ats_status_parse(NULL), -1);
}

struct edge {
    int from, to;
};

/* The whole allowed graph, written out edge by edge independently of the
 * table in ats.c: every pair not listed here must be refused. */
static const struct edge allowed[] = {
    {ATS_SAVED, ATS_ANALYZING},
    {ATS_SAVED, ATS_APPLIED},
    {ATS_SAVED, ATS_ARCHIVED},
    {ATS_SAVED, ATS_WITHDRAWN},
    {ATS_ANALYZING, ATS_ANALYZED},
    {ATS_ANALYZING, ATS_APPLIED},
    {ATS_ANALYZING, ATS_ARCHIVED},
    {ATS_ANALYZING, ATS_WITHDRAWN},
    {ATS_ANALYZED, ATS_READY_TO_APPLY},
    {ATS_ANALYZED, ATS_APPLIED},
    {ATS_ANALYZED, ATS_ARCHIVED},
    {ATS_ANALYZED, ATS_WITHDRAWN},
    {ATS_READY_TO_APPLY, ATS_APPLIED},
    {ATS_READY_TO_APPLY, ATS_ARCHIVED},
    {ATS_READY_TO_APPLY, ATS_WITHDRAWN},
    {ATS_APPLIED, ATS_SCREENING},
    {ATS_APPLIED, ATS_INTERVIEW_SCHEDULED},
    {ATS_APPLIED, ATS_INTERVIEWING},
    {ATS_APPLIED, ATS_REJECTED},
    {ATS_APPLIED, ATS_WITHDRAWN},
    {ATS_SCREENING, ATS_INTERVIEW_SCHEDULED},
    {ATS_SCREENING, ATS_INTERVIEWING},
    {ATS_SCREENING, ATS_REJECTED},
    {ATS_SCREENING, ATS_WITHDRAWN},
    {ATS_INTERVIEW_SCHEDULED, ATS_INTERVIEWING},
    {ATS_INTERVIEW_SCHEDULED, ATS_REJECTED},
    {ATS_INTERVIEW_SCHEDULED, ATS_WITHDRAWN},
    {ATS_INTERVIEWING, ATS_INTERVIEW_SCHEDULED},
    {ATS_INTERVIEWING, ATS_OFFER_RECEIVED},
    {ATS_INTERVIEWING, ATS_REJECTED},
    {ATS_INTERVIEWING, ATS_WITHDRAWN},
    {ATS_OFFER_RECEIVED, ATS_OFFER_ACCEPTED},
    {ATS_OFFER_RECEIVED, ATS_OFFER_REJECTED},
    {ATS_OFFER_RECEIVED, ATS_WITHDRAWN},
    {ATS_OFFER_ACCEPTED, ATS_ARCHIVED},
    {ATS_OFFER_REJECTED, ATS_ARCHIVED},
    {ATS_REJECTED, ATS_ARCHIVED},
    {ATS_WITHDRAWN, ATS_ARCHIVED},
};

static bool listed(int from, int to)
{
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (allowed[i].from == from && allowed[i].to == to)
            return true;
    return false;
}

static void test_transition_graph(void **state)
{
    (void)state;
    int n = 0;
    for (int from = 0; from < ATS__COUNT; from++) {
        for (int to = 0; to < ATS__COUNT; to++) {
            bool want = listed(from, to);
            if (ats_can_move(from, to) != want)
                fail_msg("%s -> %s: got %d, want %d", all_names[from], all_names[to], !want, want);
            assert_int_equal((ats_next_mask(from) & ATS_BIT(to)) != 0, want);
            assert_int_equal((ats_prev_mask(to) & ATS_BIT(from)) != 0, want);
            n += want;
        }
        /* Staying put is never a transition. */
        assert_false(ats_can_move(from, from));
    }
    assert_int_equal(n, (int)(sizeof(allowed) / sizeof(allowed[0])));
}

static void test_transition_examples(void **state)
{
    (void)state;
    /* The clients' own journeys (dashboard kanban, e2e tests, unit tests). */
    assert_true(ats_can_move(ATS_SAVED, ATS_APPLIED));
    assert_true(ats_can_move(ATS_APPLIED, ATS_INTERVIEWING));
    assert_true(ats_can_move(ATS_INTERVIEWING, ATS_OFFER_RECEIVED));
    assert_true(ats_can_move(ATS_OFFER_RECEIVED, ATS_OFFER_ACCEPTED));
    assert_false(ats_can_move(ATS_SAVED, ATS_INTERVIEW_SCHEDULED));
    assert_false(ats_can_move(ATS_APPLIED, ATS_SAVED));
    assert_false(ats_can_move(ATS_REJECTED, ATS_APPLIED));
    assert_false(ats_can_move(ATS_APPLIED, ATS_OFFER_RECEIVED));
    assert_int_equal(ats_next_mask(ATS_ARCHIVED), 0);
    assert_int_equal(ats_prev_mask(ATS_SAVED), 0);
    assert_int_equal(ats_prev_mask(ATS_ARCHIVED),
                     ATS_BIT(ATS_SAVED) | ATS_BIT(ATS_ANALYZING) | ATS_BIT(ATS_ANALYZED) |
                         ATS_BIT(ATS_READY_TO_APPLY) | ATS_BIT(ATS_OFFER_ACCEPTED) |
                         ATS_BIT(ATS_OFFER_REJECTED) | ATS_BIT(ATS_REJECTED) |
                         ATS_BIT(ATS_WITHDRAWN));
    assert_int_equal(ats_prev_mask(ATS_APPLIED), ATS_BIT(ATS_SAVED) | ATS_BIT(ATS_ANALYZING) |
                                                     ATS_BIT(ATS_ANALYZED) |
                                                     ATS_BIT(ATS_READY_TO_APPLY));
}

static void test_out_of_range(void **state)
{
    (void)state;
    int bad[] = {-1, ATS__COUNT, ATS__COUNT + 1, 31, 32, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ats_next_mask(bad[i]), 0);
        assert_int_equal(ats_prev_mask(bad[i]), 0);
        assert_false(ats_can_move(bad[i], ATS_ARCHIVED));
        assert_false(ats_can_move(ATS_SAVED, bad[i]));
        assert_int_equal(ats_signal(bad[i]), 0);
    }
    /* Every mask stays within the defined statuses. */
    for (int s = 0; s < ATS__COUNT; s++) {
        assert_int_equal(ats_next_mask(s) & ~ATS_ALL_MASK, 0);
        assert_int_equal(ats_prev_mask(s) & ~ATS_ALL_MASK, 0);
    }
}

static void test_format_lists(void **state)
{
    (void)state;
    char buf[512];
    unsigned m = ats_next_mask(ATS_READY_TO_APPLY);
    assert_int_equal(ats_names_format(m, ", ", "", "", buf, sizeof(buf)), 28);
    assert_string_equal(buf, "applied, withdrawn, archived");
    assert_int_equal(ats_names_format(m, ",", "{", "}", buf, sizeof(buf)), 28);
    assert_string_equal(buf, "{applied,withdrawn,archived}");
    assert_int_equal(ats_names_format(m, NULL, NULL, NULL, buf, sizeof(buf)), 24);
    assert_string_equal(buf, "appliedwithdrawnarchived");

    /* Enum order, whatever order the bits were set in. */
    m = ATS_BIT(ATS_ARCHIVED) | ATS_BIT(ATS_SAVED) | ATS_BIT(ATS_OFFER_RECEIVED);
    assert_true(ats_names_format(m, "|", "[", "]", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "[saved|offer_received|archived]");

    assert_int_equal(ats_names_format(0, ",", "{", "}", buf, sizeof(buf)), 2);
    assert_string_equal(buf, "{}");
    assert_int_equal(ats_names_format(0, ", ", "", "", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    assert_int_equal(ats_names_format(ATS_BIT(ATS_INTERVIEW_SCHEDULED), ",", "", "", buf, 20), 19);
    assert_string_equal(buf, "interview_scheduled");

    int len = ats_names_format(ATS_ALL_MASK, ",", "{", "}", buf, sizeof(buf));
    assert_int_equal(len, (int)strlen(buf));
    assert_string_equal(buf, "{saved,analyzing,analyzed,ready_to_apply,applied,screening,"
                             "interview_scheduled,interviewing,offer_received,offer_accepted,"
                             "offer_rejected,rejected,withdrawn,archived}");
}

static void test_format_errors(void **state)
{
    (void)state;
    char buf[32];
    /* Exactly enough room, then one byte short at each position. */
    unsigned m = ats_next_mask(ATS_READY_TO_APPLY);
    assert_int_equal(ats_names_format(m, ",", "{", "}", buf, 29), 28);
    for (size_t n = 0; n < 29; n++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(ats_names_format(m, ",", "{", "}", buf, n), -ENOSPC);
        if (n > 0)
            assert_int_equal(buf[0], '\0');
        /* Nothing is written at or past buf[n]. */
        for (size_t i = n; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 'x');
    }
    assert_int_equal(ats_names_format(0, "", "", "", buf, 0), -ENOSPC);
    assert_int_equal(ats_names_format(0, "", "", "", buf, 1), 0);
    assert_int_equal(ats_names_format(m, ",", "{", "}", NULL, 32), -EINVAL);
    assert_int_equal(ats_names_format(ATS_BIT(ATS__COUNT), ",", "", "", buf, 32), -EINVAL);
    assert_int_equal(ats_names_format(0x80000000u | ATS_BIT(ATS_SAVED), ",", "", "", buf, 32),
                     -EINVAL);
}

static void test_interview_types(void **state)
{
    (void)state;
    static const char *const types[][2] = {
        {"phone_screen", "Phone Screen"},
        {"video_screen", "Video Screen"},
        {"technical", "Technical"},
        {"behavioral", "Behavioral"},
        {"panel", "Panel"},
        {"onsite", "Onsite"},
        {"final", "Final"},
        {"other", "Other"},
        {"system_design", "System Design"},
        {"coding", "Coding"},
        {"phone", "Phone"},
        {"video", "Video"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_true(ats_interview_type_valid(types[i][0]));
        assert_string_equal(ats_interview_type_label(types[i][0]), types[i][1]);
    }
    const char *bad[] = {"",
                         "Phone_Screen",
                         "PHONE",
                         "on-site",
                         "behavioural",
                         "screen",
                         "phone_screen ",
                         "technical_assessment",
                         "Technical"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(ats_interview_type_valid(bad[i]));
        assert_null(ats_interview_type_label(bad[i]));
    }
    assert_false(ats_interview_type_valid(NULL));
    assert_null(ats_interview_type_label(NULL));
}

static void test_outcomes(void **state)
{
    (void)state;
    const char *good[] = {"pending", "passed", "failed", "cancelled", "rescheduled", "rejected"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ats_outcome_valid(good[i]));
    const char *bad[] = {"", "Pending", "canceled", "completed", "pass", "accepted", "passed "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ats_outcome_valid(bad[i]));
    assert_false(ats_outcome_valid(NULL));
}

static void test_signal(void **state)
{
    (void)state;
    int want[ATS__COUNT] = {
        [ATS_APPLIED] = 1,        [ATS_INTERVIEWING] = 1, [ATS_OFFER_RECEIVED] = 1,
        [ATS_OFFER_ACCEPTED] = 1, [ATS_REJECTED] = -1,    [ATS_WITHDRAWN] = -1,
    };
    for (int s = 0; s < ATS__COUNT; s++)
        if (ats_signal(s) != want[s])
            fail_msg("ats_signal(%s) = %d, want %d", all_names[s], ats_signal(s), want[s]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_parse_aliases),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_transition_graph),
        cmocka_unit_test(test_transition_examples),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_format_lists),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_interview_types),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
