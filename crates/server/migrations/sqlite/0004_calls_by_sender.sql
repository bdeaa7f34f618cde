-- The account (the operation's sender) of each call, so an account's pending calls (the nonces
-- after them, --max-pending-calls) are found by an index instead of by reading every pending
-- operation. Calls stored before this migration get it from their operation's JSON.
ALTER TABLE calls ADD COLUMN sender BLOB CHECK (length(sender) = 20);
UPDATE calls SET sender = unhex(substr(json_extract(operation, '$.sender'), 3));
CREATE INDEX calls_pending_by_sender ON calls (sender, seq) WHERE status = 100;
