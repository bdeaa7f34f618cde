//! Session keys that are not secp256k1 EOAs (issue 15), end to end on the embedded chain (Osaka,
//! so the P256VERIFY precompile is at `0x100`), through leash-sdk's `SessionSend` as `leash send`
//! and the server use it. For each signer kind (P-256 and WebAuthn checked by the precompile and
//! by leash's Solidity verifier, and an ERC-1271 contract): a scoped ERC-20 transfer estimated
//! with the kind's placeholder and sent with its signature, lazily enabling the session and then
//! enabled; a tampered signature fails as a signature (`AA24`); the same key signature on another
//! session's or another account's operation fails too.

mod support;

use alloy_primitives::U256;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{SessionGrant, TestToken};
use leash_core::{
    grant::SessionGrantBuilder,
    permission::Permission,
    prepare::{FinalizeError, PreparedOperation, UnsignedOperation},
    rules::RuleAttachments,
    sender::UserOperationSender,
    session_signer::{P256Verification, SessionSigner, SignerKind},
    session_state::{GrantRecord, OnChainStatus, SessionState},
};
use leash_sdk::{
    service::{Included, ServiceError, SessionSend, StoredSession, submit, with_key_type},
    signers::{P256Key, P256SessionKey},
};
use leash_sim::{AaCode, Chain, Erc7562Violation, SimSender, ready, walkthrough};
use support::{ETH, RECIPIENT, Setup, TOKENS, key, rejection_code, signers::signers};

/// A grant by `owner` (the account) of `allowance` tokens to `signer`, kept as leash-sdk keeps
/// a session, and opened in `status`.
fn session(
    chain: &Chain,
    owner: &PrivateKeySigner,
    signer: &dyn SessionSigner,
    allowance: u64,
    status: OnChainStatus,
) -> SessionSend {
    let public = signer.public_signer();
    let domain = chain.grant_domain();
    let now = chain.timestamp();
    let grant: SessionGrant =
        SessionGrantBuilder::new(owner.address(), public.id, domain.validator)
            .valid_until(now + 3600)
            .permission(Permission::Erc20TokenTransfer {
                address: leash_bindings::Deployment::test_token().address(),
                allowance: TOKENS * U256::from(allowance),
                period: None,
            })
            .build(now)
            .expect("a valid grant");
    let owner_signature = domain.sign(owner, &grant).expect("signs");
    let stored = StoredSession {
        session_id: domain.session_id(&grant),
        session_key: public.id,
        key_type: Default::default(),
        account: owner.address(),
        chain_id: domain.chain_id,
        validator: domain.validator,
        grant: GrantRecord::new(&grant, Some(owner_signature)).expect("a known grant"),
        created_at: 0,
        expires_at: now + 3600,
        label: "signer".into(),
    };
    let stored = with_key_type(stored, public.key_type).expect("the signer's own id");
    let state = SessionState {
        status,
        validator_installed: true,
        budgets: vec![],
    };
    SessionSend::with_state(stored, domain, state).expect("opens")
}

/// A second account on `s`'s chain: delegated, the validator installed, holding tokens.
fn second_account(s: &mut Setup) -> PrivateKeySigner {
    let owner = key(0x44);
    s.chain
        .set_balance(owner.address(), ETH * U256::from(10))
        .expect("chain state");
    let installed =
        walkthrough::delegate_and_install_validator(&mut s.chain, &owner).expect("installs");
    support::executed(&installed);
    let mint = TestToken::mintCall {
        to: owner.address(),
        amount: TOKENS * U256::from(100),
    };
    let minted = s
        .chain
        .transact(
            s.chain.bundler(),
            s.token,
            mint.abi_encode().into(),
            U256::ZERO,
        )
        .expect("mints");
    assert!(minted.result.is_success());
    owner
}

/// `send`'s operation transferring `amount` tokens to [`RECIPIENT`], estimated with its signer's
/// placeholder, unsigned.
fn unsigned_transfer(s: &mut Setup, send: &SessionSend, amount: U256) -> UnsignedOperation {
    let transfer = s.transfer_tokens(RECIPIENT, amount);
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    ready(send.prepare(&sender, &[transfer], fees)).expect("estimated with the placeholder")
}

/// Submits `prepared` as `send`'s and checks that its transfer of `amount` executed.
fn submit_transfer(s: &mut Setup, send: &SessionSend, prepared: &PreparedOperation, amount: U256) {
    let before = s.token_balance(RECIPIENT);
    let sender = SimSender::new(&mut s.chain);
    let hash = ready(submit(&sender, prepared, Some(&send.state))).expect("accepted");
    let receipt = ready(sender.receipt(hash))
        .expect("a receipt")
        .expect("included");
    Included::new(receipt, &[s.transfer_tokens(RECIPIENT, amount)])
        .check()
        .expect("executed");
    assert_eq!(s.token_balance(RECIPIENT), before + amount);
}

#[test]
fn every_kind_transfers_within_its_scope_lazily_then_enabled() {
    let mut s = Setup::new();
    for (name, signer) in signers(&mut s) {
        let owner = s.owner.clone();
        let lazy = session(&s.chain, &owner, &*signer, 5, OnChainStatus::Unused);
        let unsigned = unsigned_transfer(&mut s, &lazy, TOKENS);
        let placeholder = unsigned.clone().with_signature(
            lazy.auth()
                .dummy_for(&lazy.signer(), &RuleAttachments::none()),
        );
        let estimate = ready(SimSender::new(&mut s.chain).estimate(&placeholder.op));
        assert!(estimate.is_ok(), "{name}: {estimate:?}");

        let signature = signer.key_signature(unsigned.user_op_hash).expect("signs");
        let prepared = lazy
            .attach(unsigned, &signature)
            .expect("the session's signer");
        let mode = prepared.op.operation.signature[0];
        assert_eq!(mode >> 2, lazy.signer().kind().code(), "{name}");
        assert_eq!(
            s.chain
                .erc7562_violations(vec![prepared.op.operation.clone()], vec![])
                .expect("simulates"),
            Vec::<Erc7562Violation>::new(),
            "{name}"
        );
        submit_transfer(&mut s, &lazy, &prepared, TOKENS);

        let enabled = SessionSend::with_state(
            lazy.session.clone(),
            lazy.domain,
            SessionState {
                status: OnChainStatus::Enabled,
                ..lazy.state.clone()
            },
        )
        .expect("opens");
        let calls = [s.transfer_tokens(RECIPIENT, TOKENS)];
        let sender = SimSender::new(&mut s.chain);
        let fees = sender.fees();
        let prepared =
            ready(enabled.prepare_signed(&sender, &*signer, &calls, fees)).expect("prepares");
        assert_eq!(
            prepared.op.operation.signature[0],
            mode & !0x03,
            "{name}: the use form"
        );
        submit_transfer(&mut s, &enabled, &prepared, TOKENS);
    }
}

#[test]
fn a_secp256k1_key_still_signs_as_before() {
    let mut s = Setup::new();
    let signer = s.key.clone();
    let owner = s.owner.clone();
    let send = session(&s.chain, &owner, &signer, 5, OnChainStatus::Unused);
    assert_eq!(send.signer().kind(), SignerKind::Secp256k1);
    let unsigned = unsigned_transfer(&mut s, &send, TOKENS);
    let signature = signer
        .sign_hash_sync(&unsigned.user_op_hash)
        .expect("signs");
    let prepared = send
        .attach(unsigned, &signature.as_bytes())
        .expect("65 bytes");
    assert_eq!(
        prepared.op.operation.signature[0], 0x02,
        "the enable form, kind 0"
    );
    submit_transfer(&mut s, &send, &prepared, TOKENS);
}

#[test]
fn a_tampered_signature_fails_as_a_signature() {
    let mut s = Setup::new();
    for (name, signer) in signers(&mut s) {
        let owner = s.owner.clone();
        let send = session(&s.chain, &owner, &*signer, 5, OnChainStatus::Unused);
        let unsigned = unsigned_transfer(&mut s, &send, TOKENS);
        let mut signature = signer
            .key_signature(unsigned.user_op_hash)
            .expect("signs")
            .to_vec();
        // The first byte of `r`, after the key (P-256, WebAuthn) or the address (a contract):
        // the signature still names the session's signer, which does not sign it.
        let r = match send.signer().kind() {
            SignerKind::Contract => 20,
            _ => 64,
        };
        signature[r] ^= 0x01;
        let prepared = send
            .attach(unsigned, &signature)
            .expect("names the session's signer");
        let outcome = s.send_prepared(&prepared.op);
        assert_eq!(
            rejection_code(&outcome),
            AaCode::SIGNATURE_ERROR,
            "{name}: {outcome:?}"
        );
    }
}

#[test]
fn a_key_signature_holds_for_its_own_operation_only() {
    let mut s = Setup::new();
    let other_owner = second_account(&mut s);
    for (name, signer) in signers(&mut s) {
        let owner = s.owner.clone();
        let mine = session(&s.chain, &owner, &*signer, 5, OnChainStatus::Unused);
        let sibling = session(&s.chain, &owner, &*signer, 6, OnChainStatus::Unused);
        let elsewhere = session(&s.chain, &other_owner, &*signer, 5, OnChainStatus::Unused);
        let unsigned = unsigned_transfer(&mut s, &mine, TOKENS);
        let signature = signer.key_signature(unsigned.user_op_hash).expect("signs");
        for replay in [&sibling, &elsewhere] {
            let theirs = unsigned_transfer(&mut s, replay, TOKENS);
            let prepared = replay
                .attach(theirs, &signature)
                .expect("names the same signer");
            let outcome = s.send_prepared(&prepared.op);
            assert_eq!(
                rejection_code(&outcome),
                AaCode::SIGNATURE_ERROR,
                "{name}: {outcome:?}"
            );
        }
        let prepared = mine.attach(unsigned, &signature).expect("its signer");
        submit_transfer(&mut s, &mine, &prepared, TOKENS);
    }
}

#[test]
fn another_signers_signature_is_refused_before_it_is_sent() {
    let mut s = Setup::new();
    let owner = s.owner.clone();
    let signer = P256SessionKey::new(P256Key::random(), P256Verification::Precompile);
    let stranger = P256SessionKey::new(P256Key::random(), P256Verification::Precompile);
    let send = session(&s.chain, &owner, &signer, 5, OnChainStatus::Unused);
    let unsigned = unsigned_transfer(&mut s, &send, TOKENS);
    let signature = stranger
        .key_signature(unsigned.user_op_hash)
        .expect("signs");
    match send.attach(unsigned, &signature) {
        Err(ServiceError::MalformedSignature(FinalizeError::OtherSigner { expected, named })) => {
            assert_eq!(expected, signer.public_signer().id);
            assert_eq!(named, stranger.public_signer().id);
        }
        other => panic!("not refused as another signer's: {other:?}"),
    }
    let calls = [s.transfer_tokens(RECIPIENT, TOKENS)];
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    match ready(send.prepare_signed(&sender, &stranger, &calls, fees)) {
        Err(ServiceError::SignerMismatch {
            expected, actual, ..
        }) => assert_eq!(
            (expected, actual),
            (signer.public_signer().id, stranger.public_signer().id)
        ),
        other => panic!("not refused as another signer: {other:?}"),
    }
}

#[test]
fn session_signers_is_where_leash_bindings_says() {
    let mut chain = Chain::new().expect("chain");
    let validator = leash_bindings::Deployment::session_key_validator().address();
    let signers = chain
        .call(
            validator,
            leash_bindings::SessionKeyValidator::SIGNERSCall {},
        )
        .expect("reads");
    assert_eq!(
        signers,
        leash_bindings::Deployment::session_signers_address()
    );
}
