-- leash_listSessions reads an account's sessions.
CREATE INDEX sessions_by_account ON sessions (account);
