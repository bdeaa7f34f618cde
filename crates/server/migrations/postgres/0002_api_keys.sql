-- Access (docs/server.md, Access): API keys, what each key created, and each key's sends a day.
-- The same as SQLite's 0003_api_keys.sql.

-- API keys by name. Only a hash of the key is kept (never the key, shown once by `leash serve
-- keys add`); a revoked key stays, so its name is never given to another key and what it created
-- stays its own. Limits left NULL take the server's defaults: `rate` as `N/s` or `N/min`.
CREATE TABLE api_keys (
    name TEXT PRIMARY KEY,
    key_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    rate TEXT,
    burst BIGINT CHECK (burst > 0),
    daily_quota BIGINT CHECK (daily_quota >= 0)
);

-- The key a session, a prepared operation or a call was created with: a request under another
-- key finds nothing. NULL: created without a key, seen only by requests without one.
ALTER TABLE sessions ADD COLUMN api_key TEXT;
ALTER TABLE prepared_calls ADD COLUMN api_key TEXT;
ALTER TABLE calls ADD COLUMN api_key TEXT;

-- Calls sent under each key, by UTC day (days since 1970-01-01): its daily quota, shared by every
-- replica.
CREATE TABLE api_key_usage (
    name TEXT NOT NULL,
    day BIGINT NOT NULL,
    sends BIGINT NOT NULL,
    PRIMARY KEY (name, day)
);
