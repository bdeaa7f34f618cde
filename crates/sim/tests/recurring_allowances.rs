//! Recurring allowances end to end through the real EntryPoint v0.8, prepared as `leash send` and
//! `leash serve` prepare (leash-sdk's `SessionSend`): a daily token allowance spends in the
//! balance-checked form, a spend beyond the day's rest is refused by leash's estimate (which runs
//! the execution phase) and, included anyway, has its execution reverted with
//! `RecurringAllowanceExceeded` (the reset time named); after the clock passes the reset
//! the same spend goes through. Spends the allowance can never allow are refused before signing.

mod support;

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{IERC20, SessionGrant};
use leash_core::{
    calls::Call,
    denial::Denial,
    grant::SessionGrantBuilder,
    permission::Permission,
    recurring::{DAY, RecurringPeriod},
    session_state::OnChainStatus,
};
use leash_sdk::service::{ServiceError, SessionSend};
use leash_sim::{SimSender, ready};
use support::{RECIPIENT, Setup, TOKENS};

/// 2026-01-02T00:00:00Z: the first daily reset after the embedded chain's genesis.
const FIRST_RESET: u64 = 1_767_312_000;

fn daily_grant(s: &Setup) -> SessionGrant {
    let now = s.chain.timestamp();
    SessionGrantBuilder::new(s.account, s.key.address(), s.validator)
        .valid_until(now + 3 * DAY)
        .permission(Permission::Erc20TokenTransfer {
            address: s.token,
            allowance: TOKENS * U256::from(100),
            period: Some(RecurringPeriod::every(DAY)),
        })
        .build(now)
        .expect("valid grant")
}

/// `grant`'s session opened for sending as leash-sdk opens a stored one, its state read from the
/// chain now (the lazy form until it is enabled).
fn session_send(s: &mut Setup, grant: &SessionGrant) -> SessionSend {
    let session = s.stored_session(grant, "daily");
    let domain = s.chain.grant_domain();
    let state = s
        .chain
        .session_state(&domain, &session.grant)
        .expect("reads");
    SessionSend::with_state(session, domain, state).expect("opens")
}

fn token_call(s: &Setup, data: Vec<u8>) -> Call {
    Call {
        to: s.token,
        value: U256::ZERO,
        data: data.into(),
    }
}

fn transfer(s: &Setup, tokens: u64) -> Call {
    let amount = TOKENS * U256::from(tokens);
    token_call(
        s,
        IERC20::transferCall {
            to: RECIPIENT,
            amount,
        }
        .abi_encode(),
    )
}

fn tokens_of(s: &mut Setup, holder: Address) -> U256 {
    s.token_balance(holder) / TOKENS
}

#[test]
fn a_daily_allowance_is_refused_beyond_the_days_rest_and_renews_at_midnight() {
    let mut s = Setup::new();
    let grant = daily_grant(&s);
    let session_id = s.session_id(&grant);

    // The first spend enables the session lazily.
    let first = session_send(&mut s, &grant);
    assert_eq!(first.state.status, OnChainStatus::Unused);
    let sixty = [transfer(&s, 60)];
    s.send_checked(&first, &sixty)
        .expect("sent")
        .check()
        .expect("within the day's amount");
    assert_eq!(tokens_of(&mut s, RECIPIENT), U256::from(60));

    let enabled = session_send(&mut s, &grant);
    let budget = enabled.state.budgets[0];
    assert_eq!(budget.remaining, TOKENS * U256::from(40));
    assert_eq!(budget.resets_at, Some(FIRST_RESET));
    assert_eq!(
        budget.to_string(),
        format!(
            "{} of {} left this period (every day), resets at 2026-01-02T00:00:00Z (unix \
             {FIRST_RESET})",
            TOKENS * U256::from(40),
            TOKENS * U256::from(100)
        )
    );

    // 50 is within the day's amount, so validation passes; the execution phase, which reads the
    // clock, finds 40 left. leash's estimate runs both, so it refuses the spend before anything is
    // signed; a bundler that includes it anyway sees its calls undone, for the same reason.
    let fifty = [transfer(&s, 50)];
    let expected = format!(
        "session {session_id}: the operation's calls moved {} of token {} out of the account, \
         more than the {} its recurring allowance has left in this period, which ends at \
         2026-01-02T00:00:00Z (unix {FIRST_RESET}) (the calls were undone)",
        TOKENS * U256::from(50),
        s.token,
        TOKENS * U256::from(40)
    );
    match s.send_checked(&enabled, &fifty) {
        Err(ServiceError::Denied(Denial::Validation(reason))) => assert_eq!(reason, expected),
        other => panic!("expected the estimate to refuse the spend, got {other:?}"),
    }
    let beyond = s.send_unestimated(&enabled, &fifty);
    assert_eq!(beyond.revert_reason.as_deref(), Some(expected.as_str()));
    match beyond.check() {
        Err(ServiceError::Reverted { reason, .. }) => assert_eq!(reason, Some(expected)),
        other => panic!("expected a reverted execution, got {other:?}"),
    }
    assert_eq!(tokens_of(&mut s, RECIPIENT), U256::from(60));

    // Past midnight the day's amount is whole again: the same spend goes through.
    let now = s.chain.timestamp();
    s.chain.advance_time(FIRST_RESET - now);
    let next_day = session_send(&mut s, &grant);
    assert_eq!(
        next_day.state.budgets[0].remaining,
        TOKENS * U256::from(100)
    );
    assert_eq!(next_day.state.budgets[0].resets_at, Some(FIRST_RESET + DAY));
    s.send_checked(&next_day, &fifty)
        .expect("sent")
        .check()
        .expect("the next day's amount");
    assert_eq!(tokens_of(&mut s, RECIPIENT), U256::from(110));
    let after = session_send(&mut s, &grant);
    assert_eq!(after.state.budgets[0].remaining, TOKENS * U256::from(50));
}

#[test]
fn spends_the_allowance_can_never_allow_are_refused_before_signing() {
    let mut s = Setup::new();
    let grant = daily_grant(&s);
    let session_id = s.session_id(&grant);
    let send = session_send(&mut s, &grant);
    let prepare = |s: &mut Setup, calls: &[Call]| {
        let sender = SimSender::new(&mut s.chain);
        let fees = sender.fees();
        ready(send.prepare(&sender, calls, fees))
    };

    let approve = token_call(
        &s,
        IERC20::approveCall {
            spender: RECIPIENT,
            amount: U256::ONE,
        }
        .abi_encode(),
    );
    match prepare(&mut s, &[approve]) {
        Err(ServiceError::Denied(Denial::Validation(sentence))) => assert_eq!(
            sentence,
            format!(
                "session {session_id}: 0x095ea7b3 on token {} needs an erc20-token-transfer \
                 permission for that token",
                s.token
            )
        ),
        other => panic!("expected a denial, got {other:?}"),
    }
    let too_much = [transfer(&s, 101)];
    match prepare(&mut s, &too_much) {
        Err(ServiceError::Denied(Denial::Validation(sentence))) => assert_eq!(
            sentence,
            format!(
                "session {session_id}: erc20-token-transfer allowance of token {} exceeded: \
                 requested {}, remaining {}",
                s.token,
                TOKENS * U256::from(101),
                TOKENS * U256::from(100)
            )
        ),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(tokens_of(&mut s, RECIPIENT), U256::ZERO);
}

/// Calendar months from the epoch leave the period state word zero at enable, so the first spend
/// writes a fresh slot per asset in the execution phase: the call gas leash estimates covers it,
/// for native value and a token in one operation.
#[test]
fn monthly_allowances_first_spend_of_native_and_a_token_in_one_operation() {
    let mut s = Setup::new();
    let now = s.chain.timestamp();
    let grant = SessionGrantBuilder::new(s.account, s.key.address(), s.validator)
        .valid_until(now + 3 * DAY)
        .permission(Permission::Erc20TokenTransfer {
            address: s.token,
            allowance: TOKENS * U256::from(100),
            period: Some(RecurringPeriod::monthly()),
        })
        .permission(Permission::NativeTokenTransfer {
            allowance: U256::from(1000),
            period: Some(RecurringPeriod::monthly()),
        })
        .build(now)
        .expect("valid grant");
    s.enable(&grant);
    let send_as = session_send(&mut s, &grant);
    let both = [transfer(&s, 10), Call::transfer(RECIPIENT, U256::from(7))];
    s.send_checked(&send_as, &both)
        .expect("sent")
        .check()
        .expect("the month's first spend");
    assert_eq!(tokens_of(&mut s, RECIPIENT), U256::from(10));
    let budgets = &session_send(&mut s, &grant).state.budgets;
    assert_eq!(budgets[0].remaining, TOKENS * U256::from(90));
    assert_eq!(budgets[1].remaining, U256::from(993));
    // 2026-02-01T00:00:00Z: the embedded chain starts in January.
    assert_eq!(budgets[0].resets_at, Some(1_769_904_000));
}
