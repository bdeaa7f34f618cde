-- The messages wallet_prepareSign asked a session's key to sign, until wallet_formatSign formats
-- a signature of one (clients send back only the signature), shared by every replica: one per
-- session and digest, a session's 16 newest, each for 10 minutes. `seq` orders them (a message
-- asked again takes a new one, as the newest); expired rows are deleted a batch at a time by
-- later writes. The same as SQLite's 0008_waiting_messages.sql.
CREATE TABLE waiting_messages (
    seq BIGSERIAL PRIMARY KEY,
    account BYTEA NOT NULL CHECK (octet_length(account) = 20),
    session_id BYTEA NOT NULL CHECK (octet_length(session_id) = 32),
    digest BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    request TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (account, session_id, digest)
);
CREATE INDEX waiting_messages_by_expiry ON waiting_messages (expires_at);
