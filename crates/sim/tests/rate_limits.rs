//! Rate limits end to end through the real EntryPoint v0.8, sent as `leash send` sends (leash-sdk's
//! `SessionSend`). A rate-limited call carries its permission's compact rules and takes the
//! balance-checked form: validation records it, and the execution phase, the only one that reads
//! the clock, counts it. A call beyond the day's limit is refused by leash's estimate (which runs the
//! execution phase) and, included anyway, has its execution reverted with `RateLimitReached` (the
//! reset named); after the clock passes midnight UTC a call goes through.

mod support;

use alloy_primitives::{Selector, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{SessionGrant, Target};
use leash_core::{
    denial::Denial,
    grant::SessionGrantBuilder,
    permission::Permission,
    recurring::{DAY, RecurringPeriod},
    rules::Rule,
    session_state::{GrantRecord, OnChainStatus},
    validator_reads::{RateLeft, read_rate_left},
};
use leash_sdk::service::ServiceError;
use leash_sim::ready;
use support::{RECIPIENT, Setup};

/// 2026-01-02T00:00:00Z: the first daily reset after the embedded chain's genesis.
const FIRST_RESET: u64 = 1_767_312_000;

/// Pings on the test target, at most `calls` per `period`.
fn rated_pings(s: &Setup, calls: u32, period: RecurringPeriod) -> Permission {
    Permission::FunctionsOnContract {
        address: s.target,
        functions: vec![Target::pingCall::SELECTOR.into()],
        rules: vec![Rule::RateLimit { calls, period }],
    }
}

/// A three-day grant of `permissions`, so the tests may pass midnight.
fn three_day_grant(s: &Setup, permissions: impl IntoIterator<Item = Permission>) -> SessionGrant {
    let now = s.chain.timestamp();
    SessionGrantBuilder::new(s.account, s.key.address(), s.validator)
        .valid_until(now + 3 * DAY)
        .permissions(permissions)
        .build(now)
        .expect("valid grant")
}

/// What `getRateLeft` reports for each rate-limited permission of `grant`'s enabled session.
fn rate_left(s: &mut Setup, grant: &SessionGrant) -> Vec<RateLeft> {
    let record = GrantRecord::new(grant, None).expect("a known grant");
    let domain = s.chain.grant_domain();
    ready(read_rate_left(
        &mut s.chain,
        &domain,
        &record,
        OnChainStatus::Enabled,
    ))
    .expect("getRateLeft")
}

#[test]
fn a_rate_limit_of_two_a_day_refuses_the_third_call_until_midnight() {
    let mut s = Setup::new();
    // The limited permission is the grant's second: its counter is named by that index.
    let grant = three_day_grant(
        &s,
        [
            Permission::ContractAccess { address: RECIPIENT },
            rated_pings(&s, 2, RecurringPeriod::every(DAY)),
        ],
    );
    let session_id = s.session_id(&grant);
    let left = |n: u64, resets_at: u64| {
        vec![RateLeft {
            permission_index: 1,
            limit: 2,
            period: RecurringPeriod::every(DAY),
            left: U256::from(n),
            resets_at: Some(resets_at),
        }]
    };
    let ping = [s.ping()];

    // The first call enables the session lazily, in the same validation that records it.
    let lazy = s.session_send(&grant, OnChainStatus::Unused);
    s.send_checked(&lazy, &ping)
        .expect("sent")
        .check()
        .expect("the day's first call");
    assert_eq!(rate_left(&mut s, &grant), left(1, FIRST_RESET));
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    s.send_checked(&session, &ping)
        .expect("sent")
        .check()
        .expect("the day's second call");
    assert_eq!(rate_left(&mut s, &grant), left(0, FIRST_RESET));
    assert_eq!(
        rate_left(&mut s, &grant)[0].to_string(),
        "0 of 2 calls left this period (every day), resets at 2026-01-02T00:00:00Z (unix \
         1767312000) (permission 1)"
    );

    // Validation cannot read the clock, so it lets the third call through; the execution phase
    // finds the day's two calls made. leash's estimate runs both and refuses the call before it
    // is signed; a bundler that includes it anyway sees it undone, for the same reason.
    let expected = format!(
        "session {session_id}: calling {} on {} is refused: its permission has made the 2 calls \
         its rate limit allows in this period, which ends at 2026-01-02T00:00:00Z (unix \
         {FIRST_RESET}) (the calls were undone)",
        Selector::from(Target::pingCall::SELECTOR),
        s.target
    );
    match s.send_checked(&session, &ping) {
        Err(ServiceError::Denied(Denial::Validation(reason))) => assert_eq!(reason, expected),
        other => panic!("expected the estimate to refuse the call, got {other:?}"),
    }
    let third = s.send_unestimated(&session, &ping);
    assert_eq!(third.revert_reason.as_deref(), Some(expected.as_str()));
    match third.check() {
        Err(ServiceError::Reverted { reason, .. }) => assert_eq!(reason, Some(expected)),
        other => panic!("expected a reverted execution, got {other:?}"),
    }
    assert_eq!(
        rate_left(&mut s, &grant),
        left(0, FIRST_RESET),
        "nothing counted"
    );

    // Past midnight the day's two calls are whole again.
    let now = s.chain.timestamp();
    s.chain.advance_time(FIRST_RESET - now);
    assert_eq!(rate_left(&mut s, &grant), left(2, FIRST_RESET + DAY));
    s.send_checked(&session, &ping)
        .expect("sent")
        .check()
        .expect("the next day's first call");
    assert_eq!(rate_left(&mut s, &grant), left(1, FIRST_RESET + DAY));
}

/// Calendar months from the epoch leave the counter's state word zero at enable, so the first
/// rated call writes a fresh slot in the execution phase: the call gas leash estimates covers the
/// settlement of each rated call of a batch.
#[test]
fn two_calls_in_one_batch_under_a_monthly_limit_are_both_counted() {
    let mut s = Setup::new();
    let grant = three_day_grant(&s, [rated_pings(&s, 5, RecurringPeriod::monthly())]);
    s.enable(&grant);
    let session = s.session_send(&grant, OnChainStatus::Enabled);
    s.send_checked(&session, &[s.ping(), s.ping()])
        .expect("sent")
        .check()
        .expect("two of the month's five");
    let read = rate_left(&mut s, &grant);
    assert_eq!(read[0].left, U256::from(3));
    // 2026-02-01T00:00:00Z: the embedded chain starts in January.
    assert_eq!(read[0].resets_at, Some(1_769_904_000));
}
