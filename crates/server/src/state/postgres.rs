//! [`State`] in PostgreSQL (crates/server/migrations/postgres has the schema), shared by several
//! servers: any of them answers any method, a call is submitted by the one that acknowledged it,
//! and the calls of one that stops or dies are taken over by the others once its claims lapse.

use super::{
    CallStatus, Claimant, PreparedCall, PreparedSigner, SentCall, State, StateError, WireSessionId,
    encoding::{
        StoredCall, backend, fixed, from_json, operation_from_json, operation_json, status_columns,
        status_from_columns, to_json,
    },
    wire_session_id,
};
use alloy_primitives::{Address, B256};
use leash_core::{calls::Call, prepare::PreparedOperation};
use leash_sdk::service::StoredSession;
use sqlx::{
    PgPool, Row,
    migrate::Migrator,
    postgres::{PgPoolOptions, PgRow},
};
use std::time::Duration;

/// The schema's versions, applied in order by [`PostgresState::open`]; sqlx takes an advisory
/// lock while migrating, so replicas starting together apply each once.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

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
    async fn put_session(&self, session: StoredSession) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO sessions (wire_id, session_id, account, session) VALUES ($1, $2, $3, $4)
             ON CONFLICT (wire_id) DO UPDATE SET session = excluded.session",
        )
        .bind(wire_session_id(session.session_id).to_vec())
        .bind(session.session_id.to_vec())
        .bind(session.account.to_vec())
        .bind(to_json(&session)?)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing a session", error))?;
        Ok(())
    }

    async fn session(&self, id: WireSessionId) -> Result<Option<StoredSession>, StateError> {
        let row = sqlx::query("SELECT session FROM sessions WHERE wire_id = $1")
            .bind(id.to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| backend("reading a session", error))?;
        row.map(|row| from_json(&column::<String>(&row, "session")?, "session"))
            .transpose()
    }

    async fn sessions_of(&self, account: Address) -> Result<Vec<StoredSession>, StateError> {
        let rows = sqlx::query("SELECT session FROM sessions WHERE account = $1 ORDER BY wire_id")
            .bind(account.to_vec())
            .fetch_all(&self.pool)
            .await
            .map_err(|error| backend("reading an account's sessions", error))?;
        rows.iter()
            .map(|row| from_json(&column::<String>(row, "session")?, "session"))
            .collect()
    }

    async fn put_prepared(&self, call: PreparedCall) -> Result<(), StateError> {
        let (session, owner) = match call.signer {
            PreparedSigner::Session(id) => (Some(id.to_vec()), None),
            PreparedSigner::Owner(owner) => (None, Some(owner.to_vec())),
        };
        let calls: Vec<StoredCall> = call.calls.iter().map(StoredCall::from).collect();
        sqlx::query(
            "INSERT INTO prepared_calls (user_op_hash, operation, calls, session_wire_id, owner)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_op_hash) DO UPDATE SET operation = excluded.operation,
                 calls = excluded.calls, session_wire_id = excluded.session_wire_id,
                 owner = excluded.owner",
        )
        .bind(call.user_op_hash.to_vec())
        .bind(operation_json(&call.operation)?)
        .bind(to_json(&calls)?)
        .bind(session)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(|error| backend("storing a prepared operation", error))?;
        Ok(())
    }

    async fn prepared(&self, user_op_hash: B256) -> Result<Option<PreparedCall>, StateError> {
        let row = sqlx::query(
            "SELECT operation, calls, session_wire_id, owner FROM prepared_calls
             WHERE user_op_hash = $1",
        )
        .bind(user_op_hash.to_vec())
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
        }))
    }

    async fn start_call(&self, call: &SentCall) -> Result<bool, StateError> {
        // One statement: the unique hash decides which of concurrent identical sends, on any
        // replica, inserts (and so claims and submits) the call.
        let session_state = call.session_state.as_ref().map(to_json).transpose()?;
        let inserted = sqlx::query(
            "INSERT INTO calls (user_op_hash, operation, session_state, status, claimed_by,
                 claimed_until)
             VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
             ON CONFLICT (user_op_hash) DO NOTHING",
        )
        .bind(call.operation.user_op_hash.to_vec())
        .bind(operation_json(&call.operation.op)?)
        .bind(session_state)
        .bind(status_code(&CallStatus::Pending))
        .bind(&self.claimant.id)
        .bind(self.lease_seconds())
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

    async fn status(&self, user_op_hash: B256) -> Result<Option<CallStatus>, StateError> {
        let row = sqlx::query("SELECT status, receipt, failure FROM calls WHERE user_op_hash = $1")
            .bind(user_op_hash.to_vec())
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
}

/// A `calls` row with its `user_op_hash`, `operation` and `session_state`.
fn sent_call(row: &PgRow) -> Result<SentCall, StateError> {
    let hash: Vec<u8> = column(row, "user_op_hash")?;
    let session_state: Option<String> = column(row, "session_state")?;
    Ok(SentCall {
        operation: PreparedOperation {
            op: operation_from_json(&column::<String>(row, "operation")?)?,
            user_op_hash: fixed(&hash, "user_op_hash")?,
        },
        session_state: session_state
            .map(|state| from_json(&state, "session_state"))
            .transpose()?,
    })
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
