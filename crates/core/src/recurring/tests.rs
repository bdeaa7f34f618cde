use super::*;
use crate::{
    calls::execute_calldata,
    grant::{GrantError, PERMIT2, SessionGrantBuilder},
    outflow::{EXECUTE_USER_OP_SELECTOR, LimitedAssets},
    rules::{Rule, RuleOp},
    session_state::{Budget, Limit, LimitKind},
};
use alloy_primitives::address;
use alloy_sol_types::SolCall;
use leash_bindings::{IERC20, Permission as SolPermission, PermissionType};
use serde_json::json;

const TOKEN: Address = address!("0x1111111111111111111111111111111111111111");
const RECIPIENT: Address = address!("0x000000000000000000000000000000000000beef");
const SESSION: B256 = B256::repeat_byte(0x5e);

fn daily_token(allowance: u64) -> Permission {
    Permission::Erc20TokenTransfer {
        address: TOKEN,
        allowance: U256::from(allowance),
        period: Some(RecurringPeriod::every(DAY)),
    }
}

fn monthly_native(allowance: u64) -> Permission {
    Permission::NativeTokenTransfer {
        allowance: U256::from(allowance),
        period: Some(RecurringPeriod::monthly().starting(1_796_083_200)),
    }
}

fn erc20_call(data: Vec<u8>) -> Call {
    Call {
        to: TOKEN,
        value: U256::ZERO,
        data: data.into(),
    }
}

fn transfer(amount: u64) -> Call {
    erc20_call(
        IERC20::transferCall {
            to: RECIPIENT,
            amount: U256::from(amount),
        }
        .abi_encode(),
    )
}

fn approve(amount: u64) -> Call {
    erc20_call(
        IERC20::approveCall {
            spender: RECIPIENT,
            amount: U256::from(amount),
        }
        .abi_encode(),
    )
}

#[test]
fn periods_are_json_in_the_wallet_api_style() -> serde_json::Result<()> {
    let daily = json!({"type": "erc20-token-transfer", "data": {
        "address": "0x1111111111111111111111111111111111111111", "allowance": "0x64",
        "period": {"seconds": 86400, "start": 0}}});
    assert_eq!(serde_json::to_value(daily_token(100))?, daily);
    assert_eq!(
        serde_json::from_value::<Permission>(daily)?,
        daily_token(100)
    );
    let monthly = json!({"type": "native-token-transfer", "data": {
        "allowance": "0x5", "period": {"calendar": "month", "start": 1_796_083_200}}});
    assert_eq!(serde_json::to_value(monthly_native(5))?, monthly);
    assert_eq!(
        serde_json::from_value::<Permission>(monthly)?,
        monthly_native(5)
    );
    // No start is start 0, written back explicitly.
    let unstarted = json!({"type": "native-token-transfer", "data": {
        "allowance": "0x5", "period": {"calendar": "month"}}});
    let read: Permission = serde_json::from_value(unstarted)?;
    assert_eq!(read.period(), Some(&RecurringPeriod::monthly()));
    assert_eq!(
        serde_json::to_value(&read)?["data"]["period"],
        json!({"calendar": "month", "start": 0})
    );
    Ok(())
}

#[test]
fn a_limit_without_a_period_reads_and_writes_as_before() -> serde_json::Result<()> {
    for plain in [
        json!({"type": "native-token-transfer", "data": {"allowance": "0x5"}}),
        json!({"type": "erc20-token-transfer", "data": {
            "address": "0x1111111111111111111111111111111111111111", "allowance": "0x5"}}),
    ] {
        let read: Permission = serde_json::from_value(plain.clone())?;
        assert_eq!(read.period(), None);
        assert_eq!(serde_json::to_value(&read)?, plain);
        assert!(read.to_sol().rules.is_empty());
    }
    Ok(())
}

#[test]
fn malformed_periods_are_refused_in_json() {
    for (period, why) in [
        (json!({"seconds": 0}), PeriodError::ZeroSeconds.to_string()),
        (json!({}), PeriodError::Shape.to_string()),
        (
            json!({"seconds": 60, "calendar": "month"}),
            PeriodError::Shape.to_string(),
        ),
        (
            json!({"seconds": 1u64 << 48}),
            "period seconds 281474976710656 does not fit in uint48 (max 281474976710655)"
                .to_owned(),
        ),
        (
            json!({"seconds": 60, "start": 1u64 << 48}),
            "period start 281474976710656 does not fit in uint48 (max 281474976710655)".to_owned(),
        ),
        (json!({"calendar": "year"}), "unknown variant".to_owned()),
        (
            json!({"seconds": 60, "every": 2}),
            "unknown field".to_owned(),
        ),
    ] {
        let permission = json!({"type": "native-token-transfer", "data": {
            "allowance": "0x5", "period": period}});
        let error = serde_json::from_value::<Permission>(permission.clone())
            .expect_err("a malformed period");
        assert!(error.to_string().contains(&why), "{permission}: {error}");
    }
    let on_gas = json!({"type": "gas-limit", "data": {"limit": "0x5", "period": {"seconds": 60}}});
    assert!(serde_json::from_value::<Permission>(on_gas).is_err());
}

#[test]
fn a_period_encodes_as_one_recurring_rule() {
    let rule = SolRule {
        kind: 2,
        data: (U48::from(86_400), U48::from(7)).abi_encode_params().into(),
    };
    let expected: Bytes = [&[1u8][..], &vec![rule].abi_encode()].concat().into();
    let period = RecurringPeriod::every(DAY).starting(7);
    assert_eq!(period.encode_rules(), expected);
    assert_eq!(RecurringPeriod::decode_rules(&expected), Ok(period));
    // Calendar months are period 0.
    let monthly = RecurringPeriod::monthly().encode_rules();
    let (length, start) = PeriodData::abi_decode_params(
        &<Vec<SolRule> as SolValue>::abi_decode(&monthly[1..]).expect("rules")[0].data,
    )
    .expect("period data");
    assert_eq!((length, start), (U48::ZERO, U48::ZERO));
}

#[test]
fn limits_with_periods_round_trip_on_chain() {
    for permission in [daily_token(100), monthly_native(5)] {
        let sol = permission.to_sol();
        assert_eq!(
            sol.rules,
            permission.period().expect("a period").encode_rules()
        );
        assert_eq!(Permission::from_sol(&sol), Some(permission));
    }
}

#[test]
fn rule_data_a_limit_cannot_hold_is_not_read_back() {
    let limit = |rules: Bytes| SolPermission {
        permissionType: PermissionType::Erc20TokenTransfer,
        target: TOKEN,
        amount: U256::from(5),
        functions: vec![],
        rules,
    };
    let recurring = SolRule {
        kind: RULE_RECURRING,
        data: (U48::from(60), U48::ZERO).abi_encode_params().into(),
    };
    let two: Bytes = [&[1u8][..], &vec![recurring.clone(), recurring].abi_encode()]
        .concat()
        .into();
    let argument = crate::rules::encode_rules(&[Rule::Argument {
        index: 0,
        op: RuleOp::Eq,
        values: vec![RECIPIENT.into()],
    }]);
    let mut version_two = RecurringPeriod::every(60).encode_rules().to_vec();
    version_two[0] = 2;
    assert_eq!(
        RecurringPeriod::decode_rules(&argument),
        Err(RulesDecodeError::NotCanonical)
    );
    assert_eq!(
        RecurringPeriod::decode_rules(&two),
        Err(RulesDecodeError::NotCanonical)
    );
    assert_eq!(
        RecurringPeriod::decode_rules(&version_two),
        Err(RulesDecodeError::Version(2))
    );
    for rules in [two, argument, version_two.into(), Bytes::from_static(&[1])] {
        assert_eq!(Permission::from_sol(&limit(rules.clone())), None, "{rules}");
    }
    // A period on a function permission is rule data it cannot hold either.
    let mut ruled = Permission::ContractAccess { address: TOKEN }.to_sol();
    ruled.rules = RecurringPeriod::every(60).encode_rules();
    assert_eq!(Permission::from_sol(&ruled), None);
}

#[test]
fn the_builder_refuses_periods_the_validator_cannot_hold() {
    let build = |permission: Permission| {
        SessionGrantBuilder::new(
            Address::repeat_byte(0xaa),
            Address::repeat_byte(0xbb),
            Address::repeat_byte(0xcc),
        )
        .valid_until(10_000)
        .permission(permission)
        .build(1_000)
    };
    let with_period = |period: RecurringPeriod| Permission::NativeTokenTransfer {
        allowance: U256::from(5),
        period: Some(period),
    };
    assert!(build(daily_token(100)).is_ok());
    let zero = build(with_period(RecurringPeriod::every(0))).expect_err("zero seconds");
    assert_eq!(
        zero,
        GrantError::InvalidPeriod {
            index: 0,
            kind: "native-token-transfer",
            source: PeriodError::ZeroSeconds,
        }
    );
    assert_eq!(
        zero.to_string(),
        "permission 0 (native-token-transfer): a period of 0 seconds never ends: give seconds \
         above 0, or a calendar month"
    );
    assert_eq!(
        build(with_period(RecurringPeriod::every(1 << 48))),
        Err(GrantError::InvalidPeriod {
            index: 0,
            kind: "native-token-transfer",
            source: PeriodError::OutOfRange {
                field: "seconds",
                value: 1 << 48,
            },
        })
    );
    let late = build(with_period(RecurringPeriod::monthly().starting(10_000)))
        .expect_err("opens at the end");
    assert_eq!(
        late.to_string(),
        "permission 0 (native-token-transfer): its period starts at 10000, not before the session \
         ends (validUntil 10000), so it could never be used"
    );
    assert!(build(with_period(RecurringPeriod::monthly().starting(9_999))).is_ok());
}

#[test]
fn spends_of_a_recurring_asset_take_the_balance_checked_form()
-> Result<(), crate::error::OperationError> {
    let limits = LimitedAssets::of(&[daily_token(100), monthly_native(5)]);
    assert_eq!(limits.recurring, vec![TOKEN, Address::ZERO]);
    for call in [transfer(1), Call::transfer(RECIPIENT, U256::ONE)] {
        assert!(!limits.is_direct(&call));
        let data = limits.session_calldata(std::slice::from_ref(&call))?;
        assert_eq!(&data[..4], EXECUTE_USER_OP_SELECTOR.as_slice());
    }
    // The same calls under lifetime limits stay on the cheap path.
    let lifetime = LimitedAssets::of(&[Permission::Erc20TokenTransfer {
        address: TOKEN,
        allowance: U256::from(100),
        period: None,
    }]);
    assert!(lifetime.recurring.is_empty());
    let calls = [transfer(1)];
    assert_eq!(
        lifetime.session_calldata(&calls)?,
        execute_calldata(&calls)?
    );
    Ok(())
}

#[test]
fn spends_a_recurring_allowance_never_allows_are_refused_with_the_validators_sentence() {
    let permissions = [daily_token(100), monthly_native(5)];
    let check = |calls: &[Call]| check_recurring_spends(SESSION, &permissions, calls);
    assert_eq!(check(&[transfer(100), transfer(100)]), Ok(()));
    assert_eq!(check(&[Call::transfer(RECIPIENT, U256::from(5))]), Ok(()));

    let over = check(&[transfer(1), transfer(101)]).expect_err("above the amount per period");
    assert_eq!(
        over.to_string(),
        format!(
            "session {SESSION}: erc20-token-transfer allowance of token {TOKEN} exceeded: \
             requested 101, remaining 100"
        )
    );
    let approval = check(&[approve(1)]).expect_err("an approval");
    assert_eq!(
        approval.to_string(),
        format!(
            "session {SESSION}: 0x095ea7b3 on token {TOKEN} needs an erc20-token-transfer \
             permission for that token"
        )
    );
    let permit2_approve = Call {
        to: PERMIT2,
        value: U256::ZERO,
        data: [
            &[0x87, 0x51, 0x7c, 0x45][..],
            TOKEN.into_word().as_slice(),
            RECIPIENT.into_word().as_slice(),
            B256::with_last_byte(1).as_slice(),
            B256::ZERO.as_slice(),
        ]
        .concat()
        .into(),
    };
    let refused = check(&[permit2_approve]).expect_err("Permit2's approve");
    assert!(matches!(
        refused.0.as_ref(),
        SessionKeyValidatorErrors::Erc20NotAllowed(e) if e.token == TOKEN
    ));
    let native = check(&[Call::transfer(RECIPIENT, U256::from(6))]).expect_err("too much value");
    assert_eq!(
        native.to_string(),
        format!(
            "session {SESSION}: native-token-transfer allowance exceeded sending to {RECIPIENT}: \
             requested 6 wei, remaining 5 wei"
        )
    );
    // Lifetime limits, other tokens and short calls are the validator's to judge.
    let lifetime = [Permission::Erc20TokenTransfer {
        address: TOKEN,
        allowance: U256::from(1),
        period: None,
    }];
    assert_eq!(
        check_recurring_spends(SESSION, &lifetime, &[approve(5)]),
        Ok(())
    );
    let other = Call {
        to: RECIPIENT,
        ..approve(5)
    };
    assert_eq!(check(&[other]), Ok(()));
    assert_eq!(check(&[erc20_call(vec![0x09, 0x5e, 0xa7, 0xb3])]), Ok(()));
}

#[test]
fn periods_and_resets_read_in_words() {
    assert_eq!(RecurringPeriod::every(DAY).to_string(), "every day");
    assert_eq!(RecurringPeriod::every(WEEK).to_string(), "every week");
    assert_eq!(
        RecurringPeriod::every(90)
            .starting(1_796_083_200)
            .to_string(),
        "every 90 seconds from 2026-12-01T00:00:00Z"
    );
    assert_eq!(
        RecurringPeriod::monthly().to_string(),
        "every calendar month (UTC)"
    );
    assert_eq!(
        describe_reset(1_796_342_400),
        "2026-12-04T00:00:00Z (unix 1796342400)"
    );
    assert_eq!(describe_reset(u64::MAX), format!("unix {}", u64::MAX));
    let limit = Limit {
        kind: LimitKind::Erc20(TOKEN),
        allowance: U256::from(100),
        period: Some(RecurringPeriod::every(DAY)),
    };
    assert_eq!(
        Budget::on_chain(limit, U256::from(40), Some(1_796_342_400)).to_string(),
        "40 of 100 left this period (every day), resets at 2026-12-04T00:00:00Z (unix 1796342400)"
    );
}
