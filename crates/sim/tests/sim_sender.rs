//! The simulator as a `UserOperationSender`: what leash-core's prepare and `leash send` see.

mod support;

use alloy_primitives::U256;
use leash_core::{
    outflow::LimitedAssets,
    rejection::AaCode,
    sender::{SenderError, UserOperationSender},
};
use leash_sim::{SimSender, ready};
use support::{RECIPIENT, Setup, TOKENS};

#[test]
fn a_sent_operation_has_a_receipt_with_its_own_logs() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(10);
    s.enable(&grant);
    let auth = s.enabled(&grant);
    let op = s.prepare(&auth, &[s.transfer_tokens(RECIPIENT, TOKENS)]);
    let sender = SimSender::new(&mut s.chain);
    let user_op_hash = ready(sender.send(&op)).expect("sent");
    let receipt = ready(sender.receipt(user_op_hash))
        .expect("receipt lookup")
        .expect("included");
    assert!(receipt.success);
    assert_eq!(
        (receipt.sender, receipt.nonce),
        (op.operation.sender, op.operation.nonce)
    );
    assert_eq!(receipt.logs.len(), 1, "the token's Transfer only");
    assert_eq!(receipt.logs[0].address(), s.token);
    assert!(receipt.receipt.status());
    assert_eq!(
        ready(sender.nonce(op.operation.sender, op.operation.nonce >> 64)).expect("nonce"),
        op.operation.nonce + U256::from(1)
    );
    assert!(
        ready(sender.receipt(alloy_primitives::B256::ZERO))
            .expect("lookup")
            .is_none()
    );
}

#[test]
fn the_estimate_rejects_what_validation_refuses_and_reports_reverting_calls() {
    let mut s = Setup::new();
    let grant = s.erc20_grant(1);
    s.enable(&grant);
    let auth = s.enabled(&grant);
    let key = s.key.clone();
    let account = s.account;
    let beyond = s.transfer_tokens(RECIPIENT, TOKENS * U256::from(2));
    let sender = SimSender::new(&mut s.chain);
    let limits = LimitedAssets::of_grant(&grant);
    match sender.prepare_session(account, &key, &auth, &limits, &[beyond]) {
        Err(SenderError::Rejected(rejection)) => {
            assert_eq!(rejection.code, AaCode::ACCOUNT_REVERTED);
            assert!(rejection.inner.is_some_and(|inner| !inner.is_empty()));
        }
        other => panic!("not rejected: {other:?}"),
    }
    // Within the allowance but more than the account holds: validation passes, the token reverts.
    let more_than_held = s.transfer_tokens(RECIPIENT, TOKENS * U256::from(1_000_000));
    let grant = s.erc20_grant(1_000_000);
    s.enable(&grant);
    let auth = s.enabled(&grant);
    let sender = SimSender::new(&mut s.chain);
    assert!(matches!(
        sender.prepare_session(
            account,
            &key,
            &auth,
            &LimitedAssets::of_grant(&grant),
            &[more_than_held]
        ),
        Err(SenderError::Reverted(_))
    ));
}
