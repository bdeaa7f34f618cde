//! `leash_prepareRevoke`.

use super::delegation::PrepareCallsAnswer;
use crate::{error::RpcError, state::WireSessionId};
use alloy_primitives::{Address, Bytes, U64, U256};
use serde::{Deserialize, Serialize};

/// `{sessionId, bySessionKey?}` or `{account, all: true}`, with an optional `chainId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrepareRevokeRequest {
    #[serde(default)]
    session_id: Option<WireSessionId>,
    #[serde(default)]
    account: Option<Address>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    by_session_key: bool,
    #[serde(default)]
    pub(crate) chain_id: Option<U64>,
}

/// What is revoked, and by whom.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Revocation {
    /// One session, by its account's owner.
    Session(WireSessionId),
    /// One session, by its own key.
    BySessionKey(WireSessionId),
    /// Every session of the account, by its owner.
    All(Address),
}

impl PrepareRevokeRequest {
    pub(crate) fn revocation(&self) -> Result<Revocation, RpcError> {
        match (self.session_id, self.account) {
            (Some(_), Some(_)) => Err(RpcError::invalid(
                "params[0]",
                "give sessionId, or account with all: true, not both",
            )),
            (Some(_), None) if self.all => Err(RpcError::invalid(
                "params[0].all",
                "all: true revokes every session of an account: give account, not sessionId",
            )),
            (Some(id), None) if self.by_session_key => Ok(Revocation::BySessionKey(id)),
            (Some(id), None) => Ok(Revocation::Session(id)),
            (None, Some(_)) if self.by_session_key => Err(RpcError::invalid(
                "params[0].bySessionKey",
                "a session key revokes only its own session: give sessionId",
            )),
            (None, Some(account)) if self.all => Ok(Revocation::All(account)),
            (None, Some(_)) => Err(RpcError::invalid(
                "params[0].all",
                "must be true to revoke every session of the account",
            )),
            (None, None) => Err(RpcError::invalid(
                "params[0].sessionId",
                "give sessionId, or account with all: true",
            )),
        }
    }
}

/// The answer: the owner's operation (as `wallet_prepareCalls` answers it), or the transaction
/// the session key sends itself.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum PrepareRevokeAnswer {
    Prepared(PrepareCallsAnswer),
    Transaction(TransactionAnswer),
}

/// `{type: "transaction", data: {from, to, data, value, chainId}}`: an unsigned transaction for
/// `from` to sign and send from its own address, paying its own gas.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TransactionAnswer {
    #[serde(rename = "type")]
    kind: &'static str,
    data: TransactionRequest,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionRequest {
    from: Address,
    to: Address,
    data: Bytes,
    value: U256,
    chain_id: U64,
}

impl TransactionAnswer {
    pub(crate) fn new(from: Address, to: Address, data: Bytes, chain_id: u64) -> Self {
        Self {
            kind: "transaction",
            data: TransactionRequest {
                from,
                to,
                data,
                value: U256::ZERO,
                chain_id: U64::from(chain_id),
            },
        }
    }
}
