/* The SQL of the application pipeline (statements run through api_exec /
 * eventlog_exec). $1 is always the user id; documents are JSON objects whose
 * keys are column names, validated by the API layer (times in ms). Results
 * have a "body" column (NULL: not found or refused) and the event columns. */
#ifndef HIREWIRE_ATS_REPO_H
#define HIREWIRE_ATS_REPO_H

/* One application.status_changed per row of src (id, old_status, status,
 * company, job_title, move_notes), ordered among a statement's events by k:
 * the part of an evs CTE (EVENTLOG_APPEND_MANY_CTE) that every status move
 * writes. */
#define STATUS_EVENT_AT(src, k)                                                                    \
    "SELECT " k " AS k, 'application.status_changed'::text AS type, "                              \
    "'applications'::text AS channel, jsonb_build_object('job_id', " src ".id, 'old_status', " src \
    ".old_status, 'new_status', " src ".status, 'company', " src ".company, 'job_title', " src      \
    ".job_title, 'notes', " src ".move_notes, 'timestamp', hw_ts(now())) AS data FROM " src
#define STATUS_EVENT(src) STATUS_EVENT_AT(src, "2")

/* $2 job, $3 new status, $4 text[] of the statuses it may be reached from,
 * $5 notes. Row: current_status (none: no such job), wanted_status, body
 * (NULL: move refused). */
extern const char ats_repo_sql_status[];

/* $2 job: timeline object (events, interviews, offers, notes). */
extern const char ats_repo_sql_timeline[];

/* The statistics object of the user's pipeline. */
extern const char ats_repo_sql_statistics[];

/* $2 status or NULL: {applications:[...], total}. */
extern const char ats_repo_sql_applications[];

/* Notes: create ($2 doc with job_id), update ($2 note, $3 doc), delete ($2
 * note), list of a job ($2 job). */
extern const char ats_repo_sql_note_create[];
extern const char ats_repo_sql_note_update[];
extern const char ats_repo_sql_note_delete[];
extern const char ats_repo_sql_notes_of_job[];

/* Offers: create ($2 doc with job_id, $3 text[] offer_received is reached
 * from, $4 job status an offer recorded as decided moves to or NULL, $5
 * text[] that status is reached from), update ($2 offer, $3 doc, $4 job
 * status a decision moves to or NULL, $5 text[] that status is reached
 * from), list of a job ($2 job). Both rows have current_status (none: no
 * such job / offer) and wanted_status; body NULL with current_status set is
 * a refused move. The update's row also has decided_status (set when the
 * offer is accepted or rejected already and the document asks for a status
 * or a counter-offer: refused). */
extern const char ats_repo_sql_offer_create[];
extern const char ats_repo_sql_offer_update[];
extern const char ats_repo_sql_offers_of_job[];

/* $2 event seq, $3 job, $4 weight (+1/-1), $5 new status: one learning
 * signal per event (idempotent). */
extern const char ats_repo_sql_learning_signal[];

#endif
