/* iCalendar (RFC 5545) feed of a user's interviews and follow-ups.
 *
 * Pure functions over libical: no loop, no I/O, no clock reading. The same
 * items always give the same bytes, so the feed can be compared with golden
 * files and cached by ETag. Calendar apps subscribe to the feed by URL and
 * match items across refreshes by UID, so a UID must never change while the
 * item lives; a reschedule keeps the UID and bumps SEQUENCE.
 *
 * Follow-ups are best served as ICS_EVENT (a 30-minute block with alarms, as
 * the replaced system put them on the calendar): Google Calendar and Outlook
 * show nothing for a VTODO in a subscribed feed. ICS_TODO is for clients that
 * show tasks (Thunderbird, for one) and carries due time, completion and
 * priority. */
#ifndef HIREWIRE_ICS_H
#define HIREWIRE_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Latest time an item may carry: 9999-12-31T23:59:59.999Z. */
#define ICS_MAX_MS INT64_C(253402300799999)
/* Longest alarm lead time: one year, in minutes. */
#define ICS_ALARM_MAX_MIN (366 * 24 * 60)
/* Longest event: four weeks, in minutes. */
#define ICS_DURATION_MAX_MIN (28 * 24 * 60)

enum ics_kind {
    ICS_EVENT, /* VEVENT: DTSTART + DTEND */
    ICS_TODO,  /* VTODO: DUE, no DTSTART */
};

/* One calendar item. Every pointer is borrowed for the duration of the call.
 *
 * Text fields (summary, description, location, attendee_name) are UTF-8 and
 * are escaped as RFC 5545 requires; CR LF and lone CR become LF, other control
 * characters but TAB are dropped, invalid UTF-8 bytes become U+FFFD and spaces
 * and tabs at either end are trimmed, so a scraped description can never break
 * the feed and every value reads back as written. Text empty after that is
 * omitted. Identifiers (uid, url,
 * attendee_email) are not repaired: a control character, a space or a
 * backslash in them makes ics_build() fail with -EINVAL. */
struct ics_item {
    enum ics_kind kind;
    /* Required, stable across edits: "interview-42@hirewire". */
    const char *uid;
    /* >= 0, bumped by the caller on every reschedule. */
    int sequence;
    /* STATUS:CANCELLED. The item stays in the feed so that subscribed
     * calendars strike or remove it, and an event no longer blocks time. */
    bool cancelled;
    /* ICS_TODO only: STATUS:COMPLETED, COMPLETED:stamp_ms. */
    bool completed;
    /* ICS_EVENT: DTSTART; ICS_TODO: DUE. 0..ICS_MAX_MS, UTC. */
    int64_t start_ms;
    /* ICS_EVENT: DTEND = start + duration, 1..ICS_DURATION_MAX_MIN.
     * Ignored for ICS_TODO. */
    int duration_min;
    /* DTSTAMP and LAST-MODIFIED: when the item last changed. */
    int64_t stamp_ms;
    /* NULL or "": omitted. */
    const char *summary, *description, *location, *url;
    /* ATTENDEE;CN=<name>;ROLE=REQ-PARTICIPANT:mailto:<email>. NULL or "" email:
     * no ATTENDEE (the name alone is dropped); NULL or "" name: no CN. */
    const char *attendee_name, *attendee_email;
    /* nalarms lead times in minutes, 0..ICS_ALARM_MAX_MIN, each a VALARM
     * ACTION:DISPLAY (TRIGGER:-PT15M; RELATED=END, the due time, on a VTODO).
     * Left out of cancelled and completed items, which must not ring. */
    const int *alarms_min;
    size_t nalarms;
    /* "high" | "normal" | "low" -> PRIORITY 1 / 5 / 9; NULL: none. Both kinds. */
    const char *priority;
};

/* Builds a VCALENDAR of the n items, in order: VERSION 2.0, PRODID, CALSCALE
 * GREGORIAN, METHOD PUBLISH, the calendar name (X-WR-CALNAME and RFC 7986
 * NAME) and a 15-minute refresh hint (REFRESH-INTERVAL, X-PUBLISHED-TTL).
 * Times are UTC ("...Z", milliseconds cut to whole seconds), lines end in
 * CRLF and are folded at 75 octets without splitting a UTF-8 character.
 *
 * calname may be NULL (no name); it must not hold control characters or a
 * backslash (libical 3.0 writes X- property values unescaped). items may be
 * NULL when n is 0: the calendar then has no component, which every client we
 * know accepts although RFC 5545's grammar asks for one.
 *
 * On success returns 0 and sets *out to a NUL-terminated string the caller
 * releases with free(), and *len to its length without the NUL.
 * Returns -EINVAL if an argument or an item is invalid (see struct ics_item),
 * -ENOMEM if memory runs out; *out is then NULL. */
int ics_build(const char *calname, const struct ics_item *items, size_t n, char **out, size_t *len);

/* Parses len bytes of text (no NUL needed) with libical and checks that they
 * are exactly one VCALENDAR, with nothing before or after it and with matching
 * BEGIN/END lines, that has VERSION:2.0 and PRODID, whose components carry no
 * X-LIC-ERROR property (libical's mark of a line it could not parse), whose
 * VEVENT/VTODO sit directly in the VCALENDAR and each have UID and DTSTAMP,
 * whose VALARMs have ACTION and TRIGGER, and whose date-times are real dates
 * (libical 3.0 accepts month 13 without a word).
 *
 * Returns 0 and sets *ncomponents (may be NULL) to the number of VEVENT and
 * VTODO. Returns -EINVAL when the text fails a check, with a one-line reason
 * in why (may be NULL; truncated to n bytes), or -ENOMEM.
 *
 * Meant for text from outside: it never aborts, and to make sure of that it
 * turns libical's process-wide errors-are-fatal mode off if it finds it on. */
int ics_check(const char *text, size_t len, int *ncomponents, char *why, size_t n);

/* Writes the interview title "<type_label> Interview: <job_title> at <company>"
 * into buf, e.g. "Phone Screen Interview: Backend Engineer at Acme". A NULL or
 * empty part is left out with its joining words: "Interview: Backend Engineer",
 * "Phone Screen Interview at Acme".
 *
 * Returns 0, -EINVAL if buf is NULL or n is 0, or -ENOSPC if the title does not
 * fit; buf then holds the longest prefix that fits and ends on a whole UTF-8
 * character, NUL-terminated. */
int ics_interview_summary(const char *type_label, const char *job_title, const char *company,
                          char *buf, size_t n);

#endif
