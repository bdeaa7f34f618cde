-- The server's state (leash_server::state::SqliteState). Hashes, ids and addresses are raw bytes;
-- structured values are JSON in the shapes the server already speaks, so a reader needs no Rust.

-- Sessions by their 16-byte wire id. `session` is leash-store's SessionMetadata with its grant
-- (camelCase JSON); it is replaced when the owner's signature arrives.
CREATE TABLE sessions (
    wire_id BLOB PRIMARY KEY NOT NULL CHECK (length(wire_id) = 16),
    session_id BLOB NOT NULL UNIQUE CHECK (length(session_id) = 32),
    account BLOB NOT NULL CHECK (length(account) = 20),
    session TEXT NOT NULL
) STRICT;

-- Operations wallet_prepareCalls answered with, by hash, waiting for a signature. `operation` is
-- the unsigned UserOperation in eth_sendUserOperation's JSON; `calls` the [{to, value, data}] it
-- makes. Exactly one signer: a session's key or the account's owner.
CREATE TABLE prepared_calls (
    user_op_hash BLOB PRIMARY KEY NOT NULL CHECK (length(user_op_hash) = 32),
    operation TEXT NOT NULL,
    calls TEXT NOT NULL,
    session_wire_id BLOB CHECK (length(session_wire_id) = 16),
    owner BLOB CHECK (length(owner) = 20),
    CHECK ((session_wire_id IS NULL) <> (owner IS NULL))
) STRICT;

-- Calls wallet_sendPreparedCalls acknowledged, in that order (`seq`). The unique hash makes the
-- start of a send atomic and idempotent; `operation` is the signed UserOperation, kept so a
-- restart submits what is still pending (status 100). A receipt exactly when included (200
-- confirmed, 500 reverted); a reason exactly when never included (400).
CREATE TABLE calls (
    seq INTEGER PRIMARY KEY,
    user_op_hash BLOB NOT NULL UNIQUE CHECK (length(user_op_hash) = 32),
    operation TEXT NOT NULL,
    session_state TEXT,
    status INTEGER NOT NULL CHECK (status IN (100, 200, 400, 500)),
    receipt TEXT,
    failure TEXT,
    CHECK ((status IN (200, 500)) = (receipt IS NOT NULL)),
    CHECK ((status = 400) = (failure IS NOT NULL))
) STRICT;

-- What a restart resumes.
CREATE INDEX calls_pending ON calls (seq) WHERE status = 100;
