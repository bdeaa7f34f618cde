//! Every check of the verifier, each allowed and blocked with its exact error, on the embedded
//! chain (leash-sim) where a check reads the chain.

mod support;

use alloy_primitives::Bytes;
use alloy_signer::SignerSync;
use alloy_sol_types::SolValue;
use leash_auth::{
    AuthError, NoChain, NonceStore, OwnerError, OwnerKind, SessionCapability, Verifier,
    VerifierConfig, owner::ERC6492_MAGIC,
};
use support::*;

const NOW: u64 = ISSUED + 10;
const QTY_1: &[u8] = b"{\"qty\":1}";
const QTY_9: &[u8] = b"{\"qty\":9}";

fn verifier() -> Verifier<NoChain> {
    Verifier::new(VerifierConfig::new(DOMAIN))
}

/// Verifies a `POST /orders/1` with body `{}` under `capability`, signed by `session_key`.
async fn post<C: leash_auth::EthCall, N: NonceStore>(
    verifier: &Verifier<C, N>,
    capability: &leash_auth::SignedCapability,
    session_key: &alloy_signer_local::PrivateKeySigner,
    now: u64,
    nonce: u8,
) -> Result<leash_auth::Verified, AuthError> {
    let request = request(
        capability,
        session_key,
        "POST",
        "/orders/1",
        b"{}",
        now,
        nonce,
    );
    check(verifier, &request, b"{}", &scope("POST", "/orders/1"), now).await
}

/// [`post`], which must be refused: the refusal.
async fn refusal<C: leash_auth::EthCall, N: NonceStore>(
    verifier: &Verifier<C, N>,
    capability: &leash_auth::SignedCapability,
    session_key: &alloy_signer_local::PrivateKeySigner,
    now: u64,
    nonce: u8,
) -> AuthError {
    refusal_of(post(verifier, capability, session_key, now, nonce)).await
}

/// A verification that must be refused: the refusal.
async fn refusal_of(
    verification: impl std::future::Future<Output = Result<leash_auth::Verified, AuthError>>,
) -> AuthError {
    verification.await.expect_err("refused")
}

#[tokio::test]
async fn a_request_within_the_capability_is_accepted_with_who_and_what() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verified = post(&verifier(), &signed, &session, NOW, 1)
        .await
        .expect("accepted");
    assert_eq!(verified.owner, owner.address());
    assert_eq!(verified.owner_kind, OwnerKind::Eoa);
    assert_eq!(verified.session_key, session.address());
    assert_eq!(verified.resource, format!("{BASE}/orders/*"));
    assert_eq!(verified.ability, "http/POST");
    assert_eq!(verified.expires_at, EXPIRES);
}

#[tokio::test]
async fn expiry_and_not_before_bound_the_capability() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verifier = verifier();
    post(&verifier, &signed, &session, EXPIRES - 1, 1)
        .await
        .expect("last second");
    post(&verifier, &signed, &session, ISSUED, 2)
        .await
        .expect("first second");
    let expired = refusal(&verifier, &signed, &session, EXPIRES, 3).await;
    assert!(
        matches!(
            expired,
            AuthError::Expired {
                expired_at: EXPIRES,
                now: EXPIRES
            }
        ),
        "{expired}"
    );
    assert_eq!(expired.status(), 401);
    let early = refusal(&verifier, &signed, &session, ISSUED - 1, 4).await;
    assert!(
        matches!(early, AuthError::NotYetValid { not_before: ISSUED, now } if now == ISSUED - 1),
        "{early}"
    );
}

#[tokio::test]
async fn a_capability_for_another_domain_is_refused() {
    let (owner, session) = (key(1), key(2));
    let mut other = capability(owner.address(), session.address());
    other.domain = "evil.example.com".into();
    let signed = sign_capability(&other, &owner);
    let refused = refusal(&verifier(), &signed, &session, NOW, 1).await;
    assert!(
        matches!(&refused, AuthError::WrongDomain { expected, found }
            if expected == DOMAIN && found == "evil.example.com"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_request_signed_by_a_key_other_than_the_uris_is_refused() {
    let (owner, session, other) = (key(1), key(2), key(3));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let refused = refusal(&verifier(), &signed, &other, NOW, 1).await;
    assert!(
        matches!(refused, AuthError::SessionKeyMismatch { session_key, recovered }
            if session_key == session.address() && recovered == other.address()),
        "{refused}"
    );
    // A URI that names no session key does not parse as a capability at all.
    let text = sign_capability(&capability(owner.address(), session.address()), &owner)
        .message
        .replace("URI: did:pkh:eip155:31337:", "URI: https://x/");
    let malformed = SessionCapability::parse(&text).expect_err("refused");
    assert!(
        malformed
            .to_string()
            .contains("does not name a session key"),
        "{malformed}"
    );
}

#[tokio::test]
async fn resources_and_abilities_outside_the_capability_are_forbidden_by_name() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verifier = verifier();
    let admin = request(&signed, &session, "GET", "/admin", b"", NOW, 1);
    let outside = refusal_of(check(&verifier, &admin, b"", &scope("GET", "/admin"), NOW)).await;
    assert!(
        matches!(&outside, AuthError::ResourceOutside { resource, .. } if resource == &format!("{BASE}/admin")),
        "{outside}"
    );
    assert_eq!(outside.status(), 403);
    assert_eq!(
        outside.to_json()["error"]["missing"]["resource"],
        format!("{BASE}/admin")
    );

    let delete = request(&signed, &session, "DELETE", "/orders/1", b"", NOW, 2);
    let ability = refusal_of(check(
        &verifier,
        &delete,
        b"",
        &scope("DELETE", "/orders/1"),
        NOW,
    ))
    .await;
    assert!(
        matches!(&ability, AuthError::AbilityOutside { ability, granted, .. }
            if ability == "http/DELETE" && granted == &["http/GET", "http/POST"]),
        "{ability}"
    );
    assert_eq!(ability.status(), 403);
    assert_eq!(
        ability.to_json()["error"]["missing"]["ability"],
        "http/DELETE"
    );

    let get = request(&signed, &session, "GET", "/orders/7", b"", NOW, 3);
    check(&verifier, &get, b"", &scope("GET", "/orders/7"), NOW)
        .await
        .expect("GET is granted");
}

#[tokio::test]
async fn a_tampered_body_method_or_target_is_refused() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verifier = verifier();
    let orders = scope("POST", "/orders/1");
    let request = request(&signed, &session, "POST", "/orders/1", QTY_1, NOW, 1);
    let tampered = refusal_of(check(&verifier, &request, QTY_9, &orders, NOW)).await;
    assert!(
        matches!(tampered, AuthError::BodyMismatch { .. }),
        "{tampered}"
    );
    let mut moved = received(&request, QTY_1);
    moved.target = "/orders/2";
    let moved = verifier
        .verify_at(&request, moved, &scope("POST", "/orders/2"), NOW)
        .await
        .expect_err("refused");
    assert!(
        matches!(&moved, AuthError::RequestMismatch { field: "target", signed, received }
            if signed == "/orders/1" && received == "/orders/2"),
        "{moved}"
    );
    // The signed hash itself changed: the signature no longer recovers to the session key.
    let mut forged = request.clone();
    forged.body_hash = alloy_primitives::keccak256(QTY_9);
    let forged_err = refusal_of(check(&verifier, &forged, QTY_9, &orders, NOW)).await;
    assert!(
        matches!(forged_err, AuthError::SessionKeyMismatch { .. }),
        "{forged_err}"
    );
    check(&verifier, &request, QTY_1, &orders, NOW)
        .await
        .expect("the untouched request");
}

#[tokio::test]
async fn a_replayed_nonce_is_refused_within_the_window_and_stale_after_it() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verifier = verifier();
    post(&verifier, &signed, &session, NOW, 1)
        .await
        .expect("first use");
    let replayed = refusal(&verifier, &signed, &session, NOW, 1).await;
    assert!(
        matches!(replayed, AuthError::Replayed { session_key, .. } if session_key == session.address()),
        "{replayed}"
    );
    post(&verifier, &signed, &session, NOW, 2)
        .await
        .expect("another nonce");
    // The same signed request a window later is stale, so forgetting its nonce is safe.
    let request = request(&signed, &session, "POST", "/orders/1", b"{}", NOW, 1);
    let later = NOW + 61;
    let stale = refusal_of(check(
        &verifier,
        &request,
        b"{}",
        &scope("POST", "/orders/1"),
        later,
    ))
    .await;
    assert!(
        matches!(
            stale,
            AuthError::Stale {
                timestamp: NOW,
                window: 60,
                ..
            }
        ),
        "{stale}"
    );
}

/// A nonce store that answers every spend with `answer` (an error as `Err(reason)`), recording
/// what it was asked.
#[derive(Debug)]
struct ScriptedNonces {
    answer: Result<bool, &'static str>,
    asked: std::sync::Mutex<Vec<(alloy_primitives::Address, alloy_primitives::B128, u64, u64)>>,
}

#[derive(Debug, thiserror::Error)]
#[error("nonce store unreachable: {0}")]
struct Unreachable(&'static str);

impl ScriptedNonces {
    fn answering(answer: Result<bool, &'static str>) -> Self {
        Self {
            answer,
            asked: std::sync::Mutex::default(),
        }
    }
}

/// What `verifier`'s store was asked: session key, nonce, remember until, now.
fn asked(
    verifier: &Verifier<NoChain, ScriptedNonces>,
) -> Vec<(alloy_primitives::Address, alloy_primitives::B128, u64, u64)> {
    verifier
        .nonces()
        .asked
        .lock()
        .expect("not poisoned")
        .clone()
}

impl NonceStore for ScriptedNonces {
    type Error = Unreachable;

    async fn spend(
        &self,
        session_key: alloy_primitives::Address,
        nonce: alloy_primitives::B128,
        remember_until: u64,
        now: u64,
    ) -> Result<bool, Unreachable> {
        self.asked
            .lock()
            .expect("not poisoned")
            .push((session_key, nonce, remember_until, now));
        self.answer.map_err(Unreachable)
    }
}

#[tokio::test]
async fn a_custom_nonce_store_decides_replay_and_its_failure_refuses() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let with = |answer| {
        Verifier::new(VerifierConfig::new(DOMAIN)).with_nonces(ScriptedNonces::answering(answer))
    };

    let fresh = with(Ok(true));
    post(&fresh, &signed, &session, NOW, 1)
        .await
        .expect("a fresh nonce");
    post(&fresh, &signed, &session, NOW, 1)
        .await
        .expect("the store, not the verifier, remembers nonces");
    let nonce = request(&signed, &session, "POST", "/orders/1", b"{}", NOW, 1).nonce;
    // Remembered until the request is stale: its timestamp plus the window.
    assert_eq!(
        asked(&fresh),
        vec![(session.address(), nonce, NOW + 60, NOW); 2]
    );

    let replayed = refusal(&with(Ok(false)), &signed, &session, NOW, 1).await;
    assert!(
        matches!(replayed, AuthError::Replayed { session_key, nonce: n } if session_key == session.address() && n == nonce),
        "{replayed}"
    );
    assert_eq!(
        (replayed.status(), replayed.code()),
        (401, "replayed-nonce")
    );

    let failed = refusal(&with(Err("connection refused")), &signed, &session, NOW, 1).await;
    assert!(
        matches!(&failed, AuthError::NonceStore { session_key, reason, .. }
            if *session_key == session.address() && reason == "nonce store unreachable: connection refused"),
        "{failed}"
    );
    assert_eq!(
        (failed.status(), failed.code()),
        (503, "nonce-check-failed")
    );
    assert_eq!(failed.to_json()["error"]["code"], "nonce-check-failed");
}

#[tokio::test]
async fn a_refusal_before_the_nonce_check_spends_nothing() {
    let (owner, session) = (key(1), key(2));
    let signed = sign_capability(&capability(owner.address(), session.address()), &owner);
    let verifier =
        Verifier::new(VerifierConfig::new(DOMAIN)).with_nonces(ScriptedNonces::answering(Ok(true)));
    // Stale, so refused before the store is asked.
    let request = request(&signed, &session, "POST", "/orders/1", b"{}", NOW, 1);
    let stale = refusal_of(check(
        &verifier,
        &request,
        b"{}",
        &scope("POST", "/orders/1"),
        NOW + 61,
    ))
    .await;
    assert_eq!(stale.code(), "stale-request");
    assert_eq!(asked(&verifier), vec![]);
}

#[tokio::test]
async fn a_revoked_on_chain_session_is_refused_once_the_cached_answer_lapses() {
    let (owner, session) = (key(1), key(2));
    let chain = chain();
    let record = on_chain_session(&chain, &owner, session.address());
    let domain = chain.lock().expect("lock").grant_domain();
    let with_session =
        SessionCapability::from_record(DOMAIN, &domain, &record, off_chain(), ISSUED);
    let signed = sign_capability(&with_session, &owner);
    let config = VerifierConfig {
        session_check_ttl: Some(30),
        ..VerifierConfig::new(DOMAIN)
    };
    let verifier = Verifier::with_chain(config, chain.clone());
    let live = post(&verifier, &signed, &session, NOW, 1)
        .await
        .expect("live");
    let (_, session_id) = with_session.on_chain_record().expect("on chain");
    assert_eq!(live.session_id, Some(session_id));

    revoke(&chain, &owner, &record);
    post(&verifier, &signed, &session, NOW + 29, 2)
        .await
        .expect("the cached answer, within its 30 seconds");
    let revoked = refusal(&verifier, &signed, &session, NOW + 30, 3).await;
    assert!(
        matches!(&revoked, AuthError::SessionNotLive { session_id: id, status }
            if *id == session_id && status == "revoked"),
        "{revoked}"
    );
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn an_erc1271_owner_is_asked_and_its_refusal_is_final() {
    let (owner_key, session, stranger) = (key(1), key(2), key(3));
    let chain = chain();
    let factory = deploy_factory(&chain);
    let (deploy, smart_owner) = smart_owner(&chain, factory, owner_key.address());
    deploy_smart_owner(&chain, factory, deploy);
    let with_chain = Verifier::with_chain(VerifierConfig::new(DOMAIN), chain.clone());

    let accepted = sign_capability(&capability(smart_owner, session.address()), &owner_key);
    let verified = post(&with_chain, &accepted, &session, NOW, 1)
        .await
        .expect("its key signed");
    assert_eq!(verified.owner_kind, OwnerKind::Erc1271);

    let refused = sign_capability(&capability(smart_owner, session.address()), &stranger);
    let error = refusal(&with_chain, &refused, &session, NOW, 2).await;
    assert!(
        matches!(&error, AuthError::Owner(OwnerError::Erc1271Refused { owner, answer })
            if *owner == smart_owner && answer.starts_with("0xffffffff")),
        "{error}"
    );
    // Without a chain, a contract owner cannot be checked at all.
    let error = refusal(&verifier(), &accepted, &session, NOW, 3).await;
    assert!(
        matches!(error, AuthError::Owner(OwnerError::Recovered { recovered, .. }) if recovered == owner_key.address()),
        "{error}"
    );
}

#[tokio::test]
async fn an_erc6492_counterfactual_owner_is_checked_through_its_factory() {
    let (owner_key, session, stranger) = (key(1), key(2), key(3));
    let chain = chain();
    let factory = deploy_factory(&chain);
    let (deploy, smart_owner) = smart_owner(&chain, factory, owner_key.address());
    assert!(
        chain
            .lock()
            .expect("lock")
            .code(smart_owner)
            .expect("code")
            .is_empty()
    );
    let verifier = Verifier::with_chain(VerifierConfig::new(DOMAIN), chain.clone());
    let wrap = |inner: &[u8]| -> Bytes {
        let mut wrapped =
            (factory, deploy.clone(), Bytes::copy_from_slice(inner)).abi_encode_params();
        wrapped.extend_from_slice(ERC6492_MAGIC.as_slice());
        wrapped.into()
    };

    let capability = capability(smart_owner, session.address());
    let mut signed = sign_capability(&capability, &owner_key);
    signed.signature = wrap(&signed.signature);
    let verified = post(&verifier, &signed, &session, NOW, 1)
        .await
        .expect("counterfactual");
    assert_eq!(verified.owner_kind, OwnerKind::Erc6492);
    // The check deployed nothing.
    assert!(
        chain
            .lock()
            .expect("lock")
            .code(smart_owner)
            .expect("code")
            .is_empty()
    );

    let mut by_stranger = sign_capability(&capability, &stranger);
    let stranger_signature = stranger
        .sign_message_sync(by_stranger.message.as_bytes())
        .expect("signs");
    by_stranger.signature = wrap(&stranger_signature.as_bytes());
    let error = refusal(&verifier, &by_stranger, &session, NOW, 2).await;
    assert!(
        matches!(&error, AuthError::Owner(OwnerError::Erc6492Refused { owner, .. }) if *owner == smart_owner),
        "{error}"
    );

    // A factory call that reverts, and one that deploys another account: the verifier's errors,
    // read back in words.
    let owner_signature = sign_capability(&capability, &owner_key).signature;
    let (deploy_other, _) = support::smart_owner(&chain, factory, stranger.address());
    for (calldata, expected, nonce) in [
        (
            Bytes::from_static(&[0xde, 0xad]),
            format!("the factory {factory} reverted with 0x"),
            3,
        ),
        (
            deploy_other,
            format!("the factory {factory} did not deploy the owner"),
            4,
        ),
    ] {
        let mut wrapped = (factory, calldata, owner_signature.clone()).abi_encode_params();
        wrapped.extend_from_slice(ERC6492_MAGIC.as_slice());
        let mut failing = sign_capability(&capability, &owner_key);
        failing.signature = wrapped.into();
        let error = refusal(&verifier, &failing, &session, NOW, nonce).await;
        assert!(
            matches!(&error, AuthError::Owner(OwnerError::Erc6492Refused { answer, .. }) if *answer == expected),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_capability_the_owner_did_not_sign_is_refused() {
    let (owner, session, stranger) = (key(1), key(2), key(3));
    let signed = sign_capability(&capability(owner.address(), session.address()), &stranger);
    let error = refusal(&verifier(), &signed, &session, NOW, 1).await;
    assert!(
        matches!(error, AuthError::Owner(OwnerError::Recovered { owner: o, recovered })
            if o == owner.address() && recovered == stranger.address()),
        "{error}"
    );
}
