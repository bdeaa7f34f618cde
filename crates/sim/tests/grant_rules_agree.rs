//! Differential fuzzing of the grant rules: the SDK's `SessionGrantBuilder` and the validator's
//! `enableSession` on the embedded chain judge the same seeded random grants.
//!
//! They must agree in one direction always: a grant the builder accepts, the validator enables,
//! and a grant the validator refuses, the builder refuses, naming the same rule (or, when the
//! grant has several faults, one that only the builder refuses). The builder may
//! refuse more, but only for the grants it deliberately calls useless (a zero allowance, a selector
//! listed twice, a spend selector in a function list, a contract or paymaster listed twice), which the validator
//! tolerates. Function permissions carry argument rules, well-formed or breaking the encoding's
//! table (the validator's `InvalidRules`), usage and rate limits and policies among them.

mod support;

use alloy_primitives::{Address, Bytes, Selector, U256, fixed_bytes};
use alloy_sol_types::{SolCall, SolInterface};
use leash_bindings::{
    SessionGrant,
    SessionKeyValidator::{SessionKeyValidatorErrors as V, enableSessionCall},
};
use leash_core::{
    grant::{GrantError, SessionGrantBuilder},
    permission::{MAX_ALLOWANCE, Permission},
    recurring::{DAY, RecurringPeriod},
    rules::{MAX_POLICY_CONFIG_BYTES, Rule, RuleOp, RuleValue},
};
use leash_sim::Chain;
use revm::context::result::ExecutionResult;
use support::key;

const GRANTS: u64 = 1_000;
const SEED: u64 = 0x1ea5_4a11;

/// xorshift64*: small, seeded and reproducible, so a failure names the grant that caused it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

struct Pools {
    targets: Vec<Address>,
    amounts: Vec<U256>,
    selectors: Vec<Selector>,
    rule_sets: Vec<Vec<Rule>>,
}

/// Rule sets for function permissions: none (twice as likely), well-formed ones, and one of
/// each way to break the encoding's table.
fn rule_sets() -> Vec<Vec<Rule>> {
    let values = |n: u64| {
        (0..n)
            .map(|v| U256::from(v).into())
            .collect::<Vec<RuleValue>>()
    };
    let argument = |op, n| Rule::Argument {
        index: 0,
        op,
        values: values(n),
    };
    let reversed = Rule::Argument {
        index: 1,
        op: RuleOp::InRange,
        values: vec![U256::from(2).into(), U256::from(1).into()],
    };
    vec![
        vec![],
        vec![],
        vec![argument(RuleOp::Eq, 1)],
        vec![
            Rule::DynamicArgument {
                index: 1,
                offset: 32,
                op: RuleOp::OneOf,
                values: values(32),
            },
            Rule::CallValue { max: U256::from(5) },
        ],
        vec![argument(RuleOp::InRange, 2)],
        vec![argument(RuleOp::Eq, 0)],
        vec![argument(RuleOp::Lt, 2)],
        vec![argument(RuleOp::OneOf, 33)],
        vec![argument(RuleOp::Gte, 1), reversed],
        vec![Rule::UsageLimit { calls: 2 }, argument(RuleOp::Eq, 1)],
        vec![Rule::UsageLimit { calls: 0 }],
        vec![Rule::UsageLimit { calls: 1 }, Rule::UsageLimit { calls: 1 }],
        vec![
            rate(2, RecurringPeriod::every(DAY)),
            Rule::UsageLimit { calls: 9 },
        ],
        vec![rate(1, RecurringPeriod::monthly().starting(1_796_083_200))],
        vec![rate(0, RecurringPeriod::every(DAY))],
        vec![
            rate(1, RecurringPeriod::every(DAY)),
            rate(3, RecurringPeriod::monthly()),
        ],
        vec![policy(Address::repeat_byte(0xb1), MAX_POLICY_CONFIG_BYTES)],
        vec![policy(Address::ZERO, 32)],
        vec![policy(
            Address::repeat_byte(0xb1),
            MAX_POLICY_CONFIG_BYTES + 1,
        )],
    ]
}

/// A rate limit of `calls` per `period`.
fn rate(calls: u32, period: RecurringPeriod) -> Rule {
    Rule::RateLimit { calls, period }
}

/// A policy rule naming `address`, with `config_length` bytes of config.
fn policy(address: Address, config_length: usize) -> Rule {
    Rule::Policy {
        address,
        config: vec![0x5a; config_length].into(),
    }
}

impl Pools {
    fn new(account: Address, validator: Address) -> Self {
        Self {
            targets: vec![
                Address::ZERO,
                account,
                validator,
                Address::repeat_byte(0xa1),
                Address::repeat_byte(0xa2),
            ],
            amounts: vec![
                U256::ZERO,
                U256::from(1),
                MAX_ALLOWANCE,
                MAX_ALLOWANCE + U256::from(1),
            ],
            selectors: vec![
                fixed_bytes!("0xa9059cbb"), // transfer: an ERC-20 spend
                fixed_bytes!("0x095ea7b3"), // approve: an ERC-20 spend
                fixed_bytes!("0x5c36b186"), // ping()
                fixed_bytes!("0x12345678"),
                fixed_bytes!("0xe9ae5c53"), // execute: forbidden on the account
                fixed_bytes!("0x9517e29f"), // installModule: forbidden on the account
            ],
            rule_sets: rule_sets(),
        }
    }

    fn functions(&self, rng: &mut Rng) -> Vec<Selector> {
        (0..rng.next() % 3)
            .map(|_| rng.pick(&self.selectors))
            .collect()
    }

    fn permission(&self, rng: &mut Rng) -> Permission {
        match rng.next() % 9 {
            0 => Permission::Root,
            1 => Permission::NativeTokenTransfer {
                allowance: rng.pick(&self.amounts),
                period: None,
            },
            2 => Permission::Erc20TokenTransfer {
                address: rng.pick(&self.targets),
                allowance: rng.pick(&self.amounts),
                period: None,
            },
            3 => Permission::GasLimit {
                limit: rng.pick(&self.amounts),
            },
            4 => Permission::ContractAccess {
                address: rng.pick(&self.targets),
            },
            5 => Permission::AccountFunctions {
                functions: self.functions(rng),
            },
            6 => Permission::FunctionsOnAllContracts {
                functions: self.functions(rng),
                rules: rng.pick(&self.rule_sets),
            },
            7 => Permission::Paymaster {
                address: rng.pick(&self.targets),
            },
            _ => Permission::FunctionsOnContract {
                address: rng.pick(&self.targets),
                functions: self.functions(rng),
                rules: rng.pick(&self.rule_sets),
            },
        }
    }
}

/// Whether the builder's `error` and the validator's `revert` name the same rule.
fn same_rule(error: &GrantError, revert: &V) -> bool {
    matches!(
        (error, revert),
        (GrantError::NoPermissions, V::NoPermissions(_))
            | (GrantError::RootNotExclusive { .. }, V::RootNotExclusive(_))
            | (GrantError::Duplicate { .. }, V::DuplicatePermission(_))
            | (
                GrantError::ZeroTarget { .. }
                    | GrantError::ForbiddenTarget { .. }
                    | GrantError::AllowanceTooLarge { .. }
                    | GrantError::EmptyFunctions { .. }
                    | GrantError::ForbiddenSelector { .. },
                V::InvalidPermission(_)
            )
            | (GrantError::InvalidRules { .. }, V::InvalidRules(_))
    )
}

/// The builder's deliberate extra strictness: grants the validator would enable but that could
/// never do what they seem to.
fn only_the_builder_refuses(error: &GrantError) -> bool {
    matches!(
        error,
        GrantError::ZeroAllowance { .. }
            | GrantError::DuplicateSelector { .. }
            | GrantError::SpendSelectorInFunctions { .. }
            | GrantError::Duplicate { .. }
            | GrantError::PeriodAfterExpiry { .. }
    )
}

#[test]
fn builder_and_validator_agree_on_random_grants() {
    let mut chain = Chain::new().expect("chain");
    let account = key(0x11).address();
    let session_key = key(0x22).address();
    let validator = leash_bindings::Deployment::session_key_validator().address();
    chain
        .set_balance(account, U256::from(10).pow(U256::from(20)))
        .expect("funds");
    let now = chain.timestamp();
    let pools = Pools::new(account, validator);
    let mut rng = Rng(SEED);
    let (mut enabled, mut refused_by_both, mut refused_by_builder_only) = (0, 0, 0);
    for salt in 0..GRANTS {
        let permissions: Vec<Permission> = (0..rng.next() % 4)
            .map(|_| pools.permission(&mut rng))
            .collect();
        // Without the default gas-limit, the builder encodes exactly the permissions given.
        let built = SessionGrantBuilder::new(account, session_key, validator)
            .without_default_gas_limit()
            .valid_until(now + 3_600)
            .salt(U256::from(salt))
            .permissions(permissions.clone())
            .build(now);
        let grant = SessionGrant {
            account,
            sessionKey: session_key,
            validAfter: Default::default(),
            validUntil: alloy_primitives::aliases::U48::from(now + 3_600),
            salt: U256::from(salt),
            permissions: permissions.iter().map(Permission::to_sol).collect(),
        };
        if let Ok(built) = &built {
            assert_eq!(
                built, &grant,
                "grant {salt}: the builder encodes what it checked"
            );
        }
        let call: Bytes = enableSessionCall {
            grant: (&grant).into(),
        }
        .abi_encode()
        .into();
        let outcome = chain
            .transact(account, validator, call, U256::ZERO)
            .expect("transaction runs");
        let revert = match &outcome.result {
            ExecutionResult::Success { .. } => None,
            ExecutionResult::Revert { output, .. } => Some(
                V::abi_decode(output)
                    .unwrap_or_else(|_| panic!("grant {salt}: undecodable revert {output}")),
            ),
            ExecutionResult::Halt { reason, .. } => panic!("grant {salt}: halted: {reason:?}"),
        };
        match (&built, &revert) {
            (Ok(_), None) => enabled += 1,
            (Ok(_), Some(revert)) => panic!(
                "grant {salt} {permissions:?}: the builder accepts what the validator refuses: {revert:?}"
            ),
            (Err(error), Some(revert)) => {
                // With several faults, each may name the first it meets: the builder may stop
                // at one that only it refuses.
                assert!(
                    same_rule(error, revert) || only_the_builder_refuses(error),
                    "grant {salt} {permissions:?}: the builder says {error}, the validator {revert:?}"
                );
                refused_by_both += 1;
            }
            (Err(error), None) => {
                assert!(
                    only_the_builder_refuses(error),
                    "grant {salt} {permissions:?}: the validator enables what the builder refuses as {error}"
                );
                refused_by_builder_only += 1;
            }
        }
    }
    // The pools must reach every verdict, or the test proves little.
    assert!(enabled > 20, "{enabled} grants enabled");
    assert!(refused_by_both > 20, "{refused_by_both} refused by both");
    assert!(
        refused_by_builder_only > 20,
        "{refused_by_builder_only} refused by the builder only"
    );
}
