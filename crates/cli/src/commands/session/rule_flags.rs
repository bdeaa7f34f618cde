//! Rules written after a function list on `--call` and `--functions`:
//! `ADDRESS:SIG[,…];arg0:eq:0xBE…;arg1+32:one-of:0xA…,0xB…;value:lte:1ether;uses:3;rate:3/day;`
//! `policy:0xP…:0x…`.

use super::period_flags::{LimitTextError, parse_period};
use alloy_primitives::{Address, Bytes, U256};
use leash_core::{
    abi_call::{AbiCallError, parse_amount},
    rules::{Rule, RuleOp, RuleOpError, RuleValue},
};

/// Why a rule's text does not parse.
#[derive(Debug, thiserror::Error)]
pub(super) enum RuleTextError {
    /// Not `WHERE:OP:VALUES`.
    #[error(
        "rule {text:?}: expected argI:OP:VALUE[,…] (a static argument word), argI+OFFSET:OP:VALUE[,…] \
         (a word inside dynamic argument I), value:lte:AMOUNT, uses:N, rate:N/UNIT[@START] or \
         policy:ADDRESS[:0xCONFIG]"
    )]
    Shape {
        /// The rule's text.
        text: String,
    },
    /// The argument index or offset is not a number in range.
    #[error(
        "rule {text:?}: {what} {number:?} is not a number (index up to 65535, offset up to 2^32-1)"
    )]
    Position {
        /// The rule's text.
        text: String,
        /// "index" or "offset".
        what: &'static str,
        /// The number's text.
        number: String,
    },
    /// An unknown operator.
    #[error("rule {text:?}: {source}")]
    Op {
        /// The rule's text.
        text: String,
        /// What the parser said.
        source: RuleOpError,
    },
    /// A value limit with another operator than `lte`.
    #[error("rule {text:?}: a value limit is value:lte:AMOUNT")]
    ValueOp {
        /// The rule's text.
        text: String,
    },
    /// A usage limit whose count is not a number of calls.
    #[error("rule {text:?}: a usage limit is uses:N, N a number of calls up to 4294967295")]
    Uses {
        /// The rule's text.
        text: String,
    },
    /// A rate limit whose count is not a number of calls, or without a period.
    #[error(
        "rule {text:?}: a rate limit is rate:N/UNIT[@START], N a number of calls up to 4294967295 \
         per hour, day, week or month"
    )]
    Rate {
        /// The rule's text.
        text: String,
    },
    /// A rate limit whose period does not parse.
    #[error("rule {text:?}: {source}")]
    RatePeriod {
        /// The rule's text.
        text: String,
        /// What the period parser said.
        source: LimitTextError,
    },
    /// A policy rule whose address or config does not parse.
    #[error(
        "rule {text:?}: a policy rule is policy:ADDRESS or policy:ADDRESS:0xCONFIG (the config as \
         hex bytes)"
    )]
    Policy {
        /// The rule's text.
        text: String,
    },
    /// A value that is not a number.
    #[error("rule {text:?}: {source}")]
    Value {
        /// The rule's text.
        text: String,
        /// What the parser said.
        source: AbiCallError,
    },
}

/// One rule: `argI:OP:V[,V…]`, `argI+OFFSET:OP:V[,V…]`, `value:lte:AMOUNT`, `uses:N` (at most N
/// calls under the permission), `rate:N/UNIT[@START]` (at most N calls per hour, day, week or
/// calendar month, periods as `--native` and `--erc20` write them) or `policy:ADDRESS[:0xCONFIG]`
/// (a policy contract decides). Values
/// are amounts as everywhere in the CLI (`1000`, `1.5ether`) or hex numbers, which an address or
/// a 32-byte word is (`0x…`, left-padded to 32 bytes).
pub(super) fn parse_rule(text: &str) -> Result<Rule, RuleTextError> {
    let shape = || RuleTextError::Shape {
        text: text.to_owned(),
    };
    if let Some(calls) = text.trim().strip_prefix("uses:") {
        let calls = calls.trim().parse().map_err(|_| RuleTextError::Uses {
            text: text.to_owned(),
        })?;
        return Ok(Rule::UsageLimit { calls });
    }
    if let Some(rate) = text.trim().strip_prefix("rate:") {
        return parse_rate(text, rate);
    }
    if let Some(policy) = text.trim().strip_prefix("policy:") {
        return parse_policy(policy).ok_or_else(|| RuleTextError::Policy {
            text: text.to_owned(),
        });
    }
    let mut parts = text.trim().splitn(3, ':');
    let (Some(word), Some(op), Some(values)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(shape());
    };
    let op: RuleOp = op.trim().parse().map_err(|source| RuleTextError::Op {
        text: text.to_owned(),
        source,
    })?;
    let values = values
        .split(',')
        .map(|value| {
            parse_amount(value).map_err(|source| RuleTextError::Value {
                text: text.to_owned(),
                source,
            })
        })
        .collect::<Result<Vec<U256>, _>>()?;
    let word = word.trim();
    if word == "value" {
        return match (op, values.as_slice()) {
            (RuleOp::Lte, [max]) => Ok(Rule::CallValue { max: *max }),
            _ => Err(RuleTextError::ValueOp {
                text: text.to_owned(),
            }),
        };
    }
    let position = word.strip_prefix("arg").ok_or_else(shape)?;
    let number = |what: &'static str, digits: &str| RuleTextError::Position {
        text: text.to_owned(),
        what,
        number: digits.to_owned(),
    };
    let values: Vec<RuleValue> = values.into_iter().map(RuleValue::from).collect();
    match position.split_once('+') {
        None => Ok(Rule::Argument {
            index: position.parse().map_err(|_| number("index", position))?,
            op,
            values,
        }),
        Some((index, offset)) => Ok(Rule::DynamicArgument {
            index: index.parse().map_err(|_| number("index", index))?,
            offset: offset.parse().map_err(|_| number("offset", offset))?,
            op,
            values,
        }),
    }
}

/// `N/UNIT[@START]`, a rate limit's parameters (`text` is the whole rule, for errors).
fn parse_rate(text: &str, rate: &str) -> Result<Rule, RuleTextError> {
    let malformed = || RuleTextError::Rate {
        text: text.to_owned(),
    };
    let (calls, period) = rate.split_once('/').ok_or_else(malformed)?;
    let calls = calls.trim().parse().map_err(|_| malformed())?;
    let period = parse_period(period).map_err(|source| RuleTextError::RatePeriod {
        text: text.to_owned(),
        source,
    })?;
    Ok(Rule::RateLimit { calls, period })
}

/// `ADDRESS[:0xCONFIG]`, a policy rule's parameters.
fn parse_policy(text: &str) -> Option<Rule> {
    let (address, config) = text.split_once(':').unwrap_or((text, "0x"));
    Some(Rule::Policy {
        address: address.trim().parse::<Address>().ok()?,
        config: config.trim().parse::<Bytes>().ok()?,
    })
}

/// A function list and the rules after it: `LIST[;RULE…]`.
pub(super) fn split_rules(spec: &str) -> Result<(&str, Vec<Rule>), RuleTextError> {
    let mut parts = spec.split(';');
    let list = parts.next().unwrap_or_default();
    let rules = parts.map(parse_rule).collect::<Result<_, _>>()?;
    Ok((list, rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;
    use leash_core::recurring::{DAY, RecurringPeriod};

    #[test]
    fn each_rule_form_parses() -> Result<(), RuleTextError> {
        let recipient = address!("0x00000000000000000000000000000000000000be");
        assert_eq!(
            parse_rule("arg0:eq:0x00000000000000000000000000000000000000be")?,
            Rule::Argument {
                index: 0,
                op: RuleOp::Eq,
                values: vec![recipient.into()],
            }
        );
        assert_eq!(
            parse_rule("arg1+32:one-of:0xbe,7")?,
            Rule::DynamicArgument {
                index: 1,
                offset: 32,
                op: RuleOp::OneOf,
                values: vec![recipient.into(), U256::from(7).into()],
            }
        );
        assert_eq!(
            parse_rule("arg2:in-range:1,1000")?,
            Rule::Argument {
                index: 2,
                op: RuleOp::InRange,
                values: vec![U256::from(1).into(), U256::from(1000).into()],
            }
        );
        assert_eq!(
            parse_rule("value:lte:1ether")?,
            Rule::CallValue {
                max: U256::from(10).pow(U256::from(18)),
            }
        );
        assert_eq!(parse_rule("uses:3")?, Rule::UsageLimit { calls: 3 });
        assert_eq!(
            parse_rule("rate:3/day")?,
            Rule::RateLimit {
                calls: 3,
                period: RecurringPeriod::every(DAY),
            }
        );
        assert_eq!(
            parse_rule("rate:10/month@2026-12-01T00:00Z")?,
            Rule::RateLimit {
                calls: 10,
                period: RecurringPeriod::monthly().starting(1_796_083_200),
            }
        );
        assert_eq!(
            parse_rule("policy:0x00000000000000000000000000000000000000be")?,
            Rule::Policy {
                address: recipient,
                config: Bytes::new(),
            }
        );
        assert_eq!(
            parse_rule("policy:0x00000000000000000000000000000000000000be:0xaabb")?,
            Rule::Policy {
                address: recipient,
                config: Bytes::from_static(&[0xaa, 0xbb]),
            }
        );
        let (list, rules) = split_rules("pay(address,uint256);arg0:eq:0xbe;value:lte:5")?;
        assert_eq!(list, "pay(address,uint256)");
        assert_eq!(rules.len(), 2);
        assert_eq!(split_rules("ping()")?, ("ping()", vec![]));
        Ok(())
    }

    #[test]
    fn malformed_rules_say_what_is_expected() {
        for (text, expected) in [
            ("arg0:eq", "expected argI:OP:VALUE"),
            ("argx:eq:1", "index \"x\" is not a number"),
            ("arg1+-4:eq:1", "offset \"-4\" is not a number"),
            ("arg0:approx:1", "is not a rule operator"),
            ("value:gte:1", "a value limit is value:lte:AMOUNT"),
            ("arg0:eq:banana", "banana"),
            ("first:eq:1", "expected argI:OP:VALUE"),
            ("uses:many", "a usage limit is uses:N"),
            ("uses:-1", "a usage limit is uses:N"),
            ("rate:3", "a rate limit is rate:N/UNIT[@START]"),
            ("rate:many/day", "a rate limit is rate:N/UNIT[@START]"),
            ("rate:3/fortnight", "\"fortnight\" is not a period"),
            (
                "rate:3/day@noon",
                "the period's start \"noon\" is not a UTC time",
            ),
            ("policy:0xbe", "a policy rule is policy:ADDRESS"),
            (
                "policy:0x00000000000000000000000000000000000000be:zz",
                "a policy rule is policy:ADDRESS",
            ),
        ] {
            let error = parse_rule(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
