//! Every permission type of `SessionKeyValidator`, end to end through the real EntryPoint v0.8:
//! what it allows (balances move as expected) and each way it blocks (the decoded rule).

mod support;

use alloy_primitives::{Address, B256, I256, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{
    IERC20, LeashAccount, PackedUserOperation, SessionKeyValidator,
    SessionKeyValidator::SessionKeyValidatorErrors as E, Target,
};
use leash_core::{calls::Call, permission::Permission};
use support::{ETH, RECIPIENT, Setup, TOKENS, denial, erc20_call, executed};

fn call(to: Address, data: Vec<u8>) -> Call {
    Call {
        to,
        value: U256::ZERO,
        data: data.into(),
    }
}

// ------------------------------------------------------------------ root

#[test]
fn root_allows_any_call_with_any_value() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::Root]);
    s.enable(&grant);
    let calls = [
        s.transfer_tokens(RECIPIENT, TOKENS * U256::from(500)),
        Call::transfer(RECIPIENT, ETH * U256::from(3)),
        s.ping(),
    ];
    let outcome = s.send(&grant, &calls);
    let moved = &executed(&outcome).balance_changes;
    assert_eq!(
        moved.native_of(RECIPIENT),
        I256::from_raw(ETH * U256::from(3))
    );
    assert_eq!(
        moved.erc20_of(s.token, RECIPIENT),
        I256::from_raw(TOKENS * U256::from(500))
    );
}

#[test]
fn root_cannot_call_the_account_or_the_validator() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::Root]);
    let id = s.enable(&grant);
    let install = LeashAccount::installModuleCall {
        moduleTypeId: U256::from(1),
        module: RECIPIENT,
        initData: Default::default(),
    };
    let outcome = s.send(&grant, &[call(s.account, install.abi_encode())]);
    assert_eq!(
        denial(&outcome),
        E::ForbiddenCall(SessionKeyValidator::ForbiddenCall {
            sessionId: id,
            target: s.account,
            selector: LeashAccount::installModuleCall::SELECTOR.into()
        })
    );
    let revoke_all = SessionKeyValidator::revokeAllSessionsCall {}.abi_encode();
    let outcome = s.send(&grant, &[call(s.validator, revoke_all)]);
    assert_eq!(
        denial(&outcome),
        E::ForbiddenCall(SessionKeyValidator::ForbiddenCall {
            sessionId: id,
            target: s.validator,
            selector: SessionKeyValidator::revokeAllSessionsCall::SELECTOR.into()
        })
    );
}

#[test]
fn a_scoped_session_cannot_claim_root() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::ContractAccess { address: s.target }]);
    let id = s.enable(&grant);
    let auth = leash_core::session_signature::SessionAuth::Enabled {
        session_id: id,
        root: true,
    };
    let outcome = s.send_as(&s.key.clone(), &auth, &[s.ping()]);
    assert_eq!(
        denial(&outcome),
        E::NotRootSession(SessionKeyValidator::NotRootSession { sessionId: id })
    );
}

// ------------------------------------------------------------------ native-token-transfer

#[test]
fn native_allowance_is_exact_at_the_boundary() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::NativeTokenTransfer {
        allowance: ETH * U256::from(2),
        period: None,
    }]);
    let id = s.enable(&grant);
    let outcome = s.send(&grant, &[Call::transfer(RECIPIENT, ETH)]);
    assert_eq!(
        executed(&outcome).balance_changes.native_of(RECIPIENT),
        I256::from_raw(ETH)
    );
    let outcome = s.send(&grant, &[Call::transfer(RECIPIENT, ETH + U256::from(1))]);
    assert_eq!(
        denial(&outcome),
        E::NativeAllowanceExceeded(SessionKeyValidator::NativeAllowanceExceeded {
            sessionId: id,
            target: RECIPIENT,
            requested: ETH + U256::from(1),
            remaining: ETH
        })
    );
    executed(&s.send(&grant, &[Call::transfer(RECIPIENT, ETH)]));
    assert_eq!(
        s.chain.balance(RECIPIENT).expect("chain state"),
        ETH * U256::from(2)
    );
}

#[test]
fn value_without_native_permission_is_refused() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::ContractAccess { address: s.target }]);
    let id = s.enable(&grant);
    let mut ping = s.ping();
    ping.value = U256::from(1);
    assert_eq!(
        denial(&s.send(&grant, &[ping])),
        E::NativeTransferNotAllowed(SessionKeyValidator::NativeTransferNotAllowed {
            sessionId: id,
            target: s.target,
            value: U256::from(1)
        })
    );
}

// ------------------------------------------------------------------ erc20-token-transfer

#[test]
fn erc20_allowance_covers_transfer_and_approve_and_is_exact() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    let id = s.enable(&grant);
    let outcome = s.send(
        &grant,
        &[s.transfer_tokens(RECIPIENT, TOKENS * U256::from(6))],
    );
    let moved = &executed(&outcome).balance_changes;
    assert_eq!(
        moved.erc20_of(s.token, RECIPIENT),
        I256::from_raw(TOKENS * U256::from(6))
    );
    assert_eq!(
        moved.erc20_of(s.token, s.account),
        -I256::from_raw(TOKENS * U256::from(6))
    );

    let approve = erc20_call(
        s.token,
        IERC20::approveCall {
            spender: RECIPIENT,
            amount: TOKENS * U256::from(5),
        }
        .abi_encode(),
    );
    assert_eq!(
        denial(&s.send(&grant, &[approve])),
        E::Erc20AllowanceExceeded(SessionKeyValidator::Erc20AllowanceExceeded {
            sessionId: id,
            token: s.token,
            requested: TOKENS * U256::from(5),
            remaining: TOKENS * U256::from(4)
        })
    );
    executed(&s.send(
        &grant,
        &[s.transfer_tokens(RECIPIENT, TOKENS * U256::from(4))],
    ));
    assert_eq!(s.token_balance(RECIPIENT), TOKENS * U256::from(10));
}

#[test]
fn tokens_without_their_permission_cannot_move() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::ContractAccess { address: s.token }]);
    let id = s.enable(&grant);
    assert_eq!(
        denial(&s.send(&grant, &[s.transfer_tokens(RECIPIENT, U256::from(1))])),
        E::Erc20NotAllowed(SessionKeyValidator::Erc20NotAllowed {
            sessionId: id,
            token: s.token,
            selector: IERC20::transferCall::SELECTOR.into()
        })
    );
}

// ------------------------------------------------------------------ gas-limit

#[test]
fn gas_limit_counts_the_maximum_cost_of_self_paid_operations() {
    let mut s = Setup::new();
    // The maximum costs of a first and a second operation as they are prepared (estimated, plus
    // the margin), measured under a roomy budget on a state that is then thrown away.
    let snapshot = s.chain.snapshot();
    let roomy = s.grant([
        Permission::GasLimit { limit: ETH },
        Permission::ContractAccess { address: s.target },
    ]);
    s.enable(&roomy);
    let auth = s.enabled(&roomy);
    let first = max_cost(&s.prepare(&auth, &[s.ping()]).operation);
    executed(&s.send(&roomy, &[s.ping()]));
    let second = max_cost(&s.prepare(&auth, &[s.ping()]).operation);
    s.chain.restore(snapshot);

    // Under the real grant (another session id, so a few calldata bytes differ), the first
    // operation fits and the second, prepared the same way, does not.
    let limit = first + second / U256::from(2);
    let grant = s.grant([
        Permission::GasLimit { limit },
        Permission::ContractAccess { address: s.target },
    ]);
    let id = s.enable(&grant);
    let auth = s.enabled(&grant);
    let first = s.prepare(&auth, &[s.ping()]);
    executed(&s.send_prepared(&first));
    let second = s.prepare(&auth, &[s.ping()]);
    assert_eq!(
        denial(&s.send_prepared(&second)),
        E::GasLimitExceeded(SessionKeyValidator::GasLimitExceeded {
            sessionId: id,
            requested: max_cost(&second.operation),
            remaining: limit - max_cost(&first.operation)
        })
    );
}

/// What the validator charges a `gas-limit` permission: every gas limit at the maximum fee.
fn max_cost(op: &PackedUserOperation) -> U256 {
    let low_half = |word: B256| U256::from_be_bytes(word.0) & U256::from(u128::MAX);
    let verification = U256::from_be_bytes(op.accountGasLimits.0) >> 128;
    let gas = verification + low_half(op.accountGasLimits) + op.preVerificationGas;
    gas * low_half(op.gasFees)
}

// ------------------------------------------------------------------ contract-access

#[test]
fn contract_access_allows_any_function_on_that_contract_only() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::ContractAccess { address: s.target }]);
    let id = s.enable(&grant);
    let pong = call(s.target, Target::pongCall {}.abi_encode());
    executed(&s.send(&grant, &[s.ping(), pong]));
    let elsewhere = call(RECIPIENT, Target::pingCall {}.abi_encode());
    assert_eq!(
        denial(&s.send(&grant, &[elsewhere])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: RECIPIENT,
            selector: Target::pingCall::SELECTOR.into()
        })
    );
}

// ------------------------------------------------------------------ account-functions

#[test]
fn account_functions_allow_listed_selectors_on_the_account_only() {
    let mut s = Setup::new();
    let account_id = LeashAccount::accountIdCall::SELECTOR.into();
    let grant = s.grant([Permission::AccountFunctions {
        functions: vec![account_id],
    }]);
    let id = s.enable(&grant);
    executed(&s.send(
        &grant,
        &[call(s.account, LeashAccount::accountIdCall {}.abi_encode())],
    ));
    let other = LeashAccount::supportsModuleCall {
        moduleTypeId: U256::from(1),
    }
    .abi_encode();
    assert_eq!(
        denial(&s.send(&grant, &[call(s.account, other)])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: s.account,
            selector: LeashAccount::supportsModuleCall::SELECTOR.into()
        })
    );
    let on_target = call(s.target, LeashAccount::accountIdCall {}.abi_encode());
    assert_eq!(
        denial(&s.send(&grant, &[on_target])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: s.target,
            selector: account_id
        })
    );
}

// ------------------------------------------------------------------ functions-on-all-contracts

#[test]
fn functions_on_all_contracts_allow_the_selector_anywhere_but_nothing_else() {
    let mut s = Setup::new();
    let ping = Target::pingCall::SELECTOR.into();
    let grant = s.grant([Permission::FunctionsOnAllContracts {
        functions: vec![ping],
        rules: vec![],
    }]);
    let id = s.enable(&grant);
    executed(&s.send(&grant, &[s.ping()]));
    let pong = call(s.target, Target::pongCall {}.abi_encode());
    assert_eq!(
        denial(&s.send(&grant, &[pong])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: s.target,
            selector: Target::pongCall::SELECTOR.into()
        })
    );
    let on_account = call(s.account, Target::pingCall {}.abi_encode());
    assert_eq!(
        denial(&s.send(&grant, &[on_account])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: s.account,
            selector: ping
        })
    );
}

// ------------------------------------------------------------------ functions-on-contract

#[test]
fn functions_on_contract_allow_the_selector_on_that_contract_only() {
    let mut s = Setup::new();
    let ping = Target::pingCall::SELECTOR.into();
    let grant = s.grant([Permission::FunctionsOnContract {
        address: s.target,
        functions: vec![ping],
        rules: vec![],
    }]);
    let id = s.enable(&grant);
    executed(&s.send(&grant, &[s.ping()]));
    let elsewhere = call(s.token, Target::pingCall {}.abi_encode());
    assert_eq!(
        denial(&s.send(&grant, &[elsewhere])),
        E::CallNotAllowed(SessionKeyValidator::CallNotAllowed {
            sessionId: id,
            target: s.token,
            selector: ping
        })
    );
}

/// A call beyond the selector meter on a session that limits the token: leash-core sends it in the
/// balance-checked form, the account measures what left, and the validator charges it.
#[test]
fn calls_beyond_the_selector_meter_are_charged_by_what_left() {
    let mut s = Setup::new();
    let grant = s.grant([
        Permission::Erc20TokenTransfer {
            address: s.token,
            allowance: TOKENS,
            period: None,
        },
        Permission::NativeTokenTransfer {
            allowance: ETH,
            period: None,
        },
        Permission::FunctionsOnContract {
            address: s.target,
            functions: vec![Target::pingCall::SELECTOR.into()],
            rules: vec![],
        },
    ]);
    let id = s.enable(&grant);
    let batch = [
        s.ping(),
        s.transfer_tokens(RECIPIENT, U256::from(5)),
        Call::transfer(RECIPIENT, U256::from(7)),
    ];
    let outcome = s.send(&grant, &batch);
    assert_eq!(
        executed(&outcome).balance_changes.native_of(RECIPIENT),
        I256::from_raw(U256::from(7))
    );
    let remaining = |s: &mut Setup, kind, token| {
        s.chain
            .call(
                s.validator,
                SessionKeyValidator::getRemainingCall {
                    account: s.account,
                    sessionId: id,
                    permissionType: kind,
                    token,
                },
            )
            .expect("getRemaining")
    };
    let token = s.token;
    let erc20 = leash_bindings::PermissionType::Erc20TokenTransfer.into();
    let native = leash_bindings::PermissionType::NativeTokenTransfer.into();
    assert_eq!(remaining(&mut s, erc20, token), TOKENS - U256::from(5));
    assert_eq!(
        remaining(&mut s, native, Address::ZERO),
        ETH - U256::from(7)
    );
}
