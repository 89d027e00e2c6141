-- Follow-ups and interview reminders: everything the scheduler fires.
--
-- A row is pending until its due time, when one node claims it (FOR UPDATE
-- SKIP LOCKED) and turns it into its event in the same statement, so that
-- it fires once across nodes. origin names what made the row ("the third
-- step of post_application for job 12", "the 1-hour reminder of interview
-- 7"): a reaction that runs twice finds its rows already there.
CREATE TABLE followups (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id       bigint REFERENCES jobs (id) ON DELETE CASCADE,
    interview_id bigint REFERENCES interviews (id) ON DELETE CASCADE,
    origin       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('followup', 'reminder')),
    sequence     text,
    step         integer,
    type         text NOT NULL,
    priority     text NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal', 'low')),
    subject      text NOT NULL DEFAULT '',
    message      text NOT NULL DEFAULT '',
    due_at       timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'due', 'completed', 'dismissed', 'cancelled')),
    fired_at     timestamptz,
    late         boolean NOT NULL DEFAULT false,
    snoozes      integer NOT NULL DEFAULT 0,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, origin)
);

-- The scheduler's index: only pending rows, by due time.
CREATE INDEX followups_pending_due ON followups (due_at) WHERE state = 'pending';
CREATE INDEX followups_user_due ON followups (user_id, due_at);
CREATE INDEX followups_job ON followups (job_id);

CREATE FUNCTION followup_json(f followups) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT jsonb_build_object(
    'id', f.id, 'job_id', f.job_id, 'interview_id', f.interview_id, 'kind', f.kind,
    'sequence', f.sequence, 'step', f.step, 'type', f.type, 'follow_up_type', f.type,
    'followup_type', f.type, 'priority', f.priority, 'subject', f.subject,
    'message', f.message, 'state', f.state, 'status', f.state,
    'due_date', hw_ts(f.due_at), 'scheduled_date', hw_ts(f.due_at),
    'fired_at', hw_ts(f.fired_at), 'late', f.late, 'snoozes', f.snoozes,
    'completed_at', hw_ts(f.completed_at),
    'job_title', (SELECT j.job_title FROM jobs j WHERE j.id = f.job_id),
    'company', (SELECT j.company FROM jobs j WHERE j.id = f.job_id),
    'created_at', hw_ts(f.created_at), 'updated_at', hw_ts(f.updated_at)) $$;
