/* Follow-up sequences: their configuration, the rendering of their message
 * templates and the computation of when each step is due.
 *
 * A sequence is a named list of steps started at an anchor instant (the
 * moment an application became "applied", or the end of an interview). Each
 * step says what kind of follow-up it is, how urgent, how long after the
 * anchor it is due, and the subject and message the job seeker sends. Every
 * step's delay counts from the anchor, not from the previous step.
 *
 * The module is pure: no loop, no database. A loaded struct sequences is
 * immutable and may be shared by any number of readers.
 *
 * config/sequences.json:
 *
 *   {
 *     "default_on_applied": "post_application",
 *     "default_on_interview": "post_interview",
 *     "sequences": [
 *       {
 *         "name": "post_interview",
 *         "description": "Thank-you note the day after an interview, then a check-in.",
 *         "anchor": "interview_end",
 *         "steps": [
 *           {"type": "thank_you", "priority": "high", "delay": {"days": 1},
 *            "subject": "Thank you for the {job_title} interview",
 *            "message": "Dear {interviewer_name},\n\n..."}
 *         ]
 *       }
 *     ]
 *   }
 *
 * Names and step types match ^[a-z][a-z0-9_]{0,47}$; "anchor" is "applied" or
 * "interview_end"; "description" is optional; a sequence has 1..10 steps;
 * "priority" is "high", "normal" or "low". "delay" holds exactly one of
 * "days" (0..365), "months" (0..24), "hours" (0..8784), "minutes"
 * (0..527040), and with days or months optionally "at": "HH:MM". Templates
 * are valid UTF-8 without control characters (the message may hold line
 * breaks and tabs), use only the placeholders listed at struct
 * sequences_vars, and write literal braces as "{{" and "}}". Unknown keys
 * anywhere are errors. */
#ifndef HIREWIRE_SEQUENCES_H
#define HIREWIRE_SEQUENCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEQUENCES_NAME_MAX 48      /* bytes of a sequence name or step type */
#define SEQUENCES_STEPS_MAX 10     /* steps of one sequence */
#define SEQUENCES_MAX 64           /* sequences in one file */
#define SEQUENCES_SUBJECT_MAX 200  /* bytes of a subject template */
#define SEQUENCES_MESSAGE_MAX 8192 /* bytes of a message template */

enum sequences_priority {
    SEQUENCES_PRIORITY_LOW,
    SEQUENCES_PRIORITY_NORMAL,
    SEQUENCES_PRIORITY_HIGH,
};

/* What a sequence's delays count from. */
enum sequences_anchor {
    SEQUENCES_ANCHOR_APPLIED,       /* the application became "applied" */
    SEQUENCES_ANCHOR_INTERVIEW_END, /* the interview's scheduled end */
};

enum sequences_unit {
    SEQUENCES_UNIT_DAYS,    /* calendar days in the user's zone */
    SEQUENCES_UNIT_MONTHS,  /* calendar months, day clamped to the month's end */
    SEQUENCES_UNIT_HOURS,   /* elapsed time */
    SEQUENCES_UNIT_MINUTES, /* elapsed time */
};

/* A small value type, public on purpose so callers and tests can build one. */
struct sequences_delay {
    enum sequences_unit unit;
    int amount;    /* within the ranges of the file format above */
    int at_minute; /* days/months: minute of the local day (9:00 = 540), or -1 to keep
                    * the anchor's wall-clock time; always -1 for hours/minutes */
};

/* One step. Strings are owned by the struct sequences it came from. */
struct sequences_step {
    const char *type;
    enum sequences_priority priority;
    struct sequences_delay delay;
    const char *subject; /* template */
    const char *message; /* template */
};

struct sequences;
struct sequences_seq;

/* Reads and validates a sequences file. Returns a new object to release with
 * sequences_free(), or NULL with a sentence in err (n bytes, always
 * terminated when n > 0) naming the file, the entry and the field:
 *   sequences.json: post_interview.steps[1].delay: "days" must be an integer 0..365
 * The file is named by its base name. */
struct sequences *sequences_load(const char *path, char *err, size_t n);

/* The same from len bytes of JSON in memory; errors start "sequences.json: ". */
struct sequences *sequences_parse(const char *json, size_t len, char *err, size_t n);

void sequences_free(struct sequences *s);

/* Sequences in file order: i in 0..sequences_count()-1. */
size_t sequences_count(const struct sequences *s);
const struct sequences_seq *sequences_at(const struct sequences *s, size_t i);

/* The sequence called name, or NULL. name may be NULL (gives NULL). */
const struct sequences_seq *sequences_find(const struct sequences *s, const char *name);

/* The sequences named by "default_on_applied" and "default_on_interview";
 * never NULL for a loaded object. */
const struct sequences_seq *sequences_default_on_applied(const struct sequences *s);
const struct sequences_seq *sequences_default_on_interview(const struct sequences *s);

/* Accessors of one sequence. Returned strings live as long as the struct
 * sequences; description is "" when the file has none. */
const char *sequences_seq_name(const struct sequences_seq *q);
const char *sequences_seq_description(const struct sequences_seq *q);
enum sequences_anchor sequences_seq_anchor(const struct sequences_seq *q);
size_t sequences_seq_step_count(const struct sequences_seq *q);
/* Step i (0-based), or NULL when i is out of range. */
const struct sequences_step *sequences_seq_step(const struct sequences_seq *q, size_t i);

/* API names of enum values: "high"/"normal"/"low", "applied"/"interview_end",
 * "days"/"months"/"hours"/"minutes". Never NULL ("unknown" for bad values). */
const char *sequences_priority_name(enum sequences_priority p);
const char *sequences_anchor_name(enum sequences_anchor a);
const char *sequences_unit_name(enum sequences_unit u);

/* Values for the placeholders, all borrowed. A NULL, empty or all-blank value
 * renders visibly as its name in brackets ("[interviewer name]") so a reader
 * sees what to fill in before sending. interview_type and the dates are text
 * as the user should read it ("phone screen", "Tuesday, March 3"). */
struct sequences_vars {
    const char *job_title;        /* {job_title} */
    const char *company;          /* {company} */
    const char *candidate_name;   /* {candidate_name} */
    const char *recipient_name;   /* {recipient_name} */
    const char *interviewer_name; /* {interviewer_name} */
    const char *interview_type;   /* {interview_type} */
    const char *interview_date;   /* {interview_date} */
    const char *applied_date;     /* {applied_date} */
};

/* Renders a template. Returns a new string (free() it), NULL only when out of
 * memory. "{{" and "}}" give literal braces; a known "{name}" gives its value
 * inserted as is (braces inside values are not expanded again) or the
 * bracketed name when missing. Text that is not a known placeholder, as in a
 * template that never went through validation, is copied unchanged. vars may
 * be NULL (everything missing). Values are not escaped: a caller that puts a
 * rendered subject into a mail header strips line breaks from the values. */
char *sequences_render(const char *tmpl, const struct sequences_vars *vars);

/* Validates a template as the loader does: UTF-8, no control characters
 * (line breaks and tabs allowed when multiline), balanced braces, known
 * placeholders only. Returns 0, or -EINVAL with a sentence in err such as
 * "unknown placeholder {jobtitle}". */
int sequences_template_check(const char *tmpl, bool multiline, char *err, size_t n);

/* When a step with delay d is due for a sequence anchored at anchor_ms (UTC
 * ms) for a user living in the IANA zone tz ("Europe/Berlin", "UTC").
 * Days and months are calendar arithmetic on the local date, keeping the
 * anchor's wall-clock time or moving to d->at_minute; the resulting wall time
 * goes back to UTC as localtime_to_utc() says (skipped times move forward by
 * the gap, repeated times take the first occurrence). Hours and minutes are
 * exact elapsed time. With at_minute, the result may lie before the anchor
 * (0 days at 09:00 from an anchor at 15:00). Returns 0 with *due_ms set,
 * -EINVAL for an unknown zone or a delay outside its ranges, -ERANGE for an
 * anchor outside 1900..2199. */
int sequences_due_ms(const struct sequences_delay *d, int64_t anchor_ms, const char *tz,
                     int64_t *due_ms);

/* True when tz is a zone sequences_due_ms() accepts. */
bool sequences_tz_valid(const char *tz);

/* Releases the process-wide zone cache. The server calls it once at exit. */
void sequences_global_cleanup(void);

#endif
