//! Session lifecycle end to end: lazy enable, revocation, expiry, batches, concurrent sessions.

mod support;

use alloy_primitives::{I256, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{SessionKeyValidator, SessionKeyValidator::SessionKeyValidatorErrors as E};
use leash_core::{calls::Call, outflow::LimitedAssets, permission::Permission};
use leash_sim::{AaCode, BundleOutcome, SimSender};
use support::{ETH, RECIPIENT, Setup, TOKENS, denial, executed, key, rejection_code};

fn remaining_tokens(s: &mut Setup, session_id: alloy_primitives::B256) -> U256 {
    let call = SessionKeyValidator::getRemainingCall {
        account: s.account,
        sessionId: session_id,
        permissionType: leash_bindings::PermissionType::Erc20TokenTransfer.into(),
        token: s.token,
    };
    s.chain.call(s.validator, call).expect("getRemaining")
}

#[test]
fn lazy_enable_then_use() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    let id = s.session_id(&grant);
    executed(&s.send_lazily(&grant, &[s.transfer_tokens(RECIPIENT, TOKENS)]));
    assert_eq!(remaining_tokens(&mut s, id), TOKENS * U256::from(9));
    executed(&s.send(
        &grant,
        &[s.transfer_tokens(RECIPIENT, TOKENS * U256::from(9))],
    ));
    assert_eq!(remaining_tokens(&mut s, id), U256::ZERO);
    assert_eq!(s.token_balance(RECIPIENT), TOKENS * U256::from(10));
}

#[test]
fn lazy_enable_with_a_forged_owner_signature_fails_as_a_signature() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    let forged = s
        .chain
        .grant_domain()
        .sign(&key(0x99), &grant)
        .expect("sign");
    let auth = leash_core::session_signature::SessionAuth::Lazy {
        grant: &grant,
        owner_signature: &forged,
    };
    let outcome = s.send_as(
        &s.key.clone(),
        &auth,
        &[s.transfer_tokens(RECIPIENT, TOKENS)],
    );
    assert_eq!(rejection_code(&outcome), AaCode::SIGNATURE_ERROR);
}

#[test]
fn revoked_session_never_validates_again() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    s.enable(&grant);
    executed(&s.send(&grant, &[s.transfer_tokens(RECIPIENT, TOKENS)]));
    let revoke = SessionKeyValidator::revokeSessionCall {
        grant: (&grant).into(),
    };
    executed(&s.owner_calls(&[Call {
        to: s.validator,
        value: U256::ZERO,
        data: revoke.abi_encode().into(),
    }]));
    let outcome = s.send(&grant, &[s.transfer_tokens(RECIPIENT, TOKENS)]);
    assert_eq!(rejection_code(&outcome), AaCode::SIGNATURE_ERROR);
}

#[test]
fn session_key_can_revoke_itself() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    s.enable(&grant);
    s.chain
        .set_balance(s.key.address(), ETH)
        .expect("chain state");
    let revoke = SessionKeyValidator::revokeSessionCall {
        grant: (&grant).into(),
    };
    let tx = s
        .chain
        .transact(
            s.key.address(),
            s.validator,
            revoke.abi_encode().into(),
            U256::ZERO,
        )
        .expect("tx");
    assert!(tx.result.is_success(), "{:?}", tx.result);
    assert_eq!(
        rejection_code(&s.send(&grant, &[s.transfer_tokens(RECIPIENT, TOKENS)])),
        AaCode::SIGNATURE_ERROR
    );
}

#[test]
fn revoke_all_ends_every_session_at_once() {
    let mut s = Setup::new();
    let first = s.erc20_grant(10);
    let second = s.grant([Permission::ContractAccess { address: s.target }]);
    s.enable(&first);
    s.enable(&second);
    let revoke_all = SessionKeyValidator::revokeAllSessionsCall {}.abi_encode();
    executed(&s.owner_calls(&[Call {
        to: s.validator,
        value: U256::ZERO,
        data: revoke_all.into(),
    }]));
    assert_eq!(
        rejection_code(&s.send(&first, &[s.transfer_tokens(RECIPIENT, TOKENS)])),
        AaCode::SIGNATURE_ERROR
    );
    assert_eq!(
        rejection_code(&s.send(&second, &[s.ping()])),
        AaCode::SIGNATURE_ERROR
    );
}

#[test]
fn expiry_and_start_go_out_through_validation_data() {
    let mut s = Setup::new();
    let now = s.chain.timestamp();
    let grant =
        leash_core::grant::SessionGrantBuilder::new(s.account, s.key.address(), s.validator)
            .valid_after(now + 100)
            .valid_until(now + 3600)
            .permission(Permission::ContractAccess { address: s.target })
            .build(now)
            .expect("grant");
    s.enable(&grant);
    let outcome = s.send(&grant, &[s.ping()]);
    assert_eq!(
        rejection_code(&outcome),
        AaCode::EXPIRED_OR_NOT_DUE,
        "not yet valid"
    );
    s.chain.advance_time(200);
    executed(&s.send(&grant, &[s.ping()]));
    s.chain.advance_time(3600);
    assert_eq!(
        rejection_code(&s.send(&grant, &[s.ping()])),
        AaCode::EXPIRED_OR_NOT_DUE,
        "expired"
    );
}

#[test]
fn a_batch_with_one_bad_call_is_rejected_whole() {
    let mut s = Setup::new();
    let grant = s.grant([
        Permission::Erc20TokenTransfer {
            address: s.token,
            allowance: TOKENS * U256::from(10),
            period: None,
        },
        Permission::ContractAccess { address: s.target },
    ]);
    let id = s.enable(&grant);
    let calls = [
        s.transfer_tokens(RECIPIENT, TOKENS),
        s.ping(),
        Call::transfer(RECIPIENT, U256::from(1)),
    ];
    assert_eq!(
        denial(&s.send(&grant, &calls)),
        E::NativeTransferNotAllowed(SessionKeyValidator::NativeTransferNotAllowed {
            sessionId: id,
            target: RECIPIENT,
            value: U256::from(1)
        })
    );
    assert_eq!(s.token_balance(RECIPIENT), U256::ZERO);
    assert_eq!(
        remaining_tokens(&mut s, id),
        TOKENS * U256::from(10),
        "nothing was spent"
    );
}

#[test]
fn two_sessions_spend_in_the_same_bundle() {
    let mut s = Setup::new();
    let grant_a = s.erc20_grant(10);
    let other_key = key(0x33);
    let grant_b = s.grant_to(
        other_key.address(),
        [Permission::NativeTokenTransfer {
            allowance: ETH,
            period: None,
        }],
    );
    s.enable(&grant_a);
    let id_b = s.enable(&grant_b);
    let auth_a = s.enabled(&grant_a);
    let op_a = s.prepare(
        &auth_a,
        &[s.transfer_tokens(RECIPIENT, TOKENS * U256::from(2))],
    );
    let auth_b = leash_core::session_signature::SessionAuth::Enabled {
        session_id: id_b,
        root: false,
    };
    let op_b = SimSender::new(&mut s.chain)
        .prepare_session(
            s.account,
            &other_key,
            &auth_b,
            &LimitedAssets::of_grant(&grant_b),
            &[Call::transfer(RECIPIENT, ETH)],
        )
        .expect("op b")
        .op;
    // Two sessions' lanes, estimated apart, in one bundle: as a bundler batches them.
    let outcome = s
        .chain
        .handle_ops(vec![op_a.operation, op_b.operation], vec![])
        .expect("handleOps");
    let BundleOutcome::Included { ops, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(ops.len(), 2);
    assert_eq!(
        ops[0].balance_changes.erc20_of(s.token, RECIPIENT),
        I256::from_raw(TOKENS * U256::from(2))
    );
    assert_eq!(
        ops[1].balance_changes.native_of(RECIPIENT),
        I256::from_raw(ETH)
    );
    assert!(
        ops[0].balance_changes.native.is_empty(),
        "each op reports only its own moves"
    );
}

#[test]
fn the_estimate_explains_a_denial_before_anything_is_signed() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    let id = s.enable(&grant);
    let preflight = s.send(
        &grant,
        &[s.transfer_tokens(RECIPIENT, TOKENS * U256::from(11))],
    );
    let expected = E::Erc20AllowanceExceeded(SessionKeyValidator::Erc20AllowanceExceeded {
        sessionId: id,
        token: s.token,
        requested: TOKENS * U256::from(11),
        remaining: TOKENS * U256::from(10),
    });
    assert_eq!(denial(&preflight), expected);
    let explanation = preflight
        .rejection()
        .and_then(|r| r.inner_reason())
        .expect("reason")
        .to_string();
    assert!(
        explanation.contains("requested 11000000000000000000, remaining 10000000000000000000"),
        "{explanation}"
    );
    assert_eq!(remaining_tokens(&mut s, id), TOKENS * U256::from(10));
}
