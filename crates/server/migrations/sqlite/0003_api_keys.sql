-- Access (docs/server.md, Access): API keys, what each key created, and each key's sends a day.

-- API keys by name. Only a hash of the key is kept (never the key, shown once by `leash serve
-- keys add`); a revoked key stays, so its name is never given to another key and what it created
-- stays its own. Limits left NULL take the server's defaults: `rate` as `N/s` or `N/min`.
CREATE TABLE api_keys (
    name TEXT PRIMARY KEY NOT NULL,
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    rate TEXT,
    burst INTEGER CHECK (burst > 0),
    daily_quota INTEGER CHECK (daily_quota >= 0)
) STRICT;

-- The key a session, a prepared operation or a call was created with: a request under another
-- key finds nothing. NULL: created without a key, seen only by requests without one.
ALTER TABLE sessions ADD COLUMN api_key TEXT;
ALTER TABLE prepared_calls ADD COLUMN api_key TEXT;
ALTER TABLE calls ADD COLUMN api_key TEXT;

-- Calls sent under each key, by UTC day (days since 1970-01-01): its daily quota.
CREATE TABLE api_key_usage (
    name TEXT NOT NULL,
    day INTEGER NOT NULL,
    sends INTEGER NOT NULL,
    PRIMARY KEY (name, day)
) STRICT;
