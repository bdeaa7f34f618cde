//! `wallet_createSession`.

use super::session_key::SessionKey;
use crate::state::WireSessionId;
use alloy_primitives::{Address, B256, U64};
use leash_core::permission::Permission;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request: a key (public: the server never holds it), what it may do, until when.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSessionRequest {
    pub(crate) account: Address,
    pub(crate) chain_id: U64,
    /// Unix seconds; absent or 0 for no expiry.
    #[serde(default)]
    pub(crate) expiry_sec: Option<u64>,
    pub(crate) key: SessionKey,
    pub(crate) permissions: Vec<Permission>,
}

/// The answer: the wire session id and the grant's typed data for the owner to sign.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSessionResponse {
    pub(crate) session_id: WireSessionId,
    pub(crate) chain_id: U64,
    pub(crate) signature_request: TypedDataRequest,
}

/// `eth_signTypedData_v4` of `data`, whose digest is `rawPayload` (sign it with no prefix).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TypedDataRequest {
    #[serde(rename = "type")]
    kind: &'static str,
    data: Value,
    raw_payload: B256,
}

impl TypedDataRequest {
    pub(crate) fn new(data: Value, raw_payload: B256) -> Self {
        Self {
            kind: "eth_signTypedData_v4",
            data,
            raw_payload,
        }
    }
}
