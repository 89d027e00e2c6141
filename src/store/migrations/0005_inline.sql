-- Functions PostgreSQL can inline into the statements that call them.
--
-- A SQL function is run through the function executor, which plans its body
-- again in every statement, unless the planner can inline it. It cannot when
-- the body is less stable than the function says (hw_ms: extract on a
-- timestamptz is STABLE) or when a STRICT function's body is not strict
-- (job_json: jsonb_build_object is not). Both run in every save; inlined,
-- their bodies are planned once with the statement that calls them (and
-- only once per connection, the statements being prepared). The results are
-- the same, NULL for a NULL job included.

CREATE OR REPLACE FUNCTION hw_ms(t timestamptz) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM t) * 1000)::bigint $$;

CREATE OR REPLACE FUNCTION job_json(j jobs) RETURNS jsonb
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
AS $$ SELECT CASE WHEN j.id IS NOT NULL THEN jsonb_build_object(
    'id', j.id, 'job_id', j.job_id, 'company', j.company, 'company_id', j.company_id,
    'job_title', j.job_title, 'title', j.job_title, 'job_description', j.job_description,
    'job_url', j.job_url, 'url', j.job_url, 'location', j.location,
    'salary_min', j.salary_min, 'salary_max', j.salary_max,
    'salary_currency', j.salary_currency, 'salary_period', j.salary_period,
    'salary_text', j.salary_text, 'remote_type', j.remote_type, 'job_type', j.job_type,
    'source', j.source, 'status', j.status, 'match_score', j.match_score,
    'recommendation', j.recommendation, 'analysis_completed', j.analysis_completed,
    'notes', j.notes, 'application_deadline', hw_ts(j.application_deadline),
    'posted_date', hw_ts(j.posted_date), 'is_active', j.is_active,
    'applied_date', hw_ts(j.applied_date), 'followup_sequence', j.followup_sequence,
    'strengths', '[]'::jsonb, 'concerns', '[]'::jsonb, 'missing_skills', '[]'::jsonb,
    'drive_folder_url', NULL,
    'created_at', hw_ts(j.created_at), 'updated_at', hw_ts(j.updated_at)) END $$;

