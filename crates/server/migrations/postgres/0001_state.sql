-- The server's state in PostgreSQL (leash_server::state::PostgresState), shared by every replica.
-- The same tables as SQLite's (crates/server/migrations/sqlite), plus the claims that let
-- replicas share the calls: hashes, ids and addresses are raw bytes, structured values JSON text
-- in the shapes the server already speaks.

-- Sessions by their 16-byte wire id. `session` is leash-store's SessionMetadata with its grant
-- (camelCase JSON); it is replaced when the owner's signature arrives.
CREATE TABLE sessions (
    wire_id BYTEA PRIMARY KEY CHECK (octet_length(wire_id) = 16),
    session_id BYTEA NOT NULL UNIQUE CHECK (octet_length(session_id) = 32),
    account BYTEA NOT NULL CHECK (octet_length(account) = 20),
    session TEXT NOT NULL
);

-- leash_listSessions reads an account's sessions.
CREATE INDEX sessions_by_account ON sessions (account);

-- Operations wallet_prepareCalls answered with, by hash, waiting for a signature; exactly one
-- signer: a session's key or the account's owner.
CREATE TABLE prepared_calls (
    user_op_hash BYTEA PRIMARY KEY CHECK (octet_length(user_op_hash) = 32),
    operation TEXT NOT NULL,
    calls TEXT NOT NULL,
    session_wire_id BYTEA CHECK (octet_length(session_wire_id) = 16),
    owner BYTEA CHECK (octet_length(owner) = 20),
    CHECK ((session_wire_id IS NULL) <> (owner IS NULL))
);

-- Calls wallet_sendPreparedCalls acknowledged, in that order (`seq`). The unique hash makes the
-- start of a send atomic and idempotent across replicas: exactly one inserts it, and submits it.
-- A pending call (100) is claimed by the replica working on it (`claimed_by`) until
-- `claimed_until`, which that replica keeps extending; once it lapses, another replica takes the
-- call over. A receipt exactly when included (200, 500); a reason exactly when never (400).
CREATE TABLE calls (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_op_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(user_op_hash) = 32),
    operation TEXT NOT NULL,
    session_state TEXT,
    status SMALLINT NOT NULL CHECK (status IN (100, 200, 400, 500)),
    receipt TEXT,
    failure TEXT,
    claimed_by TEXT NOT NULL,
    claimed_until TIMESTAMPTZ NOT NULL,
    CHECK ((status IN (200, 500)) = (receipt IS NOT NULL)),
    CHECK ((status = 400) = (failure IS NOT NULL))
);

-- What replicas claim and take over.
CREATE INDEX calls_pending ON calls (seq) WHERE status = 100;
