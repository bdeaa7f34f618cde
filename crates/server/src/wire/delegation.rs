//! The `array` form that delegates an EOA with its first operation: `[authorization,
//! user-operation]`, answered by `wallet_prepareCalls` and sent back signed to
//! `wallet_sendPreparedCalls`.

use super::{prepare::PreparedCallsResponse, signature::WireSignature};
use crate::error::RpcError;
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{Address, B256, U64, U256};
use serde::{Deserialize, Serialize};

/// The `type` of the array form.
pub(crate) const ARRAY_TYPE: &str = "array";
const AUTHORIZATION_TYPE: &str = "authorization";

/// `wallet_prepareCalls`' answer: one operation, or the authorization to sign and then the
/// operation.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum PrepareCallsAnswer {
    Operation(Box<PreparedCallsResponse>),
    Array(ArrayResponse),
}

/// `{type: "array", data: [authorization, user-operation]}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ArrayResponse {
    #[serde(rename = "type")]
    kind: &'static str,
    data: (AuthorizationItem, Box<PreparedCallsResponse>),
}

impl ArrayResponse {
    pub(crate) fn new(authorization: &Authorization, operation: PreparedCallsResponse) -> Self {
        let chain_id = U64::from(authorization.chain_id.saturating_to::<u64>());
        let item = AuthorizationItem {
            kind: AUTHORIZATION_TYPE,
            data: AuthorizationData {
                address: authorization.address,
                nonce: U64::from(authorization.nonce),
            },
            chain_id,
            signature_request: AuthorizationSignatureRequest {
                kind: "eip7702Auth",
                raw_payload: authorization.signature_hash(),
            },
        };
        Self {
            kind: ARRAY_TYPE,
            data: (item, Box::new(operation)),
        }
    }
}

/// The authorization to sign: `rawPayload` = keccak(0x05 ‖ rlp[chainId, address, nonce]),
/// signed raw (wallets sign it from `data` and `chainId`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationItem {
    #[serde(rename = "type")]
    kind: &'static str,
    data: AuthorizationData,
    chain_id: U64,
    signature_request: AuthorizationSignatureRequest,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct AuthorizationData {
    address: Address,
    nonce: U64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationSignatureRequest {
    #[serde(rename = "type")]
    kind: &'static str,
    raw_payload: B256,
}

/// The authorization sent back with its signature (`v` 27/28 as wallets sign, or a parity).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignedAuthorizationItem {
    #[serde(rename = "type")]
    kind: String,
    data: AuthorizationData,
    chain_id: U64,
    signature: WireSignature,
}

impl SignedAuthorizationItem {
    /// The signed authorization, checked to be of this type, for `chain_id` and `delegate`, and
    /// signed by `authority`; `field` names the item in errors.
    pub(crate) fn verify(
        &self,
        field: &str,
        chain_id: u64,
        delegate: Address,
        authority: Address,
    ) -> Result<SignedAuthorization, RpcError> {
        if self.kind != AUTHORIZATION_TYPE {
            return Err(RpcError::invalid(
                format!("{field}.type"),
                format!("expected {AUTHORIZATION_TYPE:?}, got {:?}", self.kind),
            ));
        }
        if self.chain_id != U64::from(chain_id) {
            return Err(RpcError::invalid(
                format!("{field}.chainId"),
                format!("this server serves chain {chain_id}"),
            ));
        }
        if self.data.address != delegate {
            return Err(RpcError::invalid(
                format!("{field}.data.address"),
                format!("accounts here are delegated to LeashAccount, {delegate}"),
            ));
        }
        let signature_field = format!("{field}.signature");
        let signature = self
            .signature
            .parse(&signature_field)?
            .secp256k1(&signature_field)?;
        let authorization = Authorization {
            chain_id: U256::from(chain_id),
            address: delegate,
            nonce: self.data.nonce.to(),
        };
        let signed = authorization.into_signed(signature);
        match signed.recover_authority() {
            Ok(recovered) if recovered == authority => Ok(signed),
            recovered => Err(RpcError::invalid(
                format!("{field}.signature"),
                format!(
                    "the authorization must be signed by {authority}, the operation's sender \
                     (recovered {})",
                    recovered.map_or_else(|error| error.to_string(), |a| a.to_string())
                ),
            )),
        }
    }
}
