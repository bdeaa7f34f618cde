//! Rules evaluated against a call off-chain, by the validator's definition, so a call that breaks
//! them is refused before it is signed, with the error the validator would revert with.

use super::Rule;
use crate::calls::Call;
use alloy_primitives::U256;

/// How a rule failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFailure {
    /// The condition does not hold: `actual` is the word (or the call's value) it read; the
    /// validator's `CallRuleFailed`.
    Failed {
        /// The word or value read.
        actual: U256,
    },
    /// The word is not entirely inside the call's `data_length` bytes of data (short calldata, a
    /// dynamic argument's offset out of range, a head word of `2**32` or more); the validator's
    /// `ArgumentOutOfRange`. It is never read as zero.
    OutOfRange {
        /// The length of the call's data, selector included.
        data_length: usize,
    },
}

/// The first rule of a permission that a call breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleBreach {
    /// Index of the rule in its permission.
    pub rule_index: usize,
    /// How it failed.
    pub failure: RuleFailure,
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

/// What `rule` reads from `call`: a word, the value, or `None` when it is out of range.
fn read(rule: &Rule, call: &Call) -> Option<U256> {
    match rule {
        Rule::Argument { index, .. } => word_at(&call.data, argument_position(*index)),
        Rule::DynamicArgument { index, offset, .. } => {
            let head = word_at(&call.data, argument_position(*index))?;
            // The validator refuses heads of 2**32 and more rather than wrap the sum below.
            let head = u32::try_from(head).ok()?;
            word_at(&call.data, 4 + u64::from(head) + u64::from(*offset))
        }
        Rule::CallValue { .. } => Some(call.value),
    }
}

/// Evaluates `rules` (all of which must hold) against `call`; the first that fails is the breach,
/// as in the validator.
pub fn evaluate(rules: &[Rule], call: &Call) -> Result<(), RuleBreach> {
    for (rule_index, rule) in rules.iter().enumerate() {
        let failure = match read(rule, call) {
            None => RuleFailure::OutOfRange {
                data_length: call.data.len(),
            },
            Some(actual) => {
                let (op, values) = rule.condition();
                if op.holds(actual, &values) {
                    continue;
                }
                RuleFailure::Failed { actual }
            }
        };
        return Err(RuleBreach {
            rule_index,
            failure,
        });
    }
    Ok(())
}
