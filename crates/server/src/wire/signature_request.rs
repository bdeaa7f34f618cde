//! `wallet_prepareCalls`' `signatureRequest`: what the key that must sign an operation signs, by
//! its type. `rawPayload` is always the 32 bytes a key's signature is over, or (for a passkey)
//! its challenge.

use alloy_primitives::{B256, eip191_hash_message};
use leash_core::{session_signer::SessionKeyType, webauthn::RpId};
use serde::Serialize;

/// The request, tagged by `type`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub(crate) enum SignatureRequest {
    /// A secp256k1 key (the owner, or a session's): `personal_sign` of the hash's bytes (`{raw}`,
    /// not text), whose EIP-191 digest is `rawPayload`; the hash signed raw is accepted too.
    #[serde(rename = "personal_sign")]
    PersonalSign { data: RawHash, raw_payload: B256 },
    /// An ERC-1271 contract: whatever its `isValidSignature(userOpHash, signature)` accepts.
    #[serde(rename = "contract")]
    Contract { data: RawHash, raw_payload: B256 },
    /// A raw P-256 key: ECDSA over the hash as the digest, not hashed again (`sign_prehash`).
    #[serde(rename = "p256")]
    P256 { data: RawHash, raw_payload: B256 },
    /// A passkey: a WebAuthn assertion (`navigator.credentials.get`) for `rpId` whose challenge
    /// is the hash's 32 bytes.
    #[serde(rename = "webauthn-p256")]
    WebAuthn {
        data: WebAuthnChallenge,
        raw_payload: B256,
    },
}

/// `{raw}`: the UserOperation hash.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RawHash {
    raw: B256,
}

/// `{challenge, rpId}`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebAuthnChallenge {
    challenge: B256,
    rp_id: RpId,
}

impl SignatureRequest {
    /// What a secp256k1 key (an account's owner, say) signs: `personal_sign` of `user_op_hash`.
    pub(crate) fn personal_sign(user_op_hash: B256) -> Self {
        Self::PersonalSign {
            data: RawHash { raw: user_op_hash },
            raw_payload: eip191_hash_message(user_op_hash),
        }
    }

    /// What a session key of `key_type` signs for `user_op_hash`.
    pub(crate) fn session(key_type: &SessionKeyType, user_op_hash: B256) -> Self {
        let data = RawHash { raw: user_op_hash };
        let raw_payload = user_op_hash;
        match key_type {
            SessionKeyType::Secp256k1 => Self::personal_sign(user_op_hash),
            SessionKeyType::Contract { .. } => Self::Contract { data, raw_payload },
            SessionKeyType::P256 { .. } => Self::P256 { data, raw_payload },
            SessionKeyType::WebAuthn { rp_id, .. } => Self::WebAuthn {
                data: WebAuthnChallenge {
                    challenge: user_op_hash,
                    rp_id: rp_id.clone(),
                },
                raw_payload,
            },
        }
    }
}
