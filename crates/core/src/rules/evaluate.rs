//! Rules evaluated against a call off-chain, by the validator's definition, so a call that breaks
//! them is refused before it is signed, with the error the validator would revert with. Usage and
//! rate limits and policies always hold here: the validator keeps the counts (a rate limit's in
//! the execution phase, the only one that reads the clock), and a policy is a contract only the
//! chain runs, so their refusals (`UsageLimitReached`, `RateLimitReached`, `PolicyRefused`) come
//! from it.

use super::Rule;
use crate::calls::Call;
use alloy_primitives::U256;

/// How a call breaks a permission's rules, in the order the validator finds it: a word out of
/// range stops the evaluation; then the set rules' words must be a granted combination (the
/// validator's scope lookup); then every other rule must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleBreach {
    /// Rule `rule_index` reads a word that is not entirely inside the call's `data_length` bytes
    /// of data (short calldata, a dynamic argument's offset out of range, a head word of `2**32`
    /// or more); the validator's `ArgumentOutOfRange`. It is never read as zero.
    OutOfRange {
        /// Index of the rule.
        rule_index: usize,
        /// The length of the call's data, selector included.
        data_length: usize,
    },
    /// The words the set rules (`eq`, `one-of`) read, in rule order, are not one of the
    /// combinations of their values; the validator's `ArgumentsNotAllowed`.
    NotAllowed {
        /// The words read.
        words: Vec<U256>,
    },
    /// Rule `rule_index`, not a set rule, does not hold: `actual` is the word (or the call's
    /// value) it read; the validator's `CallRuleFailed`.
    Failed {
        /// Index of the rule.
        rule_index: usize,
        /// The word or value read.
        actual: U256,
    },
}

/// The 32-byte word at byte `at` of `data`, if all of it is inside.
fn word_at(data: &[u8], at: u64) -> Option<U256> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(32)?;
    data.get(start..end).map(U256::from_be_slice)
}

/// The byte at which argument word `index` starts: after the selector, 32 bytes per word.
fn argument_position(index: u16) -> u64 {
    4 + 32 * u64::from(index)
}

/// What `rule` reads from `call`: a word or the value, `Some(None)` when it is out of range, and
/// `None` for a rule that reads nothing (a usage or rate limit, a policy).
fn read(rule: &Rule, call: &Call) -> Option<Option<U256>> {
    match rule {
        Rule::Argument { index, .. } => Some(word_at(&call.data, argument_position(*index))),
        Rule::DynamicArgument { index, offset, .. } => Some(
            word_at(&call.data, argument_position(*index))
                // The validator refuses heads of 2**32 and more rather than wrap the sum below.
                .and_then(|head| u32::try_from(head).ok())
                .and_then(|head| word_at(&call.data, 4 + u64::from(head) + u64::from(*offset))),
        ),
        Rule::CallValue { .. } => Some(Some(call.value)),
        Rule::UsageLimit { .. } | Rule::RateLimit { .. } | Rule::Policy { .. } => None,
    }
}

/// Evaluates `rules` (all of which must hold) against `call`, reporting the breach the validator
/// would revert with.
pub fn evaluate(rules: &[Rule], call: &Call) -> Result<(), RuleBreach> {
    let mut set_words = Vec::new();
    let mut set_holds = true;
    let mut failed = None;
    for (rule_index, rule) in rules.iter().enumerate() {
        let (Some(read), Some((op, values))) = (read(rule, call), rule.condition()) else {
            continue;
        };
        let Some(word) = read else {
            return Err(RuleBreach::OutOfRange {
                rule_index,
                data_length: call.data.len(),
            });
        };
        let holds = op.holds(word, &values);
        if rule.is_set() {
            set_words.push(word);
            set_holds &= holds;
        } else if !holds && failed.is_none() {
            failed = Some(RuleBreach::Failed {
                rule_index,
                actual: word,
            });
        }
    }
    if !set_holds {
        return Err(RuleBreach::NotAllowed { words: set_words });
    }
    failed.map_or(Ok(()), Err)
}
