-- The account (the operation's sender) of each call, so an account's pending calls (the nonces
-- after them, --max-pending-calls) are found by an index instead of by reading every pending
-- operation. Calls stored before this migration get it from their operation's JSON.
ALTER TABLE calls ADD COLUMN sender BYTEA CHECK (octet_length(sender) = 20);
UPDATE calls SET sender = decode(substr(operation::json->>'sender', 3), 'hex');
CREATE INDEX calls_pending_by_sender ON calls (sender, seq) WHERE status = 100;
