//! The messages waiting for `wallet_formatSign`, in SQL that SQLite and PostgreSQL both read: the
//! backends differ only in the insert that makes a message asked again the newest.

use super::{
    MESSAGE_PRUNE_LIMIT, MESSAGES_PER_SESSION, StateError, WaitingMessage,
    encoding::{backend, integer},
};
use alloy_primitives::{Address, B256};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, Type};

/// Deletes the waiting messages of the session (`$1` account, `$2` session id) beyond its `$3`
/// newest.
const TRIM_SESSION: &str =
    "DELETE FROM waiting_messages WHERE account = $1 AND session_id = $2 AND seq NOT IN (
         SELECT seq FROM waiting_messages WHERE account = $1 AND session_id = $2
         ORDER BY seq DESC LIMIT $3
     )";

/// Deletes up to `$2` waiting messages expired at `$1`, soonest expired first.
const PRUNE: &str = "DELETE FROM waiting_messages WHERE seq IN (
         SELECT seq FROM waiting_messages WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
     )";

/// The requests of the session's (`$1` account, `$2` session id) messages waiting at `$3`, newest
/// first.
const WAITING: &str = "SELECT request FROM waiting_messages
     WHERE account = $1 AND session_id = $2 AND expires_at > $3 ORDER BY seq DESC";

/// [`super::State::put_message`] in one transaction: `insert` (the backend's, binding account,
/// session id, digest, request and expiry in that order), then the session's trim and a batch of
/// pruning.
pub(super) async fn put<DB>(
    pool: &Pool<DB>,
    insert: &'static str,
    message: WaitingMessage,
    now: u64,
) -> Result<(), StateError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Vec<u8>: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    let failed = |error: sqlx::Error| backend("keeping a waiting message", error);
    let (account, session_id) = (message.account.to_vec(), message.session_id.to_vec());
    let mut transaction = pool.begin().await.map_err(failed)?;
    sqlx::query::<DB>(insert)
        .bind(account.clone())
        .bind(session_id.clone())
        .bind(message.digest.to_vec())
        .bind(message.request)
        .bind(integer(message.expires_at)?)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
    sqlx::query::<DB>(TRIM_SESSION)
        .bind(account)
        .bind(session_id)
        .bind(integer(MESSAGES_PER_SESSION)?)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
    sqlx::query::<DB>(PRUNE)
        .bind(integer(now)?)
        .bind(integer(MESSAGE_PRUNE_LIMIT)?)
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
    transaction.commit().await.map_err(failed)
}

/// [`super::State::waiting_messages`].
pub(super) async fn waiting<DB>(
    pool: &Pool<DB>,
    account: Address,
    session_id: B256,
    now: u64,
) -> Result<Vec<String>, StateError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Vec<u8>: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    let failed = |error: sqlx::Error| backend("reading waiting messages", error);
    let mut connection = pool.acquire().await.map_err(failed)?;
    sqlx::query_scalar::<DB, String>(WAITING)
        .bind(account.to_vec())
        .bind(session_id.to_vec())
        .bind(integer(now)?)
        .fetch_all(&mut *connection)
        .await
        .map_err(failed)
}
