//! Argument rules end to end through the real EntryPoint v0.8: a session whose
//! `functions-on-contract` permission on `Target.pay` carries an `eq` and a `one-of` rule (set
//! rules: the validator checks their values by its scope lookup) and a value limit, prepared as
//! `leash send` and `leash serve` prepare (leash-sdk's `SessionSend`, rules chosen per call and
//! attached to the signature). An allowed call executes; a disallowed one is refused before it is
//! signed, with the sentence the validator's error decodes to when the same call reaches it.

mod support;

use alloy_primitives::{B256, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use leash_bindings::{
    SessionGrant,
    SessionKeyValidator::{ArgumentsNotAllowed, CallRuleFailed, SessionKeyValidatorErrors as E},
    Target,
};
use leash_core::{
    calls::Call,
    denial::Denial,
    permission::Permission,
    prepare::UnsignedOperation,
    revert_reason::RevertReason,
    rules::{Rule, RuleAttachments, RuleOp},
    sender::{SignedUserOperation, UserOperationSender},
    session_signature::{
        SIG_FLAG_RULES, SIG_MODE_ENABLE, SIG_MODE_USE, SessionAuth, session_nonce_key,
    },
    session_state::OnChainStatus,
    user_operation::{GasSettings, UserOperationBuilder, user_operation_hash},
};
use leash_sdk::service::{ServiceError, SessionSend};
use leash_sim::{SimSender, ready};
use support::{RECIPIENT, Setup, denial, executed};

fn pay(s: &Setup, to: alloy_primitives::Address, amount: u64) -> Call {
    Call {
        to: s.target,
        value: U256::ZERO,
        data: Target::payCall {
            _0: to,
            _1: U256::from(amount),
        }
        .abi_encode()
        .into(),
    }
}

/// Pay only `RECIPIENT`, only 10 or 20, sending at most 1 wei along.
fn ruled_pay(s: &Setup) -> Permission {
    Permission::FunctionsOnContract {
        address: s.target,
        functions: vec![Target::payCall::SELECTOR.into()],
        rules: vec![
            Rule::Argument {
                index: 0,
                op: RuleOp::Eq,
                values: vec![RECIPIENT.into()],
            },
            Rule::Argument {
                index: 1,
                op: RuleOp::OneOf,
                values: vec![U256::from(10).into(), U256::from(20).into()],
            },
            Rule::CallValue { max: U256::ONE },
        ],
    }
}

fn prepare(
    s: &mut Setup,
    send: &SessionSend,
    calls: &[Call],
) -> Result<UnsignedOperation, ServiceError> {
    let sender = SimSender::new(&mut s.chain);
    let fees = sender.fees();
    ready(send.prepare(&sender, calls, fees))
}

/// `calls` in an operation of `grant`'s session signed with `rules` as they are, past leash's own
/// choice (what a client that skips the off-chain evaluation would send), sent: the validator's
/// error that refuses it.
fn refused_with_rules(
    s: &mut Setup,
    grant: &SessionGrant,
    calls: &[Call],
    rules: &RuleAttachments,
) -> E {
    let domain = s.chain.grant_domain();
    let sender = SimSender::new(&mut s.chain);
    let nonce_key = session_nonce_key(domain.validator, domain.session_id(grant));
    let nonce = ready(sender.nonce(s.account, nonce_key)).expect("nonce");
    let fees = sender.fees();
    let gas = GasSettings {
        max_fee_per_gas: fees.max_fee_per_gas,
        max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
        ..GasSettings::default()
    };
    let mut op = UserOperationBuilder::new(s.account)
        .nonce(nonce)
        .calls(calls)
        .expect("calls")
        .gas(gas)
        .build()
        .expect("operation");
    let hash = user_operation_hash(&op, sender.entry_point(), domain.chain_id, None).expect("hash");
    let key_signature = s.key.sign_hash_sync(&hash).expect("signs").as_bytes();
    let auth = SessionAuth::Enabled {
        session_id: domain.session_id(grant),
        root: false,
    };
    op.signature = auth.encode_with_rules(&key_signature, rules);
    let outcome = sender
        .send_operation(&SignedUserOperation::new(op))
        .expect("handleOps");
    denial(&outcome)
}

/// Prepares `calls` through `send`, signs them elsewhere (the key's raw signature of the hash),
/// attaches the signature, and checks the operation, in `mode` with the rules flag, executes.
fn send_allowed(s: &mut Setup, send: &SessionSend, calls: &[Call], mode: u8) {
    let unsigned = prepare(s, send, calls).expect("an allowed call prepares");
    let signature = s.key.sign_hash_sync(&unsigned.user_op_hash).expect("signs");
    let prepared = send
        .attach(unsigned, &signature.as_bytes())
        .expect("attaches");
    assert_eq!(prepared.op.operation.signature[0], mode | SIG_FLAG_RULES);
    let outcome = SimSender::new(&mut s.chain)
        .send_operation(&prepared.op)
        .expect("handleOps");
    executed(&outcome);
}

#[test]
fn a_first_use_enables_the_grant_and_carries_the_rules() {
    let mut s = Setup::new();
    let grant = s.grant([ruled_pay(&s)]);
    let send = s.session_send(&grant, OnChainStatus::Unused);
    let first = [pay(&s, RECIPIENT, 10), pay(&s, RECIPIENT, 20)];
    send_allowed(&mut s, &send, &first, SIG_MODE_ENABLE);
}

#[test]
fn an_allowed_call_executes_and_a_disallowed_one_is_denied_with_the_validators_sentence() {
    let mut s = Setup::new();
    let grant = s.grant([ruled_pay(&s)]);
    let session_id = s.enable(&grant);
    let send = s.session_send(&grant, OnChainStatus::Enabled);

    // Allowed: the rules ride in the signature, and the validator finds their scope.
    let allowed = [pay(&s, RECIPIENT, 20)];
    send_allowed(&mut s, &send, &allowed, SIG_MODE_USE);

    // Disallowed: 30 is not one of 10 and 20. Refused before anything is signed.
    let disallowed = [pay(&s, RECIPIENT, 30)];
    let selector = Target::payCall::SELECTOR.into();
    let word = |n: U256| B256::from(n).to_string();
    let not_allowed = format!(
        "session {session_id}: calling {selector} on {} with argument words [{}, {}] (what its eq \
         and one-of rules read) is not a combination of values its permissions allow",
        s.target,
        RECIPIENT.into_word(),
        word(U256::from(30))
    );
    let named = format!(
        "{not_allowed} (argument 0 eq {}; argument 1 one-of [{}, {}])",
        RECIPIENT.into_word(),
        word(U256::from(10)),
        word(U256::from(20))
    );
    match prepare(&mut s, &send, &disallowed) {
        Err(ServiceError::Denied(Denial::Validation(sentence))) => assert_eq!(sentence, named),
        other => panic!("expected a denial, got {other:?}"),
    }

    // The same call signed anyway, with the rules that allowed the first one: the validator
    // reverts with the error that sentence speaks for (decoded without the grant; with it, the
    // same sentence as before signing).
    let permissions = &send.session.grant.permissions;
    let rules = RuleAttachments::choose(session_id, s.account, permissions, &allowed)
        .expect("the allowed call's rules");
    let error = refused_with_rules(&mut s, &grant, &disallowed, &rules);
    assert_eq!(
        error,
        E::ArgumentsNotAllowed(ArgumentsNotAllowed {
            sessionId: session_id,
            target: s.target,
            selector,
            words: vec![U256::from_be_bytes(RECIPIENT.into_word().0), U256::from(30)],
        })
    );
    let reason = RevertReason::Validator(error);
    assert_eq!(reason.to_string(), not_allowed);
    assert_eq!(reason.explain(permissions), named);

    // Allowed arguments with 2 wei: the value limit, a rule that travels with its value, fails.
    let mut too_much = pay(&s, RECIPIENT, 10);
    too_much.value = U256::from(2);
    let over = format!(
        "session {session_id}: calling {selector} on {} breaks rule 2 of its permission (call \
         value lte 1 wei): the call sends 2 wei",
        s.target
    );
    match prepare(&mut s, &send, &[too_much.clone()]) {
        Err(ServiceError::Denied(Denial::Validation(sentence))) => assert_eq!(sentence, over),
        other => panic!("expected a denial, got {other:?}"),
    }
    let error = refused_with_rules(&mut s, &grant, &[too_much], &rules);
    assert_eq!(
        error,
        E::CallRuleFailed(CallRuleFailed {
            sessionId: session_id,
            target: s.target,
            selector,
            ruleIndex: U256::from(2),
            actual: U256::from(2),
        })
    );
    assert_eq!(RevertReason::Validator(error).explain(permissions), over);
}
