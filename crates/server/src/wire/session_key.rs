//! Session keys on the wire: `wallet_createSession`'s `key` of each type, and the type names
//! that a session's `signatureRequest` and `signature` repeat (docs/server.md, *Key types*).

use crate::error::RpcError;
use alloy_primitives::{Address, B256, Bytes};
use leash_core::{
    session_signer::{P256PublicKey, P256Verification, PublicSigner, SessionKeyType},
    signing::PLACEHOLDER_SIGNATURE,
    webauthn::RpId,
};
use serde::Deserialize;

/// A key type's name on the wire. The hosted API's are `secp256k1`, `ecdsa` (the same key) and
/// `contract`; `p256` and `webauthn-p256` are leash's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(crate) enum KeyType {
    #[serde(rename = "secp256k1")]
    Secp256k1,
    #[serde(rename = "ecdsa")]
    Ecdsa,
    #[serde(rename = "contract")]
    Contract,
    #[serde(rename = "p256")]
    P256,
    #[serde(rename = "webauthn-p256")]
    WebAuthnP256,
}

impl KeyType {
    /// Every type `wallet_createSession` takes, as `wallet_getCapabilities` lists them.
    pub(crate) const ALL: [Self; 5] = [
        Self::Secp256k1,
        Self::Ecdsa,
        Self::Contract,
        Self::P256,
        Self::WebAuthnP256,
    ];

    /// The name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Secp256k1 => "secp256k1",
            Self::Ecdsa => "ecdsa",
            Self::Contract => "contract",
            Self::P256 => "p256",
            Self::WebAuthnP256 => "webauthn-p256",
        }
    }

    /// The type of a session whose key signs as `key_type` (a secp256k1 key is `secp256k1`).
    pub(crate) fn of(key_type: &SessionKeyType) -> Self {
        match key_type {
            SessionKeyType::Secp256k1 => Self::Secp256k1,
            SessionKeyType::Contract { .. } => Self::Contract,
            SessionKeyType::P256 { .. } => Self::P256,
            SessionKeyType::WebAuthn { .. } => Self::WebAuthnP256,
        }
    }

    /// Whether a signature of this type can be a key of type `key`'s: `ecdsa` and `secp256k1`
    /// name the same keys.
    pub(crate) fn signs_for(self, key: Self) -> bool {
        let secp256k1 = |kind| matches!(kind, Self::Secp256k1 | Self::Ecdsa);
        self == key || (secp256k1(self) && secp256k1(key))
    }
}

/// `key`: `{type, publicKey}`, with `rpId` for a passkey and optionally `placeholderSignature`
/// for a contract.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionKey {
    #[serde(rename = "type")]
    kind: KeyType,
    /// An address (secp256k1, ecdsa, contract), or a P-256 point: `x ‖ y` (64 bytes) or SEC1's
    /// uncompressed `0x04 ‖ x ‖ y` (65).
    public_key: Bytes,
    /// The relying party a passkey signs for: its hash is part of the signer id.
    #[serde(default)]
    rp_id: Option<String>,
    /// A signature of the contract's shape that it refuses, which estimates carry; 65 bytes (an
    /// ECDSA-owned contract's) when absent.
    #[serde(default)]
    placeholder_signature: Option<Bytes>,
}

impl SessionKey {
    /// The signer as the validator will see it: its id (the grant's `sessionKey`) and how it
    /// signs, a P-256 key's signatures checked by `verification`. `field` names the key.
    pub(crate) fn signer(
        self,
        verification: P256Verification,
        field: &str,
    ) -> Result<PublicSigner, RpcError> {
        let key_field = format!("{field}.publicKey");
        let address = || {
            Address::try_from(self.public_key.as_ref()).map_err(|_| {
                RpcError::invalid(
                    &key_field,
                    format!(
                        "a {} key is an address (20 bytes), not {} bytes",
                        self.kind.name(),
                        self.public_key.len()
                    ),
                )
            })
        };
        let (id, key_type) = match self.kind {
            KeyType::Secp256k1 | KeyType::Ecdsa => (address()?, SessionKeyType::Secp256k1),
            KeyType::Contract => {
                let placeholder = self
                    .placeholder_signature
                    .unwrap_or_else(|| PLACEHOLDER_SIGNATURE.into());
                (address()?, SessionKeyType::Contract { placeholder })
            }
            KeyType::P256 => {
                let public_key = p256_point(&self.public_key, &key_field)?;
                let key_type = SessionKeyType::P256 {
                    public_key,
                    verification,
                };
                (public_key.signer_id(), key_type)
            }
            KeyType::WebAuthnP256 => {
                let public_key = p256_point(&self.public_key, &key_field)?;
                let rp_id = self
                    .rp_id
                    .ok_or_else(|| {
                        RpcError::invalid(
                            format!("{field}.rpId"),
                            "a webauthn-p256 key names its relying party (rpId)",
                        )
                    })
                    .and_then(|id| {
                        RpId::new(id).map_err(|error| {
                            RpcError::invalid(format!("{field}.rpId"), error.to_string())
                        })
                    })?;
                let id = public_key.webauthn_signer_id(rp_id.hash());
                let key_type = SessionKeyType::WebAuthn {
                    public_key,
                    rp_id,
                    verification,
                };
                (id, key_type)
            }
        };
        Ok(PublicSigner { id, key_type })
    }
}

/// A point on P-256 given as `x ‖ y` or `0x04 ‖ x ‖ y`: a key off the curve could never sign.
fn p256_point(bytes: &[u8], field: &str) -> Result<P256PublicKey, RpcError> {
    let coordinates = match bytes {
        [0x04, rest @ ..] if rest.len() == 64 => rest,
        _ if bytes.len() == 64 => bytes,
        _ => {
            return Err(RpcError::invalid(
                field,
                format!(
                    "a P-256 key is x ‖ y (64 bytes) or 0x04 ‖ x ‖ y (65), not {} bytes",
                    bytes.len()
                ),
            ));
        }
    };
    let sec1 = [&[0x04], coordinates].concat();
    if p256::PublicKey::from_sec1_bytes(&sec1).is_err() {
        return Err(RpcError::invalid(field, "not a point on P-256"));
    }
    Ok(P256PublicKey {
        x: B256::from_slice(&coordinates[..32]),
        y: B256::from_slice(&coordinates[32..]),
    })
}
