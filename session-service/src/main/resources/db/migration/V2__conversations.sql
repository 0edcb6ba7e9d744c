-- A session's conversation (chat messages as the client and the model said them), so that a follow-up turn may
-- send only its new messages; and room for ids scoped by API key ("<key hash>:<client id>").
ALTER TABLE sessions ADD COLUMN messages JSONB NOT NULL DEFAULT '[]'::jsonb; -- [{"role":..,"content":..}, ...]
ALTER TABLE kv_snapshot_chunks ALTER COLUMN session_id TYPE VARCHAR(192);
ALTER TABLE kv_snapshots ALTER COLUMN session_id TYPE VARCHAR(192);
ALTER TABLE sessions ALTER COLUMN id TYPE VARCHAR(192);
