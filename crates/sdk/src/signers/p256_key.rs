//! P-256 session keys (signer kinds 2 and 3): the key signs the UserOperation hash as its digest.

use alloy_primitives::{B256, Bytes};
use leash_core::{
    error::OperationError,
    session_signer::{
        P256PublicKey, P256Verification, PublicSigner, SessionKeyType, SessionSigner,
    },
};
use leash_store::keystore::P256Secret;
use p256::ecdsa::{
    Signature, SigningKey,
    signature::{Signer, hazmat::PrehashSigner},
};
use std::fmt;

/// The bytes are not a P-256 private key: zero, or not below the curve order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a P-256 private key (zero, or not below the curve order)")]
pub struct InvalidP256Key;

/// A P-256 key pair, in memory. Its `Debug` shows the public key only.
#[derive(Clone)]
pub struct P256Key {
    signing: SigningKey,
    public: P256PublicKey,
}

impl P256Key {
    /// A new random key.
    pub fn random() -> Self {
        // A uniformly random 32 bytes is a valid scalar but with probability about 2^-32.
        loop {
            if let Ok(key) = Self::from_secret(&P256Secret::new(B256::random())) {
                return key;
            }
        }
    }

    /// The key of `secret`.
    pub fn from_secret(secret: &P256Secret) -> Result<Self, InvalidP256Key> {
        let signing =
            SigningKey::from_slice(secret.to_bytes().as_slice()).map_err(|_| InvalidP256Key)?;
        let point = signing.verifying_key().to_encoded_point(false);
        // An uncompressed point of a valid key has both coordinates.
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(InvalidP256Key);
        };
        let public = P256PublicKey {
            x: B256::from_slice(x),
            y: B256::from_slice(y),
        };
        Ok(Self { signing, public })
    }

    /// The private scalar, to store.
    pub fn secret(&self) -> P256Secret {
        P256Secret::new(B256::from_slice(&self.signing.to_bytes()))
    }

    /// The public key.
    pub fn public_key(&self) -> P256PublicKey {
        self.public
    }

    /// `r, s` of `digest` signed as it is (no hashing).
    pub(crate) fn sign_digest(&self, digest: B256) -> Result<(B256, B256), OperationError> {
        let signature: Signature = self
            .signing
            .sign_prehash(digest.as_slice())
            .map_err(alloy_signer::Error::other)?;
        Ok(split(&signature))
    }

    /// `r, s` of ECDSA-P256-SHA256 over `message`, as a WebAuthn authenticator signs.
    pub(crate) fn sign_message(&self, message: &[u8]) -> Result<(B256, B256), OperationError> {
        let signature: Signature = self
            .signing
            .try_sign(message)
            .map_err(alloy_signer::Error::other)?;
        Ok(split(&signature))
    }
}

fn split(signature: &Signature) -> (B256, B256) {
    let (r, s) = signature.split_bytes();
    (B256::from_slice(&r), B256::from_slice(&s))
}

impl fmt::Debug for P256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("P256Key")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A raw P-256 session key: its key signature is `x ‖ y ‖ r ‖ s` of the UserOperation hash
/// signed as its digest; its signer id is `keccak256(x ‖ y)[12:]`.
#[derive(Clone, Debug)]
pub struct P256SessionKey {
    key: P256Key,
    verification: P256Verification,
}

impl P256SessionKey {
    /// `key`, its signatures checked by `verification`.
    pub fn new(key: P256Key, verification: P256Verification) -> Self {
        Self { key, verification }
    }

    /// The key pair.
    pub fn key(&self) -> &P256Key {
        &self.key
    }
}

impl SessionSigner for P256SessionKey {
    fn public_signer(&self) -> PublicSigner {
        PublicSigner {
            id: self.key.public.signer_id(),
            key_type: SessionKeyType::P256 {
                public_key: self.key.public,
                verification: self.verification,
            },
        }
    }

    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError> {
        let (r, s) = self.key.sign_digest(user_op_hash)?;
        Ok(self.key.public.key_signature(r, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

    fn verifying_key(public: P256PublicKey) -> VerifyingKey {
        let point = [&[0x04][..], public.x.as_slice(), public.y.as_slice()].concat();
        VerifyingKey::from_sec1_bytes(&point).expect("a point on the curve")
    }

    #[test]
    fn the_key_signature_is_the_key_and_a_signature_of_the_hash_as_its_digest() {
        let key = P256SessionKey::new(P256Key::random(), P256Verification::Precompile);
        let hash = B256::repeat_byte(0x5a);
        let signature = key.key_signature(hash).expect("signs");
        let public = key.key().public_key();
        assert_eq!(signature.len(), 128);
        assert_eq!(&signature[..64], [public.x, public.y].concat().as_slice());
        let ecdsa = Signature::from_slice(&signature[64..]).expect("r ‖ s");
        verifying_key(public)
            .verify_prehash(hash.as_slice(), &ecdsa)
            .expect("verifies over the hash itself");
        let signer = key.public_signer();
        assert_eq!(signer.id, public.signer_id());
        assert_eq!(signer.check(&signature), Ok(()));
        assert_eq!(
            signer.kind(),
            leash_core::session_signer::SignerKind::P256(P256Verification::Precompile)
        );
    }

    #[test]
    fn a_key_survives_its_secret_and_refuses_what_is_not_a_scalar() {
        let key = P256Key::random();
        let again = P256Key::from_secret(&key.secret()).expect("a valid scalar");
        assert_eq!(again.public_key(), key.public_key());
        for bad in [B256::ZERO, B256::repeat_byte(0xff)] {
            assert_eq!(
                P256Key::from_secret(&P256Secret::new(bad)).map(|_| ()),
                Err(InvalidP256Key)
            );
        }
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(&key.secret().to_bytes().to_string()[2..]),
            "{shown}"
        );
    }
}
