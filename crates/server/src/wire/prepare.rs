//! `wallet_prepareCalls`.

use super::{
    calls::{Details, WireCall},
    signature_request::SignatureRequest,
};
use crate::{error::RpcError, state::WireSessionId};
use alloy_primitives::{Address, Bytes, U64, U256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request: calls from an account; with `capabilities.permissions` a session key makes them,
/// without it the owner.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrepareCallsRequest {
    #[serde(default)]
    pub(crate) calls: Vec<WireCall>,
    pub(crate) from: Address,
    pub(crate) chain_id: U64,
    #[serde(default)]
    pub(crate) capabilities: Capabilities,
}

/// The capabilities leash reads; others (`paymasterService`, …) are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Capabilities {
    #[serde(default)]
    pub(crate) permissions: Option<PermissionsCapability>,
}

/// `{context}` (what the SDK sends) or `{sessionId, signature}` (the raw API's form).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PermissionsCapability {
    #[serde(default)]
    context: Option<Bytes>,
    #[serde(default)]
    session_id: Option<Bytes>,
    #[serde(default)]
    signature: Option<Bytes>,
}

/// The session a request names, with the owner's signature of the grant when it carries one.
#[derive(Debug)]
pub(crate) struct SessionReference {
    pub(crate) id: WireSessionId,
    pub(crate) owner_signature: Option<Bytes>,
}

/// `context` = mode ‖ session id ‖ owner signature; mode 0x00 is the remote mode, where the
/// server holds the session (0x01 and 0x02 are client-side forms leash does not serve). The
/// permissions context of an ERC-7715 grant is the same bytes.
const REMOTE_MODE: u8 = 0x00;
const SIGNATURE_LEN: usize = 65;
const FIELD: &str = "params[0].capabilities.permissions";

impl SessionReference {
    /// The session `context` names, with the owner's signature it carries; `field` names the
    /// context in an error.
    pub(crate) fn from_context(context: &Bytes, field: &str) -> Result<Self, RpcError> {
        let id_end = 1 + WireSessionId::len_bytes();
        if context.len() != id_end + SIGNATURE_LEN || context[0] != REMOTE_MODE {
            return Err(RpcError::invalid(
                field,
                format!(
                    "expected 0x00 ‖ sessionId (16 bytes) ‖ signature (65 bytes), got {} bytes",
                    context.len()
                ),
            ));
        }
        Ok(Self {
            id: WireSessionId::from_slice(&context[1..id_end]),
            owner_signature: Some(context.slice(id_end..)),
        })
    }

    /// The context that names session `id` signed with `owner_signature`: what a client builds
    /// after `wallet_createSession`, and what an ERC-7715 grant answers.
    pub(crate) fn context(id: WireSessionId, owner_signature: &Bytes) -> Bytes {
        [&[REMOTE_MODE], id.as_slice(), owner_signature.as_ref()]
            .concat()
            .into()
    }
}

impl PermissionsCapability {
    pub(crate) fn session(self) -> Result<SessionReference, RpcError> {
        match (self.context, self.session_id) {
            (Some(context), None) => {
                SessionReference::from_context(&context, &format!("{FIELD}.context"))
            }
            (None, Some(id)) => {
                if id.len() != WireSessionId::len_bytes() {
                    return Err(RpcError::invalid(
                        format!("{FIELD}.sessionId"),
                        format!("expected 16 bytes, got {}", id.len()),
                    ));
                }
                if let Some(signature) = &self.signature
                    && signature.len() != SIGNATURE_LEN
                {
                    return Err(RpcError::invalid(
                        format!("{FIELD}.signature"),
                        format!("expected 65 bytes, got {}", signature.len()),
                    ));
                }
                Ok(SessionReference {
                    id: WireSessionId::from_slice(&id),
                    owner_signature: self.signature,
                })
            }
            _ => Err(RpcError::invalid(
                FIELD,
                "give either context or sessionId (with signature)",
            )),
        }
    }
}

/// The answer: the unsigned operation, what to sign, its fee and details.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PreparedCallsResponse {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) data: Value,
    pub(crate) chain_id: U64,
    pub(crate) signature_request: SignatureRequest,
    pub(crate) fee_payment: FeePayment,
    pub(crate) details: Details,
}

/// EntryPoint v0.8 operations travel as `user-operation-v070`: the JSON is the same, the Wallet
/// API has no v0.8 type, and clients never compute the hash themselves.
pub(crate) const USER_OPERATION_TYPE: &str = "user-operation-v070";

/// Who pays: the account itself (no paymaster), at most `maxAmount` wei of native token.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FeePayment {
    sponsored: bool,
    token_address: Address,
    max_amount: U256,
}

impl FeePayment {
    pub(crate) fn self_paid(max_amount: U256) -> Self {
        Self {
            sponsored: false,
            token_address: Address::ZERO,
            max_amount,
        }
    }
}
