//! A software WebAuthn authenticator (signer kinds 4 and 5): a P-256 passkey held in memory that
//! answers as a browser's platform authenticator does, for tests and for the CLI. It is not a
//! security key: its key is as safe as the store it is kept in.

use super::P256Key;
use alloy_primitives::{B256, Bytes};
use leash_core::{
    error::OperationError,
    session_signer::{P256Verification, PublicSigner, SessionKeyType, SessionSigner},
    webauthn::{RpId, WebAuthnAssertion},
};
use std::sync::atomic::{AtomicU32, Ordering};

/// A passkey for one relying party that signs assertions in the standard shape
/// ([`WebAuthnAssertion::standard`]): user present and verified, a sign count that goes up with
/// each assertion (from 1), and the UserOperation hash as the challenge. Its signer id is
/// `keccak256(x ‖ y ‖ sha256(rpId))[12:]`.
#[derive(Debug)]
pub struct SoftwareAuthenticator {
    key: P256Key,
    rp_id: RpId,
    verification: P256Verification,
    sign_count: AtomicU32,
}

impl SoftwareAuthenticator {
    /// A passkey of `key` for `rp_id`, its assertions checked by `verification`.
    pub fn new(key: P256Key, rp_id: RpId, verification: P256Verification) -> Self {
        Self {
            key,
            rp_id,
            verification,
            sign_count: AtomicU32::new(0),
        }
    }

    /// The key pair.
    pub fn key(&self) -> &P256Key {
        &self.key
    }

    /// The relying party.
    pub fn rp_id(&self) -> &RpId {
        &self.rp_id
    }
}

impl SessionSigner for SoftwareAuthenticator {
    fn public_signer(&self) -> PublicSigner {
        let public_key = self.key.public_key();
        PublicSigner {
            id: public_key.webauthn_signer_id(self.rp_id.hash()),
            key_type: SessionKeyType::WebAuthn {
                public_key,
                rp_id: self.rp_id.clone(),
                verification: self.verification,
            },
        }
    }

    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError> {
        // Authenticators count up; the validator does not read the count.
        let count = self
            .sign_count
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let assertion = WebAuthnAssertion::standard(&self.rp_id, user_op_hash, count);
        let (r, s) = self.key.sign_message(&assertion.signed_message())?;
        Ok(assertion.key_signature(&self.key.public_key(), r, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leash_core::webauthn::{WEBAUTHN_HEADER, challenge};
    use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};

    #[test]
    fn an_assertion_is_what_the_validator_checks() {
        let rp_id = RpId::new("wallet.example").expect("a host name");
        let passkey = SoftwareAuthenticator::new(
            P256Key::random(),
            rp_id.clone(),
            P256Verification::Fallback,
        );
        let hash = B256::repeat_byte(0x77);
        let signature = passkey.key_signature(hash).expect("signs");
        let public = passkey.key().public_key();
        assert_eq!(&signature[..64], [public.x, public.y].concat().as_slice());

        let data_len = usize::from(u16::from_be_bytes([signature[132], signature[133]]));
        let data = &signature[WEBAUTHN_HEADER..WEBAUTHN_HEADER + data_len];
        let client_data =
            std::str::from_utf8(&signature[WEBAUTHN_HEADER + data_len..]).expect("JSON");
        assert_eq!(&data[..32], rp_id.hash().as_slice());
        assert_eq!(data[32] & 0x01, 0x01, "user present");
        assert_eq!(&data[33..37], &[0, 0, 0, 1], "the first assertion");
        let at = |i: usize| usize::from(u16::from_be_bytes([signature[i], signature[i + 1]]));
        assert_eq!(
            &client_data[at(128)..at(128) + 57],
            format!(r#""challenge":"{}""#, challenge(hash))
        );
        assert_eq!(
            &client_data[at(130)..at(130) + 21],
            r#""type":"webauthn.get""#
        );

        // What an authenticator signs: authenticatorData ‖ sha256(clientDataJSON), with SHA-256.
        let message = WebAuthnAssertion::new(data.to_vec().into(), client_data.to_owned())
            .expect("well formed")
            .signed_message();
        let point = [&[0x04][..], public.x.as_slice(), public.y.as_slice()].concat();
        let ecdsa = Signature::from_slice(&signature[64..128]).expect("r ‖ s");
        VerifyingKey::from_sec1_bytes(&point)
            .expect("a point")
            .verify(&message, &ecdsa)
            .expect("verifies");

        let signer = passkey.public_signer();
        assert_eq!(signer.id, public.webauthn_signer_id(rp_id.hash()));
        assert_eq!(signer.check(&signature), Ok(()));
        assert_eq!(signer.dummy_key_signature().len(), signature.len());
        let second = passkey.key_signature(hash).expect("signs");
        assert_eq!(
            &second[WEBAUTHN_HEADER + 33..WEBAUTHN_HEADER + 37],
            &[0, 0, 0, 2]
        );
    }
}
