/* Application tracking: the statuses a job application moves through, which
 * moves are allowed, and the interview vocabulary. Pure: no loop, no I/O.
 *
 * Statuses are passed as int so that a value read from the network or the
 * database can be checked here instead of being cast to the enum first: every
 * function below accepts any int and treats values outside [0, ATS__COUNT) as
 * "no such status". */
#ifndef HIREWIRE_ATS_H
#define HIREWIRE_ATS_H

#include <stdbool.h>
#include <stddef.h>

/* The order is the order of a typical application and the order in which
 * ats_names_format() lists names; it is not stored anywhere, names are. */
enum ats_status {
    ATS_SAVED,
    ATS_ANALYZING,
    ATS_ANALYZED,
    ATS_READY_TO_APPLY,
    ATS_APPLIED,
    ATS_SCREENING,
    ATS_INTERVIEW_SCHEDULED,
    ATS_INTERVIEWING,
    ATS_OFFER_RECEIVED,
    ATS_OFFER_ACCEPTED,
    ATS_OFFER_REJECTED,
    ATS_REJECTED,
    ATS_WITHDRAWN,
    ATS_ARCHIVED,
    ATS__COUNT
};

/* The bit of one status in the masks below. */
#define ATS_BIT(status) (1u << (unsigned)(status))
#define ATS_ALL_MASK (ATS_BIT(ATS__COUNT) - 1u)

/* The status for a name: the 14 canonical names ("saved", "analyzing", ...,
 * "archived") and the input aliases "discovered" (saved), "technical_assessment"
 * (screening), "accepted" (offer_accepted) and "declined" (offer_rejected).
 * Exact and case-sensitive. Returns -1 for NULL or anything else. */
int ats_status_parse(const char *s);

/* The canonical name of a status (a static string), NULL if out of range. */
const char *ats_status_name(int status);

/* Whether an application in status `from` may move to `to`. False when either
 * is out of range and for from == to: staying put is not a transition. */
bool ats_can_move(int from, int to);

/* ATS_BIT()s of the statuses reachable from `from` in one move (0 if out of
 * range or final). */
unsigned ats_next_mask(int from);

/* ATS_BIT()s of the statuses from which `to` is reachable in one move. */
unsigned ats_prev_mask(int to);

/* Writes the names of the statuses in mask, in enum order, joined by sep and
 * wrapped in open ... close, NUL-terminated; NULL sep/open/close mean "".
 *   ats_names_format(m, ", ", "", "", ...)  -> "applied, withdrawn, archived"
 *   ats_names_format(m, ",", "{", "}", ...) -> "{applied,withdrawn,archived}"
 * (the second is a PostgreSQL text[] literal: status names need no quoting).
 * An empty mask gives open + close. Returns the length written (without the
 * NUL), -EINVAL for a NULL buf or bits outside ATS_ALL_MASK, -ENOSPC if it does
 * not fit in n bytes (buf then holds "" when n > 0). */
int ats_names_format(unsigned mask, const char *sep, const char *open, const char *close, char *buf,
                     size_t n);

/* Interview types: the original's phone_screen, video_screen, technical,
 * behavioral, panel, onsite, final, other, plus the dashboard's system_design
 * and coding and the docs' phone and video. Exact, case-sensitive. */
bool ats_interview_type_valid(const char *type);

/* Human label of an interview type ("phone_screen" -> "Phone Screen"), a static
 * string; NULL for an unknown type. */
const char *ats_interview_type_label(const char *type);

/* Interview outcomes: pending, passed, failed, cancelled, rescheduled, rejected. */
bool ats_outcome_valid(const char *outcome);

/* What a move into status `to` says about the user's preferences, for the
 * recommendation learner: +1 (applied, interviewing, offer_received,
 * offer_accepted), -1 (rejected, withdrawn) or 0. */
int ats_signal(int to);

#endif
