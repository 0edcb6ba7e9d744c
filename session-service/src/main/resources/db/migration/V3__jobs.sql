-- Async jobs: each job and its items (OpenAI request bodies), their results, and the runner's bookkeeping.
-- JSON is kept as text, byte for byte as produced (jsonb would reorder a response's fields).
CREATE TABLE jobs (
    id               VARCHAR(64)  PRIMARY KEY,
    owner            VARCHAR(128) NOT NULL DEFAULT '',  -- SHA-256 of the API key that created it ('' when keys are off)
    status           VARCHAR(16)  NOT NULL,             -- queued | running | completed | failed | cancelled
    total            INTEGER      NOT NULL,
    completed        INTEGER      NOT NULL DEFAULT 0,   -- items with a response
    failed           INTEGER      NOT NULL DEFAULT 0,   -- items that ended with an error
    message          TEXT,                              -- why the job failed, if it did
    metadata         TEXT,                              -- the client's JSON object, echoed
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    finish_published BOOLEAN      NOT NULL DEFAULT false -- JobFinished acknowledged by Kafka (outbox)
);
CREATE INDEX jobs_active ON jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE job_items (
    job_id      VARCHAR(64)  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    item_index  INTEGER      NOT NULL,
    custom_id   VARCHAR(256),
    url         VARCHAR(64),
    body        TEXT,                                  -- the OpenAI request body
    status      VARCHAR(16)  NOT NULL DEFAULT 'pending', -- pending | completed | failed | cancelled
    attempts    INTEGER      NOT NULL DEFAULT 0,       -- submissions so far; attempt n has request id <job>-<index>-<n>
    not_before  TIMESTAMPTZ,                           -- retry back-off
    response    TEXT,                                  -- the OpenAI response object
    error       TEXT,                                  -- {"status": ..., "error": {...}}
    finished_at TIMESTAMPTZ,
    published   BOOLEAN      NOT NULL DEFAULT false,   -- JobItemCompleted acknowledged by Kafka (outbox)
    PRIMARY KEY (job_id, item_index)
);
CREATE INDEX job_items_unpublished ON job_items (job_id) WHERE status IN ('completed', 'failed') AND NOT published;
