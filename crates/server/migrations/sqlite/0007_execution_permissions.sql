-- The ERC-7715 permission granted for a session (wallet_requestExecutionPermissions' answer, JSON),
-- which wallet_getGrantedExecutionPermissions lists; NULL for a session created otherwise. It
-- shares the session's api_key.
ALTER TABLE sessions ADD COLUMN execution_permission TEXT;
