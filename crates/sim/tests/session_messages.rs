//! Session keys signing as their account (ERC-1271, nested as ERC-7739 nests it), end to end on
//! the embedded chain through leash-sdk's `sign_message`, as `leash session sign` and the server
//! use it: the account's `isValidSignature`, asked by `eth_call`, accepts a personal message signed
//! by a session key of every kind; a `typed-data-signing` session's signature of `TypedDataApp`'s
//! `Pull` lets the app move the tokens during the session's own operation, charged to its
//! allowance, and is void outside it.

mod support;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy_sol_types::{SolCall, sol};
use leash_bindings::{IERC20, LeashAccount};
use leash_core::{
    account_message::{AccountMessage, TypedData, account_domain},
    calls::Call,
    denial::Denial,
    outflow::EXECUTE_USER_OP_SELECTOR,
    permission::Permission,
    session_signer::SessionSigner,
    session_state::OnChainStatus,
};
use leash_sdk::service::{
    ServiceError, SessionSend, SignedMessage, StoredSession, sign_message, with_key_type,
};
use leash_sim::{BundleOutcome, SimSender, ready};
use serde_json::json;
use support::{RECIPIENT, Setup, TOKENS, signers::signers};

sol!(
    /// contracts/test/TypedDataApp.sol: moves an owner's tokens on its EIP-712 `Pull` signature,
    /// as Permit2's `permitTransferFrom` does.
    #[allow(missing_docs)]
    TypedDataApp,
    "../bindings/artifacts/TypedDataApp.json"
);

const MAGIC: FixedBytes<4> = FixedBytes([0x16, 0x26, 0xba, 0x7e]);
const REFUSED: FixedBytes<4> = FixedBytes([0xff; 4]);

/// A SIWE-style login, as a dapp asks `personal_sign` for it.
const LOGIN: &str = "leash.example wants you to sign in with your Ethereum account.\n\n\
                     URI: https://leash.example\nVersion: 1\nChain ID: 31337\nNonce: 32891756";

/// What the account answers `isValidSignature(hash, signature)` by `eth_call`, outside any
/// operation.
fn is_valid_signature(s: &mut Setup, hash: B256, signature: &Bytes) -> FixedBytes<4> {
    let call = LeashAccount::isValidSignatureCall {
        hash,
        signature: signature.clone(),
    };
    s.chain.call(s.account, call).expect("never reverts")
}

/// `signer`'s session of `permissions`, enabled by the owner, as leash-sdk stores it.
fn enabled_session(
    s: &mut Setup,
    signer: &dyn SessionSigner,
    permissions: Vec<Permission>,
) -> StoredSession {
    let public = signer.public_signer();
    let grant = s.grant_to(public.id, permissions);
    s.enable(&grant);
    with_key_type(s.stored_session(&grant, "messages"), public.key_type).expect("its own id")
}

#[test]
fn the_account_domain_is_the_one_leash_core_nests() {
    let mut s = Setup::new();
    let domain = s
        .chain
        .call(s.account, LeashAccount::eip712DomainCall {})
        .expect("ERC-5267");
    let expected = account_domain(s.account, s.chain.chain_id());
    assert_eq!(domain.fields, FixedBytes([0x0f]));
    assert_eq!(Some(domain.name.into()), expected.name);
    assert_eq!(Some(domain.version.into()), expected.version);
    assert_eq!(Some(domain.chainId), expected.chain_id);
    assert_eq!(Some(domain.verifyingContract), expected.verifying_contract);
    assert_eq!(domain.salt, B256::ZERO);
}

#[test]
fn every_kind_signs_a_login_the_account_accepts() {
    let mut s = Setup::new();
    let secp256k1: Box<dyn SessionSigner> = Box::new(s.key.clone());
    let kinds = std::iter::once(("secp256k1", secp256k1)).chain(signers(&mut s));
    for (name, signer) in kinds {
        let session = enabled_session(&mut s, &*signer, vec![Permission::PersonalSign]);
        let login = AccountMessage::personal(LOGIN);
        let SignedMessage { hash, signature } =
            sign_message(&session, &*signer, login).expect("allowed");
        assert_eq!(hash, alloy_primitives::eip191_hash_message(LOGIN));
        assert_eq!(
            is_valid_signature(&mut s, hash, &signature),
            MAGIC,
            "{name}"
        );

        let other = alloy_primitives::eip191_hash_message("another login");
        assert_eq!(
            is_valid_signature(&mut s, other, &signature),
            REFUSED,
            "{name}: another message"
        );
        let mut tampered = signature.to_vec();
        tampered[55 + 40] ^= 1;
        assert_eq!(
            is_valid_signature(&mut s, hash, &tampered.into()),
            REFUSED,
            "{name}: a tampered key signature"
        );
    }
}

#[test]
fn a_login_signed_before_the_session_is_enabled_or_after_it_is_revoked_is_refused() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::PersonalSign]);
    let session = s.stored_session(&grant, "login");
    let signed = sign_message(&session, &s.key, AccountMessage::personal(LOGIN)).expect("allowed");
    assert_eq!(
        is_valid_signature(&mut s, signed.hash, &signed.signature),
        REFUSED,
        "not enabled yet"
    );
    s.enable(&grant);
    assert_eq!(
        is_valid_signature(&mut s, signed.hash, &signed.signature),
        MAGIC
    );
    let revoke = leash_bindings::SessionKeyValidator::revokeSessionCall {
        grant: (&grant).into(),
    };
    let revoked = s.owner_calls(&[Call {
        to: s.validator,
        value: U256::ZERO,
        data: revoke.abi_encode().into(),
    }]);
    support::executed(&revoked);
    assert_eq!(
        is_valid_signature(&mut s, signed.hash, &signed.signature),
        REFUSED,
        "revoked"
    );
}

/// `TypedDataApp` deployed and approved by the account for every token, as accounts approve
/// Permit2 once.
fn approved_app(s: &mut Setup) -> Address {
    let app = s.deploy(&TypedDataApp::BYTECODE);
    let approve = IERC20::approveCall {
        spender: app,
        amount: U256::MAX,
    };
    let approved = s.owner_calls(&[support::erc20_call(s.token, approve.abi_encode())]);
    support::executed(&approved);
    app
}

/// A session of `s.key` that may call the app's `pull`, sign its typed data and spend 5 tokens.
fn pull_session(s: &Setup, app: Address) -> SessionSend {
    let grant = s.grant([
        Permission::Erc20TokenTransfer {
            address: s.token,
            allowance: TOKENS * U256::from(5),
            period: None,
        },
        Permission::FunctionsOnContract {
            address: app,
            functions: vec![TypedDataApp::pullCall::SELECTOR.into()],
            rules: vec![],
        },
        Permission::TypedDataSigning { address: app },
    ]);
    s.session_send(&grant, OnChainStatus::Unused)
}

/// The `Pull` of `amount` tokens to [`RECIPIENT`] as a dapp hands it to `eth_signTypedData_v4`.
fn pull_typed_data(s: &Setup, app: Address, amount: U256, nonce: u64) -> TypedData {
    serde_json::from_value(json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Pull": [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint256"},
                {"name": "to", "type": "address"},
                {"name": "nonce", "type": "uint256"}
            ]
        },
        "primaryType": "Pull",
        "domain": {
            "name": "TypedDataApp",
            "version": "1",
            "chainId": s.chain.chain_id(),
            "verifyingContract": app
        },
        "message": {"token": s.token, "amount": amount.to_string(), "to": RECIPIENT, "nonce": nonce}
    }))
    .expect("typed data")
}

/// The app's `pull` of `amount` by `signed`, as the session's operation calls it.
fn pull_call(s: &Setup, app: Address, amount: U256, nonce: u64, signed: &SignedMessage) -> Call {
    let pull = TypedDataApp::pullCall {
        owner: s.account,
        token: s.token,
        amount,
        to: RECIPIENT,
        nonce: U256::from(nonce),
        signature: signed.signature.clone(),
    };
    Call {
        to: app,
        value: U256::ZERO,
        data: pull.abi_encode().into(),
    }
}

/// `calls` as `send`'s operation in the form leash-sdk gives a session that signs typed data
/// (balance-checked), estimated as leash estimates any operation (its validation and execution in
/// one transaction, so the app sees the session's signature valid there too), signed by `s.key`
/// and sent; a refusal in the estimate is an error.
fn send(s: &mut Setup, send: &SessionSend, calls: &[Call]) -> Result<BundleOutcome, ServiceError> {
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    let prepared = ready(send.prepare_signed(&sender, &s.key, calls, fees))?;
    assert_eq!(
        &prepared.op.operation.callData[..4],
        EXECUTE_USER_OP_SELECTOR.as_slice(),
        "a session that signs typed data sends the balance-checked form"
    );
    Ok(sender.send_operation(&prepared.op).expect("handleOps"))
}

#[test]
fn a_signed_pull_moves_tokens_only_in_the_sessions_own_operation_and_is_charged() {
    let mut s = Setup::new();
    let app = approved_app(&mut s);
    let lazy = pull_session(&s, app);
    let amount = TOKENS * U256::from(2);
    let typed = pull_typed_data(&s, app, amount, 1);
    let message = AccountMessage::typed_data(&typed).expect("nestable");
    let signed = sign_message(&lazy.session, &s.key, message).expect("allowed");
    let app_hash = s
        .chain
        .call(
            app,
            TypedDataApp::hashOfCall {
                token: s.token,
                amount,
                to: RECIPIENT,
                nonce: U256::from(1),
            },
        )
        .expect("a view");
    assert_eq!(signed.hash, app_hash, "the hash the app asks about");

    // The session's first operation enables it and pulls: the app's transferFrom is charged.
    let pull = pull_call(&s, app, amount, 1, &signed);
    support::executed(&send(&mut s, &lazy, &[pull]).expect("estimated and sent"));
    assert_eq!(s.token_balance(RECIPIENT), amount);
    let domain = s.chain.grant_domain();
    let state = s
        .chain
        .session_state(&domain, &lazy.session.grant)
        .expect("reads");
    assert_eq!(state.status, OnChainStatus::Enabled);
    assert_eq!(state.budgets[0].remaining, TOKENS * U256::from(3));

    // Enabled, outside any operation: the same signature (and a fresh one) is void.
    assert_eq!(
        is_valid_signature(&mut s, signed.hash, &signed.signature),
        REFUSED
    );
    let fresh = AccountMessage::typed_data(&pull_typed_data(&s, app, amount, 2)).expect("nestable");
    let fresh = sign_message(&lazy.session, &s.key, fresh).expect("allowed");
    assert_eq!(
        is_valid_signature(&mut s, fresh.hash, &fresh.signature),
        REFUSED
    );

    // A pull beyond what is left is refused by the operation's settlement, in the estimate already.
    let enabled = s.session_send(&grant_of(&lazy), OnChainStatus::Enabled);
    let four = TOKENS * U256::from(4);
    let beyond = AccountMessage::typed_data(&pull_typed_data(&s, app, four, 3)).expect("nestable");
    let beyond = sign_message(&enabled.session, &s.key, beyond).expect("allowed");
    let pull = pull_call(&s, app, four, 3, &beyond);
    let refused = send(&mut s, &enabled, &[pull]);
    assert!(
        matches!(&refused, Err(ServiceError::Denied(Denial::Validation(sentence)))
            if sentence.contains("more than the 3000000000000000000 remaining")),
        "{refused:?}"
    );
    assert_eq!(s.token_balance(RECIPIENT), amount);

    // Within what is left, the fresh signature pulls in the session's next operation.
    let pull = pull_call(&s, app, amount, 2, &fresh);
    support::executed(&send(&mut s, &enabled, &[pull]).expect("estimated and sent"));
    assert_eq!(s.token_balance(RECIPIENT), amount * U256::from(2));
}

/// The on-chain grant of `send`'s session.
fn grant_of(send: &SessionSend) -> leash_bindings::SessionGrant {
    send.session.grant.grant()
}
