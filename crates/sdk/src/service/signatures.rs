//! Signatures of a UserOperation hash made outside this process: which key made them, and the
//! form the account's contracts take them in.

use super::ServiceError;
use alloy_primitives::{Address, B256, Bytes, Signature, eip191_hash_message};
use leash_core::{
    prepare::FinalizeError,
    session_signer::{P256PublicKey, PublicSigner, SessionKeyType},
    webauthn::WebAuthnAssertion,
};
use p256::ecdsa::{
    Signature as P256Signature, VerifyingKey,
    signature::{Verifier, hazmat::PrehashVerifier},
};

/// What a key signed: the UserOperation hash itself, or the hash as an EIP-191 message
/// (`personal_sign`, `cast wallet sign` without `--no-hash`), which is what most wallets can
/// sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedPayload {
    /// The 32-byte hash, with no prefix.
    RawHash,
    /// `"\x19Ethereum Signed Message:\n32" ‖ hash`.
    PersonalSign,
}

/// A key's signature of a UserOperation hash, checked, in the form the contracts verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationSignature {
    /// What the key signed.
    pub payload: SignedPayload,
    /// `r ‖ s ‖ v`: `v` in {27, 28} over the raw hash, and `v + 4` (31 or 32) over the EIP-191
    /// message, which tells the account and the validator to recover over the prefixed hash.
    pub contract_form: Bytes,
}

/// The amount added to `v` to mark a signature of the EIP-191 message of the hash.
const PERSONAL_SIGN_V_OFFSET: u8 = 4;

/// Checks that `signature` of `user_op_hash` recovers to `expected`, over the hash itself or
/// over its EIP-191 message, and gives it in the contracts' form; any other signer fails as
/// [`ServiceError::OperationSignatureMismatch`].
pub fn verify_operation_signature(
    user_op_hash: B256,
    signature: &Signature,
    expected: Address,
) -> Result<OperationSignature, ServiceError> {
    let recovers_over =
        |digest: B256| signature.recover_address_from_prehash(&digest).ok() == Some(expected);
    let raw: [u8; 65] = signature.as_bytes();
    if recovers_over(user_op_hash) {
        return Ok(OperationSignature {
            payload: SignedPayload::RawHash,
            contract_form: raw.into(),
        });
    }
    if recovers_over(eip191_hash_message(user_op_hash)) {
        let mut marked = raw;
        marked[64] += PERSONAL_SIGN_V_OFFSET;
        return Ok(OperationSignature {
            payload: SignedPayload::PersonalSign,
            contract_form: marked.into(),
        });
    }
    Err(ServiceError::OperationSignatureMismatch {
        user_op_hash,
        expected,
    })
}

/// A session key's signature of a UserOperation hash made elsewhere, as its kind gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySignature {
    /// A secp256k1 key's, over the hash or over its EIP-191 message.
    Secp256k1(Signature),
    /// An ERC-1271 contract's: what its `isValidSignature(userOpHash, ·)` takes.
    Contract(Bytes),
    /// A raw P-256 key's, over the hash as its digest.
    P256 {
        /// r.
        r: B256,
        /// s.
        s: B256,
    },
    /// A passkey's assertion, and the key's signature of its signed message.
    WebAuthn {
        /// The authenticator data and client data.
        assertion: WebAuthnAssertion,
        /// r.
        r: B256,
        /// s.
        s: B256,
    },
}

/// `signature` of `user_op_hash` by the session's `signer`, checked as far as it can be off
/// chain, as the key signature the validator reads (what [`super::SessionSend::attach`] takes):
///
/// - secp256k1: it recovers to the signer over the hash or its EIP-191 message
///   ([`verify_operation_signature`]; another key is [`ServiceError::OperationSignatureMismatch`]).
/// - P-256: it verifies under the session's key over the hash.
/// - WebAuthn: its challenge is the hash ([`ServiceError::ChallengeMismatch`]), and it verifies
///   under the session's key. An assertion for another relying party names another signer, which
///   `attach` refuses.
/// - contract: only the contract can tell (validation asks it; so can the caller, before
///   sending).
///
/// A P-256 or WebAuthn signature by another key is [`ServiceError::KeySignatureMismatch`]; a
/// signature of another kind than the signer's is [`ServiceError::MalformedSignature`].
pub fn verify_key_signature(
    user_op_hash: B256,
    signer: &PublicSigner,
    signature: &KeySignature,
) -> Result<Bytes, ServiceError> {
    let verified = |verifies: bool, key_signature: Bytes| {
        if verifies {
            Ok(key_signature)
        } else {
            Err(ServiceError::KeySignatureMismatch {
                user_op_hash,
                kind: signer.kind(),
                expected: signer.id,
            })
        }
    };
    match (&signer.key_type, signature) {
        (SessionKeyType::Secp256k1, KeySignature::Secp256k1(signature)) => {
            Ok(verify_operation_signature(user_op_hash, signature, signer.id)?.contract_form)
        }
        (SessionKeyType::Contract { .. }, KeySignature::Contract(signature)) => {
            Ok([signer.id.as_slice(), signature].concat().into())
        }
        (SessionKeyType::P256 { public_key, .. }, KeySignature::P256 { r, s }) => verified(
            p256_verifies(public_key, *r, *s, |key, ecdsa| {
                key.verify_prehash(user_op_hash.as_slice(), ecdsa).is_ok()
            }),
            public_key.key_signature(*r, *s),
        ),
        (
            SessionKeyType::WebAuthn { public_key, .. },
            KeySignature::WebAuthn { assertion, r, s },
        ) => {
            if !assertion.is_for(user_op_hash) {
                return Err(ServiceError::ChallengeMismatch { user_op_hash });
            }
            verified(
                p256_verifies(public_key, *r, *s, |key, ecdsa| {
                    key.verify(&assertion.signed_message(), ecdsa).is_ok()
                }),
                assertion.key_signature(public_key, *r, *s),
            )
        }
        _ => Err(ServiceError::MalformedSignature(
            FinalizeError::NamesNoSigner {
                kind: signer.kind(),
            },
        )),
    }
}

/// Whether `r, s` under `key` pass `check`; a key off the curve, or `r` or `s` out of range,
/// never verify (as on chain).
fn p256_verifies(
    key: &P256PublicKey,
    r: B256,
    s: B256,
    check: impl FnOnce(&VerifyingKey, &P256Signature) -> bool,
) -> bool {
    let point = [&[0x04], key.x.as_slice(), key.y.as_slice()].concat();
    match (
        VerifyingKey::from_sec1_bytes(&point),
        P256Signature::from_scalars(r.0, s.0),
    ) {
        (Ok(key), Ok(ecdsa)) => check(&key, &ecdsa),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signers::{P256Key, P256SessionKey};
    use alloy_primitives::U256;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use leash_core::{
        session_signer::{P256Verification, SessionSigner},
        webauthn::RpId,
    };

    const HASH: B256 = B256::repeat_byte(0x42);

    /// The P-256 curve order.
    const N: U256 = alloy_primitives::uint!(
        0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551_U256
    );

    /// A P-256 session key's signer and its `r, s` of `HASH`.
    fn p256_signed() -> (PublicSigner, B256, B256) {
        let key = P256SessionKey::new(P256Key::random(), P256Verification::Precompile);
        let signature = key.key_signature(HASH).expect("signs");
        let word = |at: usize| B256::from_slice(&signature[at..at + 32]);
        (key.public_signer(), word(64), word(96))
    }

    /// A passkey for `rp_id`, the standard assertion over `hash`, and the key's `r, s` of it.
    fn webauthn_signed(hash: B256) -> (PublicSigner, WebAuthnAssertion, B256, B256) {
        let key = P256Key::random();
        let rp_id = RpId::new("wallet.example").expect("a host name");
        let assertion = WebAuthnAssertion::standard(&rp_id, hash, 1);
        let (r, s) = key
            .sign_message(&assertion.signed_message())
            .expect("signs");
        let public_key = key.public_key();
        let signer = PublicSigner {
            id: public_key.webauthn_signer_id(rp_id.hash()),
            key_type: SessionKeyType::WebAuthn {
                public_key,
                rp_id,
                verification: P256Verification::Fallback,
            },
        };
        (signer, assertion, r, s)
    }

    fn code(result: Result<Bytes, ServiceError>) -> Option<u32> {
        result.err().map(|error| error.code())
    }

    #[test]
    fn a_raw_signature_keeps_its_v() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = key.sign_hash_sync(&HASH)?;
        let checked = verify_operation_signature(HASH, &signature, key.address())?;
        assert_eq!(checked.payload, SignedPayload::RawHash);
        assert_eq!(
            checked.contract_form.as_ref(),
            signature.as_bytes().as_slice()
        );
        Ok(())
    }

    #[test]
    fn a_personal_sign_signature_gets_v_plus_four() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = key.sign_message_sync(HASH.as_slice())?;
        let checked = verify_operation_signature(HASH, &signature, key.address())?;
        assert_eq!(checked.payload, SignedPayload::PersonalSign);
        assert_eq!(checked.contract_form[..64], signature.as_bytes()[..64]);
        assert!([31, 32].contains(&checked.contract_form[64]));
        Ok(())
    }

    #[test]
    fn another_key_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = PrivateKeySigner::random().sign_hash_sync(&HASH)?;
        let error = verify_operation_signature(HASH, &signature, key.address())
            .err()
            .map(|e| e.code());
        assert_eq!(error, Some(1014));
        Ok(())
    }

    #[test]
    fn a_p256_signature_of_the_hash_by_the_sessions_key_is_its_key_signature() {
        let (signer, r, s) = p256_signed();
        let SessionKeyType::P256 { public_key, .. } = &signer.key_type else {
            unreachable!("a P-256 signer")
        };
        let checked = verify_key_signature(HASH, &signer, &KeySignature::P256 { r, s });
        assert_eq!(checked.ok(), Some(public_key.key_signature(r, s)));
        // The chain has no low-s rule (EIP-7951), and neither does this check.
        let high_s = B256::from(N - U256::from_be_bytes(s.0));
        let high = verify_key_signature(HASH, &signer, &KeySignature::P256 { r, s: high_s });
        assert_eq!(high.ok(), Some(public_key.key_signature(r, high_s)));
    }

    #[test]
    fn a_p256_signature_by_another_key_or_of_another_hash_is_refused() {
        let (signer, _, _) = p256_signed();
        let (_, r, s) = p256_signed();
        let error = verify_key_signature(HASH, &signer, &KeySignature::P256 { r, s })
            .err()
            .map(|error| error.to_string());
        assert_eq!(
            error,
            Some(format!(
                "the P-256 (precompile) signature of UserOperation {HASH} is not by the \
                 session's signer {}",
                signer.id
            ))
        );
        let (signer, r, s) = p256_signed();
        let other = B256::repeat_byte(0x43);
        assert_eq!(
            code(verify_key_signature(
                other,
                &signer,
                &KeySignature::P256 { r, s }
            )),
            Some(1018)
        );
        let zero = KeySignature::P256 { r: B256::ZERO, s };
        assert_eq!(code(verify_key_signature(HASH, &signer, &zero)), Some(1018));
    }

    #[test]
    fn a_webauthn_assertion_verifies_over_its_message_and_must_challenge_the_hash() {
        let (signer, assertion, r, s) = webauthn_signed(HASH);
        let SessionKeyType::WebAuthn { public_key, .. } = &signer.key_type else {
            unreachable!("a passkey")
        };
        let signature = KeySignature::WebAuthn {
            assertion: assertion.clone(),
            r,
            s,
        };
        assert_eq!(
            verify_key_signature(HASH, &signer, &signature).ok(),
            Some(assertion.key_signature(public_key, r, s))
        );
        let error = verify_key_signature(B256::ZERO, &signer, &signature)
            .err()
            .map(|error| (error.code(), error.to_string()));
        assert_eq!(
            error,
            Some((
                1019,
                format!(
                    "the WebAuthn assertion's challenge is not UserOperation {}'s \
                     (\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" first in its client data)",
                    B256::ZERO
                )
            ))
        );
        let (_, other, r, s) = webauthn_signed(HASH);
        let by_another = KeySignature::WebAuthn {
            assertion: other,
            r,
            s,
        };
        assert_eq!(
            code(verify_key_signature(HASH, &signer, &by_another)),
            Some(1018)
        );
    }

    #[test]
    fn a_contract_signature_is_prefixed_with_the_contract_and_kinds_must_match() {
        let contract = PublicSigner {
            id: Address::repeat_byte(0xc0),
            key_type: SessionKeyType::Contract {
                placeholder: Bytes::from_static(&[0; 65]),
            },
        };
        let signature = KeySignature::Contract(Bytes::from_static(&[7; 3]));
        assert_eq!(
            verify_key_signature(HASH, &contract, &signature).ok(),
            Some([[0xc0; 20].as_slice(), &[7; 3]].concat().into())
        );
        let (p256, r, s) = p256_signed();
        let error = verify_key_signature(HASH, &p256, &signature)
            .err()
            .map(|error| (error.code(), error.to_string()));
        assert_eq!(
            error,
            Some((
                1011,
                "signature: not a P-256 (precompile) key signature: it is malformed and names no \
                 signer"
                    .to_owned()
            ))
        );
        assert_eq!(
            code(verify_key_signature(
                HASH,
                &contract,
                &KeySignature::P256 { r, s }
            )),
            Some(1011)
        );
        let key = PrivateKeySigner::random();
        let secp = key.public_signer();
        let signed = KeySignature::Secp256k1(key.sign_hash_sync(&HASH).expect("signs"));
        assert_eq!(code(verify_key_signature(HASH, &secp, &signed)), None);
        let stranger = PrivateKeySigner::random().public_signer();
        assert_eq!(
            code(verify_key_signature(HASH, &stranger, &signed)),
            Some(1014)
        );
    }
}
