-- Jobs and the application pipeline: companies, jobs, their status history,
-- interviews, offers and notes, the learning signals the recommendation
-- module reads, and idempotency keys.
--
-- Every row carries user_id, and every lookup filters on it: another user's
-- object is simply not found. Shapes returned to clients are built here, by
-- the *_json functions, so that a statement hands the API layer the exact
-- response text and the same shape is used for events and for reads.

-- Wire time: ISO-8601 UTC with milliseconds and Z.
CREATE FUNCTION hw_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Milliseconds since the epoch, for the C side.
CREATE FUNCTION hw_ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM t) * 1000)::bigint $$;

CREATE FUNCTION hw_from_ms(ms bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT to_timestamp(ms / 1000.0) $$;

-- Companies a user's jobs belong to, linked by the orchestrator when a job is
-- created. name_key folds case and spaces so that "ACME  inc" and "Acme Inc"
-- are one company.
CREATE TABLE companies (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    name_key   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name_key)
);

CREATE FUNCTION hw_name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(regexp_replace(btrim(name), '\s+', ' ', 'g')) $$;

CREATE TABLE jobs (
    id                   bigserial PRIMARY KEY,
    user_id              bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company              text NOT NULL,
    company_id           bigint REFERENCES companies (id) ON DELETE SET NULL,
    job_title            text NOT NULL,
    job_description      text NOT NULL DEFAULT '',
    job_url              text,
    url_key              text,
    location             text,
    salary_min           double precision,
    salary_max           double precision,
    salary_currency      text,
    salary_period        text,
    salary_text          text,
    remote_type          text NOT NULL DEFAULT 'unknown',
    job_type             text NOT NULL DEFAULT 'full-time',
    source               text NOT NULL DEFAULT 'manual',
    status               text NOT NULL DEFAULT 'saved',
    match_score          real CHECK (match_score BETWEEN 0 AND 100),
    recommendation       text,
    analysis_completed   boolean NOT NULL DEFAULT false,
    notes                text,
    application_deadline timestamptz,
    posted_date          timestamptz,
    is_active            boolean NOT NULL DEFAULT true,
    applied_date         timestamptz,
    followup_sequence    text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- The board's kind of id: "<source>_<hash of the canonical URL>", the
    -- same for the same posting on every node and after every restart.
    job_id               text GENERATED ALWAYS AS
                         (source || '_' || coalesce(left(md5(url_key), 12), id::text)) STORED,
    CONSTRAINT jobs_salary_order
        CHECK (salary_min IS NULL OR salary_max IS NULL OR salary_min <= salary_max)
);

-- The same posting saved twice is one job.
CREATE UNIQUE INDEX jobs_user_url ON jobs (user_id, url_key) WHERE url_key IS NOT NULL;
CREATE INDEX jobs_user_id ON jobs (user_id, id);
CREATE INDEX jobs_user_created ON jobs (user_id, created_at, id);

-- Status history and other happenings of one application (the timeline).
CREATE TABLE job_history (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    event_type  text NOT NULL,
    old_status  text,
    new_status  text,
    description text,
    event_data  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_history_job ON job_history (job_id, id);

CREATE TABLE interviews (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id            bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    interview_type    text NOT NULL,
    scheduled_at      timestamptz NOT NULL,
    duration_minutes  integer NOT NULL DEFAULT 60 CHECK (duration_minutes BETWEEN 1 AND 1440),
    location          text,
    meeting_link      text,
    is_virtual        boolean NOT NULL DEFAULT false,
    interviewer_name  text,
    interviewer_email text,
    interviewer_title text,
    notes             text,
    preparation_notes text,
    status            text NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'completed', 'cancelled')),
    outcome           text NOT NULL DEFAULT 'pending',
    feedback          text,
    performance_rating integer CHECK (performance_rating BETWEEN 1 AND 5),
    -- iCalendar: SEQUENCE of the entry, bumped when the time or place moves;
    -- cal_published is the SEQUENCE the calendar module last announced.
    ics_sequence      integer NOT NULL DEFAULT 0,
    cal_published     integer,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    cancelled_at      timestamptz
);
CREATE INDEX interviews_user_time ON interviews (user_id, scheduled_at);
CREATE INDEX interviews_job ON interviews (job_id);

CREATE TABLE offers (
    id                    bigserial PRIMARY KEY,
    user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id                bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    salary                double precision CHECK (salary >= 0),
    currency              text NOT NULL DEFAULT 'USD',
    salary_period         text NOT NULL DEFAULT 'annual',
    bonus                 double precision,
    equity                text,
    sign_on_bonus         double precision,
    status                text NOT NULL DEFAULT 'pending_review'
                          CHECK (status IN ('pending_review', 'negotiating', 'accepted',
                                            'rejected', 'expired')),
    received_date         timestamptz NOT NULL DEFAULT now(),
    response_deadline     timestamptz,
    start_date            timestamptz,
    offer_expiration_date timestamptz,
    negotiation_notes     text,
    decision_notes        text,
    rejection_reason      text,
    decision_date         timestamptz,
    counter_offers        jsonb NOT NULL DEFAULT '[]',
    details               jsonb NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_job ON offers (job_id);
CREATE INDEX offers_user ON offers (user_id);

CREATE TABLE job_notes (
    id                      bigserial PRIMARY KEY,
    user_id                 bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id                  bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    note_type               text NOT NULL DEFAULT 'general',
    title                   text,
    content                 text NOT NULL,
    is_communication        boolean NOT NULL DEFAULT false,
    communication_direction text,
    communication_method    text,
    contact_person          text,
    requires_follow_up      boolean NOT NULL DEFAULT false,
    follow_up_date          timestamptz,
    follow_up_completed     boolean NOT NULL DEFAULT false,
    is_important            boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_notes_job ON job_notes (job_id);

-- What the recommendation module learns from: one row per status change that
-- says something about the user's taste, keyed by the event that caused it so
-- that a reaction run twice records it once.
CREATE TABLE learning_signals (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_seq  bigint NOT NULL,
    job_id     bigint REFERENCES jobs (id) ON DELETE SET NULL,
    kind       text NOT NULL CHECK (kind IN ('application', 'dismissal')),
    weight     smallint NOT NULL CHECK (weight IN (-1, 1)),
    status     text NOT NULL,
    company    text,
    location   text,
    job_title  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, event_seq)
);

-- A retried POST with the same Idempotency-Key answers what the first did.
-- The key is taken (status NULL) before the command runs, and the command's
-- own statement stores the answer, so that the answer exists exactly when
-- the change does. A key taken by a request that never finished (a crash)
-- can be taken again after a minute.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Reactions: a node claims an unreacted event for a while before running its
-- reactions again (the sweeper), so that two nodes never run them at once.
ALTER TABLE events ADD COLUMN claimed_until timestamptz;

CREATE FUNCTION job_json(j jobs) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT jsonb_build_object(
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
    'created_at', hw_ts(j.created_at), 'updated_at', hw_ts(j.updated_at)) $$;

CREATE FUNCTION interview_json(i interviews, j jobs) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT jsonb_build_object(
    'id', i.id, 'job_id', i.job_id, 'job_title', j.job_title, 'company', j.company,
    'interview_type', i.interview_type, 'scheduled_date', hw_ts(i.scheduled_at),
    'end_date', hw_ts(i.scheduled_at + make_interval(mins => i.duration_minutes)),
    'duration_minutes', i.duration_minutes, 'location', i.location,
    'meeting_link', i.meeting_link, 'is_virtual', i.is_virtual,
    'interviewer_name', i.interviewer_name, 'interviewer_names', i.interviewer_name,
    'interviewer_email', i.interviewer_email, 'interviewer_emails', i.interviewer_email,
    'interviewer_title', i.interviewer_title, 'notes', i.notes,
    'preparation_notes', i.preparation_notes, 'status', i.status, 'outcome', i.outcome,
    'feedback', i.feedback, 'performance_rating', i.performance_rating,
    'calendar_event_id', 'interview-' || i.id || '@hirewire', 'sequence', i.ics_sequence,
    'created_at', hw_ts(i.created_at), 'updated_at', hw_ts(i.updated_at),
    'completed_at', hw_ts(i.completed_at), 'cancelled_at', hw_ts(i.cancelled_at)) $$;

CREATE FUNCTION offer_json(o offers) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT o.details || jsonb_build_object(
    'id', o.id, 'job_id', o.job_id, 'salary', o.salary, 'base_salary', o.salary,
    'currency', o.currency, 'salary_period', o.salary_period, 'bonus', o.bonus,
    'equity', o.equity, 'sign_on_bonus', o.sign_on_bonus, 'status', o.status,
    'offer_status', o.status, 'received_date', hw_ts(o.received_date),
    'response_deadline', hw_ts(o.response_deadline), 'start_date', hw_ts(o.start_date),
    'offer_expiration_date', hw_ts(o.offer_expiration_date),
    'negotiation_notes', o.negotiation_notes, 'decision_notes', o.decision_notes,
    'rejection_reason', o.rejection_reason, 'decision_date', hw_ts(o.decision_date),
    'counter_offers', o.counter_offers, 'negotiation_history', o.counter_offers,
    'created_at', hw_ts(o.created_at), 'updated_at', hw_ts(o.updated_at)) $$;

CREATE FUNCTION note_json(n job_notes) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT jsonb_build_object(
    'id', n.id, 'job_id', n.job_id, 'note_type', n.note_type, 'title', n.title,
    'content', n.content, 'is_communication', n.is_communication,
    'communication_direction', n.communication_direction,
    'communication_method', n.communication_method, 'contact_person', n.contact_person,
    'requires_follow_up', n.requires_follow_up, 'follow_up_date', hw_ts(n.follow_up_date),
    'follow_up_completed', n.follow_up_completed, 'is_important', n.is_important,
    'created_at', hw_ts(n.created_at), 'updated_at', hw_ts(n.updated_at)) $$;

CREATE FUNCTION history_json(h job_history) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT jsonb_build_object(
    'id', h.id, 'job_id', h.job_id, 'event_type', h.event_type,
    'old_status', h.old_status, 'new_status', h.new_status,
    'notes', h.description, 'description', h.description,
    'metadata', h.event_data, 'event_data', h.event_data,
    'created_at', hw_ts(h.created_at)) $$;

-- The secret URL of a user's calendar feed, for calendar apps that cannot
-- send a bearer header. Only a SHA-256 of the secret is kept; making a new
-- one replaces the old, deleting the row revokes it.
CREATE TABLE calendar_feeds (
    user_id     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_hash text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
