//! The story `leash demo` tells: each step ends as the demo says it does.

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::SessionKeyValidator::SessionKeyValidatorErrors as E;
use leash_sim::{AaCode, Chain, Execution, RevertReason, walkthrough};

fn key(seed: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&[seed; 32].into()).expect("valid key")
}

/// A fresh chain, an owner with 10 ETH, and who receives the story's tokens.
fn funded_chain() -> (Chain, PrivateKeySigner, Address) {
    let mut chain = Chain::new().expect("chain");
    let owner = key(0x11);
    chain
        .set_balance(owner.address(), U256::from(10u128.pow(19)))
        .expect("chain state");
    (chain, owner, Address::repeat_byte(0xbe))
}

#[test]
fn spend_within_then_denied_beyond_then_revoked() {
    let (mut chain, owner, recipient) = funded_chain();
    let story =
        walkthrough::session_story(&mut chain, &owner, &key(0x22), recipient).expect("story runs");

    let executed = |outcome: &leash_sim::BundleOutcome| {
        outcome.ops().expect("included")[0].execution == Execution::Succeeded
    };
    assert!(executed(&story.delegation));
    assert!(executed(&story.within.outcome));
    let within = &story.within.outcome.ops().expect("included")[0];
    assert_eq!(
        within
            .balance_changes
            .erc20_of(story.token, recipient)
            .into_raw(),
        walkthrough::STORY_WITHIN
    );
    assert_eq!(
        story.remaining_after_within,
        walkthrough::STORY_ALLOWANCE - walkthrough::STORY_WITHIN
    );

    let beyond = story
        .beyond
        .outcome
        .rejection()
        .expect("beyond is rejected");
    assert_eq!(beyond.code, AaCode::ACCOUNT_REVERTED);
    match beyond.inner_reason() {
        Some(RevertReason::Validator(E::Erc20AllowanceExceeded(e))) => {
            assert_eq!(e.requested, walkthrough::STORY_BEYOND);
            assert_eq!(e.remaining, story.remaining_after_within);
        }
        other => panic!("not an allowance denial: {other:?}"),
    }

    assert!(executed(&story.revocation));
    let after = story
        .after_revocation
        .outcome
        .rejection()
        .expect("revoked session is rejected");
    assert_eq!(after.code, AaCode::SIGNATURE_ERROR);
    assert_eq!(story.recipient_tokens, walkthrough::STORY_WITHIN);
}

#[test]
fn a_daily_allowance_is_refused_beyond_the_days_rest_then_renews() {
    let (mut chain, owner, recipient) = funded_chain();
    walkthrough::session_story(&mut chain, &owner, &key(0x22), recipient).expect("story runs");
    let before = chain.timestamp();
    let daily = walkthrough::recurring_story(&mut chain, &owner, &key(0x22), recipient)
        .expect("the daily story runs");

    let execution = |spend: &walkthrough::SessionSpend| {
        spend.outcome.ops().expect("included")[0].execution.clone()
    };
    assert_eq!(execution(&daily.within), Execution::Succeeded);
    assert_eq!(
        daily.remaining_after_within,
        walkthrough::STORY_ALLOWANCE - walkthrough::STORY_WITHIN
    );
    // The embedded chain starts at midnight UTC, so its day ends a day later.
    assert_eq!(daily.resets_at, before - before % 86_400 + 86_400);
    assert_eq!(daily.beyond.amount, walkthrough::STORY_BEYOND);
    match &daily.beyond.refusal {
        Some(RevertReason::Validator(E::RecurringAllowanceExceeded(e))) => {
            assert_eq!(e.sessionId, daily.session_id);
            assert_eq!(e.requested, walkthrough::STORY_BEYOND);
            assert_eq!(e.remaining, daily.remaining_after_within);
            assert_eq!(e.resetsAt, U256::from(daily.resets_at));
        }
        other => panic!("the estimate did not refuse with a recurring allowance: {other:?}"),
    }
    assert_eq!(chain.timestamp(), daily.resets_at);
    assert_eq!(execution(&daily.after_reset), Execution::Succeeded);
    assert_eq!(
        daily.remaining_after_reset,
        walkthrough::STORY_ALLOWANCE - walkthrough::STORY_BEYOND
    );
    assert_eq!(
        daily.recipient_tokens,
        walkthrough::STORY_WITHIN * U256::from(2) + walkthrough::STORY_BEYOND
    );
}
