-- The durable per-user event log. A user's seq comes from users.event_seq,
-- incremented in the statement that makes the domain change, so it has no
-- gaps and follows commit order (the users row lock serialises writers).
ALTER TABLE users ADD COLUMN event_floor bigint NOT NULL DEFAULT 0;

CREATE TABLE events (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    type       text        NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$' AND length(type) <= 64),
    channel    text        NOT NULL CHECK (channel IN ('jobs', 'applications', 'interviews',
                           'followups', 'skills', 'recommendations', 'research', 'system')),
    data       jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    reacted_at timestamptz,
    PRIMARY KEY (user_id, seq)
);

-- Retention deletes by age.
CREATE INDEX events_created_at ON events (created_at);

-- The sweeper looks for events whose reactions did not finish.
CREATE INDEX events_unreacted ON events (created_at) WHERE reacted_at IS NULL;
