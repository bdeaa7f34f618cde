//! Session keys that sign in this process, of every signer kind (docs/architecture.md, "Session
//! signers that are not EOAs"): each is a leash-core [`SessionSigner`], so
//! [`crate::service::SessionSend::prepare_signed`] and leash-core's `prepare_session_operation`
//! take any of them.
//!
//! - secp256k1: any alloy signer (`PrivateKeySigner`).
//! - [`P256SessionKey`]: a raw P-256 key ([`P256Key`]).
//! - [`SoftwareAuthenticator`]: a P-256 passkey answering as a browser's authenticator.
//! - [`ContractSigner`]: an ERC-1271 contract and whatever produces its signatures.
//!
//! [`StoredKey`] is what leash's session store keeps: the first three.

mod contract;
mod p256_key;
mod software_authenticator;

pub use contract::ContractSigner;
pub use p256_key::{InvalidP256Key, P256Key, P256SessionKey};
pub use software_authenticator::SoftwareAuthenticator;

use alloy_primitives::{B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use leash_core::{
    error::OperationError,
    session_signer::{P256Verification, PublicSigner, SessionSigner},
    webauthn::RpId,
};

/// The kind of key a new session gets, generated here and kept in the session store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NewSessionKey {
    /// A secp256k1 key.
    #[default]
    Secp256k1,
    /// A raw P-256 key, checked by the precompile or the Solidity verifier.
    P256(P256Verification),
    /// A passkey of [`SoftwareAuthenticator`] for `rp_id`.
    WebAuthn {
        /// The relying party.
        rp_id: RpId,
        /// Who checks its assertions.
        verification: P256Verification,
    },
}

/// A session key the session store keeps.
#[derive(Debug)]
pub enum StoredKey {
    /// A secp256k1 key.
    Secp256k1(PrivateKeySigner),
    /// A raw P-256 key.
    P256(P256SessionKey),
    /// A software passkey.
    WebAuthn(SoftwareAuthenticator),
}

impl StoredKey {
    /// A new random key of `kind`.
    pub fn generate(kind: &NewSessionKey) -> Self {
        match kind {
            NewSessionKey::Secp256k1 => Self::Secp256k1(PrivateKeySigner::random()),
            NewSessionKey::P256(verification) => {
                Self::P256(P256SessionKey::new(P256Key::random(), *verification))
            }
            NewSessionKey::WebAuthn {
                rp_id,
                verification,
            } => Self::WebAuthn(SoftwareAuthenticator::new(
                P256Key::random(),
                rp_id.clone(),
                *verification,
            )),
        }
    }

    fn signer(&self) -> &dyn SessionSigner {
        match self {
            Self::Secp256k1(key) => key,
            Self::P256(key) => key,
            Self::WebAuthn(key) => key,
        }
    }
}

impl SessionSigner for StoredKey {
    fn public_signer(&self) -> PublicSigner {
        self.signer().public_signer()
    }

    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError> {
        self.signer().key_signature(user_op_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leash_core::session_signer::SignerKind;

    #[test]
    fn each_kind_generates_a_key_that_signs_as_its_kind() {
        let rp_id = RpId::new("localhost").expect("a host name");
        let kinds = [
            (NewSessionKey::Secp256k1, SignerKind::Secp256k1),
            (
                NewSessionKey::P256(P256Verification::Fallback),
                SignerKind::P256(P256Verification::Fallback),
            ),
            (
                NewSessionKey::WebAuthn {
                    rp_id,
                    verification: P256Verification::Precompile,
                },
                SignerKind::WebAuthn(P256Verification::Precompile),
            ),
        ];
        for (new, kind) in kinds {
            let key = StoredKey::generate(&new);
            let signer = key.public_signer();
            assert_eq!(signer.kind(), kind);
            let signature = key.key_signature(B256::repeat_byte(1)).expect("signs");
            assert_eq!(signer.check(&signature), Ok(()), "{kind}");
        }
    }
}
