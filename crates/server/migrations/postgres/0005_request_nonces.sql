-- The nonces leash_verifySessionRequest accepted, each kept until its request would be stale
-- anyway (its timestamp plus the window): a request replayed within the window to any replica is
-- refused, not only by the one that accepted it. Expired rows are reused by a later spend of the
-- same nonce and deleted a batch at a time, oldest expiry first. The same as SQLite's
-- 0006_request_nonces.sql.
CREATE TABLE request_nonces (
    session_key BYTEA NOT NULL CHECK (octet_length(session_key) = 20),
    nonce BYTEA NOT NULL CHECK (octet_length(nonce) = 16),
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (session_key, nonce)
);
CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_at);
