//! What the server remembers between requests: sessions by their wire id, prepared operations by
//! their hash, and every call sent with its status. [`State`] is async and fallible so a database
//! can implement it; [`MemoryState`] keeps everything in this process, [`SqliteState`] in a
//! SQLite file that survives a restart.
//!
//! With API keys (docs/server.md, *Access*), what a request creates is tagged with its key and
//! what it reads is looked up under that key: every method taking `key` finds only what was
//! created under the same one (`None`: without a key), so one key never sees another's.

mod api_keys;
mod encoding;
mod memory;
mod postgres;
mod sqlite;
mod waiting_messages;

pub use api_keys::{ApiKey, KeyLimits, Rate, RatePeriod};
pub use memory::MemoryState;
pub use postgres::PostgresState;
pub use sqlite::SqliteState;

use alloy_primitives::{Address, B128, B256, FixedBytes};
use leash_core::{
    calls::Call, prepare::PreparedOperation, rpc_types::UserOperationReceipt,
    sender::SignedUserOperation, session_state::SessionState,
};
use leash_sdk::service::StoredSession;
use serde_json::Value;
use std::{future::Future, time::Duration};

/// A session id on the wire: the first 16 bytes of leash's 32-byte session id (the grant's
/// EIP-712 digest), the length Wallet API clients slice.
pub type WireSessionId = FixedBytes<16>;

/// The wire id of `session_id`.
pub fn wire_session_id(session_id: B256) -> WireSessionId {
    WireSessionId::from_slice(&session_id[..16])
}

/// An operation prepared by `wallet_prepareCalls`, waiting for its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedCall {
    /// Its EntryPoint hash: what was signed, and the key it is found by.
    pub user_op_hash: B256,
    /// The operation, unsigned.
    pub operation: SignedUserOperation,
    /// The calls it makes, for `details`.
    pub calls: Vec<Call>,
    /// Who must sign it.
    pub signer: PreparedSigner,
    /// For a session's operation, the session's state on chain when it was prepared: the
    /// signature form its gas was estimated with (lazy until enabled), and what explains a
    /// refusal. `None` for the owner's, and for one prepared before servers kept it.
    pub session_state: Option<SessionState>,
}

/// Who signs a prepared operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreparedSigner {
    /// The key of this session.
    Session(WireSessionId),
    /// The account's owner (the EOA itself).
    Owner(Address),
}

/// A call `wallet_sendPreparedCalls` acknowledged: kept with its signature until it is final, so
/// a restarted server submits what the stopped one had not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentCall {
    /// The operation with its signature in the contracts' form.
    pub operation: PreparedOperation,
    /// Its session's state when it was signed, to explain a refusal (none for the owner's own
    /// calls).
    pub session_state: Option<SessionState>,
}

/// Where a sent call is (EIP-5792 status codes).
#[derive(Clone, Debug, PartialEq)]
pub enum CallStatus {
    /// Accepted, not included yet.
    Pending,
    /// Included and its calls ran.
    Confirmed(Box<UserOperationReceipt>),
    /// Included, but its calls reverted.
    Reverted(Box<UserOperationReceipt>),
    /// Never included: the chain refused it, with the reason.
    Failed(String),
}

impl CallStatus {
    /// The EIP-5792 code: 100 pending, 200 confirmed, 400 offchain failure, 500 reverted.
    pub fn code(&self) -> u16 {
        match self {
            Self::Pending => 100,
            Self::Confirmed(_) => 200,
            Self::Failed(_) => 400,
            Self::Reverted(_) => 500,
        }
    }

    /// The receipt, once included.
    pub fn receipt(&self) -> Option<&UserOperationReceipt> {
        match self {
            Self::Confirmed(receipt) | Self::Reverted(receipt) => Some(receipt),
            Self::Pending | Self::Failed(_) => None,
        }
    }
}

/// Who a server claims calls as in a store several servers share, and for how long a claim
/// holds without renewal: once it lapses, another server takes the call over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimant {
    /// Unique among the servers sharing the store; a server restarted under the same id
    /// resumes its own calls at once, under another after their claims lapse.
    pub id: String,
    /// How long a claim holds; the server renews its claims well within it.
    pub lease: Duration,
}

/// A message `wallet_prepareSign` asked a session's key to sign, waiting for
/// `wallet_formatSign`: clients send back only the key's signature (they drop unknown response
/// fields), so every server on the store keeps what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingMessage {
    /// The account the session signs for.
    pub account: Address,
    /// The session.
    pub session_id: B256,
    /// What its key signs: one message per digest.
    pub digest: B256,
    /// The message as it was asked (`signatureRequest`, JSON), prepared again when a signature
    /// arrives.
    pub request: String,
    /// Until when it waits, Unix seconds (exclusive).
    pub expires_at: u64,
}

/// How long a message waits for its signature.
pub const MESSAGE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The most messages a session keeps waiting: its latest.
pub const MESSAGES_PER_SESSION: u64 = 16;

/// The most expired messages one [`State::put_message`] deletes, so that a write never holds the
/// store long however many have piled up.
pub const MESSAGE_PRUNE_LIMIT: u64 = 100;

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The backend could not read or write.
    #[error("state store: {0}")]
    Backend(String),
    /// A status was set for a call never started.
    #[error("state store: no call {0} was sent")]
    UnknownCall(B256),
}

/// The server's memory. Every method may fail (a database may be unreachable) and is async (a
/// database answers later).
pub trait State: Send + Sync + 'static {
    /// Stores `session` under its wire id, created under `key`, replacing an earlier version
    /// (one that gained the owner's signature; its key stays the one it was created under).
    fn put_session(
        &self,
        session: StoredSession,
        key: Option<&str>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The session with wire id `id`, if it was created under `key`.
    fn session(
        &self,
        id: WireSessionId,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Option<StoredSession>, StateError>> + Send;

    /// Every session of `account` created under `key`, ordered by wire id.
    fn sessions_of(
        &self,
        account: Address,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<StoredSession>, StateError>> + Send;

    /// Records `granted`, the ERC-7715 permission `wallet_requestExecutionPermissions` answered
    /// with, beside the session with wire id `id` created under `key` (replacing an earlier
    /// record); nothing when there is no such session.
    fn put_execution_permission(
        &self,
        id: WireSessionId,
        granted: &Value,
        key: Option<&str>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Every session created under `key` that an ERC-7715 permission was granted for, with that
    /// permission, ordered by wire id.
    fn execution_permissions(
        &self,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Vec<(StoredSession, Value)>, StateError>> + Send;

    /// Stores `call` under its hash, prepared under `key` (preparing the same operation twice
    /// stores it once, under the key that prepared it last).
    fn put_prepared(
        &self,
        call: PreparedCall,
        key: Option<&str>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The prepared operation with hash `user_op_hash`, if it was prepared under `key`.
    fn prepared(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Option<PreparedCall>, StateError>> + Send;

    /// Records `call` as sent (pending) under `key`, with its signed operation, unless its hash
    /// already was: `true` when this call recorded it, so exactly one of concurrent identical
    /// sends submits it. Once this returns, the call is acknowledged: a persistent store has it
    /// on disk.
    fn start_call(
        &self,
        call: &SentCall,
        key: Option<&str>,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Every call still pending, whoever holds it, in the order they were started (for counting
    /// and reporting; [`State::claim_pending_calls`] is what takes calls to submit).
    fn pending_calls(&self) -> impl Future<Output = Result<Vec<SentCall>, StateError>> + Send;

    /// Every call of `account` (its operations' sender) still pending, whoever holds it, in the
    /// order they were started: what the account's next nonces come after, and what
    /// `--max-pending-calls` counts.
    fn pending_calls_of(
        &self,
        account: Address,
    ) -> impl Future<Output = Result<Vec<SentCall>, StateError>> + Send;

    /// Claims the pending calls this server is to submit and returns them, in the order they
    /// were started (an account's operations carry consecutive nonces, so they must be submitted
    /// in that order): those whose claim has lapsed (the server that started them stopped or
    /// died) and, with `own`, those this server claimed before (it restarted under the same id).
    /// [`State::start_call`] claims a call for the server that starts it. In a store only one
    /// server uses (memory, SQLite), every pending call is that server's own.
    fn claim_pending_calls(
        &self,
        own: bool,
    ) -> impl Future<Output = Result<Vec<SentCall>, StateError>> + Send;

    /// Extends this server's claims on the calls it has pending, so no other server takes them
    /// over while it works on them. A store only one server uses has nothing to extend.
    fn renew_claims(&self) -> impl Future<Output = Result<(), StateError>> + Send;

    /// How long this server's claims hold, in a store several servers share (the server renews
    /// them and takes over lapsed ones well within it); `None` in one only this server uses.
    fn claim_lease(&self) -> Option<Duration>;

    /// Sets the status of a started call ([`StateError::UnknownCall`] for any other).
    fn set_status(
        &self,
        user_op_hash: B256,
        status: CallStatus,
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        async move { self.set_statuses(&[(user_op_hash, status)]).await }
    }

    /// Sets the statuses of several started calls, all or none: a call never started is
    /// [`StateError::UnknownCall`] and changes nothing. A persistent store writes them in one
    /// transaction, so a bundle's statuses cost one write to disk, not one each.
    fn set_statuses(
        &self,
        statuses: &[(B256, CallStatus)],
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The status of a call sent under `key`.
    fn status(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Option<CallStatus>, StateError>> + Send;

    /// Succeeds when the store answers: what a readiness check asks.
    fn ping(&self) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Stores a new API key: `false`, and nothing stored, when a key (a revoked one too) has its
    /// name already.
    fn add_api_key(&self, key: &ApiKey) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Every API key, revoked ones too, by name.
    fn api_keys(&self) -> impl Future<Output = Result<Vec<ApiKey>, StateError>> + Send;

    /// The API key whose hash is `key_hash`, revoked or not.
    fn api_key(
        &self,
        key_hash: B256,
    ) -> impl Future<Output = Result<Option<ApiKey>, StateError>> + Send;

    /// Revokes the key named `name` as of `at` (Unix seconds): `false` when no key has that name
    /// or it was revoked already.
    fn revoke_api_key(
        &self,
        name: &str,
        at: u64,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Counts a send under the key named `name` on `day` (days since 1970-01-01, UTC) when fewer
    /// than `quota` were counted that day: the day's count with it, or `None` (nothing counted)
    /// once the quota is used up. One atomic step, so servers sharing the store share the quota.
    fn count_send(
        &self,
        name: &str,
        day: u64,
        quota: u64,
    ) -> impl Future<Output = Result<Option<u64>, StateError>> + Send;

    /// Records request nonce `nonce` of session key `session_key` as spent until `expires_at`
    /// (Unix seconds), unless it is recorded already with an expiry at or after `now`: `true`
    /// when this call recorded it (the nonce was fresh). One atomic step, so of concurrent spends
    /// of one nonce on every server sharing the store exactly one is fresh: the replay check of
    /// `leash_verifySessionRequest`.
    fn spend_nonce(
        &self,
        session_key: Address,
        nonce: B128,
        expires_at: u64,
        now: u64,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Deletes up to `limit` nonces that expired before `now`, soonest expired first: how many.
    /// Bounded, so one call never holds the store long however many have piled up.
    fn prune_nonces(
        &self,
        now: u64,
        limit: u64,
    ) -> impl Future<Output = Result<u64, StateError>> + Send;

    /// Keeps `message` waiting, replacing one of its session with the same digest (whose wait
    /// starts over, as the newest); the session keeps its [`MESSAGES_PER_SESSION`] newest. Up to
    /// [`MESSAGE_PRUNE_LIMIT`] messages of any session expired at `now` are deleted.
    fn put_message(
        &self,
        message: WaitingMessage,
        now: u64,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The requests of the messages `account`'s session `session_id` keeps waiting at `now`,
    /// newest first.
    fn waiting_messages(
        &self,
        account: Address,
        session_id: B256,
        now: u64,
    ) -> impl Future<Output = Result<Vec<String>, StateError>> + Send;
}
