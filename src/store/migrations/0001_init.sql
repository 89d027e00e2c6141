-- Users and their API tokens.
--
-- users.event_seq is the last seq given to one of the user's events: every
-- event append increments it under the row lock, which keeps a user's seqs
-- gap-free and in commit order.
CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE
               CONSTRAINT users_name_format
               CHECK (char_length(name) BETWEEN 1 AND 64 AND name ~ '^[A-Za-z0-9_.@-]+$'),
    event_seq  bigint NOT NULL DEFAULT 0,
    timezone   text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a token is stored (lower-case hex); the token itself is
-- shown once, when it is made. A revoked token keeps its row so that the CLI
-- can still list it.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   text NOT NULL UNIQUE
                 CONSTRAINT api_tokens_hash_format CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    label        text NOT NULL DEFAULT ''
                 CONSTRAINT api_tokens_label_format
                 CHECK (char_length(label) <= 100 AND label !~ '[[:cntrl:]]'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
