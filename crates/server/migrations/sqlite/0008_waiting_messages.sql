-- The messages wallet_prepareSign asked a session's key to sign, until wallet_formatSign formats
-- a signature of one (clients send back only the signature): one per session and digest, a
-- session's 16 newest, each for 10 minutes. `seq` orders them (a message asked again is
-- inserted anew, as the newest); expired rows are deleted a batch at a time by later writes.
CREATE TABLE waiting_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account BLOB NOT NULL CHECK (length(account) = 20),
    session_id BLOB NOT NULL CHECK (length(session_id) = 32),
    digest BLOB NOT NULL CHECK (length(digest) = 32),
    request TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (account, session_id, digest)
) STRICT;
CREATE INDEX waiting_messages_by_expiry ON waiting_messages (expires_at);
