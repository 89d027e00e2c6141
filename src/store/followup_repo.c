/* The SQL of follow-ups and interview reminders.
 *
 * Scheduling is an upsert keyed by (user, origin): running the same reaction
 * again finds its rows and changes nothing, and a reschedule moves the rows
 * that are still pending. Firing claims due rows with FOR UPDATE SKIP LOCKED
 * and appends their events in the same statement, so that a follow-up fires
 * once however many nodes look at the same moment. */
#include "hirewire/followup_repo.h"

#include "hirewire/eventlog.h"

#define ENDED "('rejected', 'withdrawn', 'offer_accepted', 'offer_rejected', 'archived')"

#define SCHEDULED_DATA(f)                                                                          \
    "jsonb_build_object('followup_id', " f ".id, 'follow_up_id', " f ".id, 'job_id', " f           \
    ".job_id, 'interview_id', " f ".interview_id, 'type', " f ".type, 'follow_up_type', " f        \
    ".type, 'followup_type', " f ".type, 'priority', " f ".priority, 'sequence', " f ".sequence, 'step', " f ".step, "          \
    "'subject', " f ".subject, 'due_date', hw_ts(" f ".due_at), 'scheduled_date', hw_ts(" f        \
    ".due_at), 'job_title', j.job_title, 'company', j.company)"

const char followup_repo_sql_job_context[] =
    "SELECT u.timezone, u.name, j.job_title, j.company, j.followup_sequence "
    "FROM users u JOIN jobs j ON j.user_id = u.id WHERE u.id = $1 AND j.id = $2";

const char followup_repo_sql_interview_context[] =
    "SELECT u.timezone, u.name, j.job_title, j.company, v.interview_type, "
    "hw_ms(v.scheduled_at) AS start_ms, v.duration_minutes, v.interviewer_name, v.status, "
    "v.job_id FROM interviews v JOIN jobs j ON j.id = v.job_id "
    "JOIN users u ON u.id = v.user_id WHERE v.user_id = $1 AND v.id = $2";

/* $2 job, $3 interview or NULL, then parallel arrays $4 origin, $5 kind,
 * $6 sequence, $7 step, $8 type, $9 priority, $10 subject, $11 message,
 * $12 due (ms). Nothing is scheduled for an ended application or a
 * cancelled interview. A pending row moves to its new time unless the user
 * snoozed it (their choice wins); a cancelled one comes back (an interview
 * cancelled, then rescheduled); an interview's reminders that the new plan
 * no longer has (their time is past) are cancelled. */
const char followup_repo_sql_schedule[] =
    "WITH live AS (SELECT 1 FROM jobs j WHERE j.id = $2 AND j.user_id = $1 "
    "AND j.status NOT IN " ENDED " AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM interviews v "
    "WHERE v.id = $3 AND v.status = 'scheduled'))), "
    "r AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::int[], $8::text[], "
    "$9::text[], $10::text[], $11::text[], $12::bigint[]) "
    "AS r(origin, kind, sequence, step, type, priority, subject, message, due_ms) "
    "WHERE EXISTS (SELECT 1 FROM live)), "
    "up AS (INSERT INTO followups AS f (user_id, job_id, interview_id, origin, kind, sequence, "
    "step, type, priority, subject, message, due_at) "
    "SELECT $1, $2, $3::bigint, r.origin, r.kind, r.sequence, r.step, r.type, r.priority, "
    "r.subject, r.message, hw_from_ms(r.due_ms) FROM r "
    "ON CONFLICT (user_id, origin) DO UPDATE SET due_at = EXCLUDED.due_at, "
    "subject = EXCLUDED.subject, message = EXCLUDED.message, state = 'pending', "
    "updated_at = now() "
    "WHERE (f.state = 'pending' AND f.snoozes = 0 AND f.due_at <> EXCLUDED.due_at) "
    "OR f.state = 'cancelled' "
    "RETURNING f.*, (xmax = 0) AS inserted), "
    "stale AS (UPDATE followups f SET state = 'cancelled', updated_at = now() "
    "WHERE $3::bigint IS NOT NULL AND f.user_id = $1 AND f.interview_id = $3 "
    "AND f.kind = 'reminder' AND f.state = 'pending' AND f.origin <> ALL ($4::text[]) "
    "AND EXISTS (SELECT 1 FROM live)), "
    "j AS (SELECT job_title, company FROM jobs WHERE id = $2), "
    "evs AS (SELECT up.id AS k, 'followup.scheduled'::text AS type, 'followups'::text AS channel, "
    SCHEDULED_DATA("up") " || jsonb_build_object('rescheduled', NOT up.inserted) AS data "
    "FROM up, j WHERE up.kind = 'followup'), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT (SELECT hw_ms(min(due_at)) FROM up) AS next_due_ms, "
    "(SELECT count(*) FROM up WHERE inserted AND kind = 'followup') AS scheduled, "
    "ev.seq, ev.type, ev.channel, ev.created_ms, ev.data FROM (SELECT 1) one "
    "LEFT JOIN ev ON true";

/* $2 job, $3 interview or NULL (then every pending row of the job). */
const char followup_repo_sql_cancel[] =
    "WITH c AS (UPDATE followups f SET state = 'cancelled', updated_at = now() "
    "WHERE f.user_id = $1 AND f.job_id = $2 AND f.state = 'pending' "
    "AND ($3::bigint IS NULL OR f.interview_id = $3) RETURNING f.*), "
    "j AS (SELECT job_title, company FROM jobs WHERE id = $2), "
    "evs AS (SELECT c.id AS k, 'followup.cancelled'::text AS type, 'followups'::text AS channel, "
    SCHEDULED_DATA("c") " AS data FROM c LEFT JOIN j ON true WHERE c.kind = 'followup'), "
    EVENTLOG_APPEND_MANY_CTE " "
    "SELECT ev.seq, ev.type, ev.channel, ev.created_ms, ev.data FROM ev";

/* The scheduler: $1 now (ms), $2 batch. Claims due rows of any user, oldest
 * first, marks them fired (late when more than $3 ms overdue) and appends
 * each one's event to its user's log; users' rows are locked in id order so
 * that two nodes firing at once cannot deadlock. The claimed ids are looked
 * up as an array: joined to the CTE instead, a table made of a burst of
 * fired rows (dead versions the vacuum has not taken yet) looks small enough
 * to the planner for a sequential scan per batch. */
const char followup_repo_sql_fire[] =
    "WITH due AS (SELECT id FROM followups WHERE state = 'pending' "
    "AND due_at <= hw_from_ms($1::bigint) ORDER BY due_at, id LIMIT $2::int "
    "FOR UPDATE SKIP LOCKED), "
    "f AS (UPDATE followups f SET state = CASE WHEN f.kind = 'reminder' AND EXISTS (SELECT 1 "
    "FROM interviews v WHERE v.id = f.interview_id AND v.scheduled_at <= hw_from_ms($1::bigint)) "
    "THEN 'cancelled' ELSE 'due' END, fired_at = hw_from_ms($1::bigint), "
    "late = f.due_at < hw_from_ms($1::bigint - $3::bigint), updated_at = now() "
    "WHERE f.id = ANY (ARRAY(SELECT id FROM due)) RETURNING f.*), "
    "x AS (SELECT f.*, j.job_title, j.company, v.interview_type, v.scheduled_at AS iv_at "
    "FROM f LEFT JOIN jobs j ON j.id = f.job_id LEFT JOIN interviews v ON v.id = f.interview_id), "
    "evs AS (SELECT x.user_id, row_number() OVER (PARTITION BY x.user_id ORDER BY x.due_at, x.id) "
    "AS ord, CASE WHEN x.kind = 'reminder' THEN 'interview.reminder' ELSE 'followup.due' END "
    "AS type, CASE WHEN x.kind = 'reminder' THEN 'interviews' ELSE 'followups' END AS channel, "
    "CASE WHEN x.kind = 'reminder' THEN jsonb_build_object('interview_id', x.interview_id, "
    "'job_id', x.job_id, 'company', x.company, 'job_title', x.job_title, 'interview_type', "
    "x.interview_type, 'scheduled_date', hw_ts(x.iv_at), 'time_until', x.subject, "
    "'minutes_before', x.step, 'late', x.late) "
    "ELSE jsonb_build_object('followup_id', x.id, 'follow_up_id', x.id, 'job_id', x.job_id, "
    "'job_title', x.job_title, 'company', x.company, 'followup_type', x.type, 'follow_up_type', "
    "x.type, 'priority', x.priority, 'subject', x.subject, 'message', x.message, "
    "'scheduled_date', hw_ts(x.due_at), 'due_date', hw_ts(x.due_at), 'hours_until_due', "
    "round(extract(epoch FROM x.due_at - hw_from_ms($1::bigint)) / 3600.0, 2), "
    "'late', x.late) END AS data FROM x WHERE x.state = 'due'), "
    "cnt AS (SELECT user_id, count(*) AS c FROM evs GROUP BY user_id), "
    "lk AS (SELECT u.id FROM users u WHERE u.id IN (SELECT user_id FROM cnt) ORDER BY u.id "
    "FOR NO KEY UPDATE), "
    "s AS (UPDATE users u SET event_seq = u.event_seq + cnt.c FROM cnt, lk "
    "WHERE u.id = cnt.user_id AND lk.id = u.id RETURNING u.id, u.event_seq, cnt.c), "
    "ev AS (INSERT INTO events (user_id, seq, type, channel, data) "
    "SELECT evs.user_id, s.event_seq - s.c + evs.ord, evs.type, evs.channel, evs.data "
    "FROM evs JOIN s ON s.id = evs.user_id "
    "RETURNING user_id, seq, type, channel, hw_ms(created_at) AS created_ms, data::text AS data) "
    "SELECT (SELECT count(*) FROM f) AS fired, ev.user_id, ev.seq, ev.type, ev.channel, "
    "ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

const char followup_repo_sql_next_due[] =
    "SELECT hw_ms(min(due_at)) AS next_due_ms FROM followups WHERE state = 'pending'";

/* --- the API --- */

/* $2 state or NULL, $3 job or NULL, $4 due before (ms) or NULL, $5 due
 * after (ms) or NULL, $6 limit, $7 offset. Row: total, body (array). */
const char followup_repo_sql_list[] =
    "WITH f AS (SELECT f.* FROM followups f WHERE f.user_id = $1 AND f.kind = 'followup' "
    "AND ($2::text IS NULL OR f.state = $2) AND ($3::bigint IS NULL OR f.job_id = $3) "
    "AND ($4::bigint IS NULL OR f.due_at < hw_from_ms($4::bigint)) "
    "AND ($5::bigint IS NULL OR f.due_at >= hw_from_ms($5::bigint))), "
    "p AS (SELECT * FROM f ORDER BY due_at, id OFFSET $7::int LIMIT $6::int) "
    "SELECT (SELECT count(*) FROM f) AS total, (SELECT coalesce(jsonb_agg(followup_json(p) "
    "ORDER BY p.due_at, p.id), '[]') FROM p)::text AS body";

/* $2 until (ms): what is due by then and not done, fired or not. */
const char followup_repo_sql_due_by[] =
    "SELECT coalesce(jsonb_agg(followup_json(f) ORDER BY f.due_at, f.id), '[]')::text AS body "
    "FROM followups f WHERE f.user_id = $1 AND f.kind = 'followup' AND (f.state = 'due' "
    "OR (f.state = 'pending' AND f.due_at <= hw_from_ms($2::bigint)))";

/* $2 document: job_id?, due_at (ms), type, priority, subject, message. */
const char followup_repo_sql_create[] =
    "WITH d AS (SELECT $2::jsonb AS d), "
    "ok AS (SELECT 1 FROM d WHERE d->>'job_id' IS NULL OR EXISTS (SELECT 1 FROM jobs "
    "WHERE id = (d->>'job_id')::bigint AND user_id = $1)), "
    "up AS (INSERT INTO followups (user_id, job_id, origin, kind, type, priority, subject, "
    "message, due_at) SELECT $1, (d->>'job_id')::bigint, 'manual:' || gen_random_uuid(), "
    "'followup', coalesce(d->>'type', 'reminder'), coalesce(d->>'priority', 'normal'), "
    "d->>'subject', coalesce(d->>'message', ''), hw_from_ms((d->>'due_at')::bigint) FROM d, ok "
    "RETURNING *), "
    "j AS (SELECT j.job_title, j.company FROM up LEFT JOIN jobs j ON j.id = up.job_id), "
    "evs AS (SELECT 1 AS k, 'followup.scheduled'::text AS type, 'followups'::text AS channel, "
    SCHEDULED_DATA("up") " || jsonb_build_object('rescheduled', false) AS data FROM up, j), "
    EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 201 AS status, (SELECT followup_json(up) FROM up)::text AS body, ev.seq, ev.type, "
    "ev.channel, ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

/* $2 follow-up, $3 complete | dismiss | snooze, $4 until (ms, snooze). Only a
 * pending or fired follow-up can be acted on (current_state tells). */
const char followup_repo_sql_act[] =
    "WITH cur AS (SELECT * FROM followups WHERE id = $2 AND user_id = $1 AND kind = 'followup' "
    "FOR NO KEY UPDATE), "
    "up AS (UPDATE followups f SET state = CASE $3 WHEN 'complete' THEN 'completed' "
    "WHEN 'dismiss' THEN 'dismissed' ELSE 'pending' END, "
    "completed_at = CASE WHEN $3 = 'complete' THEN now() ELSE f.completed_at END, "
    "due_at = CASE WHEN $3 = 'snooze' THEN hw_from_ms($4::bigint) ELSE f.due_at END, "
    "fired_at = CASE WHEN $3 = 'snooze' THEN NULL ELSE f.fired_at END, "
    "late = CASE WHEN $3 = 'snooze' THEN false ELSE f.late END, "
    "snoozes = f.snoozes + CASE WHEN $3 = 'snooze' THEN 1 ELSE 0 END, updated_at = now() "
    "FROM cur WHERE f.id = cur.id AND cur.state IN ('pending', 'due') RETURNING f.*), "
    "j AS (SELECT j.job_title, j.company FROM up LEFT JOIN jobs j ON j.id = up.job_id), "
    "evs AS (SELECT 1 AS k, CASE $3 WHEN 'complete' THEN 'followup.completed' "
    "WHEN 'snooze' THEN 'followup.snoozed' ELSE 'followup.cancelled' END AS type, "
    "'followups'::text AS channel, " SCHEDULED_DATA("up") " || jsonb_build_object('state', "
    "up.state, 'reason', $3::text, 'snoozes', up.snoozes) AS data FROM up, j), "
    EVENTLOG_APPEND_MANY_CTE " "
    "SELECT cur.state AS current_state, (SELECT followup_json(up) FROM up)::text AS body, "
    "ev.seq, ev.type, ev.channel, ev.created_ms, ev.data FROM cur LEFT JOIN ev ON true";
