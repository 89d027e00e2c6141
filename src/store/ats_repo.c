/* The SQL of the application pipeline: status moves, the timeline, the
 * statistics, notes and offers.
 *
 * A status move is allowed when the job's current status is in the list of
 * statuses the target may be reached from ($N text[]); the API computes that
 * list from the one transition table (ats.c), and the statement checks it
 * against the row it has locked, so that two concurrent moves cannot both
 * pass a check made on a stale status. */
#include "hirewire/ats_repo.h"

#include "hirewire/eventlog.h"

/* $2 job, $3 new status, $4 statuses it may be reached from, $5 notes. */
const char ats_repo_sql_status[] =
    "WITH cur AS (SELECT id, status FROM jobs WHERE id = $2 AND user_id = $1 FOR NO KEY UPDATE), "
    "upd AS (UPDATE jobs j SET status = $3, updated_at = now(), "
    "applied_date = CASE WHEN $3 = 'applied' AND j.applied_date IS NULL THEN now() "
    "ELSE j.applied_date END FROM cur WHERE j.id = cur.id AND cur.status = ANY ($4::text[]) "
    "RETURNING j.id, j.company, j.job_title, j.status, cur.status AS old_status, "
    "$5::text AS move_notes), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, old_status, new_status, "
    "description) SELECT $1, id, 'status_change', old_status, status, $5 FROM upd), "
    "evs AS (" STATUS_EVENT("upd") "), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT cur.status AS current_status, $3 AS wanted_status, "
    "(SELECT jsonb_build_object('success', true, 'job_id', id, 'old_status', old_status, "
    "'new_status', status, 'message', 'Status updated from ' || old_status || ' to ' || status)"
    "::text FROM upd) AS body, ev.seq, ev.type, ev.channel, ev.created_ms, ev.data "
    "FROM cur LEFT JOIN ev ON true";

const char ats_repo_sql_timeline[] =
    "SELECT jsonb_build_object('job_id', j.id, 'company', j.company, 'job_title', j.job_title, "
    "'current_status', j.status, 'status', j.status, "
    "'events', coalesce((SELECT jsonb_agg(history_json(h) ORDER BY h.id DESC) "
    "FROM job_history h WHERE h.job_id = j.id), '[]'), "
    "'interviews', coalesce((SELECT jsonb_agg(interview_json(i, j) ORDER BY i.scheduled_at DESC) "
    "FROM interviews i WHERE i.job_id = j.id), '[]'), "
    "'offers', coalesce((SELECT jsonb_agg(offer_json(o) ORDER BY o.received_date DESC) "
    "FROM offers o WHERE o.job_id = j.id), '[]'), "
    "'notes', coalesce((SELECT jsonb_agg(note_json(n) ORDER BY n.created_at DESC, n.id DESC) "
    "FROM job_notes n WHERE n.job_id = j.id), '[]'), "
    "'created_at', hw_ts(j.created_at), 'last_updated', hw_ts(j.updated_at))::text AS body "
    "FROM jobs j WHERE j.id = $2 AND j.user_id = $1";

/* success_rate: accepted offers over applications that reached an end
 * (offer accepted or rejected, or rejected), in percent; null with no such
 * application yet. Times to interview and offer: from applied_date to the
 * first interview scheduled and the first offer received, in days. */
const char ats_repo_sql_statistics[] =
    "WITH st AS (SELECT status, count(*) AS c FROM jobs WHERE user_id = $1 GROUP BY status), "
    "iv AS (SELECT count(*) FILTER (WHERE status = 'scheduled' AND outcome = 'pending') AS sched, "
    "count(*) FILTER (WHERE outcome IN ('passed', 'failed')) AS done FROM interviews "
    "WHERE user_id = $1), "
    "of AS (SELECT count(*) AS recv, count(*) FILTER (WHERE status = 'accepted') AS acc "
    "FROM offers WHERE user_id = $1), "
    "ends AS (SELECT coalesce(sum(c), 0) AS n FROM st "
    "WHERE status IN ('offer_accepted', 'offer_rejected', 'rejected')), "
    "ti AS (SELECT avg(extract(epoch FROM first_iv - j.applied_date) / 86400) AS d FROM jobs j, "
    "LATERAL (SELECT min(i.created_at) AS first_iv FROM interviews i WHERE i.job_id = j.id) x "
    "WHERE j.user_id = $1 AND j.applied_date IS NOT NULL AND first_iv >= j.applied_date), "
    "tof AS (SELECT avg(extract(epoch FROM first_of - j.applied_date) / 86400) AS d FROM jobs j, "
    "LATERAL (SELECT min(o.received_date) AS first_of FROM offers o WHERE o.job_id = j.id) x "
    "WHERE j.user_id = $1 AND j.applied_date IS NOT NULL AND first_of >= j.applied_date) "
    "SELECT jsonb_build_object("
    "'total_jobs', (SELECT coalesce(sum(c), 0) FROM st), "
    "'total_applications', (SELECT coalesce(sum(c), 0) FROM st), "
    "'by_status', (SELECT coalesce(jsonb_object_agg(status, c), '{}') FROM st), "
    "'interviews_scheduled', iv.sched, 'interviews_completed', iv.done, "
    "'offers_received', of.recv, 'offers_accepted', of.acc, "
    "'success_rate', CASE WHEN ends.n > 0 THEN round(of.acc * 100.0 / ends.n, 2) END, "
    "'average_time_to_interview_days', round((SELECT d FROM ti)::numeric, 2), "
    "'average_time_to_offer_days', round((SELECT d FROM tof)::numeric, 2))::text AS body "
    "FROM iv, of, ends";

/* $2 status filter (canonical name) or NULL. next_step: the next interview
 * still to come, if any. */
const char ats_repo_sql_applications[] =
    "SELECT jsonb_build_object('applications', coalesce(jsonb_agg(jsonb_build_object("
    "'id', j.id, 'job_id', j.id, 'job_title', j.job_title, 'company', j.company, "
    "'status', j.status, 'match_score', j.match_score, 'applied_date', hw_ts(j.applied_date), "
    "'last_updated', hw_ts(j.updated_at), 'next_step', (SELECT initcap(replace(i.interview_type, "
    "'_', ' ')) || ' interview on ' || hw_ts(i.scheduled_at) FROM interviews i "
    "WHERE i.job_id = j.id AND i.status = 'scheduled' AND i.scheduled_at >= now() "
    "ORDER BY i.scheduled_at LIMIT 1)) ORDER BY j.updated_at DESC, j.id DESC), '[]'), "
    "'total', count(*))::text AS body "
    "FROM jobs j WHERE j.user_id = $1 AND ($2::text IS NULL OR j.status = $2)";

/* $2 document (job_id, note_type, title, content, ...). */
const char ats_repo_sql_note_create[] =
    "WITH d AS (SELECT $2::jsonb AS d), "
    "n AS (INSERT INTO job_notes (user_id, job_id, note_type, title, content, is_communication, "
    "communication_direction, communication_method, contact_person, requires_follow_up, "
    "follow_up_date, follow_up_completed, is_important) "
    "SELECT $1, j.id, coalesce(d->>'note_type', 'general'), d->>'title', d->>'content', "
    "coalesce((d->>'is_communication')::boolean, false), d->>'communication_direction', "
    "d->>'communication_method', d->>'contact_person', "
    "coalesce((d->>'requires_follow_up')::boolean, false), "
    "hw_from_ms((d->>'follow_up_date')::bigint), "
    "coalesce((d->>'follow_up_completed')::boolean, false), "
    "coalesce((d->>'is_important')::boolean, false) "
    "FROM d, jobs j WHERE j.id = (d->>'job_id')::bigint AND j.user_id = $1 RETURNING *), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, description, event_data) "
    "SELECT $1, n.job_id, CASE WHEN n.is_communication THEN 'communication' ELSE 'note_added' "
    "END, coalesce(n.title, left(n.content, 200)), jsonb_build_object('note_id', n.id, "
    "'note_type', n.note_type) FROM n), "
    "evs AS (SELECT 1 AS k, 'application.updated'::text AS type, 'applications'::text AS channel, "
    "jsonb_build_object('job_id', n.job_id, 'change', 'note_added', 'note_id', n.id) AS data "
    "FROM n), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 201 AS status, (SELECT note_json(n)::text FROM n) AS body, ev.seq, ev.type, "
    "ev.channel, ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

/* $2 note id, $3 document (title, content, follow_up_completed, ...). */
const char ats_repo_sql_note_update[] =
    "WITH d AS (SELECT $3::jsonb AS d), "
    "n AS (UPDATE job_notes n SET "
    "title = CASE WHEN d ? 'title' THEN d->>'title' ELSE n.title END, "
    "content = CASE WHEN d ? 'content' THEN d->>'content' ELSE n.content END, "
    "note_type = CASE WHEN d ? 'note_type' THEN d->>'note_type' ELSE n.note_type END, "
    "follow_up_completed = CASE WHEN d ? 'follow_up_completed' "
    "THEN (d->>'follow_up_completed')::boolean ELSE n.follow_up_completed END, "
    "is_important = CASE WHEN d ? 'is_important' THEN (d->>'is_important')::boolean "
    "ELSE n.is_important END, updated_at = now() "
    "FROM d WHERE n.id = $2 AND n.user_id = $1 RETURNING n.*), "
    "evs AS (SELECT 1 AS k, 'application.updated'::text AS type, 'applications'::text AS channel, "
    "jsonb_build_object('job_id', n.job_id, 'change', 'note_updated', 'note_id', n.id) AS data "
    "FROM n), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT (SELECT note_json(n)::text FROM n) AS body, ev.seq, ev.type, ev.channel, "
    "ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

const char ats_repo_sql_note_delete[] =
    "WITH n AS (DELETE FROM job_notes WHERE id = $2 AND user_id = $1 RETURNING id, job_id), "
    "evs AS (SELECT 1 AS k, 'application.updated'::text AS type, 'applications'::text AS channel, "
    "jsonb_build_object('job_id', n.job_id, 'change', 'note_deleted', 'note_id', n.id) AS data "
    "FROM n), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 204 AS status, (SELECT '' FROM n) AS body, ev.seq, ev.type, ev.channel, "
    "ev.created_ms, ev.data FROM (SELECT 1) one LEFT JOIN ev ON true";

/* Lists of a job's notes / offers: NULL body when the job is not the user's. */
const char ats_repo_sql_notes_of_job[] =
    "SELECT coalesce((SELECT jsonb_agg(note_json(n) ORDER BY n.created_at DESC, n.id DESC) "
    "FROM job_notes n WHERE n.job_id = j.id), '[]')::text AS body "
    "FROM jobs j WHERE j.id = $2 AND j.user_id = $1";

const char ats_repo_sql_offers_of_job[] =
    "SELECT coalesce((SELECT jsonb_agg(offer_json(o) ORDER BY o.received_date DESC, o.id DESC) "
    "FROM offers o WHERE o.job_id = j.id), '[]')::text AS body "
    "FROM jobs j WHERE j.id = $2 AND j.user_id = $1";

/* $2 document, $3 the statuses offer_received is reached from, $4 the job
 * status an offer recorded as accepted / rejected moves to (or NULL), $5 the
 * statuses that one is reached from.
 *
 * An undecided offer is recorded whatever the job's status, and moves the
 * job to offer_received when $3 allows. A decided one is what recording the
 * offer and then accepting (rejecting) it would be: the job moves to $4
 * directly, or through offer_received, one history row and one
 * application.status_changed per move, the decision date set; when the job
 * cannot get there nothing is recorded (body NULL, current_status set). */
const char ats_repo_sql_offer_create[] =
    "WITH d AS (SELECT $2::jsonb AS d), "
    "cur AS (SELECT j.* FROM jobs j, d WHERE j.id = (d->>'job_id')::bigint AND j.user_id = $1 "
    "FOR NO KEY UPDATE), "
    "ok AS (SELECT cur.*, CASE WHEN $4::text IS NULL THEN CASE WHEN cur.status = ANY ($3::text[]) "
    "THEN ARRAY['offer_received'] ELSE '{}'::text[] END "
    "WHEN cur.status = ANY ($5::text[]) THEN ARRAY[$4::text] "
    "WHEN cur.status = ANY ($3::text[]) AND 'offer_received' = ANY ($5::text[]) "
    "THEN ARRAY['offer_received', $4::text] END AS path FROM cur), "
    "o AS (INSERT INTO offers (user_id, job_id, salary, currency, salary_period, bonus, equity, "
    "sign_on_bonus, status, received_date, response_deadline, start_date, offer_expiration_date, "
    "negotiation_notes, decision_notes, rejection_reason, decision_date, details) "
    "SELECT $1, ok.id, (d->>'salary')::double precision, coalesce(d->>'currency', 'USD'), "
    "coalesce(d->>'salary_period', 'annual'), (d->>'bonus')::double precision, d->>'equity', "
    "(d->>'sign_on_bonus')::double precision, coalesce(d->>'status', 'pending_review'), "
    "coalesce(hw_from_ms((d->>'received_date')::bigint), now()), "
    "hw_from_ms((d->>'response_deadline')::bigint), hw_from_ms((d->>'start_date')::bigint), "
    "hw_from_ms((d->>'offer_expiration_date')::bigint), d->>'negotiation_notes', "
    "d->>'decision_notes', d->>'rejection_reason', "
    "CASE WHEN $4::text IS NOT NULL THEN now() END, coalesce(d->'details', '{}') "
    "FROM ok, d WHERE ok.path IS NOT NULL RETURNING *), "
    "mv AS (UPDATE jobs j SET status = ok.path[cardinality(ok.path)], updated_at = now() FROM ok "
    "WHERE j.id = ok.id AND cardinality(ok.path) > 0 AND EXISTS (SELECT 1 FROM o) "
    "RETURNING j.id, j.company, j.job_title, ok.status AS old_status, ok.path), "
    "step AS (SELECT mv.id, mv.company, mv.job_title, p.n, p.status, "
    "CASE WHEN p.n = 1 THEN mv.old_status ELSE mv.path[p.n - 1] END AS old_status, "
    "CASE WHEN p.status = 'offer_received' THEN 'Offer received' "
    "ELSE 'Offer ' || (d->>'status') END AS move_notes "
    "FROM mv, d, unnest(mv.path) WITH ORDINALITY AS p(status, n)), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, old_status, new_status, "
    "description, event_data) SELECT $1, o.job_id, 'offer_received', s.old_status, s.status, "
    "'Offer received', jsonb_build_object('offer_id', o.id, 'salary', o.salary, 'currency', "
    "o.currency, 'bonus', o.bonus, 'equity', o.equity) "
    "FROM o LEFT JOIN step s ON s.status = 'offer_received' "
    "UNION ALL SELECT $1, o.job_id, 'offer_decision', s.old_status, s.status, o.status, "
    "jsonb_build_object('offer_id', o.id) FROM o JOIN step s ON s.status = $4::text), "
    "evs AS (SELECT 0 AS k, 'offer.received'::text AS type, 'applications'::text AS channel, "
    "jsonb_build_object('offer_id', o.id, 'job_id', o.job_id, 'company', ok.company, "
    "'job_title', ok.job_title, 'salary', o.salary, 'currency', o.currency, 'status', o.status) "
    "AS data FROM o, ok "
    "UNION ALL SELECT 2 * cardinality(mv.path) - 1, 'offer.updated', 'applications', "
    "jsonb_build_object('offer_id', o.id, 'job_id', o.job_id, 'status', o.status, 'salary', "
    "o.salary, 'changed', (SELECT jsonb_agg(k ORDER BY k) FROM d, jsonb_object_keys(d) k "
    "WHERE k IN ('status', 'decision_notes', 'rejection_reason'))) FROM o, mv "
    "WHERE $4::text IS NOT NULL "
    "UNION ALL " STATUS_EVENT_AT("step", "2 * step.n") "), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT 201 AS status, cur.status AS current_status, $4 AS wanted_status, "
    "(SELECT offer_json(o)::text FROM o) AS body, ev.seq, ev.type, ev.channel, ev.created_ms, "
    "ev.data FROM (SELECT 1) one LEFT JOIN cur ON true LEFT JOIN ev ON true";

/* $2 offer id, $3 document, $4 the job status an accept/reject moves to (or
 * NULL), $5 the statuses that one is reached from. A decision the job's
 * status does not allow changes nothing (body NULL, current_status set). A
 * negotiation ($3 has "counter") appends to counter_offers. An offer once
 * accepted or rejected keeps its status and takes no counter-offer: asking
 * for either changes nothing (body NULL, decided_status says why); its other
 * fields may still be corrected. */
const char ats_repo_sql_offer_update[] =
    "WITH d AS (SELECT $3::jsonb AS d), "
    "cur AS (SELECT o.id AS offer_id, o.status AS offer_status, "
    "(o.status IN ('accepted', 'rejected') AND ($3::jsonb ? 'status' OR $3::jsonb ? 'counter')) "
    "AS decided, j.* FROM offers o JOIN jobs j ON j.id = o.job_id "
    "WHERE o.id = $2 AND o.user_id = $1 FOR NO KEY UPDATE OF o, j), "
    "ok AS (SELECT cur.* FROM cur WHERE NOT cur.decided "
    "AND ($4::text IS NULL OR cur.status = ANY ($5::text[]))), "
    "o AS (UPDATE offers o SET "
    "salary = CASE WHEN d ? 'salary' THEN (d->>'salary')::double precision ELSE o.salary END, "
    "bonus = CASE WHEN d ? 'bonus' THEN (d->>'bonus')::double precision ELSE o.bonus END, "
    "equity = CASE WHEN d ? 'equity' THEN d->>'equity' ELSE o.equity END, "
    "currency = coalesce(d->>'currency', o.currency), "
    "salary_period = coalesce(d->>'salary_period', o.salary_period), "
    "sign_on_bonus = CASE WHEN d ? 'sign_on_bonus' THEN (d->>'sign_on_bonus')::double precision "
    "ELSE o.sign_on_bonus END, "
    "received_date = coalesce(hw_from_ms((d->>'received_date')::bigint), o.received_date), "
    "start_date = CASE WHEN d ? 'start_date' THEN hw_from_ms((d->>'start_date')::bigint) "
    "ELSE o.start_date END, "
    "offer_expiration_date = CASE WHEN d ? 'offer_expiration_date' "
    "THEN hw_from_ms((d->>'offer_expiration_date')::bigint) ELSE o.offer_expiration_date END, "
    "status = coalesce(d->>'status', o.status), "
    "negotiation_notes = CASE WHEN d ? 'negotiation_notes' THEN d->>'negotiation_notes' "
    "ELSE o.negotiation_notes END, "
    "decision_notes = CASE WHEN d ? 'decision_notes' THEN d->>'decision_notes' "
    "ELSE o.decision_notes END, "
    "rejection_reason = CASE WHEN d ? 'rejection_reason' THEN d->>'rejection_reason' "
    "ELSE o.rejection_reason END, "
    "response_deadline = CASE WHEN d ? 'response_deadline' "
    "THEN hw_from_ms((d->>'response_deadline')::bigint) ELSE o.response_deadline END, "
    "counter_offers = CASE WHEN d ? 'counter' THEN o.counter_offers || jsonb_build_array("
    "d->'counter' || jsonb_build_object('timestamp', hw_ts(now()))) ELSE o.counter_offers END, "
    "details = o.details || coalesce(d->'details', '{}'), "
    "decision_date = CASE WHEN d->>'status' IN ('accepted', 'rejected') THEN now() "
    "ELSE o.decision_date END, updated_at = now() "
    "FROM d, ok WHERE o.id = ok.offer_id RETURNING o.*), "
    "mv AS (UPDATE jobs j SET status = $4, updated_at = now() FROM ok "
    "WHERE $4::text IS NOT NULL AND j.id = ok.id AND ok.status <> $4 AND EXISTS (SELECT 1 FROM o) "
    "RETURNING j.id, j.company, j.job_title, j.status, ok.status AS old_status, "
    "('Offer ' || ($3::jsonb->>'status'))::text AS move_notes), "
    "h AS (INSERT INTO job_history (user_id, job_id, event_type, old_status, new_status, "
    "description, event_data) SELECT $1, o.job_id, CASE WHEN d ? 'counter' "
    "THEN 'offer_negotiation' WHEN d ? 'status' THEN 'offer_decision' ELSE 'offer_updated' END, "
    "(SELECT old_status FROM mv), (SELECT status FROM mv), d->>'status', "
    "jsonb_build_object('offer_id', o.id) || coalesce(d->'counter', '{}') FROM o, d), "
    "evs AS (SELECT 1 AS k, 'offer.updated'::text AS type, 'applications'::text AS channel, "
    "jsonb_build_object('offer_id', o.id, 'job_id', o.job_id, 'status', o.status, 'salary', "
    "o.salary, 'changed', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(d) k)) AS data "
    "FROM o, d UNION ALL " STATUS_EVENT("mv") "), " EVENTLOG_APPEND_MANY_CTE " "
    "SELECT cur.status AS current_status, $4 AS wanted_status, "
    "CASE WHEN cur.decided THEN cur.offer_status END AS decided_status, "
    "(SELECT offer_json(o)::text FROM o) AS body, ev.seq, ev.type, ev.channel, ev.created_ms, "
    "ev.data FROM cur LEFT JOIN ev ON true";

/* The learning reaction: $2 the event's seq, $3 job, $4 weight (+1/-1), $5
 * the new status. Keyed by the event, so it is recorded once. */
const char ats_repo_sql_learning_signal[] =
    "INSERT INTO learning_signals (user_id, event_seq, job_id, kind, weight, status, company, "
    "location, job_title) SELECT $1, $2, j.id, CASE WHEN $4::int > 0 THEN 'application' "
    "ELSE 'dismissal' END, $4::smallint, $5, j.company, j.location, j.job_title FROM jobs j "
    "WHERE j.id = $3 AND j.user_id = $1 ON CONFLICT DO NOTHING";
