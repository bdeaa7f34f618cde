use super::*;
use crate::grant::DEFAULT_GAS_LIMIT;
use alloy_primitives::{address, fixed_bytes};

const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000cc");
const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");
const NOW: u64 = 1_000;

fn builder() -> SessionGrantBuilder {
    SessionGrantBuilder::new(ACCOUNT, KEY, VALIDATOR).valid_until(NOW + 3600)
}

fn build_with(permissions: Vec<Permission>) -> Result<SessionGrant, GrantError> {
    builder().permissions(permissions).build(NOW)
}

fn erc20(token: Address, allowance: u64) -> Permission {
    Permission::Erc20TokenTransfer {
        address: token,
        allowance: U256::from(allowance),
        period: None,
    }
}

#[test]
fn a_valid_grant_carries_every_field() -> Result<(), GrantError> {
    let grant = builder()
        .valid_after(NOW)
        .salt(U256::from(7))
        .permission(erc20(TOKEN, 5))
        .permission(Permission::GasLimit {
            limit: U256::from(10),
        })
        .build(NOW)?;
    assert_eq!((grant.account, grant.sessionKey), (ACCOUNT, KEY));
    assert_eq!(
        (grant.validAfter.to::<u64>(), grant.validUntil.to::<u64>()),
        (NOW, NOW + 3600)
    );
    assert_eq!(grant.salt, U256::from(7));
    assert_eq!(grant.permissions.len(), 2);
    Ok(())
}

#[test]
fn each_invalid_input_has_its_own_error() {
    let selector = fixed_bytes!("0x12345678");
    let cases: Vec<(Vec<Permission>, GrantError)> = vec![
        (vec![], GrantError::NoPermissions),
        (
            vec![erc20(TOKEN, 1), Permission::Root],
            GrantError::RootNotExclusive { index: 1 },
        ),
        (
            vec![erc20(TOKEN, 0)],
            GrantError::ZeroAllowance {
                index: 0,
                kind: "erc20-token-transfer",
            },
        ),
        (
            vec![Permission::NativeTokenTransfer {
                allowance: MAX_ALLOWANCE + U256::from(1),
                period: None,
            }],
            GrantError::AllowanceTooLarge {
                index: 0,
                kind: "native-token-transfer",
                amount: MAX_ALLOWANCE + U256::from(1),
            },
        ),
        (
            vec![Permission::FunctionsOnAllContracts {
                functions: vec![],
                rules: vec![],
            }],
            GrantError::EmptyFunctions {
                index: 0,
                kind: "functions-on-all-contracts",
            },
        ),
        (
            vec![Permission::ContractAccess {
                address: Address::ZERO,
            }],
            GrantError::ZeroTarget {
                index: 0,
                kind: "contract-access",
            },
        ),
        (
            vec![Permission::ContractAccess { address: ACCOUNT }],
            GrantError::ForbiddenTarget {
                index: 0,
                kind: "contract-access",
                target: ACCOUNT,
                what: "account",
            },
        ),
        (
            vec![erc20(VALIDATOR, 1)],
            GrantError::ForbiddenTarget {
                index: 0,
                kind: "erc20-token-transfer",
                target: VALIDATOR,
                what: "validator",
            },
        ),
        (
            vec![Permission::AccountFunctions {
                functions: vec![FORBIDDEN_ACCOUNT_SELECTORS[2]],
            }],
            GrantError::ForbiddenSelector {
                index: 0,
                selector: FORBIDDEN_ACCOUNT_SELECTORS[2],
            },
        ),
        (
            vec![Permission::FunctionsOnContract {
                address: TOKEN,
                functions: vec![ERC20_SPEND_SELECTORS[0]],
                rules: vec![],
            }],
            GrantError::SpendSelectorInFunctions {
                index: 0,
                kind: "functions-on-contract",
                selector: ERC20_SPEND_SELECTORS[0],
            },
        ),
        (
            vec![erc20(TOKEN, 1), erc20(TOKEN, 2)],
            GrantError::Duplicate {
                index: 1,
                first: 0,
                kind: "erc20-token-transfer",
            },
        ),
        (
            vec![
                Permission::GasLimit {
                    limit: U256::from(1),
                },
                Permission::GasLimit {
                    limit: U256::from(2),
                },
            ],
            GrantError::Duplicate {
                index: 1,
                first: 0,
                kind: "gas-limit",
            },
        ),
        (
            vec![Permission::FunctionsOnAllContracts {
                functions: vec![selector, selector],
                rules: vec![],
            }],
            GrantError::DuplicateSelector {
                index: 0,
                kind: "functions-on-all-contracts",
                selector,
            },
        ),
    ];
    for (permissions, expected) in cases {
        assert_eq!(
            build_with(permissions.clone()),
            Err(expected),
            "{permissions:?}"
        );
    }
}

#[test]
fn erc20_limits_on_different_tokens_are_not_duplicates() {
    let other = address!("0x00000000000000000000000000000000000000ee");
    assert!(build_with(vec![erc20(TOKEN, 1), erc20(other, 1)]).is_ok());
}

#[test]
fn window_errors() {
    let root = || vec![Permission::Root];
    let no_expiry = SessionGrantBuilder::new(ACCOUNT, KEY, VALIDATOR)
        .permissions(root())
        .build(NOW);
    assert_eq!(no_expiry, Err(GrantError::MissingExpiry));
    let past = builder().valid_until(NOW).permissions(root()).build(NOW);
    assert_eq!(
        past,
        Err(GrantError::ExpiryInPast {
            valid_until: NOW,
            now: NOW
        })
    );
    let too_far = builder()
        .valid_until(MAX_VALID_UNTIL + 1)
        .permissions(root())
        .build(NOW);
    assert_eq!(
        too_far,
        Err(GrantError::TimeOutOfRange {
            field: "validUntil",
            value: MAX_VALID_UNTIL + 1
        })
    );
    let empty = builder()
        .valid_after(NOW + 3600)
        .permissions(root())
        .build(NOW);
    assert_eq!(
        empty,
        Err(GrantError::EmptyWindow {
            valid_after: NOW + 3600,
            valid_until: NOW + 3600
        })
    );
    let no_key = SessionGrantBuilder::new(ACCOUNT, Address::ZERO, VALIDATOR)
        .valid_until(NOW + 1)
        .build(NOW);
    assert_eq!(no_key, Err(GrantError::ZeroSessionKey));
}

#[test]
fn times_up_to_uint48_max_are_accepted() -> Result<(), GrantError> {
    assert_eq!(MAX_VALID_UNTIL, 0xffff_ffff_ffff);
    let grant = builder()
        .valid_after(MAX_VALID_UNTIL - 1)
        .valid_until(MAX_VALID_UNTIL)
        .permission(Permission::Root)
        .build(NOW)?;
    assert_eq!(
        (grant.validAfter.to::<u64>(), grant.validUntil.to::<u64>()),
        (MAX_VALID_UNTIL - 1, MAX_VALID_UNTIL)
    );
    let start_too_far = builder()
        .valid_after(MAX_VALID_UNTIL + 1)
        .valid_until(MAX_VALID_UNTIL)
        .permission(Permission::Root)
        .build(NOW);
    assert_eq!(
        start_too_far,
        Err(GrantError::TimeOutOfRange {
            field: "validAfter",
            value: MAX_VALID_UNTIL + 1
        })
    );
    Ok(())
}

#[test]
fn expiry_one_second_ahead_is_in_the_future() -> Result<(), GrantError> {
    let grant = builder()
        .valid_until(NOW + 1)
        .permission(Permission::Root)
        .build(NOW)?;
    assert_eq!(grant.validUntil.to::<u64>(), NOW + 1);
    let window = builder()
        .valid_after(NOW + 1)
        .valid_until(NOW + 1)
        .permission(Permission::Root)
        .build(NOW);
    assert_eq!(
        window,
        Err(GrantError::EmptyWindow {
            valid_after: NOW + 1,
            valid_until: NOW + 1
        })
    );
    Ok(())
}

#[test]
fn root_alone_is_a_grant() -> Result<(), GrantError> {
    let grant = build_with(vec![Permission::Root])?;
    assert_eq!(grant.permissions, vec![Permission::Root.to_sol()]);
    assert_eq!(
        build_with(vec![Permission::Root, Permission::Root]),
        Err(GrantError::RootNotExclusive { index: 0 })
    );
    Ok(())
}

#[test]
fn allowances_up_to_2_pow_128_minus_1_are_accepted() -> Result<(), GrantError> {
    let grant = build_with(vec![
        Permission::GasLimit {
            limit: MAX_ALLOWANCE,
        },
        Permission::NativeTokenTransfer {
            allowance: U256::from(1),
            period: None,
        },
    ])?;
    assert_eq!(grant.permissions[0].amount, MAX_ALLOWANCE);
    assert_eq!(grant.permissions[1].amount, U256::from(1));
    assert_eq!(
        build_with(vec![Permission::GasLimit { limit: U256::ZERO }]),
        Err(GrantError::ZeroAllowance {
            index: 0,
            kind: "gas-limit"
        })
    );
    Ok(())
}

#[test]
fn each_limit_and_contract_target_appears_once() {
    let native = |allowance: u64| Permission::NativeTokenTransfer {
        allowance: U256::from(allowance),
        period: None,
    };
    let selector = fixed_bytes!("0x12345678");
    let other = fixed_bytes!("0x87654321");
    let cases = [
        (vec![native(1), native(2)], "native-token-transfer"),
        (
            vec![
                Permission::ContractAccess { address: TOKEN },
                Permission::ContractAccess { address: TOKEN },
            ],
            "contract-access",
        ),
        (
            vec![
                Permission::FunctionsOnContract {
                    address: TOKEN,
                    functions: vec![selector],
                    rules: vec![],
                },
                Permission::FunctionsOnContract {
                    address: TOKEN,
                    functions: vec![other],
                    rules: vec![],
                },
            ],
            "functions-on-contract",
        ),
    ];
    for (permissions, kind) in cases {
        assert_eq!(
            build_with(permissions.clone()),
            Err(GrantError::Duplicate {
                index: 1,
                first: 0,
                kind
            }),
            "{permissions:?}"
        );
    }
    // One of each kind on the same contract, and repeated function lists on all contracts
    // or on the account, are not duplicates.
    let distinct = build_with(vec![
        native(1),
        erc20(TOKEN, 1),
        Permission::ContractAccess { address: TOKEN },
        Permission::FunctionsOnContract {
            address: TOKEN,
            functions: vec![selector],
            rules: vec![],
        },
        Permission::FunctionsOnAllContracts {
            functions: vec![selector],
            rules: vec![],
        },
        Permission::FunctionsOnAllContracts {
            functions: vec![other],
            rules: vec![],
        },
        Permission::AccountFunctions {
            functions: vec![selector],
        },
        Permission::AccountFunctions {
            functions: vec![other],
        },
    ]);
    // Eight given, and the default gas-limit after them.
    assert_eq!(distinct.map(|grant| grant.permissions.len()), Ok(9));
}

fn gas_limits(grant: &SessionGrant) -> Vec<(usize, U256)> {
    grant
        .permissions
        .iter()
        .enumerate()
        .filter_map(|(index, p)| match Permission::from_sol(p) {
            Some(Permission::GasLimit { limit }) => Some((index, limit)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_scoped_grant_without_a_gas_limit_gets_the_default_last() -> Result<(), GrantError> {
    let grant = build_with(vec![erc20(TOKEN, 5)])?;
    assert_eq!(gas_limits(&grant), vec![(1, DEFAULT_GAS_LIMIT)]);
    // Sponsored-only grants get it too: a default never takes a way to pay away.
    let sponsored = build_with(vec![Permission::Paymaster { address: TOKEN }])?;
    assert_eq!(gas_limits(&sponsored), vec![(1, DEFAULT_GAS_LIMIT)]);
    Ok(())
}

#[test]
fn a_given_gas_limit_and_root_get_nothing_added() -> Result<(), GrantError> {
    let limit = U256::from(10);
    let given = build_with(vec![erc20(TOKEN, 5), Permission::GasLimit { limit }])?;
    assert_eq!(gas_limits(&given), vec![(1, limit)]);
    let root = build_with(vec![Permission::Root])?;
    assert_eq!(root.permissions.len(), 1);
    // An explicit choice never overrides a given limit.
    let explicit = builder()
        .unbounded_gas()
        .permissions([Permission::GasLimit { limit }])
        .build(NOW)?;
    assert_eq!(gas_limits(&explicit), vec![(0, limit)]);
    Ok(())
}

#[test]
fn unbounded_gas_and_no_gas_limit_are_explicit_choices() -> Result<(), GrantError> {
    let unbounded = builder()
        .unbounded_gas()
        .permission(erc20(TOKEN, 5))
        .build(NOW)?;
    assert_eq!(gas_limits(&unbounded), vec![(1, MAX_ALLOWANCE)]);
    let none = builder()
        .without_default_gas_limit()
        .permission(Permission::Paymaster { address: TOKEN })
        .build(NOW)?;
    assert_eq!(gas_limits(&none), vec![]);
    assert_eq!(none.permissions.len(), 1);
    Ok(())
}

#[test]
fn paymasters_are_targets_and_appear_once() {
    let paymaster = |address| Permission::Paymaster { address };
    assert_eq!(
        build_with(vec![paymaster(Address::ZERO)]),
        Err(GrantError::ZeroTarget {
            index: 0,
            kind: "paymaster"
        })
    );
    assert_eq!(
        build_with(vec![paymaster(ACCOUNT)]),
        Err(GrantError::ForbiddenTarget {
            index: 0,
            kind: "paymaster",
            target: ACCOUNT,
            what: "account"
        })
    );
    assert_eq!(
        build_with(vec![paymaster(TOKEN), paymaster(TOKEN)]),
        Err(GrantError::Duplicate {
            index: 1,
            first: 0,
            kind: "paymaster"
        })
    );
}

#[test]
fn the_builder_warns_of_approval_hubs() {
    let warnings = builder()
        .permission(Permission::ContractAccess {
            address: crate::grant::PERMIT2,
        })
        .warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn ruled_function_permissions_are_checked_and_may_be_alternatives() -> Result<(), GrantError> {
    use crate::rules::{Rule, RuleError, RuleOp, encode_rules};
    let selector = fixed_bytes!("0x12345678");
    let at_most = |n: u64| Rule::Argument {
        index: 0,
        op: RuleOp::Lte,
        values: vec![U256::from(n).into()],
    };
    let on_token = |rules: Vec<Rule>| Permission::FunctionsOnContract {
        address: TOKEN,
        functions: vec![selector],
        rules,
    };
    // Differently ruled (or plain and ruled) lists on one contract are alternatives.
    let grant = build_with(vec![
        on_token(vec![at_most(1)]),
        on_token(vec![at_most(2)]),
        on_token(vec![]),
    ])?;
    assert_eq!(grant.permissions[0].rules, encode_rules(&[at_most(1)]));
    assert!(grant.permissions[2].rules.is_empty());
    assert_eq!(
        build_with(vec![on_token(vec![at_most(1)]), on_token(vec![at_most(1)])]),
        Err(GrantError::Duplicate {
            index: 1,
            first: 0,
            kind: "functions-on-contract"
        })
    );
    let reversed = Rule::Argument {
        index: 0,
        op: RuleOp::InRange,
        values: vec![U256::from(2).into(), U256::from(1).into()],
    };
    let error = build_with(vec![
        erc20(TOKEN, 1),
        Permission::FunctionsOnAllContracts {
            functions: vec![selector],
            rules: vec![at_most(1), reversed],
        },
    ]);
    assert!(matches!(
        error,
        Err(GrantError::InvalidRules {
            index: 1,
            kind: "functions-on-all-contracts",
            source: RuleError::ReversedRange { rule: 1, .. }
        })
    ));
    Ok(())
}

#[test]
fn usage_limits_and_policies_are_checked_as_the_validator_does() {
    use crate::rules::{Rule, RuleError};
    let functions = vec![fixed_bytes!("0x12345678")];
    let no_calls = build_with(vec![Permission::FunctionsOnAllContracts {
        functions: functions.clone(),
        rules: vec![Rule::UsageLimit { calls: 0 }],
    }]);
    assert_eq!(
        no_calls,
        Err(GrantError::InvalidRules {
            index: 0,
            kind: "functions-on-all-contracts",
            source: RuleError::NoCalls { rule: 0 },
        })
    );
    assert_eq!(
        no_calls.map_err(|error| error.to_string()),
        Err(
            "permission 0 (functions-on-all-contracts): rule 0: a usage limit allows at least 1 call"
                .to_owned()
        )
    );
    let zero_policy = build_with(vec![Permission::FunctionsOnContract {
        address: TOKEN,
        functions,
        rules: vec![Rule::Policy {
            address: Address::ZERO,
            config: Default::default(),
        }],
    }]);
    assert_eq!(
        zero_policy.map_err(|error| error.to_string()),
        Err(
            "permission 0 (functions-on-contract): rule 0: a policy rule needs the policy \
             contract's address, not zero"
                .to_owned()
        )
    );
}

#[test]
fn rate_limits_are_checked_as_the_validator_does() {
    use crate::{
        recurring::{DAY, RecurringPeriod},
        rules::Rule,
    };
    let daily = |calls| Rule::RateLimit {
        calls,
        period: RecurringPeriod::every(DAY),
    };
    let ruled = |rules| {
        build_with(vec![Permission::FunctionsOnContract {
            address: TOKEN,
            functions: vec![fixed_bytes!("0x12345678")],
            rules,
        }])
        .map(|_| ())
        .map_err(|error| error.to_string())
    };
    assert_eq!(ruled(vec![daily(3)]), Ok(()));
    assert_eq!(
        ruled(vec![daily(0)]),
        Err(
            "permission 0 (functions-on-contract): rule 0: a rate limit allows at least 1 call per \
             period"
                .to_owned()
        )
    );
    assert_eq!(
        ruled(vec![daily(1), daily(2)]),
        Err(
            "permission 0 (functions-on-contract): rule 1: a permission takes one rate limit, and \
             rule 0 is one"
                .to_owned()
        )
    );
    assert_eq!(
        ruled(vec![Rule::RateLimit {
            calls: 1,
            period: RecurringPeriod::every(0),
        }]),
        Err(
            "permission 0 (functions-on-contract): rule 0: a period of 0 seconds never ends: give \
             seconds above 0, or a calendar month"
                .to_owned()
        )
    );
}

#[test]
fn a_period_that_opens_when_the_session_ends_is_refused() {
    use crate::{
        recurring::{DAY, RecurringPeriod},
        rules::Rule,
    };
    let valid_until = NOW + 3600;
    fn from(start: u64) -> RecurringPeriod {
        RecurringPeriod {
            start,
            ..RecurringPeriod::every(DAY)
        }
    }
    let rated = |start| Permission::FunctionsOnContract {
        address: TOKEN,
        functions: vec![fixed_bytes!("0x12345678")],
        rules: vec![Rule::RateLimit {
            calls: 1,
            period: from(start),
        }],
    };
    let recurring = |start| Permission::Erc20TokenTransfer {
        address: TOKEN,
        allowance: U256::from(5),
        period: Some(from(start)),
    };
    for (permission, kind) in [
        (rated as fn(u64) -> Permission, "functions-on-contract"),
        (recurring, "erc20-token-transfer"),
    ] {
        assert!(
            build_with(vec![permission(valid_until - 1)]).is_ok(),
            "{kind}"
        );
        assert_eq!(
            build_with(vec![permission(valid_until)]),
            Err(GrantError::PeriodAfterExpiry {
                index: 0,
                kind,
                start: valid_until,
                valid_until,
            })
        );
    }
    assert_eq!(
        build_with(vec![rated(valid_until)])
            .map(|_| ())
            .map_err(|error| error.to_string()),
        Err(format!(
            "permission 0 (functions-on-contract): its period starts at {valid_until}, not before \
             the session ends (validUntil {valid_until}), so it could never be used"
        ))
    );
}
