/* The SQL of jobs.
 *
 * Each command is one statement: the change, its history row, its events
 * (EVENTLOG_APPEND_MANY_CTE) and the response body, so that a command is one
 * round trip and all of it commits or none does. Inputs arrive as one jsonb
 * document the API layer has validated and normalised ($2 or $3), which
 * keeps the parameter lists short and the column list in one place. */
#include "hirewire/job_repo.h"

#include "hirewire/eventlog.h"
#include "hirewire/pg.h"

/* Field d->>name when the document has it, the current value otherwise. */
#define PATCH_TEXT(col) #col " = CASE WHEN d ? '" #col "' THEN d->>'" #col "' ELSE j." #col " END, "
#define PATCH_NUM(col)                                                                             \
    #col " = CASE WHEN d ? '" #col "' THEN (d->>'" #col "')::double precision ELSE j." #col " END, "
#define PATCH_TIME(col)                                                                            \
    #col " = CASE WHEN d ? '" #col "' THEN hw_from_ms((d->>'" #col "')::bigint) ELSE j." #col      \
    " END, "

#define JOB_CREATED_DATA                                                                           \
    "jsonb_build_object('job_id', j.id, 'company', j.company, 'job_title', j.job_title, "         \
    "'location', j.location, 'source', j.source, 'job_url', j.job_url, 'status', j.status, "      \
    "'external_id', j.job_id)"

/* The shape of POST /api/v1/jobs/process adds what the extension reads. */
#define PROCESS_SHAPE(job, created)                                                                \
    "CASE WHEN $4::text = 'process' THEN " job " || jsonb_build_object('success', true, "          \
    "'jobId', " job "->>'job_id', 'matchScore', coalesce((" job "->>'match_score')::real, 0), "     \
    "'jobTitle', " job "->>'job_title', 'driveUrl', NULL, 'message', CASE WHEN " created          \
    " THEN 'Job saved' ELSE 'Job already saved' END) ELSE " job " END"

const char job_repo_sql_create[] =
    "WITH d AS (SELECT $2::jsonb AS d), "
    "j AS (INSERT INTO jobs (user_id, company, job_title, job_description, job_url, url_key, "
    "location, salary_min, salary_max, salary_currency, salary_period, salary_text, remote_type, "
    "job_type, source, status, match_score, recommendation, notes, application_deadline, "
    "posted_date, is_active, applied_date, followup_sequence) "
    "SELECT $1, d->>'company', d->>'job_title', coalesce(d->>'job_description', ''), "
    "d->>'job_url', d->>'url_key', d->>'location', (d->>'salary_min')::double precision, "
    "(d->>'salary_max')::double precision, d->>'salary_currency', d->>'salary_period', "
    "d->>'salary_text', coalesce(d->>'remote_type', 'unknown'), "
    "coalesce(d->>'job_type', 'full-time'), coalesce(d->>'source', 'manual'), "
    "coalesce(d->>'status', 'saved'), (d->>'match_score')::real, d->>'recommendation', "
    "d->>'notes', hw_from_ms((d->>'application_deadline')::bigint), "
    "hw_from_ms((d->>'posted_date')::bigint), coalesce((d->>'is_active')::boolean, true), "
    "CASE WHEN d->>'status' = 'applied' THEN now() END, d->>'followup_sequence' FROM d "
    "ON CONFLICT DO NOTHING RETURNING *), "
    "old AS (SELECT x.* FROM jobs x, d WHERE d->>'url_key' IS NOT NULL AND x.user_id = $1 "
    "AND x.url_key = d->>'url_key' AND NOT EXISTS (SELECT 1 FROM j)), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, new_status, description) "
    "SELECT $1, j.id, 'created', j.status, 'Saved from ' || j.source FROM j), "
    "evs AS (SELECT 1 AS k, 'job.created'::text AS type, 'jobs'::text AS channel, "
    JOB_CREATED_DATA " AS data FROM j "
    "UNION ALL SELECT 2, 'application.status_changed', 'applications', "
    "jsonb_build_object('job_id', j.id, 'old_status', 'saved', 'new_status', j.status, "
    "'company', j.company, 'job_title', j.job_title, 'notes', 'Saved as ' || j.status, "
    "'timestamp', hw_ts(now())) FROM j WHERE j.status <> 'saved'), " EVENTLOG_APPEND_MANY_CTE ", "
    "r AS (SELECT 201 AS status, true AS created, job_json(j) AS job FROM j "
    "UNION ALL SELECT 200, false, job_json(old) FROM old), "
    "b AS (SELECT status, (" PROCESS_SHAPE("job", "created") ")::text AS body FROM r), "
    "ik AS (UPDATE idempotency_keys SET status = b.status, body = b.body FROM b "
    "WHERE $3::text IS NOT NULL AND user_id = $1 AND key = $3) "
    "SELECT b.status, b.body, ev.seq, ev.type, ev.channel, ev.created_ms, ev.data "
    "FROM b LEFT JOIN ev ON true";

/* The key is new (inserted), or was taken by a request that never finished
 * (no answer after a minute: its node died) and is taken over in place; a
 * delete and an insert of the same key in one statement would conflict. */
const char job_repo_sql_idem_take[] =
    "WITH ins AS (INSERT INTO idempotency_keys AS k (user_id, key, request_hash) "
    "VALUES ($1, $2, $3) ON CONFLICT (user_id, key) DO UPDATE "
    "SET request_hash = EXCLUDED.request_hash, created_at = now() "
    "WHERE k.status IS NULL AND k.created_at < now() - interval '1 minute' RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins) AS taken, k.request_hash, k.status, k.body "
    "FROM (SELECT 1) one LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.key = $2";

const char job_repo_sql_get[] =
    "SELECT job_json(j)::text AS body FROM jobs j WHERE j.id = $2 AND j.user_id = $1";

const char job_repo_sql_list[] =
    "WITH f AS (SELECT j.*, (CASE $9::text "
    "WHEN 'updated_at' THEN lpad(hw_ms(j.updated_at)::text, 16, '0') "
    "WHEN 'match_score' THEN lpad(((coalesce(j.match_score, -1) + 1) * 1000)::bigint::text, 8, "
    "'0') "
    "WHEN 'company' THEN lower(j.company) "
    "WHEN 'job_title' THEN lower(j.job_title) "
    "ELSE lpad(hw_ms(j.created_at)::text, 16, '0') END) COLLATE \"C\" AS sk "
    "FROM jobs j WHERE j.user_id = $1 "
    "AND ($2::text[] IS NULL OR j.status = ANY ($2::text[])) "
    "AND ($3::text IS NULL OR strpos(lower(j.company), lower($3)) > 0) "
    "AND ($4::real IS NULL OR j.match_score >= $4::real) "
    "AND ($5::text IS NULL OR j.source = $5) "
    "AND ($6::text IS NULL OR j.job_type = $6) "
    "AND ($7::text IS NULL OR strpos(lower(j.location), lower($7)) > 0) "
    "AND ($8::text IS NULL OR strpos(lower(j.job_title), lower($8)) > 0 "
    "OR strpos(lower(j.company), lower($8)) > 0 "
    "OR strpos(lower(j.job_description), lower($8)) > 0)), "
    "p AS (SELECT f.* FROM f WHERE $11::text IS NULL "
    "OR ($10 = 'asc' AND (f.sk, f.id) > ($11 COLLATE \"C\", $12::bigint)) "
    "OR ($10 = 'desc' AND (f.sk, f.id) < ($11 COLLATE \"C\", $12::bigint)) "
    "ORDER BY CASE WHEN $10 = 'asc' THEN f.sk END ASC, CASE WHEN $10 = 'asc' THEN f.id END ASC, "
    "CASE WHEN $10 = 'desc' THEN f.sk END DESC, CASE WHEN $10 = 'desc' THEN f.id END DESC "
    "OFFSET $14::int LIMIT $13::int + 1), "
    "pn AS (SELECT p.*, row_number() OVER (ORDER BY CASE WHEN $10 = 'asc' THEN p.sk END ASC, "
    "CASE WHEN $10 = 'asc' THEN p.id END ASC, CASE WHEN $10 = 'desc' THEN p.sk END DESC, "
    "CASE WHEN $10 = 'desc' THEN p.id END DESC) AS rn FROM p) "
    "SELECT (SELECT count(*) FROM f) AS total, "
    "(SELECT count(*) FROM pn) > $13::int AS more, "
    "(SELECT sk FROM pn WHERE rn = $13::int) AS last_sk, "
    "(SELECT id FROM pn WHERE rn = $13::int) AS last_id, "
    "(SELECT coalesce(jsonb_agg(job_json(j) ORDER BY pn.rn), '[]') FROM pn "
    "JOIN jobs j ON j.id = pn.id WHERE pn.rn <= $13::int)::text AS body";

/* A status change inside PATCH goes through the same rule as POST
 * /ats/jobs/{id}/status: $4 lists the statuses the new one may be reached
 * from; a PATCH whose status move is not allowed changes nothing. */
const char job_repo_sql_patch[] =
    "WITH cur AS (SELECT * FROM jobs WHERE id = $2 AND user_id = $1 FOR NO KEY UPDATE), "
    "d AS (SELECT $3::jsonb AS d), "
    "mv AS (SELECT cur.id, cur.status AS old_status, d->>'status' AS new_status FROM cur, d "
    "WHERE d ? 'status' AND d->>'status' <> cur.status), "
    "ok AS (SELECT cur.id FROM cur WHERE NOT EXISTS (SELECT 1 FROM mv) "
    "OR cur.status = ANY ($4::text[])), "
    "upd AS (UPDATE jobs j SET " PATCH_TEXT(company) PATCH_TEXT(job_title)
        PATCH_TEXT(job_description) PATCH_TEXT(job_url) PATCH_TEXT(url_key) PATCH_TEXT(location)
            PATCH_NUM(salary_min) PATCH_NUM(salary_max) PATCH_TEXT(salary_currency)
                PATCH_TEXT(salary_period) PATCH_TEXT(salary_text) PATCH_TEXT(remote_type)
                    PATCH_TEXT(job_type) PATCH_TEXT(status) PATCH_TEXT(recommendation)
                        PATCH_TEXT(notes) PATCH_TIME(application_deadline) PATCH_TIME(posted_date)
                            PATCH_TEXT(followup_sequence)
    "match_score = CASE WHEN d ? 'match_score' THEN (d->>'match_score')::real "
    "ELSE j.match_score END, "
    "is_active = CASE WHEN d ? 'is_active' THEN (d->>'is_active')::boolean ELSE j.is_active END, "
    "applied_date = CASE WHEN d->>'status' = 'applied' AND j.applied_date IS NULL THEN now() "
    "ELSE j.applied_date END, updated_at = now() "
    "FROM d, ok WHERE j.id = ok.id RETURNING j.*), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, old_status, new_status, "
    "description) SELECT $1, mv.id, 'status_change', mv.old_status, mv.new_status, "
    "'Changed with the job' FROM mv, upd), "
    "evs AS (SELECT 1 AS k, 'job.updated'::text AS type, 'jobs'::text AS channel, "
    "jsonb_build_object('job_id', upd.id, 'company', upd.company, 'job_title', upd.job_title, "
    "'changed', (SELECT jsonb_agg(k ORDER BY k) FROM d, jsonb_object_keys(d) k "
    "WHERE k <> 'url_key')) AS data FROM upd "
    "UNION ALL SELECT 2, 'application.status_changed', 'applications', "
    "jsonb_build_object('job_id', upd.id, 'old_status', mv.old_status, 'new_status', "
    "mv.new_status, 'company', upd.company, 'job_title', upd.job_title, 'notes', NULL, "
    "'timestamp', hw_ts(now())) FROM upd, mv), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT cur.status AS current_status, (SELECT d->>'status' FROM d) AS wanted_status, "
    "(SELECT job_json(upd)::text FROM upd) AS body, ev.seq, ev.type, ev.channel, ev.created_ms, "
    "ev.data FROM cur LEFT JOIN ev ON true";

const char job_repo_sql_delete[] =
    "WITH del AS (DELETE FROM jobs WHERE id = $2 AND user_id = $1 "
    "RETURNING id, company, job_title), "
    "evs AS (SELECT 1 AS k, 'job.deleted'::text AS type, 'jobs'::text AS channel, "
    "jsonb_build_object('job_id', id, 'company', company, 'job_title', job_title) AS data "
    "FROM del), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 204 AS status, '' AS body, ev.seq, ev.type, ev.channel, ev.created_ms, ev.data "
    "FROM del LEFT JOIN ev ON true";

/* The research module's part of a save: the job's company becomes a company
 * record of the user (made once per name_key) and the job points at it. */
const char job_repo_sql_link_company[] =
    "WITH j AS (SELECT id, company FROM jobs, " PG_ASYNC_COMMIT " WHERE id = $2 AND user_id = $1), "
    "c AS (INSERT INTO companies (user_id, name, name_key) "
    "SELECT $1, j.company, hw_name_key(j.company) FROM j "
    "ON CONFLICT (user_id, name_key) DO NOTHING RETURNING id), "
    "cid AS (SELECT id FROM c UNION ALL SELECT x.id FROM companies x, j WHERE x.user_id = $1 "
    "AND x.name_key = hw_name_key(j.company) LIMIT 1) "
    "UPDATE jobs SET company_id = (SELECT id FROM cid) WHERE id = $2 AND user_id = $1 "
    "AND company_id IS DISTINCT FROM (SELECT id FROM cid)";
