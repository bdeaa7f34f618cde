//! P-256 session keys as a client holds them: a random key, its public point, and its `p256`
//! signature of a UserOperation hash.

use alloy_primitives::{B256, Bytes};
use p256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use serde_json::{Value, json};

/// A random P-256 key.
pub(crate) fn random() -> SigningKey {
    // 32 random bytes are a valid scalar but with probability about 2^-32.
    loop {
        if let Ok(key) = SigningKey::from_slice(B256::random().as_slice()) {
            return key;
        }
    }
}

/// `key`'s public point: `0x04 ‖ x ‖ y`.
pub(crate) fn sec1(key: &SigningKey) -> Bytes {
    key.verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
        .into()
}

/// `key`'s `p256` signature of `hash` as the digest itself, `r ‖ s`.
pub(crate) fn signature(key: &SigningKey, hash: B256) -> eyre::Result<Value> {
    let signature: Signature = key.sign_prehash(hash.as_slice())?;
    Ok(json!({ "type": "p256", "data": Bytes::from(signature.to_bytes().to_vec()) }))
}
