/* Application statuses, their transitions and the interview vocabulary.
 *
 * The transition rules live in one table of bitmasks, one row per status, so
 * that the check, the "valid transitions" list of an error message and the
 * reverse lookup (where could this status have come from) cannot disagree.
 * The table is the original's 14-state graph with the edges its clients rely
 * on added: a saved, analyzing or analyzed job may be marked applied directly
 * (the extension and the dashboard skip analysis), and applied or screening
 * may jump to interviewing (an interview that was never scheduled here). */
#include "hirewire/ats.h"

#include <errno.h>
#include <string.h>

#define B(s) ATS_BIT(ATS_##s)

/* Leaving an application (withdrawn) is possible until it is decided; every
 * decided application can only be archived; archived is final. */
static const unsigned ats_next[ATS__COUNT] = {
    [ATS_SAVED] = B(ANALYZING) | B(APPLIED) | B(ARCHIVED) | B(WITHDRAWN),
    [ATS_ANALYZING] = B(ANALYZED) | B(APPLIED) | B(ARCHIVED) | B(WITHDRAWN),
    [ATS_ANALYZED] = B(READY_TO_APPLY) | B(APPLIED) | B(ARCHIVED) | B(WITHDRAWN),
    [ATS_READY_TO_APPLY] = B(APPLIED) | B(ARCHIVED) | B(WITHDRAWN),
    [ATS_APPLIED] =
        B(SCREENING) | B(INTERVIEW_SCHEDULED) | B(INTERVIEWING) | B(REJECTED) | B(WITHDRAWN),
    [ATS_SCREENING] = B(INTERVIEW_SCHEDULED) | B(INTERVIEWING) | B(REJECTED) | B(WITHDRAWN),
    [ATS_INTERVIEW_SCHEDULED] = B(INTERVIEWING) | B(REJECTED) | B(WITHDRAWN),
    [ATS_INTERVIEWING] = B(INTERVIEW_SCHEDULED) | B(OFFER_RECEIVED) | B(REJECTED) | B(WITHDRAWN),
    [ATS_OFFER_RECEIVED] = B(OFFER_ACCEPTED) | B(OFFER_REJECTED) | B(WITHDRAWN),
    [ATS_OFFER_ACCEPTED] = B(ARCHIVED),
    [ATS_OFFER_REJECTED] = B(ARCHIVED),
    [ATS_REJECTED] = B(ARCHIVED),
    [ATS_WITHDRAWN] = B(ARCHIVED),
    [ATS_ARCHIVED] = 0,
};

static const char *const ats_names[ATS__COUNT] = {
    [ATS_SAVED] = "saved",
    [ATS_ANALYZING] = "analyzing",
    [ATS_ANALYZED] = "analyzed",
    [ATS_READY_TO_APPLY] = "ready_to_apply",
    [ATS_APPLIED] = "applied",
    [ATS_SCREENING] = "screening",
    [ATS_INTERVIEW_SCHEDULED] = "interview_scheduled",
    [ATS_INTERVIEWING] = "interviewing",
    [ATS_OFFER_RECEIVED] = "offer_received",
    [ATS_OFFER_ACCEPTED] = "offer_accepted",
    [ATS_OFFER_REJECTED] = "offer_rejected",
    [ATS_REJECTED] = "rejected",
    [ATS_WITHDRAWN] = "withdrawn",
    [ATS_ARCHIVED] = "archived",
};

/* Names the clients send that are not canonical: the original's entry status,
 * and the dashboard's and docs' words for screening and the offer decision.
 * Responses always use the canonical name. */
static const struct {
    const char *alias;
    int status;
} ats_aliases[] = {
    {"discovered", ATS_SAVED},
    {"technical_assessment", ATS_SCREENING},
    {"accepted", ATS_OFFER_ACCEPTED},
    {"declined", ATS_OFFER_REJECTED},
};

/* Interview types and their labels. The original's eight types, the
 * dashboard's system_design and coding, and the docs' phone and video: all are
 * stored as sent, none is folded into another, so the user sees what they
 * chose. */
static const struct {
    const char *type;
    const char *label;
} ats_interview_types[] = {
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

/* "rejected" comes from the docs; the original's enum lacks it but a rejection
 * after an interview is an outcome users want to record. */
static const char *const ats_outcomes[] = {
    "pending", "passed", "failed", "cancelled", "rescheduled", "rejected",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool status_valid(int s)
{
    return s >= 0 && s < ATS__COUNT;
}

int ats_status_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < ATS__COUNT; i++)
        if (strcmp(s, ats_names[i]) == 0)
            return i;
    for (size_t i = 0; i < COUNT_OF(ats_aliases); i++)
        if (strcmp(s, ats_aliases[i].alias) == 0)
            return ats_aliases[i].status;
    return -1;
}

const char *ats_status_name(int status)
{
    return status_valid(status) ? ats_names[status] : NULL;
}

bool ats_can_move(int from, int to)
{
    return status_valid(from) && status_valid(to) && (ats_next[from] & ATS_BIT(to)) != 0;
}

unsigned ats_next_mask(int from)
{
    return status_valid(from) ? ats_next[from] : 0;
}

unsigned ats_prev_mask(int to)
{
    if (!status_valid(to))
        return 0;
    unsigned mask = 0;
    for (int from = 0; from < ATS__COUNT; from++)
        if (ats_next[from] & ATS_BIT(to))
            mask |= ATS_BIT(from);
    return mask;
}

/* Appends s at *len when it fits in n - 1 bytes; the length keeps counting
 * past the end so the caller learns whether everything fitted. */
static void put(char *buf, size_t n, size_t *len, const char *s)
{
    size_t sl = strlen(s);
    if (*len < n && sl < n - *len)
        memcpy(buf + *len, s, sl);
    *len += sl;
}

int ats_names_format(unsigned mask, const char *sep, const char *open, const char *close, char *buf,
                     size_t n)
{
    if (!buf || (mask & ~ATS_ALL_MASK))
        return -EINVAL;

    size_t len = 0;
    bool first = true;
    put(buf, n, &len, open ? open : "");
    for (int s = 0; s < ATS__COUNT; s++) {
        if (!(mask & ATS_BIT(s)))
            continue;
        if (!first)
            put(buf, n, &len, sep ? sep : "");
        put(buf, n, &len, ats_names[s]);
        first = false;
    }
    put(buf, n, &len, close ? close : "");

    /* Also refuses lengths an int cannot return, however large n is. */
    if (len >= n || len > (size_t)0x7fffffff) {
        if (n > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    buf[len] = '\0';
    return (int)len;
}

bool ats_interview_type_valid(const char *type)
{
    return ats_interview_type_label(type) != NULL;
}

const char *ats_interview_type_label(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < COUNT_OF(ats_interview_types); i++)
        if (strcmp(type, ats_interview_types[i].type) == 0)
            return ats_interview_types[i].label;
    return NULL;
}

bool ats_outcome_valid(const char *outcome)
{
    if (!outcome)
        return false;
    for (size_t i = 0; i < COUNT_OF(ats_outcomes); i++)
        if (strcmp(outcome, ats_outcomes[i]) == 0)
            return true;
    return false;
}

int ats_signal(int to)
{
    switch (to) {
    case ATS_APPLIED:
    case ATS_INTERVIEWING:
    case ATS_OFFER_RECEIVED:
    case ATS_OFFER_ACCEPTED:
        return 1;
    case ATS_REJECTED:
    case ATS_WITHDRAWN:
        return -1;
    default:
        return 0;
    }
}
