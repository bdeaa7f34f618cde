//! `wallet_prepareSign` and `wallet_formatSign`: a session signing a message as its account
//! (ERC-1271, nested as ERC-7739 nests it; docs/server.md, *Signing as the account*).

use super::{prepare::Capabilities, signature::WireSignature, signature_request::SignatureRequest};
use crate::error::RpcError;
use alloy_primitives::{Address, Bytes, U64};
use leash_core::account_message::{AccountMessage, TypedData};
use serde::{Deserialize, Serialize};

/// `wallet_prepareSign`'s request: the message, and the session that signs it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrepareSignRequest {
    pub(crate) from: Address,
    pub(crate) chain_id: U64,
    pub(crate) signature_request: MessageRequest,
    #[serde(default)]
    pub(crate) capabilities: Capabilities,
}

/// What an app asks the account to sign, as `personal_sign` and `eth_signTypedData_v4` take it
/// (kept as it came while the message waits for its signature).
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "type", content = "data")]
pub(crate) enum MessageRequest {
    /// A personal message: its text, or `{raw}` bytes.
    #[serde(rename = "personal_sign")]
    PersonalSign(PersonalMessage),
    /// EIP-712 typed data (or its JSON text).
    #[serde(rename = "eth_signTypedData_v4")]
    TypedData(Box<TypedData>),
}

/// A personal message as viem's `SignableMessage`: text signed as its UTF-8 bytes, or `{raw}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub(crate) enum PersonalMessage {
    /// Text.
    Text(String),
    /// Bytes.
    Raw {
        /// The bytes.
        raw: Bytes,
    },
}

impl MessageRequest {
    /// The message, refused (at `field`) when the contracts could not read it.
    pub(crate) fn message(self, field: &str) -> Result<AccountMessage, RpcError> {
        match self {
            Self::PersonalSign(PersonalMessage::Text(text)) => Ok(AccountMessage::personal(text)),
            Self::PersonalSign(PersonalMessage::Raw { raw }) => Ok(AccountMessage::personal(raw)),
            Self::TypedData(data) => AccountMessage::typed_data(&data)
                .map_err(|error| RpcError::invalid(format!("{field}.data"), error.to_string())),
        }
    }
}

/// `wallet_prepareSign`'s answer: what the session's key signs, as `wallet_prepareCalls` asks a
/// key of its type (`rawPayload`: the nested digest, or its EIP-191 hash for `personal_sign`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrepareSignResponse {
    pub(crate) chain_id: U64,
    pub(crate) signature_request: SignatureRequest,
}

/// `wallet_formatSign`'s request: the key's signature of what `wallet_prepareSign` asked for.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FormatSignRequest {
    pub(crate) from: Address,
    pub(crate) chain_id: U64,
    pub(crate) signature: WireSignature,
    #[serde(default)]
    pub(crate) capabilities: Capabilities,
}

/// `wallet_formatSign`'s answer: the account's ERC-1271 signature.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FormatSignResponse {
    pub(crate) signature: Bytes,
}
