/* The SQL of interviews and of the calendar entries made from them.
 *
 * Scheduling an interview moves an application that is applied or in
 * screening to interview_scheduled in the same statement (a job already
 * interviewing keeps its status). Any change of time, length, place or kind
 * bumps the entry's iCalendar SEQUENCE; the calendar reaction announces the
 * entry once per SEQUENCE (cal_published), which makes it idempotent. */
#include "hirewire/interview_repo.h"

#include "hirewire/ats_repo.h"
#include "hirewire/eventlog.h"

#define IV_TITLE(i, j)                                                                             \
    "initcap(replace(" i ".interview_type, '_', ' ')) || ' Interview: ' || " j ".job_title || "    \
    "' at ' || " j ".company"

#define IV_EVENT(i, j)                                                                             \
    "jsonb_build_object('interview_id', " i ".id, 'job_id', " i ".job_id, 'company', " j           \
    ".company, 'job_title', " j ".job_title, 'interview_type', " i ".interview_type, "             \
    "'scheduled_date', hw_ts(" i ".scheduled_at), 'duration_minutes', " i ".duration_minutes, "    \
    "'location', coalesce(" i ".location, " i ".meeting_link), 'interviewer_name', " i             \
    ".interviewer_name, 'status', " i ".status, 'outcome', " i ".outcome, 'calendar_event_id', "   \
    "'interview-' || " i ".id || '@hirewire')"

#define IV_SET_TEXT(col) #col " = CASE WHEN d ? '" #col "' THEN d->>'" #col "' ELSE v." #col " END, "

const char interview_repo_sql_create[] =
    "WITH d AS (SELECT $2::jsonb AS d), "
    "cur AS (SELECT j.* FROM jobs j, d WHERE j.id = (d->>'job_id')::bigint AND j.user_id = $1 "
    "FOR NO KEY UPDATE), "
    "i AS (INSERT INTO interviews (user_id, job_id, interview_type, scheduled_at, "
    "duration_minutes, location, meeting_link, is_virtual, interviewer_name, interviewer_email, "
    "interviewer_title, notes, preparation_notes) "
    "SELECT $1, cur.id, d->>'interview_type', hw_from_ms((d->>'scheduled_at')::bigint), "
    "coalesce((d->>'duration_minutes')::int, 60), d->>'location', d->>'meeting_link', "
    "coalesce((d->>'is_virtual')::boolean, d->>'meeting_link' IS NOT NULL), "
    "d->>'interviewer_name', d->>'interviewer_email', d->>'interviewer_title', d->>'notes', "
    "d->>'preparation_notes' FROM cur, d RETURNING *), "
    "mv AS (UPDATE jobs j SET status = 'interview_scheduled', updated_at = now() FROM cur "
    "WHERE j.id = cur.id AND cur.status IN ('applied', 'screening') AND EXISTS (SELECT 1 FROM i) "
    "RETURNING j.id, j.company, j.job_title, j.status, cur.status AS old_status, "
    "'Interview scheduled'::text AS move_notes), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, old_status, new_status, "
    "description, event_data) SELECT $1, i.job_id, 'interview_scheduled', "
    "(SELECT old_status FROM mv), (SELECT status FROM mv), " IV_TITLE("i", "cur") ", "
    "jsonb_build_object('interview_id', i.id, 'interview_type', i.interview_type, "
    "'scheduled_date', hw_ts(i.scheduled_at), 'is_virtual', i.is_virtual) FROM i, cur), "
    "evs AS (SELECT 1 AS k, 'interview.scheduled'::text AS type, 'interviews'::text AS channel, "
    IV_EVENT("i", "cur") " AS data FROM i, cur "
    "UNION ALL " STATUS_EVENT("mv") "), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 201 AS status, (SELECT interview_json(i, cur)::text FROM i, cur) AS body, ev.seq, "
    "ev.type, ev.channel, ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

/* $2 interview, $3 document. A change of time, length, place or kind bumps
 * the SEQUENCE; an outcome other than pending completes the interview. */
const char interview_repo_sql_update[] =
    "WITH d AS (SELECT $3::jsonb AS d), "
    "cur AS (SELECT v.* FROM interviews v WHERE v.id = $2 AND v.user_id = $1 FOR NO KEY UPDATE), "
    "resched AS (SELECT (d ? 'scheduled_at' AND hw_from_ms((d->>'scheduled_at')::bigint) <> "
    "cur.scheduled_at) OR (d ? 'duration_minutes' AND (d->>'duration_minutes')::int <> "
    "cur.duration_minutes) OR (d ? 'location' AND d->>'location' IS DISTINCT FROM cur.location) "
    "OR (d ? 'meeting_link' AND d->>'meeting_link' IS DISTINCT FROM cur.meeting_link) "
    "OR (d ? 'interview_type' AND d->>'interview_type' <> cur.interview_type) AS moved, "
    "(d ? 'outcome' AND d->>'outcome' <> cur.outcome AND d->>'outcome' <> 'pending') AS done "
    "FROM cur, d), "
    "v AS (UPDATE interviews v SET " IV_SET_TEXT(interview_type) IV_SET_TEXT(location)
        IV_SET_TEXT(meeting_link) IV_SET_TEXT(interviewer_name) IV_SET_TEXT(interviewer_email)
            IV_SET_TEXT(interviewer_title) IV_SET_TEXT(notes) IV_SET_TEXT(preparation_notes)
                IV_SET_TEXT(outcome) IV_SET_TEXT(feedback)
    "scheduled_at = CASE WHEN d ? 'scheduled_at' THEN hw_from_ms((d->>'scheduled_at')::bigint) "
    "ELSE v.scheduled_at END, "
    "duration_minutes = CASE WHEN d ? 'duration_minutes' THEN (d->>'duration_minutes')::int "
    "ELSE v.duration_minutes END, "
    "is_virtual = CASE WHEN d ? 'is_virtual' THEN (d->>'is_virtual')::boolean "
    "ELSE v.is_virtual END, "
    "performance_rating = CASE WHEN d ? 'performance_rating' "
    "THEN (d->>'performance_rating')::int ELSE v.performance_rating END, "
    "status = CASE WHEN d->>'outcome' = 'cancelled' THEN 'cancelled' WHEN r.done THEN "
    "'completed' WHEN r.moved AND v.status = 'cancelled' THEN 'scheduled' ELSE v.status END, "
    "completed_at = CASE WHEN r.done THEN now() ELSE v.completed_at END, "
    "ics_sequence = v.ics_sequence + CASE WHEN r.moved OR d->>'outcome' = 'cancelled' THEN 1 "
    "ELSE 0 END, updated_at = now() FROM d, resched r WHERE v.id = $2 AND v.user_id = $1 "
    "RETURNING v.*), "
    "j AS (SELECT j.* FROM jobs j, v WHERE j.id = v.job_id), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, description, event_data) "
    "SELECT $1, v.job_id, CASE WHEN r.done THEN 'interview_completed' "
    "ELSE 'interview_rescheduled' END, " IV_TITLE("v", "j") ", jsonb_build_object("
    "'interview_id', v.id, 'interview_type', v.interview_type, 'outcome', v.outcome, "
    "'performance_rating', v.performance_rating, 'scheduled_date', hw_ts(v.scheduled_at)) "
    "FROM v, j, resched r WHERE r.done OR r.moved), "
    "evs AS (SELECT 1 AS k, 'interview.updated'::text AS type, 'interviews'::text AS channel, "
    IV_EVENT("v", "j") " || jsonb_build_object('rescheduled', r.moved, 'changed', "
    "(SELECT jsonb_agg(CASE k WHEN 'scheduled_at' THEN 'scheduled_date' ELSE k END ORDER BY k) "
    "FROM d, jsonb_object_keys(d) k)) AS data "
    "FROM v, j, resched r), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT (SELECT interview_json(v, j)::text FROM v, j) AS body, ev.seq, ev.type, ev.channel, "
    "ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

/* $2 interview. Cancelling twice changes nothing the second time. */
const char interview_repo_sql_cancel[] =
    "WITH cur AS (SELECT v.* FROM interviews v WHERE v.id = $2 AND v.user_id = $1 FOR NO KEY UPDATE), "
    "v AS (UPDATE interviews v SET status = 'cancelled', outcome = 'cancelled', "
    "cancelled_at = now(), ics_sequence = v.ics_sequence + 1, updated_at = now() FROM cur "
    "WHERE v.id = cur.id AND cur.status <> 'cancelled' RETURNING v.*), "
    "j AS (SELECT j.* FROM jobs j, cur WHERE j.id = cur.job_id), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, description, event_data) "
    "SELECT $1, v.job_id, 'interview_cancelled', " IV_TITLE("v", "j") ", "
    "jsonb_build_object('interview_id', v.id) FROM v, j), "
    "evs AS (SELECT 1 AS k, 'interview.cancelled'::text AS type, 'interviews'::text AS channel, "
    IV_EVENT("v", "j") " AS data FROM v, j), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT coalesce((SELECT interview_json(v, j) FROM v, j), "
    "(SELECT interview_json(cur, j) FROM cur, j))::text AS body, ev.seq, ev.type, ev.channel, "
    "ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

const char interview_repo_sql_get[] =
    "SELECT interview_json(v, j)::text AS body FROM interviews v JOIN jobs j ON j.id = v.job_id "
    "WHERE v.id = $2 AND v.user_id = $1";

/* $2 from (ms), $3 to (ms), $4 job or NULL, $5 include cancelled ("t"/"f"). */
const char interview_repo_sql_list[] =
    "SELECT coalesce(jsonb_agg(interview_json(v, j) ORDER BY v.scheduled_at, v.id), '[]')::text "
    "AS body FROM interviews v JOIN jobs j ON j.id = v.job_id WHERE v.user_id = $1 "
    "AND v.scheduled_at >= hw_from_ms($2::bigint) AND v.scheduled_at <= hw_from_ms($3::bigint) "
    "AND ($4::bigint IS NULL OR v.job_id = $4::bigint) "
    "AND ($5::boolean OR v.status = 'scheduled')";

const char interview_repo_sql_of_job[] =
    "SELECT coalesce((SELECT jsonb_agg(interview_json(v, j) ORDER BY v.scheduled_at DESC) "
    "FROM interviews v WHERE v.job_id = j.id), '[]')::text AS body "
    "FROM jobs j WHERE j.id = $2 AND j.user_id = $1";

/* The calendar reaction: announce interview $2 at its current SEQUENCE once.
 * created when it was never announced, updated otherwise. */
const char interview_repo_sql_calendar[] =
    "WITH cur AS (SELECT v.id, v.cal_published FROM interviews v WHERE v.id = $2 "
    "AND v.user_id = $1 FOR NO KEY UPDATE), "
    "v AS (UPDATE interviews v SET cal_published = v.ics_sequence FROM cur WHERE v.id = cur.id "
    "AND cur.cal_published IS DISTINCT FROM v.ics_sequence "
    "RETURNING v.*, cur.cal_published IS NULL AS first), "
    "j AS (SELECT j.* FROM jobs j, v WHERE j.id = v.job_id), "
    "evs AS (SELECT 1 AS k, CASE WHEN v.first THEN 'calendar.event_created' "
    "ELSE 'calendar.event_updated' END AS type, 'interviews'::text AS channel, "
    "jsonb_build_object('calendar_event_id', 'interview-' || v.id || '@hirewire', "
    "'kind', 'interview', 'job_id', v.job_id, 'interview_id', v.id, 'title', "
    IV_TITLE("v", "j") ", 'start', hw_ts(v.scheduled_at), 'end', hw_ts(v.scheduled_at + "
    "make_interval(mins => v.duration_minutes)), 'sequence', v.ics_sequence, "
    "'status', v.status) AS data FROM v, j), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT ev.seq, ev.type, ev.channel, ev.created_ms, ev.data FROM ev";

/* The feed: interviews of the last 90 days and all to come, then follow-ups
 * of the last 30 days and to come, in one row shape (kind tells which). */
const char interview_repo_sql_feed[] =
    "SELECT 'interview' AS kind, v.id, v.ics_sequence, v.status, hw_ms(v.scheduled_at) AS start_ms, "
    "v.duration_minutes, hw_ms(v.updated_at) AS stamp_ms, v.interview_type, j.job_title, "
    "j.company, v.location, v.meeting_link, v.interviewer_name, v.interviewer_email, v.notes, "
    "j.job_url, NULL AS subject, NULL AS priority FROM interviews v JOIN jobs j ON j.id = v.job_id "
    "WHERE v.user_id = $1 AND v.scheduled_at >= now() - interval '90 days' "
    "UNION ALL "
    "SELECT 'followup', f.id, f.snoozes, f.state, hw_ms(f.due_at), 30, hw_ms(f.updated_at), NULL, "
    "j.job_title, j.company, NULL, NULL, NULL, NULL, f.message, j.job_url, f.subject, f.priority "
    "FROM followups f LEFT JOIN jobs j ON j.id = f.job_id WHERE f.user_id = $1 "
    "AND f.kind = 'followup' AND f.state IN ('pending', 'due', 'completed', 'dismissed', "
    "'cancelled') AND f.due_at >= now() - interval '30 days' "
    "ORDER BY start_ms, kind, id";
