//! What the server remembers between requests: sessions by their wire id, prepared operations by
//! their hash, and the status of every call sent. [`State`] is async and fallible so a database
//! can implement it; [`MemoryState`] keeps everything in this process.

mod memory;

pub use memory::MemoryState;

use alloy_primitives::{Address, B256, FixedBytes};
use leash_core::{calls::Call, rpc_types::UserOperationReceipt, sender::SignedUserOperation};
use leash_sdk::service::StoredSession;
use std::future::Future;

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
}

/// Who signs a prepared operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreparedSigner {
    /// The key of this session.
    Session(WireSessionId),
    /// The account's owner (the EOA itself).
    Owner(Address),
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

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The backend could not read or write.
    #[error("state store: {0}")]
    Backend(String),
}

/// The server's memory. Every method may fail (a database may be unreachable) and is async (a
/// database answers later).
pub trait State: Send + Sync + 'static {
    /// Stores `session` under its wire id, replacing an earlier version (one that gained the
    /// owner's signature).
    fn put_session(
        &self,
        session: StoredSession,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The session with wire id `id`.
    fn session(
        &self,
        id: WireSessionId,
    ) -> impl Future<Output = Result<Option<StoredSession>, StateError>> + Send;

    /// Stores `call` under its hash (preparing the same operation twice stores it once).
    fn put_prepared(
        &self,
        call: PreparedCall,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The prepared operation with hash `user_op_hash`.
    fn prepared(
        &self,
        user_op_hash: B256,
    ) -> impl Future<Output = Result<Option<PreparedCall>, StateError>> + Send;

    /// Records `user_op_hash` as sent (pending) unless it already was: `true` when this call
    /// recorded it, so exactly one of concurrent identical sends submits it.
    fn start_call(
        &self,
        user_op_hash: B256,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Sets the status of a sent call.
    fn set_status(
        &self,
        user_op_hash: B256,
        status: CallStatus,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The status of a sent call.
    fn status(
        &self,
        user_op_hash: B256,
    ) -> impl Future<Output = Result<Option<CallStatus>, StateError>> + Send;
}
