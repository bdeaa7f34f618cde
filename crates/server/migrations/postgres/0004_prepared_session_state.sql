-- The session's state on chain when a session's operation was prepared: the send attaches the
-- signature in the form the gas was estimated with, and explains a refusal, without reading the
-- chain again. Operations prepared before this migration have none and are read at their send.
ALTER TABLE prepared_calls ADD COLUMN session_state TEXT;
