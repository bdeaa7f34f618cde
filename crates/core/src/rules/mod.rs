//! Rules of function permissions (docs/permissions.md, "Rule data"): argument conditions, usage
//! and rate limits and policy contracts. Their JSON, the
//! `Permission.rules` encoding, the compact form a call carries and the bindings the validator
//! keys their scopes by ([`encoding`]), the checks it makes when a grant is enabled ([`check_rules`]), an evaluator
//! with the validator's semantics ([`evaluate`]), and the choice of the rules each call of an
//! operation carries in its signature ([`attachments`]).

pub mod attachments;
pub mod encoding;
pub mod evaluate;

pub use attachments::{AttachmentError, RuleAttachment, RuleAttachments, RuleDenial};
pub use encoding::{
    RulesDecodeError, binding, bindings, combinations, compact_rules, decode_rules, encode_rules,
    ruled_tag, scope_tag,
};
pub use evaluate::{RuleBreach, evaluate};

use crate::recurring::{PeriodError, RecurringPeriod};
use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

// The constants of contracts/types/SessionTypes.sol. `sol!` does not carry file-level constants,
// so they are stated here and tests/solidity_facts.rs checks each against the Solidity source.

/// The version byte that starts a non-empty `Permission.rules`.
pub const RULES_VERSION: u8 = 0x01;
/// Rule kind: a condition on a static ABI word of the call.
pub const RULE_ARGUMENT: u8 = 1;
/// Rule kind: at most a number of calls under the permission over the session's life.
pub const RULE_USAGE: u8 = 3;
/// Rule kind: a policy contract (`IPolicy`) decides each call.
pub const RULE_POLICY: u8 = 4;
/// The longest config a policy rule may hand its policy, in bytes.
pub const MAX_POLICY_CONFIG_BYTES: usize = 1024;
/// Rule kind: a condition on a word inside a dynamic argument.
pub const RULE_DYNAMIC_ARGUMENT: u8 = 5;
/// Rule kind: a limit on the call's native value.
pub const RULE_CALL_VALUE: u8 = 6;
/// Rule kind: at most a number of calls under the permission per period.
pub const RULE_RATE: u8 = 7;
/// The most values a `one-of` condition may list.
pub const MAX_ONE_OF_VALUES: usize = 32;
/// The most rules one permission may hold (every compact form then fits an attachment's length).
pub const MAX_RULES: usize = 16;
/// The most combinations of set rule values one permission may have: the validator writes a scope
/// for each when it enables the grant.
pub const MAX_SET_COMBINATIONS: usize = 32;

/// A 32-byte word a condition compares with, as `uint256`.
///
/// In JSON it is a `0x`-prefixed hex number of 1 to 64 digits, left-padded with zeros to 32 bytes:
/// an address (40 digits), a full 32-byte word (64 digits) and a quantity (`0x2a`) all read as the
/// `uint256` they are, which is how the ABI puts each in its word. It is written back as the full
/// word (64 digits, lowercase), so equal values have one JSON form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleValue(pub B256);

impl RuleValue {
    /// The word as the number the validator compares.
    pub fn to_u256(self) -> U256 {
        U256::from_be_bytes(self.0.0)
    }
}

impl From<Address> for RuleValue {
    fn from(address: Address) -> Self {
        Self(address.into_word())
    }
}

impl From<U256> for RuleValue {
    fn from(value: U256) -> Self {
        Self(B256::from(value))
    }
}

impl From<B256> for RuleValue {
    fn from(word: B256) -> Self {
        Self(word)
    }
}

/// Why text is not a [`RuleValue`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a rule value: write 0x and 1 to 64 hex digits (an address, a 32-byte word \
     or a hex quantity)"
)]
pub struct RuleValueError {
    /// The text.
    pub input: String,
}

impl FromStr for RuleValue {
    type Err = RuleValueError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = || RuleValueError {
            input: input.to_owned(),
        };
        let digits = input.strip_prefix("0x").ok_or_else(error)?;
        if digits.is_empty() || digits.len() > 64 {
            return Err(error());
        }
        let padded = format!("{digits:0>64}");
        let word = hex::decode(padded).map_err(|_| error())?;
        Ok(Self(B256::from_slice(&word)))
    }
}

impl fmt::Display for RuleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for RuleValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuleValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How a condition compares the word `w` it reads with its values `v0, v1, …`, all as `uint256`.
/// The discriminants are the validator's `RULE_OP_*` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum RuleOp {
    /// `w == v0`.
    Eq = 0,
    /// `w != v0`.
    Ne = 1,
    /// `w > v0`.
    Gt = 2,
    /// `w >= v0`.
    Gte = 3,
    /// `w < v0`.
    Lt = 4,
    /// `w <= v0`.
    Lte = 5,
    /// `w` is one of the 1 to [`MAX_ONE_OF_VALUES`] values.
    OneOf = 6,
    /// `v0 <= w <= v1`.
    InRange = 7,
}

impl RuleOp {
    /// Every operator, in code order.
    pub const ALL: [Self; 8] = [
        Self::Eq,
        Self::Ne,
        Self::Gt,
        Self::Gte,
        Self::Lt,
        Self::Lte,
        Self::OneOf,
        Self::InRange,
    ];

    /// The validator's code of this operator.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The operator with the validator's `code`, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// Its JSON (and CLI) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::OneOf => "one-of",
            Self::InRange => "in-range",
        }
    }

    /// Whether `word` satisfies this operator against `values`. Values a well-formed rule has
    /// (see [`check_rules`]) are all read; a missing one makes the condition fail, never panic.
    pub fn holds(self, word: U256, values: &[RuleValue]) -> bool {
        let value = |i: usize| values.get(i).map(|v| v.to_u256());
        let first = value(0);
        match self {
            Self::Eq => first == Some(word),
            Self::Ne => first.is_some_and(|v| word != v),
            Self::Gt => first.is_some_and(|v| word > v),
            Self::Gte => first.is_some_and(|v| word >= v),
            Self::Lt => first.is_some_and(|v| word < v),
            Self::Lte => first.is_some_and(|v| word <= v),
            Self::OneOf => values.iter().any(|v| v.to_u256() == word),
            Self::InRange => match (first, value(1)) {
                (Some(low), Some(high)) => low <= word && word <= high,
                _ => false,
            },
        }
    }
}

impl fmt::Display for RuleOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuleOp {
    type Err = RuleOpError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|op| op.name() == input)
            .ok_or_else(|| RuleOpError {
                input: input.to_owned(),
            })
    }
}

/// Why text is not a [`RuleOp`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a rule operator: use eq, ne, gt, gte, lt, lte, one-of or in-range")]
pub struct RuleOpError {
    /// The text.
    pub input: String,
}

/// One rule of a function permission, in the Wallet API's style:
/// `{"type": "argument", "data": {"index": 0, "op": "eq", "values": ["0x…"]}}`,
/// `{"type": "usage-limit", "data": {"calls": 3}}`,
/// `{"type": "rate-limit", "data": {"calls": 3, "period": {"seconds": 86400}}}`,
/// `{"type": "policy", "data": {"address": "0x…", "config": "0x…"}}`. All rules of a
/// permission must hold; several permissions on one function are alternatives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub enum Rule {
    /// A condition on the static ABI word `index` of the call (0 = the first argument): the word
    /// at byte `4 + 32·index` of its data.
    Argument {
        /// Which argument word.
        index: u16,
        /// How it compares.
        op: RuleOp,
        /// What it compares with.
        values: Vec<RuleValue>,
    },
    /// A condition on a word inside a dynamic argument: the head word `h` at `index` is the
    /// argument's ABI offset, and the word read is at byte `4 + h + offset` (for `bytes` and
    /// arrays, offset 0 is the length and 32 the first element).
    DynamicArgument {
        /// Which argument's head word.
        index: u16,
        /// Where in the argument, in bytes from its first byte.
        offset: u32,
        /// How it compares.
        op: RuleOp,
        /// What it compares with.
        values: Vec<RuleValue>,
    },
    /// The call's native value is at most `max` wei.
    CallValue {
        /// The largest value, in wei.
        max: U256,
    },
    /// At most `calls` calls under this permission over the session's life, whichever of its
    /// functions: the validator keeps the count, so off-chain it always holds.
    UsageLimit {
        /// How many calls, at least 1.
        calls: u32,
    },
    /// At most `calls` calls under this permission per period, whichever of its functions. The
    /// count needs the clock, which only the execution phase reads: off-chain it always holds,
    /// and an operation with such a call takes the balance-checked form, whose settlement counts.
    RateLimit {
        /// How many calls per period, at least 1.
        calls: u32,
        /// The periods, as a recurring allowance's (`{"seconds": N}` or `{"calendar": "month"}`,
        /// with an optional `start`).
        period: RecurringPeriod,
    },
    /// The policy contract at `address` (an `IPolicy`) decides each call, given `config`. leash
    /// cannot run it off-chain, so here it always holds and the chain decides.
    Policy {
        /// The policy contract.
        address: Address,
        /// What the policy is handed with each call (at most [`MAX_POLICY_CONFIG_BYTES`]).
        #[serde(default)]
        config: Bytes,
    },
}

impl Rule {
    /// The validator's kind code of this rule.
    pub fn kind(&self) -> u8 {
        match self {
            Self::Argument { .. } => RULE_ARGUMENT,
            Self::DynamicArgument { .. } => RULE_DYNAMIC_ARGUMENT,
            Self::CallValue { .. } => RULE_CALL_VALUE,
            Self::UsageLimit { .. } => RULE_USAGE,
            Self::RateLimit { .. } => RULE_RATE,
            Self::Policy { .. } => RULE_POLICY,
        }
    }

    /// Whether this is a **set rule** (`eq` or `one-of` on an argument word): its values are
    /// checked by the validator's scope lookup, so they stay out of the compact form.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            Self::Argument {
                op: RuleOp::Eq | RuleOp::OneOf,
                ..
            } | Self::DynamicArgument {
                op: RuleOp::Eq | RuleOp::OneOf,
                ..
            }
        )
    }

    /// The rule as the validator compares it with a word the call holds: a value limit is
    /// `value <= max`, i.e. `lte` with one value (this is also its compact form). `None` for a
    /// usage or rate limit or a policy, which read no word.
    pub fn condition(&self) -> Option<(RuleOp, Vec<RuleValue>)> {
        match self {
            Self::Argument { op, values, .. } | Self::DynamicArgument { op, values, .. } => {
                Some((*op, values.clone()))
            }
            Self::CallValue { max } => Some((RuleOp::Lte, vec![(*max).into()])),
            Self::UsageLimit { .. } | Self::RateLimit { .. } | Self::Policy { .. } => None,
        }
    }
}

impl fmt::Display for Rule {
    /// What the rule requires, in words: `argument 0 eq 0x…`, `word 32 of dynamic argument 1
    /// one-of [0x…, 0x…]`, `call value lte 100 wei`, `at most 3 calls`, `at most 3 calls every
    /// day`, `policy 0x… with config 0x…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, values) = match self {
            Self::Argument { index, op, values } => {
                write!(f, "argument {index} ")?;
                (op, values)
            }
            Self::DynamicArgument {
                index,
                offset,
                op,
                values,
            } => {
                write!(f, "word {offset} of dynamic argument {index} ")?;
                (op, values)
            }
            Self::CallValue { max } => return write!(f, "call value lte {max} wei"),
            Self::UsageLimit { calls } => return write!(f, "at most {calls} calls"),
            Self::RateLimit { calls, period } => {
                return write!(f, "at most {calls} calls {period}");
            }
            Self::Policy { address, config } if config.is_empty() => {
                return write!(f, "policy {address}");
            }
            Self::Policy { address, config } => {
                return write!(f, "policy {address} with config {config}");
            }
        };
        match values.as_slice() {
            [value] if *op != RuleOp::OneOf => write!(f, "{op} {value}"),
            values => {
                let listed: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "{op} [{}]", listed.join(", "))
            }
        }
    }
}

/// Why a permission's rules are not what the validator accepts (it refuses them at enable with
/// `InvalidRules`). `rule` is the rule's index in the permission.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// An operator that takes one value (or two, for `in-range`) was given another number.
    #[error("rule {rule}: {op} takes {expected} value(s), {given} given")]
    ValueCount {
        /// Index of the rule.
        rule: usize,
        /// Its operator.
        op: RuleOp,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        given: usize,
    },
    /// `one-of` with no value or more than [`MAX_ONE_OF_VALUES`].
    #[error("rule {rule}: one-of takes 1 to {MAX_ONE_OF_VALUES} values, {given} given")]
    OneOfCount {
        /// Index of the rule.
        rule: usize,
        /// How many were given.
        given: usize,
    },
    /// More than [`MAX_RULES`] rules.
    #[error("{count} rules; a permission holds at most {MAX_RULES}")]
    TooManyRules {
        /// How many there are.
        count: usize,
    },
    /// The set rules up to `rule` allow more than [`MAX_SET_COMBINATIONS`] combinations of
    /// values (the product of their value counts).
    #[error(
        "rule {rule}: the eq and one-of rules allow {combinations} combinations of values; at most \
         {MAX_SET_COMBINATIONS}"
    )]
    TooManyCombinations {
        /// Index of the set rule that went past the bound.
        rule: usize,
        /// The product of the set rules' value counts so far.
        combinations: usize,
    },
    /// A usage limit of zero calls, which the validator refuses rather than grant nothing.
    #[error("rule {rule}: a usage limit allows at least 1 call")]
    NoCalls {
        /// Index of the rule.
        rule: usize,
    },
    /// A second usage limit: a permission has one counter.
    #[error("rule {rule}: a permission takes one usage limit, and rule {first} is one")]
    SecondUsageLimit {
        /// Index of the second usage limit.
        rule: usize,
        /// Index of the first.
        first: usize,
    },
    /// A rate limit of zero calls per period, which the validator refuses rather than grant
    /// nothing.
    #[error("rule {rule}: a rate limit allows at least 1 call per period")]
    NoRateCalls {
        /// Index of the rule.
        rule: usize,
    },
    /// A second rate limit: a permission has one rate counter.
    #[error("rule {rule}: a permission takes one rate limit, and rule {first} is one")]
    SecondRateLimit {
        /// Index of the second rate limit.
        rule: usize,
        /// Index of the first.
        first: usize,
    },
    /// A rate limit's period the validator's `uint48` fields cannot hold.
    #[error("rule {rule}: {source}")]
    RatePeriod {
        /// Index of the rule.
        rule: usize,
        /// What is wrong with the period.
        source: PeriodError,
    },
    /// A policy rule naming the zero address, which would refuse every call.
    #[error("rule {rule}: a policy rule needs the policy contract's address, not zero")]
    ZeroPolicy {
        /// Index of the rule.
        rule: usize,
    },
    /// A policy config longer than [`MAX_POLICY_CONFIG_BYTES`].
    #[error("rule {rule}: the policy config is {length} bytes; at most {MAX_POLICY_CONFIG_BYTES}")]
    PolicyConfigTooLong {
        /// Index of the rule.
        rule: usize,
        /// Its length.
        length: usize,
    },
    /// `in-range` whose lower bound is above its upper bound, which no word satisfies.
    #[error("rule {rule}: in-range bounds are reversed ({low} > {high})")]
    ReversedRange {
        /// Index of the rule.
        rule: usize,
        /// The first value.
        low: RuleValue,
        /// The second value.
        high: RuleValue,
    },
}

/// Checks `rules` as the validator does when it enables a grant: at most [`MAX_RULES`], each
/// operator with its number of values, `one-of` with at most [`MAX_ONE_OF_VALUES`], `in-range`
/// with `v0 <= v1`, at most [`MAX_SET_COMBINATIONS`] combinations of set rule values, at most one
/// usage limit and one rate limit, each of at least one call (a rate limit's period within
/// `uint48`), and policies with an address and at most [`MAX_POLICY_CONFIG_BYTES`] of config. (The
/// validator's other condition, at least one rule, holds by construction: no rules encode as
/// empty `Permission.rules`, a plain permission.)
pub fn check_rules(rules: &[Rule]) -> Result<(), RuleError> {
    if rules.len() > MAX_RULES {
        return Err(RuleError::TooManyRules { count: rules.len() });
    }
    let mut combinations: usize = 1;
    let mut usage_limit = None;
    let mut rate_limit = None;
    for (rule, checked) in rules.iter().enumerate() {
        let (op, values) = match checked {
            Rule::UsageLimit { calls } => {
                if *calls == 0 {
                    return Err(RuleError::NoCalls { rule });
                }
                if let Some(first) = usage_limit.replace(rule) {
                    return Err(RuleError::SecondUsageLimit { rule, first });
                }
                continue;
            }
            Rule::RateLimit { calls, period } => {
                if *calls == 0 {
                    return Err(RuleError::NoRateCalls { rule });
                }
                if let Some(first) = rate_limit.replace(rule) {
                    return Err(RuleError::SecondRateLimit { rule, first });
                }
                period
                    .check()
                    .map_err(|source| RuleError::RatePeriod { rule, source })?;
                continue;
            }
            Rule::Policy { address, .. } if address.is_zero() => {
                return Err(RuleError::ZeroPolicy { rule });
            }
            Rule::Policy { config, .. } if config.len() > MAX_POLICY_CONFIG_BYTES => {
                return Err(RuleError::PolicyConfigTooLong {
                    rule,
                    length: config.len(),
                });
            }
            Rule::Policy { .. } => continue,
            Rule::Argument { op, values, .. } | Rule::DynamicArgument { op, values, .. } => {
                (*op, values.as_slice())
            }
            Rule::CallValue { .. } => continue,
        };
        let given = values.len();
        match op {
            RuleOp::OneOf if given == 0 || given > MAX_ONE_OF_VALUES => {
                return Err(RuleError::OneOfCount { rule, given });
            }
            RuleOp::OneOf => {}
            RuleOp::InRange if given != 2 => {
                return Err(RuleError::ValueCount {
                    rule,
                    op,
                    expected: 2,
                    given,
                });
            }
            RuleOp::InRange if values[0] > values[1] => {
                return Err(RuleError::ReversedRange {
                    rule,
                    low: values[0],
                    high: values[1],
                });
            }
            RuleOp::InRange => {}
            _ if given != 1 => {
                return Err(RuleError::ValueCount {
                    rule,
                    op,
                    expected: 1,
                    given,
                });
            }
            _ => {}
        }
        if checked.is_set() {
            combinations = combinations.saturating_mul(given);
            if combinations > MAX_SET_COMBINATIONS {
                return Err(RuleError::TooManyCombinations { rule, combinations });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
