//! The session-signed request: the capability (the owner-signed SIWE message), the request's
//! method, target and body hash, a timestamp and a nonce, and the session key's signature over
//! them; and its HTTP binding, one `Leash-Session` header.

use alloy_primitives::{B128, B256, Bytes, Signature, eip191_hash_message, keccak256};
use alloy_signer::SignerSync;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// The HTTP header that carries a [`SessionRequest`].
pub const SESSION_HEADER: &str = "leash-session";

/// The owner's signed capability: the SIWE text as signed, and the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCapability {
    /// The SIWE message, exactly as the owner signed it (`personal_sign`).
    pub message: String,
    /// The owner's signature: 65 bytes from an EOA or 7702 account, anything an ERC-1271
    /// account accepts, or an ERC-6492 wrapper for an account not deployed yet.
    pub signature: Bytes,
}

impl SignedCapability {
    /// What a verifier caches the capability's checks under: the message and the signature.
    pub fn cache_key(&self) -> B256 {
        let mut bytes = Vec::with_capacity(self.message.len() + self.signature.len());
        bytes.extend_from_slice(self.message.as_bytes());
        bytes.extend_from_slice(&self.signature);
        keccak256(bytes)
    }
}

/// One request signed by a session key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// The capability the request is made under.
    pub capability: SignedCapability,
    /// The HTTP method, upper case (`GET`, `POST`).
    pub method: String,
    /// The path and query (`/orders?limit=10`).
    pub target: String,
    /// keccak256 of the body (of no bytes for an empty body).
    pub body_hash: B256,
    /// When it was signed, unix seconds.
    pub timestamp: u64,
    /// Random, once per request: the replay check remembers it.
    pub nonce: B128,
    /// The session key's `personal_sign` signature of [`signing_text`](Self::signing_text).
    pub signature: Bytes,
}

/// Everything of a request but the session key's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedRequest<'a> {
    /// The capability.
    pub capability: &'a SignedCapability,
    /// The HTTP method.
    pub method: &'a str,
    /// The path and query.
    pub target: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// Unix seconds.
    pub timestamp: u64,
    /// The nonce.
    pub nonce: B128,
}

impl UnsignedRequest<'_> {
    /// Signs it with the session key.
    pub fn sign(self, key: &impl SignerSync) -> Result<SessionRequest, alloy_signer::Error> {
        let body_hash = keccak256(self.body);
        let text = signing_text(
            self.capability.cache_key(),
            self.method,
            self.target,
            body_hash,
            self.timestamp,
            self.nonce,
        );
        let signature = key.sign_message_sync(text.as_bytes())?;
        Ok(SessionRequest {
            capability: self.capability.clone(),
            method: self.method.to_owned(),
            target: self.target.to_owned(),
            body_hash,
            timestamp: self.timestamp,
            nonce: self.nonce,
            signature: signature.as_bytes().into(),
        })
    }
}

/// The text the session key signs: readable, so a wallet that holds the session key can show
/// it, and bound to the capability by its hash, so a signature cannot move to another one.
fn signing_text(
    capability_hash: B256,
    method: &str,
    target: &str,
    body_hash: B256,
    timestamp: u64,
    nonce: B128,
) -> String {
    format!(
        "leash session request\nmethod: {method}\ntarget: {target}\nbody: {body_hash}\n\
         timestamp: {timestamp}\nnonce: {nonce}\ncapability: {capability_hash}"
    )
}

/// Why a `Leash-Session` header could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not base64url.
    #[error("the Leash-Session header is not base64url: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not the JSON envelope.
    #[error("the Leash-Session header is not a session request: {0}")]
    Json(#[from] serde_json::Error),
    /// The session signature is not 65 bytes.
    #[error("the session signature is {length} bytes, not 65")]
    SignatureLength {
        /// Its length.
        length: usize,
    },
}

impl SessionRequest {
    /// The text the session key signed.
    pub fn signing_text(&self) -> String {
        self.signing_text_with(self.capability.cache_key())
    }

    /// The EIP-191 digest the session key signed.
    pub fn signing_hash(&self) -> B256 {
        eip191_hash_message(self.signing_text())
    }

    /// The signing text given the capability's hash, which a verifier has computed already.
    pub(crate) fn signing_text_with(&self, capability_hash: B256) -> String {
        signing_text(
            capability_hash,
            &self.method,
            &self.target,
            self.body_hash,
            self.timestamp,
            self.nonce,
        )
    }

    /// The session signature, parsed.
    pub fn session_signature(&self) -> Result<Signature, EnvelopeError> {
        let length = self.signature.len();
        Signature::try_from(self.signature.as_ref())
            .map_err(|_| EnvelopeError::SignatureLength { length })
    }

    /// The `Leash-Session` header value: base64url (no padding) of the JSON envelope.
    pub fn to_header(&self) -> String {
        // Serializing plain strings, numbers and byte strings cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a `Leash-Session` header value.
    pub fn from_header(value: &[u8]) -> Result<Self, EnvelopeError> {
        let json = URL_SAFE_NO_PAD.decode(value)?;
        Ok(serde_json::from_slice(&json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer_local::PrivateKeySigner;
    use proptest::prelude::*;

    #[test]
    fn header_round_trips_and_the_signature_recovers_to_the_key() {
        let key = PrivateKeySigner::random();
        let capability = SignedCapability {
            message: "m".into(),
            signature: Bytes::from(vec![1; 65]),
        };
        let request = UnsignedRequest {
            capability: &capability,
            method: "POST",
            target: "/orders?x=1",
            body: b"{}",
            timestamp: 1_700_000_000,
            nonce: B128::repeat_byte(7),
        }
        .sign(&key)
        .expect("ok");
        let back = SessionRequest::from_header(request.to_header().as_bytes()).expect("ok");
        assert_eq!(back, request);
        let recovered = back
            .session_signature()
            .expect("ok")
            .recover_address_from_prehash(&back.signing_hash())
            .expect("ok");
        assert_eq!(recovered, key.address());
    }

    proptest! {
        // The header is attacker input: any bytes give an error or a request, never a panic.
        #[test]
        fn header_parsing_never_panics(value in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SessionRequest::from_header(&value);
            let encoded = URL_SAFE_NO_PAD.encode(&value);
            let _ = SessionRequest::from_header(encoded.as_bytes());
        }
    }
}
