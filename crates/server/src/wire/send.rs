//! `wallet_sendPreparedCalls`.

use super::{calls::Details, delegation::SignedAuthorizationItem, signature::WireSignature};
use alloy_primitives::{B256, Bytes, U64};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The prepared operation sent back with its signature. `capabilities` and v4's echoed
/// `feePayment`/`details` are ignored: everything is recomputed from `data`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendPreparedCallsRequest {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) data: Value,
    pub(crate) chain_id: U64,
    pub(crate) signature: WireSignature,
}

/// The array form, which delegates the sender with its operation: the signed authorization, then
/// the signed operation (no top-level `chainId`: each item has its own).
#[derive(Debug, Deserialize)]
pub(crate) struct SendArrayRequest {
    pub(crate) data: (SignedAuthorizationItem, SendPreparedCallsRequest),
}

/// The answer: the calls id, and the operation it names.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendPreparedCallsResponse {
    pub(crate) id: Bytes,
    pub(crate) prepared_call_ids: Vec<Bytes>,
    pub(crate) details: Details,
}

/// A calls id: the chain id as 32 bytes, then the UserOperation hash (as Alchemy's ids).
pub(crate) fn call_id(chain_id: u64, user_op_hash: B256) -> Bytes {
    let chain = B256::left_padding_from(&chain_id.to_be_bytes());
    [chain.as_slice(), user_op_hash.as_slice()].concat().into()
}

/// The chain id and hash of a calls id, when it is one.
pub(crate) fn parse_call_id(id: &[u8]) -> Option<(B256, B256)> {
    (id.len() == 64).then(|| (B256::from_slice(&id[..32]), B256::from_slice(&id[32..])))
}
