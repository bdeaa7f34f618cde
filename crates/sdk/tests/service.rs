//! The service's use cases on a real anvil: a session granted, an operation prepared unsigned,
//! signed elsewhere and finalized; the refusals a caller must be able to tell apart.

mod common;

use alloy_primitives::{Address, B256, U256, utils::parse_ether};
use alloy_provider::Provider;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use common::{anvil, deploy, dev_key, wallet_provider};
use leash_core::{
    calls::Call,
    denial::Denial,
    grant::SessionGrantBuilder,
    permission::Permission,
    session_signer::{P256Verification, SessionKeyType, SessionSigner, SignerKind},
    session_state::{GrantRecord, OnChainStatus},
    token_transfers::NativeTransfer,
    webauthn::RpId,
};
use leash_sdk::{
    service::{
        Delegation, Included, OwnerSignature, ServiceError, SessionRequest, SessionSend,
        StoredSession, attach_owner_signature, create_session, delegate_by_transaction, fees,
        p256_verification, resolve_session, session_key, session_signer, session_state,
        wait_included,
    },
    signers::NewSessionKey,
    submission::ReceiptWait,
    transport::DirectSender,
};
use leash_store::{keystore::ScryptParams, session_store::SessionStore};
use std::time::Duration;

const PASSWORD: &str = "correct horse";
const RECIPIENT: Address = Address::repeat_byte(0xbe);

fn store(dir: &tempfile::TempDir) -> SessionStore {
    SessionStore::open(dir.path())
        .expect("store")
        .with_scrypt_params(ScryptParams::LIGHT)
}

fn native_session(allowance: &str) -> SessionRequest {
    SessionRequest {
        permissions: vec![Permission::NativeTokenTransfer {
            allowance: parse_ether(allowance).expect("ether"),
            period: None,
        }],
        expires: "1h".into(),
        label: "test".into(),
        key: NewSessionKey::Secp256k1,
    }
}

fn wait() -> ReceiptWait {
    ReceiptWait {
        timeout: Duration::from_secs(10),
        interval: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn prepared_operations_are_signed_elsewhere_and_finalized() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let provider = wallet_provider(&anvil, bundler.clone());
    deploy(&provider, bundler.address()).await;
    let owner_provider = wallet_provider(&anvil, owner.clone());
    let before = Delegation::read(&provider, owner.address())
        .await
        .expect("reads");
    delegate_by_transaction(&owner_provider, &owner, &before)
        .await
        .expect("delegates");
    assert!(
        Delegation::read(&provider, owner.address())
            .await
            .expect("reads")
            .is_complete()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let created = create_session(
        &provider,
        &store,
        PASSWORD,
        OwnerSignature::Key(&owner),
        native_session("1"),
    )
    .await
    .expect("creates");
    assert!(created.typed_data.is_none(), "signed by the owner here");
    let session = created.session;
    let key = session_key(&store, &session, PASSWORD).expect("decrypts");
    assert_eq!(key.address(), session.session_key);

    let send = SessionSend::open(&provider, session.clone())
        .await
        .expect("opens");
    assert_eq!(send.state.status, OnChainStatus::Unused);
    let sender = DirectSender::new(provider.clone(), bundler.address());
    let calls = [Call::transfer(
        RECIPIENT,
        parse_ether("0.25").expect("ether"),
    )];
    let fees = fees(&provider).await.expect("fees");

    // Signed by another key: validation refuses it, and nothing is sent.
    let unsigned = send.prepare(&sender, &calls, fees).await.expect("prepares");
    let stranger = PrivateKeySigner::random()
        .sign_hash_sync(&unsigned.user_op_hash)
        .expect("signs");
    let error = send
        .finalize(&sender, unsigned, &stranger.as_bytes())
        .await
        .expect_err("another key's signature");
    assert_eq!(error.code(), 2001);
    let ServiceError::Denied(Denial::Validation(sentence)) = error else {
        panic!("expected a validation denial, got {error:?}");
    };
    assert_eq!(
        sentence,
        "AA24 signature error: the session key's signature is not accepted: the session is \
         unknown, revoked, or its grant's owner signature is wrong"
    );
    assert_eq!(
        provider.get_balance(RECIPIENT).await.expect("balance"),
        U256::ZERO
    );

    // Prepared unsigned: the digest is all the key holder needs.
    let unsigned = send.prepare(&sender, &calls, fees).await.expect("prepares");
    assert!(unsigned.op.operation.signature.is_empty());
    assert_ne!(
        unsigned.op.operation.accountGasLimits,
        B256::ZERO,
        "gas estimated"
    );
    let signature = key.sign_hash_sync(&unsigned.user_op_hash).expect("signs");
    let short = send
        .attach(unsigned.clone(), &signature.as_bytes()[..64])
        .expect_err("64 bytes");
    assert_eq!(short.code(), 1011);
    let prepared = send
        .finalize(&sender, unsigned, &signature.as_bytes())
        .await
        .expect("finalizes");
    let receipt = wait_included(
        &sender,
        prepared.user_op_hash,
        wait(),
        tokio::time::sleep,
        |_| {},
        Some(&send.state),
    )
    .await
    .expect("included");
    let included = Included::new(receipt, &calls);
    included.check().expect("the transfer ran");
    assert_eq!(
        included.moved.native_transfers,
        vec![NativeTransfer {
            to: RECIPIENT,
            value: parse_ether("0.25").expect("ether")
        }]
    );
    assert_eq!(
        provider.get_balance(RECIPIENT).await.expect("balance"),
        parse_ether("0.25").expect("ether")
    );
    let state = session_state(&provider, &session).await.expect("reads");
    assert_eq!(state.status, OnChainStatus::Enabled, "enabled lazily");
}

#[tokio::test]
async fn p256_and_passkey_sessions_are_stored_loaded_and_sent() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let provider = wallet_provider(&anvil, bundler.clone());
    deploy(&provider, bundler.address()).await;
    let before = Delegation::read(&provider, owner.address())
        .await
        .expect("reads");
    delegate_by_transaction(&wallet_provider(&anvil, owner.clone()), &owner, &before)
        .await
        .expect("delegates");
    let verification = p256_verification(&provider).await.expect("probes");
    assert_eq!(
        verification,
        P256Verification::Precompile,
        "anvil runs Osaka"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let sender = DirectSender::new(provider.clone(), bundler.address());
    let fees = fees(&provider).await.expect("fees");
    let calls = [Call::transfer(
        RECIPIENT,
        parse_ether("0.25").expect("ether"),
    )];
    let rp_id = RpId::new("wallet.example").expect("a host name");
    for (key, kind) in [
        (
            NewSessionKey::P256(verification),
            SignerKind::P256(verification),
        ),
        (
            NewSessionKey::WebAuthn {
                rp_id,
                verification,
            },
            SignerKind::WebAuthn(verification),
        ),
    ] {
        let request = SessionRequest {
            key,
            ..native_session("1")
        };
        let session = create_session(
            &provider,
            &store,
            PASSWORD,
            OwnerSignature::Key(&owner),
            request,
        )
        .await
        .expect("creates")
        .session;
        assert_eq!(session.key_type.kind(), kind);
        assert_eq!(session.key_type.derived_id(), Some(session.session_key));
        let reloaded = resolve_session(&store, &session.session_id.to_string()).expect("stored");
        assert_eq!(reloaded, session);
        let signer = session_signer(&store, &session, PASSWORD).expect("decrypts");
        assert_eq!(signer.public_signer().id, session.session_key);
        let error = session_key(&store, &session, PASSWORD).expect_err("not secp256k1");
        assert_eq!(error.code(), 1016, "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "session {} has a {kind} signer: only a secp256k1 key sends transactions and \
                 signs as an address",
                session.session_id
            )
        );

        let send = SessionSend::open(&provider, session).await.expect("opens");
        let prepared = send
            .prepare_signed(&sender, &signer, &calls, fees)
            .await
            .expect("prepares");
        let hash = leash_sdk::service::submit(&sender, &prepared, Some(&send.state))
            .await
            .expect("accepted");
        let receipt = wait_included(&sender, hash, wait(), tokio::time::sleep, |_| {}, None)
            .await
            .expect("included");
        Included::new(receipt, &calls)
            .check()
            .expect("the transfer ran");
    }
    assert_eq!(
        provider.get_balance(RECIPIENT).await.expect("balance"),
        parse_ether("0.5").expect("ether")
    );
}

#[tokio::test]
async fn a_chain_without_the_precompile_gets_the_solidity_verifier() {
    let prague = alloy_node_bindings::Anvil::at(leash_testkit::toolchain_binary("anvil"))
        .arg("--hardfork")
        .arg("prague")
        .try_spawn()
        .expect("anvil starts");
    let provider = alloy_provider::ProviderBuilder::new().connect_http(prague.endpoint_url());
    assert_eq!(
        p256_verification(&provider).await.expect("probes"),
        P256Verification::Fallback
    );
}

#[tokio::test]
async fn unsigned_and_foreign_sessions_are_refused() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let provider = wallet_provider(&anvil, bundler.clone());
    deploy(&provider, bundler.address()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);

    // Signed elsewhere: stored unsigned with its typed data, refused until the owner signs.
    let created = create_session(
        &provider,
        &store,
        PASSWORD,
        OwnerSignature::<PrivateKeySigner>::External(owner.address()),
        native_session("1"),
    )
    .await
    .expect("creates");
    assert!(created.typed_data.is_some());
    let session = created.session;
    let error = SessionSend::open(&provider, session.clone())
        .await
        .expect_err("unsigned");
    assert!(
        matches!(error, ServiceError::Unsigned { session: id } if id == session.session_id),
        "{error:?}"
    );
    assert_eq!(error.code(), 1006);

    let stranger = PrivateKeySigner::random();
    let wrong = stranger.sign_hash_sync(&session.session_id).expect("signs");
    let error = attach_owner_signature(&store, session.clone(), wrong.as_bytes().into())
        .expect_err("not the owner");
    assert!(
        matches!(error, ServiceError::SignatureMismatch { recovered: Some(who), .. } if who == stranger.address()),
        "{error:?}"
    );
    let right = owner.sign_hash_sync(&session.session_id).expect("signs");
    let signed =
        attach_owner_signature(&store, session, right.as_bytes().into()).expect("attaches");
    let reloaded = resolve_session(&store, &signed.session_id.to_string()).expect("stored");
    assert_eq!(reloaded.grant.owner_signature, signed.grant.owner_signature);
    SessionSend::open(&provider, signed)
        .await
        .expect("signed now");

    // A session of another chain.
    let mut foreign = reloaded;
    foreign.chain_id = 1;
    let error = SessionSend::open(&provider, foreign.clone())
        .await
        .expect_err("wrong chain");
    assert!(
        matches!(
            error,
            ServiceError::WrongChain { session, expected: 1, actual: 31337 }
                if session == foreign.session_id
        ),
        "{error:?}"
    );
}

/// A stored session with id `id` (the store keys files by it; the grant does not matter here).
fn stored(store: &SessionStore, id: B256) {
    let key = PrivateKeySigner::random();
    let account = Address::repeat_byte(0xaa);
    let validator = Address::repeat_byte(0xcc);
    let grant = SessionGrantBuilder::new(account, key.address(), validator)
        .valid_until(2_000_000_000)
        .permission(Permission::Root)
        .build(1_000_000_000)
        .expect("grant");
    let session = StoredSession {
        session_id: id,
        session_key: key.address(),
        key_type: SessionKeyType::Secp256k1,
        account,
        chain_id: 31337,
        validator,
        grant: GrantRecord::new(&grant, None).expect("record"),
        created_at: 0,
        expires_at: 2_000_000_000,
        label: String::new(),
    };
    store.create(&key, &session, PASSWORD).expect("stores");
}

#[test]
fn sessions_resolve_by_a_unique_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let first = B256::repeat_byte(0xab);
    let second = {
        let mut id = B256::repeat_byte(0xab);
        id[1] = 0xcd;
        id
    };
    stored(&store, first);
    stored(&store, second);

    assert_eq!(
        resolve_session(&store, "0xABAB")
            .expect("unique")
            .session_id,
        first
    );
    assert_eq!(
        resolve_session(&store, " abcd").expect("unique").session_id,
        second
    );
    let error = resolve_session(&store, "0xab").expect_err("two match");
    let ServiceError::AmbiguousSession { prefix, matches } = &error else {
        panic!("expected ambiguity, got {error:?}");
    };
    assert_eq!(prefix, "0xab");
    let mut matches = matches.clone();
    matches.sort();
    assert_eq!(matches, vec![first, second]);
    let error = resolve_session(&store, "0x01").expect_err("none match");
    assert!(
        matches!(&error, ServiceError::SessionNotFound { prefix } if prefix == "0x01"),
        "{error:?}"
    );
    let error = resolve_session(&store, "0xzz").expect_err("not hex");
    assert!(
        matches!(error, ServiceError::InvalidSessionId { .. }),
        "{error:?}"
    );
}
