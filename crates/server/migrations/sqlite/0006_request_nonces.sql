-- The nonces leash_verifySessionRequest accepted, each kept until its request would be stale
-- anyway (its timestamp plus the window): a request replayed within the window is refused by
-- every server on this store, not only the one that accepted it. Expired rows are reused by a
-- later spend of the same nonce and deleted a batch at a time, oldest expiry first.
CREATE TABLE request_nonces (
    session_key BLOB NOT NULL CHECK (length(session_key) = 20),
    nonce BLOB NOT NULL CHECK (length(nonce) = 16),
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_key, nonce)
) STRICT;
CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_at);
