//! [`State`] in PostgreSQL (crates/server/migrations/postgres has the schema), shared by several
//! servers: any of them answers any method, a call is submitted by the one that acknowledged it,
//! and the calls of one that stops or dies are taken over by the others once its claims lapse.

use super::{
    ApiKey, CallStatus, Claimant, PreparedCall, PreparedSigner, SentCall, State, StateError,
    WaitingMessage, WireSessionId,
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
    FromRow, PgPool, Row,
    migrate::Migrator,
    postgres::{PgPoolOptions, PgRow},
};
use std::time::Duration;

/// The schema's versions, applied in order by [`PostgresState::open`]; sqlx takes an advisory
/// lock while migrating, so replicas starting together apply each once.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A waiting message; one of its session with its digest takes the new row's `seq`, as the newest.
const UPSERT_MESSAGE: &str = "INSERT INTO waiting_messages
         (account, session_id, digest, request, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account, session_id, digest) DO UPDATE SET seq = excluded.seq,
         request = excluded.request, expires_at = excluded.expires_at";

/// Connections per server: requests and the submission task share them.
const MAX_CONNECTIONS: u32 = 8;

/// How long a request waits for a connection before the store counts as unreachable: a
/// database that is down fails requests (and the readiness check) rather than hanging them.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Sessions, prepared operations and sent calls in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresState {
    pool: PgPool,
    claimant: Claimant,
}

impl PostgresState {
    /// Connects to the database at `url` and brings its schema up to date; this server claims
    /// calls as `claimant`.
    ///
    /// A write is durable when it returns (PostgreSQL's commit): a call is acknowledged only
    /// once it is committed.
    pub async fn open(url: &str, claimant: Claimant) -> Result<Self, StateError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before every query (a round trip and a third of the database's work per
            // statement, measured by the load benchmark): a connection the database dropped
            // fails its next query, which is closed with it and reported as the store being
            // unreachable, and the next query takes a fresh connection.
            .test_before_acquire(false)
            .connect(url)
            .await
            .map_err(|error| backend(format!("connecting to {}", redacted(url)), error))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| backend(format!("migrating {}", redacted(url)), error))?;
        Ok(Self { pool, claimant })
    }

    /// The lease in seconds, as PostgreSQL's `make_interval` takes it.
    fn lease_seconds(&self) -> f64 {
        self.claimant.lease.as_secs_f64()
    }
}

impl State for PostgresState {
    async fn put_session(
        &self,
        session: StoredSession,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO sessions (wire_id, session_id, account, session, api_key)
             VALUES ($1, $2, $3, $4, $5)
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
        // NOT DISTINCT: NULL (no key) matches NULL.
        let row = sqlx::query(
            "SELECT session FROM sessions WHERE wire_id = $1 AND api_key IS NOT DISTINCT FROM $2",
        )
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
            "SELECT session FROM sessions WHERE account = $1 AND api_key IS NOT DISTINCT FROM $2
             ORDER BY wire_id",
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
            "UPDATE sessions SET execution_permission = $1
             WHERE wire_id = $2 AND api_key IS NOT DISTINCT FROM $3",
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
             WHERE execution_permission IS NOT NULL AND api_key IS NOT DISTINCT FROM $1
             ORDER BY wire_id",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)
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
             WHERE user_op_hash = $1 AND api_key IS NOT DISTINCT FROM $2",
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
        // One statement: the unique hash decides which of concurrent identical sends, on any
        // replica, inserts (and so claims and submits) the call.
        let session_state = session_state_json(call.session_state.as_ref())?;
        let inserted = sqlx::query(
            "INSERT INTO calls (user_op_hash, operation, session_state, status, claimed_by,
                 claimed_until, api_key, sender)
             VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7, $8)
             ON CONFLICT (user_op_hash) DO NOTHING",
        )
        .bind(call.operation.user_op_hash.to_vec())
        .bind(operation_json(&call.operation.op)?)
        .bind(session_state)
        .bind(status_code(&CallStatus::Pending))
        .bind(&self.claimant.id)
        .bind(self.lease_seconds())
        .bind(key)
        .bind(call.operation.op.operation.sender.to_vec())
        .execute(&self.pool)
        .await
        .map_err(|error| backend("recording a sent call", error))?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn claim_pending_calls(&self, own: bool) -> Result<Vec<SentCall>, StateError> {
        // SKIP LOCKED: replicas sweeping at once each claim different calls, never waiting on
        // one another; the database's clock decides what has lapsed, whatever the replicas' own.
        let mut rows = sqlx::query(
            "UPDATE calls SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
             WHERE seq IN (
                 SELECT seq FROM calls
                 WHERE status = $3 AND (claimed_until < now() OR ($4 AND claimed_by = $1))
                 ORDER BY seq
                 FOR UPDATE SKIP LOCKED
             )
             RETURNING seq, user_op_hash, operation, session_state",
        )
        .bind(&self.claimant.id)
        .bind(self.lease_seconds())
        .bind(status_code(&CallStatus::Pending))
        .bind(own)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("claiming pending calls", error))?;
        // RETURNING follows no order: the order of sending is `seq`'s.
        rows.sort_by_key(|row| row.try_get::<i64, _>("seq").unwrap_or_default());
        rows.iter().map(sent_call).collect()
    }

    async fn pending_calls(&self) -> Result<Vec<SentCall>, StateError> {
        let rows = sqlx::query(
            "SELECT user_op_hash, operation, session_state FROM calls WHERE status = $1
             ORDER BY seq",
        )
        .bind(status_code(&CallStatus::Pending))
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading pending calls", error))?;
        rows.iter().map(sent_call).collect()
    }

    async fn pending_calls_of(&self, account: Address) -> Result<Vec<SentCall>, StateError> {
        let rows = sqlx::query(
            "SELECT user_op_hash, operation, session_state FROM calls
             WHERE status = $1 AND sender = $2 ORDER BY seq",
        )
        .bind(status_code(&CallStatus::Pending))
        .bind(account.to_vec())
        .fetch_all(&self.pool)
        .await
        .map_err(|error| backend("reading an account's pending calls", error))?;
        rows.iter().map(sent_call).collect()
    }

    fn claim_lease(&self) -> Option<Duration> {
        Some(self.claimant.lease)
    }

    async fn renew_claims(&self) -> Result<(), StateError> {
        sqlx::query(
            "UPDATE calls SET claimed_until = now() + make_interval(secs => $2)
             WHERE claimed_by = $1 AND status = $3",
        )
        .bind(&self.claimant.id)
        .bind(self.lease_seconds())
        .bind(status_code(&CallStatus::Pending))
        .execute(&self.pool)
        .await
        .map_err(|error| backend("renewing claims", error))?;
        Ok(())
    }

    async fn set_statuses(&self, statuses: &[(B256, CallStatus)]) -> Result<(), StateError> {
        let failed = |error| backend("storing call statuses", error);
        // One transaction, so one commit for a whole bundle; returning early drops it
        // uncommitted, which rolls it back.
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for (user_op_hash, status) in statuses {
            let (receipt, failure) = status_columns(status)?;
            let updated = sqlx::query(
                "UPDATE calls SET status = $1, receipt = $2, failure = $3 WHERE user_op_hash = $4",
            )
            .bind(status_code(status))
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

    async fn status(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> Result<Option<CallStatus>, StateError> {
        let row = sqlx::query(
            "SELECT status, receipt, failure FROM calls
             WHERE user_op_hash = $1 AND api_key IS NOT DISTINCT FROM $2",
        )
        .bind(user_op_hash.to_vec())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("reading a call's status", error))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let code: i16 = column(&row, "status")?;
        let code =
            u16::try_from(code).map_err(|_| StateError::Backend(format!("call status {code}")))?;
        Ok(Some(status_from_columns(
            code,
            column(&row, "receipt")?,
            column(&row, "failure")?,
        )?))
    }

    async fn ping(&self) -> Result<(), StateError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|error| backend("checking the database answers", error))?;
        Ok(())
    }

    async fn add_api_key(&self, key: &ApiKey) -> Result<bool, StateError> {
        let row = ApiKeyRow::of(key)?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
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
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(key_hash.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| backend("reading an API key", error))?
        .map(ApiKeyRow::decode)
        .transpose()
    }

    async fn revoke_api_key(&self, name: &str, at: u64) -> Result<bool, StateError> {
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
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
        // concurrent sends on every replica never count past it.
        let count: Option<i64> = sqlx::query_scalar(
            "INSERT INTO api_key_usage (name, day, sends) SELECT $1, $2, 1 WHERE $3 > 0
             ON CONFLICT (name, day) DO UPDATE SET sends = api_key_usage.sends + 1
                 WHERE api_key_usage.sends < $3
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
        // One statement: the primary key decides which of concurrent spends on every replica
        // records the nonce; a row that expired is taken over (its request would be stale by now).
        let spent = sqlx::query(
            "INSERT INTO request_nonces (session_key, nonce, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (session_key, nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE request_nonces.expires_at < $4",
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
        // The outer `expires_at` test too: a row taken over by a spend since the inner SELECT
        // read it is live again and stays.
        let deleted = sqlx::query(
            "DELETE FROM request_nonces WHERE expires_at < $1 AND (session_key, nonce) IN (
                 SELECT session_key, nonce FROM request_nonces WHERE expires_at < $1
                 ORDER BY expires_at LIMIT $2
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
        waiting_messages::put(&self.pool, UPSERT_MESSAGE, message, now).await
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
fn sent_call(row: &PgRow) -> Result<SentCall, StateError> {
    SentCallRow::from_row(row)
        .map_err(|error| backend("reading a sent call", error))?
        .decode()
}

/// `status`'s code as the `SMALLINT` column holds it (codes are 100 to 500).
fn status_code(status: &CallStatus) -> i16 {
    i16::try_from(status.code()).unwrap_or(i16::MAX)
}

fn column<'r, T>(row: &'r PgRow, name: &str) -> Result<T, StateError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name)
        .map_err(|error| backend(format!("column {name}"), error))
}

/// `url` without its password, for error messages and logs.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password fails only for URLs that cannot have one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
