//! ERC-7562's storage and opcode rules for leash's validation, checked on the embedded chain
//! (`Chain::erc7562_violations`): the bundlers of the anvil tests run with `--safe-mode false`,
//! so this is where leash's operations are shown to touch only storage associated with the
//! account in validation, and a policy reading a global slot is shown to be caught.

mod support;

use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use leash_bindings::{RecipientBlocklistPolicy, Target};
use leash_core::{
    calls::{Call, execute_calldata},
    outflow::LimitedAssets,
    permission::Permission,
    rules::Rule,
    sender::SignedUserOperation,
    session_signature::SessionAuth,
    session_state::OnChainStatus,
};
use leash_sdk::service::SessionSend;
use leash_sim::{Erc7562Violation, SimSender, ready};
use support::{RECIPIENT, Setup, TOKENS, executed};

sol!(
    /// contracts/test/GlobalSwitchPolicy.sol: allows calls while one global switch is open.
    #[allow(missing_docs)]
    GlobalSwitchPolicy,
    "../bindings/artifacts/GlobalSwitchPolicy.json"
);

/// The ERC-7562 violations of `op`'s validation; the operation is then sent and must execute, so
/// that what was checked is an operation the chain takes.
fn violations_then_send(s: &mut Setup, op: &SignedUserOperation) -> Vec<Erc7562Violation> {
    let violations = s
        .chain
        .erc7562_violations(
            vec![op.operation.clone()],
            op.authorization.iter().cloned().collect(),
        )
        .expect("simulates");
    executed(&s.send_prepared(op));
    violations
}

/// `calls` of an enabled `session` prepared and signed as `leash send` does.
fn session_operation(s: &mut Setup, session: &SessionSend, calls: &[Call]) -> SignedUserOperation {
    let key = s.key.clone();
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    ready(session.prepare_signed(&sender, &key, calls, fees))
        .expect("prepares")
        .op
}

/// A grant of `pay` on the target under the policy at `policy` (the recipient is argument 0),
/// enabled, and a `pay` to [`RECIPIENT`] prepared under it.
fn policed_pay(s: &mut Setup, policy: Address) -> SignedUserOperation {
    let rules = vec![Rule::Policy {
        address: policy,
        config: U256::ZERO.abi_encode().into(),
    }];
    let grant = s.grant([Permission::FunctionsOnContract {
        address: s.target,
        functions: vec![Target::payCall::SELECTOR.into()],
        rules,
    }]);
    s.enable(&grant);
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    let pay = s.pay(RECIPIENT, U256::from(10));
    session_operation(s, &session, &[pay])
}

#[test]
fn the_owners_operation_keeps_to_the_rules() {
    let mut s = Setup::new();
    let call_data = execute_calldata(&[s.transfer_tokens(RECIPIENT, TOKENS)]).expect("calldata");
    let op = SimSender::new(&mut s.chain)
        .prepare_owner(&s.owner.clone(), call_data, None)
        .expect("prepares")
        .op;
    assert_eq!(violations_then_send(&mut s, &op), vec![]);
}

#[test]
fn a_scoped_erc20_transfer_keeps_to_the_rules() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    s.enable(&grant);
    let auth = s.enabled(&grant);
    let key = s.key.clone();
    let transfer = s.transfer_tokens(RECIPIENT, TOKENS);
    let op = SimSender::new(&mut s.chain)
        .prepare_session(
            s.account,
            &key,
            &auth,
            &LimitedAssets::of_grant(&grant),
            &[transfer],
        )
        .expect("prepares")
        .op;
    assert_eq!(violations_then_send(&mut s, &op), vec![]);
}

#[test]
fn a_lazy_enable_keeps_to_the_rules() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::ContractAccess { address: s.target }]);
    let owner_signature = s.owner_signature(&grant);
    let auth = SessionAuth::Lazy {
        grant: &grant,
        owner_signature: &owner_signature,
    };
    let op = s.prepare(&auth, &[s.ping()]);
    assert_eq!(violations_then_send(&mut s, &op), vec![]);
}

#[test]
fn a_call_under_a_usage_limit_keeps_to_the_rules() {
    let mut s = Setup::new();
    let grant = s.grant([Permission::FunctionsOnContract {
        address: s.target,
        functions: vec![Target::pingCall::SELECTOR.into()],
        rules: vec![Rule::UsageLimit { calls: 2 }],
    }]);
    s.enable(&grant);
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    let ping = s.ping();
    let op = session_operation(&mut s, &session, &[ping]);
    assert_eq!(violations_then_send(&mut s, &op), vec![]);
}

#[test]
fn the_recipient_blocklist_policy_keeps_to_the_rules() {
    let mut s = Setup::new();
    let policy = s.deploy(&RecipientBlocklistPolicy::BYTECODE);
    let op = policed_pay(&mut s, policy);
    assert_eq!(violations_then_send(&mut s, &op), vec![]);
}

#[test]
fn a_policy_reading_a_global_switch_breaks_the_rules() {
    let mut s = Setup::new();
    let policy = s.deploy(&GlobalSwitchPolicy::BYTECODE);
    let op = policed_pay(&mut s, policy);
    // `open` is the policy's slot 0, the same for every account.
    assert_eq!(
        violations_then_send(&mut s, &op),
        vec![Erc7562Violation::UnassociatedSlot {
            account: s.account,
            contract: policy,
            slot: U256::ZERO,
            opcode: "SLOAD",
        }]
    );
}
