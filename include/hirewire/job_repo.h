/* The SQL of jobs (statements run through api_exec / eventlog_exec).
 *
 * $1 is always the user id. A document ($2 or $3) is a JSON object whose
 * keys are column names with values already validated by the API layer:
 * texts, numbers, booleans, and times as milliseconds since the epoch. */
#ifndef HIREWIRE_JOB_REPO_H
#define HIREWIRE_JOB_REPO_H

/* $2 document, $3 Idempotency-Key or NULL, $4 "process" for the extension's
 * response shape or NULL. One row per written event (at least one row):
 * status 201 + the new job, or 200 + the job already saved under the same
 * url_key (no event); no row when a concurrent save of the same URL is not
 * visible yet (run it again). */
extern const char job_repo_sql_create[];

/* Takes an Idempotency-Key: $2 key, $3 request hash. Row: taken (1 when this
 * request now owns the key), request_hash, status, body of the request that
 * owns it (status NULL while it runs). */
extern const char job_repo_sql_idem_take[];

/* $2 job id. body = the job, or no row. */
extern const char job_repo_sql_get[];

/* $2 statuses (text array literal or NULL), $3 company substring, $4 minimum
 * score, $5 source, $6 job_type, $7 location substring, $8 search text,
 * $9 sort key (created_at, updated_at, match_score, company, job_title),
 * $10 "asc"|"desc", $11 cursor sort key or NULL, $12 cursor id, $13 limit,
 * $14 offset. One row: total, more, last_sk, last_id, body (array). */
extern const char job_repo_sql_list[];

/* $2 job id, $3 document of the fields to change, $4 statuses the
 * document's status may be reached from (text array literal; '{}' when no
 * status is given). Row: current_status (NULL: no such job), body (NULL
 * when the status move was refused) and event columns. */
extern const char job_repo_sql_patch[];

/* $2 job id. Row with status 204 when deleted; no row when not found. */
extern const char job_repo_sql_delete[];

/* $2 job: links the job to the user's company record of its name (made
 * once). Idempotent; nothing when the job is gone. */
extern const char job_repo_sql_link_company[];

#endif
