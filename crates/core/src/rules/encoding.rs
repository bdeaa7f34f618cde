//! The bytes of rules: `Permission.rules = 0x01 ‖ abi.encode(Rule[])`, the compact form a ruled
//! call's signature carries, and the bindings and tags of the ruled scopes the validator writes
//! (docs/permissions.md, "How validation gets the rules").

use super::{
    RULE_ARGUMENT, RULE_CALL_VALUE, RULE_DYNAMIC_ARGUMENT, RULE_POLICY, RULE_RATE, RULE_USAGE,
    RULES_VERSION, Rule, RuleOp, RuleValue,
};
use crate::recurring::RecurringPeriod;
use alloy_primitives::{Address, B256, Bytes, Selector, U256, keccak256};
use alloy_sol_types::{
    SolType, SolValue,
    sol_data::{self, Array, FixedBytes, Uint},
};
use leash_bindings::{PermissionType, Rule as SolRule};

/// Why `Permission.rules` bytes are not rules leash can represent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesDecodeError {
    /// The first byte is not [`RULES_VERSION`].
    #[error("rule data version {0:#04x} is not {RULES_VERSION:#04x}")]
    Version(u8),
    /// The bytes after the version are not `abi.encode(Rule[])`, or one rule's `data` is not its
    /// kind's encoding.
    #[error("rule data does not decode: {0}")]
    Abi(String),
    /// A kind function permissions do not take (2, a recurring period, or unknown).
    #[error(
        "rule {rule}: kind {kind} is not an argument, dynamic-argument, call-value, usage-limit, \
         rate-limit or policy rule"
    )]
    Kind {
        /// Index of the rule.
        rule: usize,
        /// Its kind.
        kind: u8,
    },
    /// An operator code above `in-range` (7).
    #[error("rule {rule}: operator {code} is unknown")]
    Op {
        /// Index of the rule.
        rule: usize,
        /// The code.
        code: u8,
    },
    /// The bytes decode, but not as leash encodes them (a different ABI layout, an empty list):
    /// a permission read back from them would not encode to the same grant.
    #[error("rule data is not in its canonical encoding")]
    NotCanonical,
}

/// `abi.encode(uint16 index, uint8 op, bytes32[] values)`.
type ArgumentData = (Uint<16>, Uint<8>, Array<FixedBytes<32>>);
/// `abi.encode(uint16 index, uint32 offset, uint8 op, bytes32[] values)`.
type DynamicArgumentData = (Uint<16>, Uint<32>, Uint<8>, Array<FixedBytes<32>>);
/// `abi.encode(uint32 count)`.
type UsageData = Uint<32>;
/// `abi.encode(uint32 count, uint48 period, uint48 start)`.
type RateData = (Uint<32>, Uint<48>, Uint<48>);
/// `abi.encode(address policy, bytes config)`.
type PolicyData = (sol_data::Address, sol_data::Bytes);

fn words(values: &[RuleValue]) -> Vec<B256> {
    values.iter().map(|value| value.0).collect()
}

fn values(words: Vec<B256>) -> Vec<RuleValue> {
    words.into_iter().map(RuleValue).collect()
}

impl Rule {
    /// The on-chain `Rule { kind, data }`, `data` as the table in docs/permissions.md gives it.
    pub fn to_sol(&self) -> SolRule {
        let data = match self {
            Self::Argument { index, op, values } => {
                ArgumentData::abi_encode_params(&(*index, op.code(), words(values)))
            }
            Self::DynamicArgument {
                index,
                offset,
                op,
                values,
            } => {
                DynamicArgumentData::abi_encode_params(&(*index, *offset, op.code(), words(values)))
            }
            Self::CallValue { max } => max.abi_encode(),
            Self::UsageLimit { calls } => UsageData::abi_encode(calls),
            Self::RateLimit { calls, period } => {
                let (period, start) = period.to_fields();
                RateData::abi_encode_params(&(*calls, period, start))
            }
            Self::Policy { address, config } => {
                PolicyData::abi_encode_params(&(*address, config.clone()))
            }
        };
        SolRule {
            kind: self.kind(),
            data: data.into(),
        }
    }

    /// Reads rule `rule` (its index, for errors) back from its on-chain form.
    pub fn from_sol(rule: usize, sol: &SolRule) -> Result<Self, RulesDecodeError> {
        let abi = |error: alloy_sol_types::Error| RulesDecodeError::Abi(error.to_string());
        let op = |code: u8| RuleOp::from_code(code).ok_or(RulesDecodeError::Op { rule, code });
        match sol.kind {
            RULE_ARGUMENT => {
                let (index, code, words) =
                    ArgumentData::abi_decode_params(&sol.data).map_err(abi)?;
                Ok(Self::Argument {
                    index,
                    op: op(code)?,
                    values: values(words),
                })
            }
            RULE_DYNAMIC_ARGUMENT => {
                let (index, offset, code, words) =
                    DynamicArgumentData::abi_decode_params(&sol.data).map_err(abi)?;
                Ok(Self::DynamicArgument {
                    index,
                    offset,
                    op: op(code)?,
                    values: values(words),
                })
            }
            RULE_CALL_VALUE => Ok(Self::CallValue {
                max: U256::abi_decode(&sol.data).map_err(abi)?,
            }),
            RULE_USAGE => Ok(Self::UsageLimit {
                calls: UsageData::abi_decode(&sol.data).map_err(abi)?,
            }),
            RULE_RATE => {
                let (calls, period, start) = RateData::abi_decode_params(&sol.data).map_err(abi)?;
                Ok(Self::RateLimit {
                    calls,
                    period: RecurringPeriod::from_fields(period, start),
                })
            }
            RULE_POLICY => {
                let (address, config) = PolicyData::abi_decode_params(&sol.data).map_err(abi)?;
                Ok(Self::Policy { address, config })
            }
            kind => Err(RulesDecodeError::Kind { rule, kind }),
        }
    }

    /// The compact form: `uint8 kind ‖ uint8 op ‖ uint16 index ‖ uint32 offset ‖ uint8 count ‖
    /// bytes32 values[count]` (a value limit is `lte` of `max`, index and offset 0; a set rule
    /// has no values, count 0). A usage or rate limit is op and index 0, `offset` the permission's
    /// index in the grant (so each permission has its own counter), and its count as the one
    /// value (a rate limit's period is in the counter's state word, written at enable); a
    /// policy is op and index 0, `offset` the config's length, and the policy's address as a word
    /// followed by the config padded to whole words as its values. `count` is a byte:
    /// [`super::check_rules`] keeps every well-formed rule within it.
    fn compact_into(&self, permission_index: u32, out: &mut Vec<u8>) {
        let (op, index, offset, values): (RuleOp, u16, u32, Vec<u8>) = match self {
            Self::Argument { index, op, values } => (*op, *index, 0, set_or_words(self, values)),
            Self::DynamicArgument {
                index,
                offset,
                op,
                values,
            } => (*op, *index, *offset, set_or_words(self, values)),
            Self::CallValue { max } => (RuleOp::Lte, 0, 0, max.to_be_bytes::<32>().to_vec()),
            Self::UsageLimit { calls } | Self::RateLimit { calls, .. } => (
                RuleOp::Eq,
                0,
                permission_index,
                U256::from(*calls).to_be_bytes::<32>().to_vec(),
            ),
            Self::Policy { address, config } => {
                let mut words = address.into_word().to_vec();
                words.extend_from_slice(config);
                words.resize(32 + config.len().div_ceil(32) * 32, 0);
                // check_rules keeps the config within MAX_POLICY_CONFIG_BYTES, far below u32.
                (RuleOp::Eq, 0, config.len() as u32, words)
            }
        };
        out.push(self.kind());
        out.push(op.code());
        out.extend_from_slice(&index.to_be_bytes());
        out.extend_from_slice(&offset.to_be_bytes());
        out.push((values.len() / 32) as u8);
        out.extend_from_slice(&values);
    }
}

/// The value words an argument condition carries in the compact form: none for a set rule (the
/// validator's lookup checks them), else all of them.
fn set_or_words(rule: &Rule, values: &[RuleValue]) -> Vec<u8> {
    if rule.is_set() {
        return Vec::new();
    }
    values.iter().flat_map(|value| value.0.0).collect()
}

/// `Permission.rules` for `rules`: empty for none, else `0x01 ‖ abi.encode(Rule[])`.
pub fn encode_rules(rules: &[Rule]) -> Bytes {
    if rules.is_empty() {
        return Bytes::new();
    }
    let list: Vec<SolRule> = rules.iter().map(Rule::to_sol).collect();
    [&[RULES_VERSION][..], &list.abi_encode()].concat().into()
}

/// The rules in `Permission.rules` (none for empty bytes). Only what [`encode_rules`] writes is
/// read: any other bytes, even ones the validator would accept, are refused as
/// [`RulesDecodeError::NotCanonical`], so a permission read back always encodes to the same grant.
pub fn decode_rules(data: &[u8]) -> Result<Vec<Rule>, RulesDecodeError> {
    let Some((&version, list)) = data.split_first() else {
        return Ok(Vec::new());
    };
    if version != RULES_VERSION {
        return Err(RulesDecodeError::Version(version));
    }
    let list = <Vec<SolRule> as SolValue>::abi_decode(list)
        .map_err(|error| RulesDecodeError::Abi(error.to_string()))?;
    let rules = list
        .iter()
        .enumerate()
        .map(|(rule, sol)| Rule::from_sol(rule, sol))
        .collect::<Result<Vec<_>, _>>()?;
    if encode_rules(&rules) != *data {
        return Err(RulesDecodeError::NotCanonical);
    }
    Ok(rules)
}

/// The compact form of the rules of permission `permission_index` of its grant, in grant order:
/// what a ruled call's signature attachment carries and what the validator hashes into the ruled
/// tags (a usage or rate limit names the permission by its index, so the index is part of it).
pub fn compact_rules(rules: &[Rule], permission_index: u32) -> Bytes {
    let mut out = Vec::new();
    for rule in rules {
        rule.compact_into(permission_index, &mut out);
    }
    out.into()
}

/// Whether the compact rules `compact` hold a rule of `kind`, walked as the validator's
/// `RuleLib.countOf` walks them: each rule is 9 bytes and its `count` words.
pub(crate) fn compact_holds_kind(compact: &[u8], kind: u8) -> bool {
    let mut rest = compact;
    while let [rule_kind, _, _, _, _, _, _, _, count, ..] = *rest {
        if rule_kind == kind {
            return true;
        }
        rest = rest.get(9 + 32 * usize::from(count)..).unwrap_or_default();
    }
    false
}

/// Every combination of one value from each set rule, in rule order, as the validator counts
/// them (mixed radix, the last set rule's value changing fastest); one empty combination when
/// there is no set rule.
pub fn combinations(rules: &[Rule]) -> Vec<Vec<B256>> {
    let sets: Vec<Vec<RuleValue>> = rules
        .iter()
        .filter(|rule| rule.is_set())
        .filter_map(|rule| rule.condition().map(|(_, values)| values))
        .collect();
    let count = sets.iter().map(Vec::len).product::<usize>();
    (0..count)
        .map(|n| {
            let mut rest = n;
            let mut words = vec![B256::ZERO; sets.len()];
            for (word, set) in words.iter_mut().zip(&sets).rev() {
                *word = set[rest % set.len()].0;
                rest /= set.len();
            }
            words
        })
        .collect()
}

/// `keccak256(w_1 ‖ … ‖ w_k ‖ compact)`: what binds a ruled scope to the compact rules and to one
/// combination of the words their set rules read.
pub fn binding(words: &[B256], compact: &[u8]) -> B256 {
    let mut preimage: Vec<u8> = words.iter().flat_map(|word| word.0).collect();
    preimage.extend_from_slice(compact);
    keccak256(preimage)
}

/// The bindings of the ruled scopes the validator writes for `rules`, those of permission
/// `permission_index` of the grant, one per combination ([`combinations`]), in its order.
pub fn bindings(rules: &[Rule], permission_index: u32) -> Vec<B256> {
    let compact = compact_rules(rules, permission_index);
    combinations(rules)
        .iter()
        .map(|words| binding(words, &compact))
        .collect()
}

/// The tag of a plain function scope (ScopeLib.tag): `FunctionsOnContract << 192 | selector << 160
/// | target`, `target` zero for all contracts.
pub fn scope_tag(selector: Selector, target: Address) -> U256 {
    let kind = U256::from(PermissionType::FunctionsOnContract as u8);
    let selector = U256::from(u32::from_be_bytes(selector.0));
    (kind << 192) | (selector << 160) | U256::from_be_slice(target.as_slice())
}

/// The tag of the ruled scope of `binding` on `selector` at `target` (zero for all contracts):
/// `uint256(keccak256(abi.encode(tag, binding)))`.
pub fn ruled_tag(selector: Selector, target: Address, binding: B256) -> U256 {
    let tag = scope_tag(selector, target);
    U256::from_be_bytes(keccak256((tag, binding).abi_encode_params()).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleOp, tests::sample_rules};
    use alloy_primitives::{address, fixed_bytes, hex};

    #[test]
    fn rules_round_trip_through_their_encoding() -> Result<(), RulesDecodeError> {
        let encoded = encode_rules(&sample_rules());
        assert_eq!(encoded[0], RULES_VERSION);
        assert_eq!(decode_rules(&encoded)?, sample_rules());
        assert!(encode_rules(&[]).is_empty());
        assert_eq!(decode_rules(&[])?, vec![]);
        Ok(())
    }

    #[test]
    fn each_kind_has_the_data_of_the_table() {
        let rules = sample_rules();
        let argument = rules[0].to_sol();
        assert_eq!(argument.kind, RULE_ARGUMENT);
        // uint16 0, uint8 EQ, offset of the array, its length 1, the address word.
        assert_eq!(argument.data.len(), 5 * 32);
        assert_eq!(argument.data[32 * 2 + 31], 0x60);
        let dynamic = rules[1].to_sol();
        assert_eq!(dynamic.kind, RULE_DYNAMIC_ARGUMENT);
        assert_eq!(U256::from_be_slice(&dynamic.data[32..64]), U256::from(32));
        assert_eq!(dynamic.data[2 * 32 + 31], RuleOp::OneOf.code());
        let value = rules[2].to_sol();
        assert_eq!(value.kind, RULE_CALL_VALUE);
        assert_eq!(value.data, U256::from(1000).abi_encode());
    }

    #[test]
    fn the_compact_form_is_nine_bytes_and_the_values_of_other_than_set_rules() {
        let compact = compact_rules(&sample_rules(), 0);
        assert_eq!(compact.len(), 9 + 9 + (9 + 32));
        assert_eq!(
            &compact[..9],
            &hex!("01 00 0000 00000000 00"),
            "argument: kind 1, eq, index 0, offset 0, a set rule without values"
        );
        assert_eq!(&compact[9..18], &hex!("05 06 0001 00000020 00"));
        assert_eq!(
            &compact[18..27],
            &hex!("06 05 0000 00000000 01"),
            "a value limit is lte, with its value"
        );
        assert_eq!(U256::from_be_slice(&compact[27..]), U256::from(1000));
    }

    #[test]
    fn each_combination_of_set_values_has_its_binding() {
        // eq 0xbe, then one-of [1, 2]: two combinations, the last set changing fastest.
        let rules = sample_rules();
        let recipient = address!("0x00000000000000000000000000000000000000be").into_word();
        let (one, two) = (B256::from(U256::from(1)), B256::from(U256::from(2)));
        assert_eq!(
            combinations(&rules),
            vec![vec![recipient, one], vec![recipient, two]]
        );
        let compact = compact_rules(&rules, 0);
        let expected = keccak256([recipient.as_slice(), one.as_slice(), &compact].concat());
        assert_eq!(bindings(&rules, 0)[0], expected);
        assert_eq!(bindings(&rules, 0).len(), 2);
        let value_only = [Rule::CallValue { max: U256::ONE }];
        assert_eq!(combinations(&value_only), vec![Vec::<B256>::new()]);
        assert_eq!(
            bindings(&value_only, 0),
            vec![keccak256(compact_rules(&value_only, 0))]
        );
    }

    #[test]
    fn what_leash_cannot_represent_is_refused() {
        let versioned = |list: Vec<SolRule>| [&[RULES_VERSION][..], &list.abi_encode()].concat();
        let period = versioned(vec![SolRule {
            kind: 2,
            data: U256::from(60).abi_encode().into(),
        }]);
        assert_eq!(
            decode_rules(&period),
            Err(RulesDecodeError::Kind { rule: 0, kind: 2 })
        );
        let mut version = encode_rules(&sample_rules()).to_vec();
        version[0] = 2;
        assert_eq!(decode_rules(&version), Err(RulesDecodeError::Version(2)));
        let no_rules = versioned(vec![]);
        assert_eq!(decode_rules(&no_rules), Err(RulesDecodeError::NotCanonical));
        let bad_op = versioned(vec![SolRule {
            kind: RULE_ARGUMENT,
            data: ArgumentData::abi_encode_params(&(0, 8, vec![B256::ZERO])).into(),
        }]);
        assert_eq!(
            decode_rules(&bad_op),
            Err(RulesDecodeError::Op { rule: 0, code: 8 })
        );
        let mut trailing = encode_rules(&sample_rules()).to_vec();
        trailing.extend_from_slice(&[0; 32]);
        assert!(decode_rules(&trailing).is_err());
    }

    #[test]
    fn the_ruled_tag_hashes_the_plain_tag_with_the_rules() {
        let selector = fixed_bytes!("0x12345678");
        let target = address!("0x00000000000000000000000000000000000000cc");
        let tag = scope_tag(selector, target);
        assert_eq!(tag >> 192, U256::from(7));
        assert_eq!((tag >> 160) & U256::from(u32::MAX), U256::from(0x1234_5678));
        assert_eq!(tag & U256::from(0xff), U256::from(0xcc));
        let binding = bindings(&sample_rules(), 0)[0];
        let expected = keccak256([tag.to_be_bytes::<32>().as_slice(), binding.as_slice()].concat());
        assert_eq!(
            ruled_tag(selector, target, binding),
            U256::from_be_bytes(expected.0)
        );
        assert_ne!(
            ruled_tag(selector, Address::ZERO, binding),
            ruled_tag(selector, target, binding)
        );
    }
}
