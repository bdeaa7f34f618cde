//! [`State`] in a SQLite file (crates/server/migrations has the schema): what the server
//! acknowledged survives a restart.

use super::{
    ApiKey, CallStatus, PreparedCall, PreparedSigner, SentCall, State, StateError, WaitingMessage,
    WireSessionId,
    encoding::{
        API_KEY_COLUMNS, ApiKeyRow, SentCallRow, StoredCall, backend, fixed, from_json,
        granted_from, integer, operation_from_json, operation_json, session_state_from,
        session_state_json, status_columns, status_from_columns, to_json, unsigned,
    },
    waiting_messages, wire_session_id,
};
use alloy_primitives::{Address, B128, B256};
use leash_core::calls::Call;
use leash_sdk::service::StoredSession;
use serde_json::Value;
use sqlx::{
    FromRow, Row, SqlitePool,
    migrate::Migrator,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};
use std::{path::Path, time::Duration};

/// The schema's versions, applied in order by [`SqliteState::open`].
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// A waiting message, replacing one of its session with its digest: REPLACE deletes that row first,
/// so the new one takes the next `seq`.
const REPLACE_MESSAGE: &str = "INSERT OR REPLACE INTO waiting_messages
         (account, session_id, digest, request, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// SQLite allows one writer at a time; a few connections let reads proceed beside it.
const MAX_CONNECTIONS: u32 = 4;

/// Sessions, prepared operations and sent calls in a SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteState {
    pool: SqlitePool,
}

impl SqliteState {
    /// Opens the database at `path` (creating it) and brings its schema up to date.
    ///
    /// Every write is durable when it returns (WAL with `synchronous = FULL`): a call is
    /// acknowledged only once it is on disk.
    pub async fn open(path: &Path) -> Result<Self, StateError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|error| backend(format!("opening {}", path.display()), error))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| backend(format!("migrating {}", path.display()), error))?;
        Ok(Self { pool })
    }
}

impl State for SqliteState {
    async fn put_session(
        &self,
        session: StoredSession,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO sessions (wire_id, session_id, account, session, api_key)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (wire_id) DO UPDATE SET session = excluded.session",
        )
        .bind(wire_session_id(session.session_id).to_vec())
        .bind(session.session_id.to_vec())
        .bind(session.account.to_vec())
        .bind(to_json(&session)?)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing a session", error))?;
        Ok(())
    }

    async fn session(
        &self,
        id: WireSessionId,
        key: Option<&str>,
    ) -> Result<Option<StoredSession>, StateError> {
        // `IS`: NULL (no key) matches NULL.
        let row = sqlx::query("SELECT session FROM sessions WHERE wire_id = ? AND api_key IS ?")
            .bind(id.to_vec())
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| backend("reading a session", error))?;
        row.map(|row| from_json(&column::<String>(&row, "session")?, "session"))
            .transpose()
    }

    async fn sessions_of(
        &self,
        account: Address,
        key: Option<&str>,
    ) -> Result<Vec<StoredSession>, StateError> {
        let rows = sqlx::query(
            "SELECT session FROM sessions WHERE account = ? AND api_key IS ? ORDER BY wire_id",
        )
        .bind(account.to_vec())
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading an account's sessions", error))?;
        rows.iter()
            .map(|row| from_json(&column::<String>(row, "session")?, "session"))
            .collect()
    }

    async fn put_execution_permission(
        &self,
        id: WireSessionId,
        granted: &Value,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "UPDATE sessions SET execution_permission = ? WHERE wire_id = ? AND api_key IS ?",
        )
        .bind(to_json(granted)?)
        .bind(id.to_vec())
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing an execution permission", error))?;
        Ok(())
    }

    async fn execution_permissions(
        &self,
        key: Option<&str>,
    ) -> Result<Vec<(StoredSession, Value)>, StateError> {
        let rows = sqlx::query(
            "SELECT session, execution_permission FROM sessions
             WHERE execution_permission IS NOT NULL AND api_key IS ? ORDER BY wire_id",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading execution permissions", error))?;
        rows.iter()
            .map(|row| {
                granted_from(
                    &column::<String>(row, "session")?,
                    &column::<String>(row, "execution_permission")?,
                )
            })
            .collect()
    }

    async fn put_prepared(&self, call: PreparedCall, key: Option<&str>) -> Result<(), StateError> {
        let (session, owner) = match call.signer {
            PreparedSigner::Session(id) => (Some(id.to_vec()), None),
            PreparedSigner::Owner(owner) => (None, Some(owner.to_vec())),
        };
        let calls: Vec<StoredCall> = call.calls.iter().map(StoredCall::from).collect();
        let session_state = session_state_json(call.session_state.as_ref())?;
        sqlx::query(
            "INSERT INTO prepared_calls (user_op_hash, operation, calls, session_wire_id, owner,
                 api_key, session_state)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (user_op_hash) DO UPDATE SET operation = excluded.operation,
                 calls = excluded.calls, session_wire_id = excluded.session_wire_id,
                 owner = excluded.owner, api_key = excluded.api_key,
                 session_state = excluded.session_state",
        )
        .bind(call.user_op_hash.to_vec())
        .bind(operation_json(&call.operation)?)
        .bind(to_json(&calls)?)
        .bind(session)
        .bind(owner)
        .bind(key)
        .bind(session_state)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing a prepared operation", error))?;
        Ok(())
    }

    async fn prepared(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> Result<Option<PreparedCall>, StateError> {
        let row = sqlx::query(
            "SELECT operation, calls, session_wire_id, owner, session_state FROM prepared_calls
             WHERE user_op_hash = ? AND api_key IS ?",
        )
        .bind(user_op_hash.to_vec())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("reading a prepared operation", error))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session: Option<Vec<u8>> = column(&row, "session_wire_id")?;
        let owner: Option<Vec<u8>> = column(&row, "owner")?;
        let signer = match (session, owner) {
            (Some(id), None) => PreparedSigner::Session(fixed(&id, "session_wire_id")?),
            (None, Some(owner)) => {
                PreparedSigner::Owner(Address::from(fixed::<20>(&owner, "owner")?.0))
            }
            // The schema's CHECK allows nothing else.
            _ => {
                return Err(StateError::Backend(
                    "a prepared operation without one signer".into(),
                ));
            }
        };
        let calls: Vec<StoredCall> = from_json(&column::<String>(&row, "calls")?, "calls")?;
        Ok(Some(PreparedCall {
            user_op_hash,
            operation: operation_from_json(&column::<String>(&row, "operation")?)?,
            calls: calls.into_iter().map(Call::from).collect(),
            signer,
            session_state: session_state_from(column(&row, "session_state")?)?,
        }))
    }

    async fn start_call(&self, call: &SentCall, key: Option<&str>) -> Result<bool, StateError> {
        // One statement: the unique hash decides which of concurrent identical sends inserts.
        let session_state = session_state_json(call.session_state.as_ref())?;
        let inserted = sqlx::query(
            "INSERT INTO calls (user_op_hash, operation, session_state, status, api_key, sender)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (user_op_hash) DO NOTHING",
        )
        .bind(call.operation.user_op_hash.to_vec())
        .bind(operation_json(&call.operation.op)?)
        .bind(session_state)
        .bind(CallStatus::Pending.code())
        .bind(key)
        .bind(call.operation.op.operation.sender.to_vec())
        .execute(&self.pool)
        .await
        .map_err(|error| backend("recording a sent call", error))?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn claim_pending_calls(&self, own: bool) -> Result<Vec<SentCall>, StateError> {
        // One server owns a data directory (its chain file too): every pending call is its own.
        if own {
            self.pending_calls().await
        } else {
            Ok(Vec::new())
        }
    }

    async fn pending_calls(&self) -> Result<Vec<SentCall>, StateError> {
        let rows = sqlx::query(
            "SELECT user_op_hash, operation, session_state FROM calls WHERE status = ?
             ORDER BY seq",
        )
        .bind(CallStatus::Pending.code())
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading pending calls", error))?;
        rows.iter().map(sent_call).collect()
    }

    async fn pending_calls_of(&self, account: Address) -> Result<Vec<SentCall>, StateError> {
        let rows = sqlx::query(
            "SELECT user_op_hash, operation, session_state FROM calls
             WHERE status = ? AND sender = ? ORDER BY seq",
        )
        .bind(CallStatus::Pending.code())
        .bind(account.to_vec())
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading an account's pending calls", error))?;
        rows.iter().map(sent_call).collect()
    }

    fn claim_lease(&self) -> Option<Duration> {
        None
    }

    async fn renew_claims(&self) -> Result<(), StateError> {
        Ok(())
    }

    async fn set_statuses(&self, statuses: &[(B256, CallStatus)]) -> Result<(), StateError> {
        let failed = |error| backend("storing call statuses", error);
        // One transaction, so one sync to disk for a whole bundle; returning early drops it
        // uncommitted, which rolls it back.
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for (user_op_hash, status) in statuses {
            let (receipt, failure) = status_columns(status)?;
            let updated = sqlx::query(
                "UPDATE calls SET status = ?, receipt = ?, failure = ? WHERE user_op_hash = ?",
            )
            .bind(status.code())
            .bind(receipt)
            .bind(failure)
            .bind(user_op_hash.to_vec())
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
            if updated.rows_affected() == 0 {
                return Err(StateError::UnknownCall(*user_op_hash));
            }
        }
        transaction.commit().await.map_err(failed)
    }

    async fn ping(&self) -> Result<(), StateError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|error| backend("checking the database answers", error))?;
        Ok(())
    }

    async fn status(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> Result<Option<CallStatus>, StateError> {
        let row = sqlx::query(
            "SELECT status, receipt, failure FROM calls WHERE user_op_hash = ? AND api_key IS ?",
        )
        .bind(user_op_hash.to_vec())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("reading a call's status", error))?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(status_from_columns(
            column(&row, "status")?,
            column(&row, "receipt")?,
            column(&row, "failure")?,
        )?))
    }
    async fn add_api_key(&self, key: &ApiKey) -> Result<bool, StateError> {
        let row = ApiKeyRow::of(key)?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO NOTHING"
        ))
        .bind(row.name)
        .bind(row.key_hash)
        .bind(row.created_at)
        .bind(row.revoked_at)
        .bind(row.rate)
        .bind(row.burst)
        .bind(row.daily_quota)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing an API key", error))?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StateError> {
        sqlx::query_as::<_, ApiKeyRow>(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading API keys", error))?
        .into_iter()
        .map(ApiKeyRow::decode)
        .collect()
    }

    async fn api_key(&self, key_hash: B256) -> Result<Option<ApiKey>, StateError> {
        sqlx::query_as::<_, ApiKeyRow>(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?"
        ))
        .bind(key_hash.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("reading an API key", error))?
        .map(ApiKeyRow::decode)
        .transpose()
    }

    async fn revoke_api_key(&self, name: &str, at: u64) -> Result<bool, StateError> {
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
                .bind(integer(at)?)
                .bind(name)
                .execute(&self.pool)
                .await
                .map_err(|error| backend("revoking an API key", error))?;
        Ok(revoked.rows_affected() == 1)
    }

    async fn count_send(
        &self,
        name: &str,
        day: u64,
        quota: u64,
    ) -> Result<Option<u64>, StateError> {
        // One statement: the day's row is created or counted only while under the quota, so
        // concurrent sends never count past it (the SELECT's WHERE also lets SQLite parse the
        // upsert).
        let count: Option<i64> = sqlx::query_scalar(
            "INSERT INTO api_key_usage (name, day, sends) SELECT ?1, ?2, 1 WHERE ?3 > 0
             ON CONFLICT (name, day) DO UPDATE SET sends = sends + 1 WHERE sends < ?3
             RETURNING sends",
        )
        .bind(name)
        .bind(integer(day)?)
        .bind(integer(quota)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("counting a send against its quota", error))?;
        count.map(unsigned).transpose()
    }

    async fn spend_nonce(
        &self,
        session_key: Address,
        nonce: B128,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StateError> {
        // One statement: the primary key decides which of concurrent spends records the
        // nonce; a row that expired is taken over (its request would be stale by now).
        let spent = sqlx::query(
            "INSERT INTO request_nonces (session_key, nonce, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (session_key, nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE request_nonces.expires_at < ?4",
        )
        .bind(session_key.to_vec())
        .bind(nonce.to_vec())
        .bind(integer(expires_at)?)
        .bind(integer(now)?)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("spending a request nonce", error))?;
        Ok(spent.rows_affected() == 1)
    }

    async fn prune_nonces(&self, now: u64, limit: u64) -> Result<u64, StateError> {
        // PostgreSQL's statement: its outer `expires_at` test, which keeps a row a concurrent
        // spend took over, costs nothing here (SQLite runs one writer at a time).
        let deleted = sqlx::query(
            "DELETE FROM request_nonces WHERE expires_at < ?1 AND (session_key, nonce) IN (
                 SELECT session_key, nonce FROM request_nonces WHERE expires_at < ?1
                 ORDER BY expires_at LIMIT ?2
             )",
        )
        .bind(integer(now)?)
        .bind(integer(limit)?)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("deleting expired request nonces", error))?;
        Ok(deleted.rows_affected())
    }

    async fn put_message(&self, message: WaitingMessage, now: u64) -> Result<(), StateError> {
        waiting_messages::put(&self.pool, REPLACE_MESSAGE, message, now).await
    }

    async fn waiting_messages(
        &self,
        account: Address,
        session_id: B256,
        now: u64,
    ) -> Result<Vec<String>, StateError> {
        waiting_messages::waiting(&self.pool, account, session_id, now).await
    }
}

/// A `calls` row with its `user_op_hash`, `operation` and `session_state`.
fn sent_call(row: &SqliteRow) -> Result<SentCall, StateError> {
    SentCallRow::from_row(row)
        .map_err(|error| backend("reading a sent call", error))?
        .decode()
}

fn column<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T, StateError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name)
        .map_err(|error| backend(format!("column {name}"), error))
}
