/* The SQL of interviews and their calendar entries (statements run through
 * api_exec / eventlog_exec). $1 is always the user id; documents are JSON
 * objects keyed by column name (times in ms), validated by the API layer. */
#ifndef HIREWIRE_INTERVIEW_REPO_H
#define HIREWIRE_INTERVIEW_REPO_H

/* $2 document with job_id. body NULL: no such job. */
extern const char interview_repo_sql_create[];
/* $2 interview, $3 document. body NULL: no such interview. */
extern const char interview_repo_sql_update[];
/* $2 interview. */
extern const char interview_repo_sql_cancel[];
extern const char interview_repo_sql_get[];
/* $2 from ms, $3 to ms, $4 job id or NULL, $5 include cancelled (bool). */
extern const char interview_repo_sql_list[];
/* $2 job: its interviews, NULL body when the job is not the user's. */
extern const char interview_repo_sql_of_job[];
/* $2 interview: the calendar reaction (event rows only; none when the
 * entry's current SEQUENCE was announced already). */
extern const char interview_repo_sql_calendar[];
/* Rows of the calendar feed ($1 user): kind (interview | followup), id,
 * ics_sequence, status, start_ms, duration_minutes, stamp_ms,
 * interview_type, job_title, company, location, meeting_link,
 * interviewer_name, interviewer_email, notes, job_url, subject, priority. */
extern const char interview_repo_sql_feed[];

#endif
