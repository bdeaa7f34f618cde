//! `leash_getSession` and `leash_listSessions`: held sessions as the server keeps them and as
//! the validator sees them.

use crate::state::WireSessionId;
use alloy_primitives::{Address, U64};
use leash_core::{
    session_signer::SessionKeyType,
    session_state::{GrantRecord, SessionState},
    validator_reads::CallLimitsLeft,
};
use serde::{Deserialize, Serialize};

/// `{sessionId}`: a session by its 16-byte wire id.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionIdRequest {
    pub(crate) session_id: WireSessionId,
}

/// One session: the grant's fields as the owner signed them (`account`, `sessionKey`, the window
/// `validAfter`/`validUntil`, `salt`, the Wallet API `permissions`, `ownerSignature` once
/// given), how its key signs (`keyType`: `{type: secp256k1 | contract | p256 | webauthn, …}` with
/// the public key), whether the window has closed on the chain's clock, and the chain's view
/// (`status`, `validatorInstalled`, `budgets`: what is left of every limit; `usesLeft` and
/// `rateLeft`: the calls left under each usage and rate limit, the latter with its period's end).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionInfo {
    pub(crate) session_id: WireSessionId,
    pub(crate) chain_id: U64,
    #[serde(flatten)]
    pub(crate) grant: GrantRecord,
    pub(crate) key_type: SessionKeyType,
    pub(crate) expired: bool,
    #[serde(flatten)]
    pub(crate) state: SessionState,
    #[serde(flatten)]
    pub(crate) call_limits: CallLimitsLeft,
}

/// `{account}`: the sessions of one account.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountRequest {
    pub(crate) account: Address,
}

/// `{sessions: [...]}`, each as `leash_getSession` answers it, ordered by session id.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SessionList {
    pub(crate) sessions: Vec<SessionInfo>,
}
