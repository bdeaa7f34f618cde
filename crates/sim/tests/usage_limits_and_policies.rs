//! Usage limits and policy contracts end to end through the real EntryPoint v0.8, sent as `leash
//! send` sends (leash-sdk's `SessionSend`: the permission's compact rules, which name it by its
//! index in the grant, attached to the signature). leash-core cannot judge either before signing
//! (the chain counts, and only the chain runs the policy), so the calls they refuse are refused by
//! the validator when the operation's gas is estimated, with the sentences its errors decode to.

mod support;

use alloy_primitives::U256;
use alloy_sol_types::{SolCall, SolValue};
use leash_bindings::{RecipientBlocklistPolicy, Target};
use leash_core::{
    calls::Call,
    denial::Denial,
    permission::Permission,
    rules::Rule,
    session_state::{GrantRecord, OnChainStatus},
    validator_reads::{UsesLeft, read_uses_left},
};
use leash_sdk::service::{ServiceError, SessionSend};
use leash_sim::{SimSender, ready};
use support::{RECIPIENT, Setup, executed};

/// `calls` prepared (their gas estimated by simulating the operation), signed by the session key
/// and sent as `leash send` does; it must execute.
fn send_allowed(s: &mut Setup, session: &SessionSend, calls: &[Call]) {
    let key = s.key.clone();
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    let prepared = ready(session.prepare_signed(&sender, &key, calls, fees)).expect("prepares");
    executed(&sender.send_operation(&prepared.op).expect("handleOps"));
}

/// Why `calls` are refused when they are prepared: the validator's revert in the simulation, as
/// `leash send` reports it.
fn refused(s: &mut Setup, session: &SessionSend, calls: &[Call]) -> String {
    let key = s.key.clone();
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    match ready(session.prepare_signed(&sender, &key, calls, fees)) {
        Err(ServiceError::Denied(Denial::Validation(sentence))) => sentence,
        other => panic!("expected the validator's refusal, got {other:?}"),
    }
}

fn on_target(
    s: &Setup,
    functions: Vec<alloy_primitives::Selector>,
    rules: Vec<Rule>,
) -> Permission {
    Permission::FunctionsOnContract {
        address: s.target,
        functions,
        rules,
    }
}

#[test]
fn a_usage_limit_of_two_allows_two_calls_and_refuses_the_third() {
    let mut s = Setup::new();
    let ping = Target::pingCall::SELECTOR.into();
    // The limited permission is the grant's second: its counter is named by that index.
    let grant = s.grant([
        Permission::ContractAccess { address: RECIPIENT },
        on_target(&s, vec![ping], vec![Rule::UsageLimit { calls: 2 }]),
    ]);
    let session_id = s.enable(&grant);
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    let record = GrantRecord::new(&grant, None).expect("a known grant");
    let domain = s.chain.grant_domain();
    let uses_left = |s: &mut Setup| {
        ready(read_uses_left(
            &mut s.chain,
            &domain,
            &record,
            OnChainStatus::Enabled,
        ))
        .expect("getUsesLeft")
    };
    let left = |n: u64| {
        vec![UsesLeft {
            permission_index: 1,
            limit: 2,
            left: U256::from(n),
        }]
    };
    assert_eq!(uses_left(&mut s), left(2));

    let call = s.ping();
    send_allowed(&mut s, &session, std::slice::from_ref(&call));
    assert_eq!(uses_left(&mut s), left(1));
    send_allowed(&mut s, &session, std::slice::from_ref(&call));
    assert_eq!(uses_left(&mut s), left(0));

    assert_eq!(
        refused(&mut s, &session, &[call]),
        format!(
            "AA23 reverted (session {session_id}: calling {ping} on {} is refused: its permission \
             has made the 2 calls its usage limit allows)",
            s.target
        )
    );
}

#[test]
fn a_policy_allows_a_call_until_the_account_blocks_its_recipient() {
    let mut s = Setup::new();
    let policy = s.deploy(&RecipientBlocklistPolicy::BYTECODE);
    let pay_selector = Target::payCall::SELECTOR.into();
    // The recipient is pay's argument 0: the policy's config.
    let rules = vec![Rule::Policy {
        address: policy,
        config: U256::ZERO.abi_encode().into(),
    }];
    let grant = s.grant([on_target(&s, vec![pay_selector], rules)]);
    let session_id = s.enable(&grant);
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    let pay = s.pay(RECIPIENT, U256::from(10));
    send_allowed(&mut s, &session, std::slice::from_ref(&pay));

    // The account blocks the recipient, without granting the session again.
    let block = RecipientBlocklistPolicy::setBlockedCall {
        recipient: RECIPIENT,
        isBlocked: true,
    };
    executed(&s.owner_calls(&[Call {
        to: policy,
        value: U256::ZERO,
        data: block.abi_encode().into(),
    }]));

    assert_eq!(
        refused(&mut s, &session, &[pay]),
        format!(
            "AA23 reverted (session {session_id}: policy {policy} (rule 0 of the permission) refused calling \
             {pay_selector} on {}: account {} has blocked recipient {RECIPIENT} \
             (RecipientBlocklistPolicy))",
            s.target, s.account
        )
    );
}
