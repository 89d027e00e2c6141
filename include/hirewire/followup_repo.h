/* The SQL of follow-ups and interview reminders (run through eventlog_exec).
 * $1 is the user id except in the scheduler's statements. */
#ifndef HIREWIRE_FOLLOWUP_REPO_H
#define HIREWIRE_FOLLOWUP_REPO_H

/* $2 job: timezone, name, job_title, company, followup_sequence. No row: no
 * such job. */
extern const char followup_repo_sql_job_context[];
/* $2 interview: timezone, name, job_title, company, interview_type,
 * start_ms, duration_minutes, interviewer_name, status, job_id. */
extern const char followup_repo_sql_interview_context[];
/* $2 job, $3 interview or NULL, $4..$12 parallel arrays origin, kind,
 * sequence, step, type, priority, subject, message, due_ms. Upserts by
 * origin (a pending row moves to its new due time); emits
 * followup.scheduled. Row: next_due_ms, scheduled + event columns. */
extern const char followup_repo_sql_schedule[];
/* $2 job, $3 interview or NULL: cancels what is pending (followup.cancelled). */
extern const char followup_repo_sql_cancel[];
/* $1 now ms, $2 batch, $3 ms after which a firing counts as late: claims and
 * fires due rows of every user. Rows: fired + user_id and event columns. */
extern const char followup_repo_sql_fire[];
/* The earliest pending due time (next_due_ms, NULL when none). */
extern const char followup_repo_sql_next_due[];

/* The API: list ($2 state, $3 job, $4 before, $5 after, $6 limit, $7
 * offset: total, body), due by ($2 until ms), create ($2 document), act ($2
 * id, $3 complete|dismiss|snooze, $4 until ms: current_state, body). */
extern const char followup_repo_sql_list[];
extern const char followup_repo_sql_due_by[];
extern const char followup_repo_sql_create[];
extern const char followup_repo_sql_act[];

#endif
