use super::*;
use crate::{
    service::{GrantTerms, grant_session, with_key_type},
    signers::{NewSessionKey, P256Key, P256SessionKey, SoftwareAuthenticator, StoredKey},
};
use alloy_primitives::{Address, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_core::{
    account_message::{FORM_PERSONAL, FORM_TYPED_DATA, TypedData},
    grant::GrantDomain,
    permission::Permission,
    prepare::FinalizeError,
    session_signer::P256Verification,
    webauthn::{RpId, WebAuthnAssertion},
};
use serde_json::json;

const APP: Address = address!("0x00000000000000000000000000000000000000a9");
const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000f0");
const CHAIN_ID: u64 = 31337;

/// A session of `key`'s signer holding `permissions`, not stored.
fn session(key: &dyn SessionSigner, permissions: Vec<Permission>) -> StoredSession {
    let signer = key.public_signer();
    let domain = GrantDomain {
        chain_id: CHAIN_ID,
        validator: VALIDATOR,
    };
    let terms = GrantTerms {
        account: address!("0x00000000000000000000000000000000000000a1"),
        session_key: signer.id,
        permissions,
        valid_after: 0,
        valid_until: 2_000_000_000,
        label: "messages".into(),
    };
    let session = grant_session(domain, 1_000, terms).expect("a valid grant");
    with_key_type(session, signer.key_type).expect("the key's own id")
}

fn both() -> Vec<Permission> {
    vec![
        Permission::PersonalSign,
        Permission::TypedDataSigning { address: APP },
    ]
}

fn pull(verifying_contract: Address) -> AccountMessage {
    let data: TypedData = serde_json::from_value(json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Pull": [{"name": "amount", "type": "uint256"}]
        },
        "primaryType": "Pull",
        "domain": {"name": "TypedDataApp", "verifyingContract": verifying_contract},
        "message": {"amount": "10"}
    }))
    .expect("typed data");
    AccountMessage::typed_data(&data).expect("nestable")
}

fn kinds() -> Vec<StoredKey> {
    let rp_id = RpId::new("wallet.example").expect("a host name");
    [
        NewSessionKey::Secp256k1,
        NewSessionKey::P256(P256Verification::Precompile),
        NewSessionKey::WebAuthn {
            rp_id,
            verification: P256Verification::Fallback,
        },
    ]
    .iter()
    .map(StoredKey::generate)
    .collect()
}

#[test]
fn every_stored_kind_signs_the_nested_digest_as_the_account() {
    for key in kinds() {
        let session = session(&key, both());
        for (message, form) in [
            (AccountMessage::personal("sign in"), FORM_PERSONAL),
            (pull(APP), FORM_TYPED_DATA),
        ] {
            let signed = sign_message(&session, &key, message.clone()).expect("allowed");
            let kind = key.public_signer().kind();
            assert_eq!(signed.hash, message.hash());
            let signature = &signed.signature;
            assert_eq!(&signature[..20], VALIDATOR.as_slice());
            assert_eq!(signature[20], kind.mode_bits() | form, "{kind}");
            assert_eq!(&signature[21..53], session.session_id.as_slice());
            let key_len = usize::from(u16::from_be_bytes([signature[53], signature[54]]));
            let key_signature = &signature[55..55 + key_len];
            assert_eq!(key.public_signer().check(key_signature), Ok(()), "{kind}");
            // The same bytes as the key's own signature would give, around the same digest.
            let prepared = prepare_message(&session, message).expect("allowed");
            assert_eq!(
                prepared.digest,
                prepared.message.digest(session.account, CHAIN_ID)
            );
            assert_eq!(
                prepared.attach(key_signature).expect("its shape"),
                signed,
                "{kind}"
            );
        }
    }
}

#[test]
fn a_secp256k1_signature_of_the_digest_verifies_raw_or_as_personal_sign() {
    let key = PrivateKeySigner::random();
    let session = session(&key, both());
    let prepared = prepare_message(&session, AccountMessage::personal("hi")).expect("allowed");
    let raw = key.sign_hash_sync(&prepared.digest).expect("signs");
    let signed = prepared
        .verify(&KeySignature::Secp256k1(raw))
        .expect("the session's key");
    assert_eq!(&signed.signature[55..], raw.as_bytes().as_slice());
    let personal = key
        .sign_message_sync(prepared.digest.as_slice())
        .expect("signs");
    let signed = prepared
        .verify(&KeySignature::Secp256k1(personal))
        .expect("the session's key, EIP-191");
    assert_eq!(signed.signature[55 + 64], personal.as_bytes()[64] + 4);

    let other = PrivateKeySigner::random()
        .sign_hash_sync(&prepared.digest)
        .expect("signs");
    let error = prepared
        .verify(&KeySignature::Secp256k1(other))
        .expect_err("another key");
    assert_eq!(error.code(), 1022);
    assert_eq!(
        error.to_string(),
        format!(
            "the secp256k1 signature is not session signer {}'s signature of message digest {}",
            key.address(),
            prepared.digest
        )
    );
}

#[test]
fn p256_and_passkey_signatures_made_elsewhere_must_be_of_the_digest() {
    let key = P256Key::random();
    let p256 = P256SessionKey::new(key.clone(), P256Verification::Fallback);
    let p256_session = session(&p256, both());
    let prepared = prepare_message(&p256_session, pull(APP)).expect("allowed");
    let (r, s) = key.sign_digest(prepared.digest).expect("signs");
    prepared
        .verify(&KeySignature::P256 { r, s })
        .expect("the session's key");
    let (r, s) = key.sign_digest(prepared.hash).expect("signs");
    assert_eq!(
        prepared
            .verify(&KeySignature::P256 { r, s })
            .map_err(|e| e.code()),
        Err(1022),
        "the app's hash is not what the key signs"
    );

    let rp_id = RpId::new("wallet.example").expect("a host name");
    let passkey =
        SoftwareAuthenticator::new(key.clone(), rp_id.clone(), P256Verification::Precompile);
    let passkey_session = session(&passkey, both());
    let prepared =
        prepare_message(&passkey_session, AccountMessage::personal("hi")).expect("allowed");
    for (challenge, expected) in [(prepared.digest, None), (prepared.hash, Some(1022))] {
        let assertion = WebAuthnAssertion::standard(&rp_id, challenge, 1);
        let (r, s) = key
            .sign_message(&assertion.signed_message())
            .expect("signs");
        let verified = prepared.verify(&KeySignature::WebAuthn { assertion, r, s });
        assert_eq!(
            verified.map(|_| ()).map_err(|e| e.code()),
            expected.map_or(Ok(()), Err)
        );
    }
}

#[test]
fn a_session_signs_only_what_its_grant_names() {
    let key = PrivateKeySigner::random();
    let typed_only = session(&key, vec![Permission::TypedDataSigning { address: APP }]);
    let error = sign_message(&typed_only, &key, AccountMessage::personal("hi"))
        .expect_err("no personal-sign");
    assert_eq!(error.code(), 1020);
    assert_eq!(
        error.to_string(),
        format!(
            "session {} may not sign this as its account: its grant has no personal-sign \
             permission",
            typed_only.session_id
        )
    );
    let other_app = Address::repeat_byte(0xbb);
    let error = sign_message(&typed_only, &key, pull(other_app)).expect_err("another app");
    assert_eq!(
        error.to_string(),
        format!(
            "session {} may not sign this as its account: its grant has no typed-data-signing \
             permission for {other_app}",
            typed_only.session_id
        )
    );
    let personal_only = session(&key, vec![Permission::PersonalSign]);
    assert!(matches!(
        prepare_message(&personal_only, pull(APP)),
        Err(ServiceError::MessageNotAllowed {
            permission: Permission::TypedDataSigning { address: APP },
            ..
        })
    ));
}

#[test]
fn another_key_or_a_signature_of_another_shape_is_refused() {
    let key = PrivateKeySigner::random();
    let session = session(&key, both());
    let stranger = PrivateKeySigner::random();
    assert!(matches!(
        sign_message(&session, &stranger, AccountMessage::personal("hi")),
        Err(ServiceError::SignerMismatch { actual, .. }) if actual == stranger.address()
    ));
    let prepared = prepare_message(&session, AccountMessage::personal("hi")).expect("allowed");
    assert!(matches!(
        prepared.attach(&[0; 64]),
        Err(ServiceError::MalformedSignature(
            FinalizeError::SignatureLength { len: 64 }
        ))
    ));
    assert!(matches!(
        prepared.verify(&KeySignature::P256 {
            r: B256::repeat_byte(1),
            s: B256::repeat_byte(1)
        }),
        Err(ServiceError::MalformedSignature(
            FinalizeError::NamesNoSigner { .. }
        ))
    ));
}
