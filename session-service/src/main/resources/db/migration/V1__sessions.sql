-- Sessions: one conversation's token history and owner.
CREATE TABLE sessions (
    id            VARCHAR(128) PRIMARY KEY,
    owner         VARCHAR(128) NOT NULL,          -- SHA-256 of the API key that created it ('' when keys are off)
    model         VARCHAR(256) NOT NULL,
    token_count   INTEGER      NOT NULL DEFAULT 0,
    token_history BYTEA        NOT NULL DEFAULT ''::bytea, -- int32 little-endian token ids
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX sessions_last_used ON sessions (last_used_at);

-- A parked KV cache: metadata plus chunks, so a snapshot streams in and out without one huge value.
CREATE TABLE kv_snapshots (
    session_id   VARCHAR(128) PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    total_bytes  BIGINT       NOT NULL,
    chunk_count  INTEGER      NOT NULL,
    sha256       CHAR(64)     NOT NULL,
    token_count  INTEGER      NOT NULL,
    format       VARCHAR(64)  NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE TABLE kv_snapshot_chunks (
    session_id   VARCHAR(128) NOT NULL REFERENCES kv_snapshots (session_id) ON DELETE CASCADE,
    chunk_index  INTEGER      NOT NULL,
    data         BYTEA        NOT NULL,
    PRIMARY KEY (session_id, chunk_index)
);
