//! A signature as clients send it, `{type, data}` (docs/server.md, *Key types*):
//!
//! - `secp256k1` / `ecdsa`: 65 bytes `r ‖ s ‖ v` (v 27/28 or 0/1), `{r, s, yParity}` or
//!   `{r, s, v}`;
//! - `contract`: the bytes the contract's `isValidSignature` takes;
//! - `p256`: `r ‖ s` (64 bytes) or DER;
//! - `webauthn-p256`: `{authenticatorData, clientDataJSON, signature}`, the client data as its
//!   text or hex of its bytes, the signature as for `p256`.

use super::session_key::KeyType;
use crate::{error::RpcError, params::parse};
use alloy_primitives::{B256, Bytes, Signature, U64, U256};
use leash_core::webauthn::WebAuthnAssertion;
use leash_sdk::service::KeySignature;
use serde::Deserialize;
use serde_json::Value;

/// `{type, data}`, `data` read as `type` says once the whole request has parsed.
#[derive(Debug, Deserialize)]
pub(crate) struct WireSignature {
    #[serde(rename = "type")]
    kind: KeyType,
    data: Value,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Secp256k1Data {
    Packed(Bytes),
    Parts(SignatureParts),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureParts {
    r: U256,
    s: U256,
    #[serde(default)]
    y_parity: Option<U64>,
    #[serde(default)]
    v: Option<U64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebAuthnData {
    authenticator_data: Bytes,
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    signature: Bytes,
}

/// A signature parsed, with its type: what key it can be, decided once the key is known.
#[derive(Debug)]
pub(crate) struct TypedSignature {
    kind: KeyType,
    signature: KeySignature,
}

impl WireSignature {
    /// The signature its type says it is; `field` names it in errors.
    pub(crate) fn parse(&self, field: &str) -> Result<TypedSignature, RpcError> {
        let field = format!("{field}.data");
        let data = self.data.clone();
        let signature = match self.kind {
            KeyType::Secp256k1 | KeyType::Ecdsa => {
                KeySignature::Secp256k1(secp256k1(parse(data, &field)?, &field)?)
            }
            KeyType::Contract => KeySignature::Contract(parse(data, &field)?),
            KeyType::P256 => {
                let (r, s) = p256(&parse::<Bytes>(data, &field)?, &field)?;
                KeySignature::P256 { r, s }
            }
            KeyType::WebAuthnP256 => {
                let data: WebAuthnData = parse(data, &field)?;
                let (r, s) = p256(&data.signature, &format!("{field}.signature"))?;
                let client_data_json =
                    client_data_text(data.client_data_json, &format!("{field}.clientDataJSON"))?;
                let assertion = WebAuthnAssertion::new(data.authenticator_data, client_data_json)
                    .map_err(|error| RpcError::invalid(&field, error.to_string()))?;
                KeySignature::WebAuthn { assertion, r, s }
            }
        };
        Ok(TypedSignature {
            kind: self.kind,
            signature,
        })
    }
}

impl TypedSignature {
    /// The signature, when it can be a key of type `key`'s; another type is refused, naming
    /// both. `field` names the signature in errors.
    pub(crate) fn of_key(self, key: KeyType, field: &str) -> Result<KeySignature, RpcError> {
        if self.kind.signs_for(key) {
            Ok(self.signature)
        } else {
            Err(self.refused(key, field))
        }
    }

    /// The signature of a secp256k1 key (an account's owner).
    pub(crate) fn secp256k1(self, field: &str) -> Result<Signature, RpcError> {
        match self.signature {
            KeySignature::Secp256k1(signature) => Ok(signature),
            _ => Err(self.refused(KeyType::Secp256k1, field)),
        }
    }

    fn refused(&self, key: KeyType, field: &str) -> RpcError {
        RpcError::invalid(
            format!("{field}.type"),
            format!(
                "the key that signs is of type {}, the signature of type {}",
                key.name(),
                self.kind.name()
            ),
        )
    }
}

/// A secp256k1 signature in any of its three shapes.
fn secp256k1(data: Secp256k1Data, field: &str) -> Result<Signature, RpcError> {
    match data {
        Secp256k1Data::Packed(bytes) => Signature::try_from(bytes.as_ref())
            .map_err(|error| RpcError::invalid(field, error.to_string())),
        Secp256k1Data::Parts(parts) => {
            let parity = match (parts.y_parity, parts.v) {
                (Some(y_parity), _) => y_parity.to::<u64>(),
                (None, Some(v)) => v.to::<u64>().checked_sub(27).unwrap_or(v.to()),
                (None, None) => {
                    return Err(RpcError::invalid(field, "yParity or v is required"));
                }
            };
            match parity {
                0 | 1 => Ok(Signature::new(parts.r, parts.s, parity == 1)),
                _ => Err(RpcError::invalid(
                    field,
                    "parity must be 0 or 1 (v 27 or 28)",
                )),
            }
        }
    }
}

/// A P-256 signature's `r, s`, from `r ‖ s` or DER (what WebCrypto and authenticators give),
/// as they are: the chain has no low-s rule, so nothing is normalized.
fn p256(bytes: &[u8], field: &str) -> Result<(B256, B256), RpcError> {
    let signature = if bytes.len() == 64 {
        p256::ecdsa::Signature::from_slice(bytes)
    } else {
        p256::ecdsa::Signature::from_der(bytes)
    }
    .map_err(|_| {
        RpcError::invalid(
            field,
            format!(
                "not a P-256 signature (r ‖ s, 64 bytes, or DER; r and s in 1..n): {} bytes",
                bytes.len()
            ),
        )
    })?;
    let (r, s) = signature.split_bytes();
    Ok((B256::from_slice(&r), B256::from_slice(&s)))
}

/// The client data as the authenticator returned it: JSON text, or `0x` and its bytes in hex.
fn client_data_text(given: String, field: &str) -> Result<String, RpcError> {
    if !given.starts_with("0x") {
        return Ok(given);
    }
    let bytes: Bytes = given
        .parse()
        .map_err(|_| RpcError::invalid(field, "0x and hex digits, or the JSON text itself"))?;
    String::from_utf8(bytes.into())
        .map_err(|_| RpcError::invalid(field, "the client data is UTF-8 JSON"))
}
