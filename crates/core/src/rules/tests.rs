use super::*;
use crate::{
    calls::Call, permission::Permission, recurring::RecurringPeriod, revert_reason::RevertReason,
};
use alloy_primitives::{Bytes, Selector, address, fixed_bytes, hex};
use alloy_sol_types::{SolError, SolInterface};
use leash_bindings::SessionKeyValidator::{
    ArgumentsNotAllowed, CallRuleFailed, SessionKeyValidatorErrors,
};
use proptest::prelude::*;

const TARGET: Address = address!("0x00000000000000000000000000000000000000cc");
const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
const SESSION: B256 = B256::repeat_byte(0x5e);
const SELECTOR: Selector = fixed_bytes!("0x12345678");

/// One rule of each kind: an address `eq`, a `one-of` inside a dynamic argument, a value limit.
pub(crate) fn sample_rules() -> Vec<Rule> {
    vec![
        Rule::Argument {
            index: 0,
            op: RuleOp::Eq,
            values: vec![address!("0x00000000000000000000000000000000000000be").into()],
        },
        Rule::DynamicArgument {
            index: 1,
            offset: 32,
            op: RuleOp::OneOf,
            values: vec![U256::from(1).into(), U256::from(2).into()],
        },
        Rule::CallValue {
            max: U256::from(1000),
        },
    ]
}

fn word(n: u64) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

fn call_with(words: &[[u8; 32]], value: u64) -> Call {
    let data: Vec<u8> = SELECTOR
        .iter()
        .copied()
        .chain(words.iter().flatten().copied())
        .collect();
    Call {
        to: TARGET,
        value: U256::from(value),
        data: data.into(),
    }
}

fn argument(op: RuleOp, values: &[u64]) -> Rule {
    Rule::Argument {
        index: 0,
        op,
        values: values.iter().map(|v| U256::from(*v).into()).collect(),
    }
}

fn failed(rule_index: usize, actual: u64) -> Result<(), RuleBreach> {
    Err(RuleBreach::Failed {
        rule_index,
        actual: U256::from(actual),
    })
}

fn not_allowed(words: &[u64]) -> Result<(), RuleBreach> {
    Err(RuleBreach::NotAllowed {
        words: words.iter().map(|w| U256::from(*w)).collect(),
    })
}

fn out_of_range(rule_index: usize, data_length: usize) -> Result<(), RuleBreach> {
    Err(RuleBreach::OutOfRange {
        rule_index,
        data_length,
    })
}

#[test]
fn each_operator_passes_at_its_boundary_and_fails_one_past_it() {
    // (op, values, a word that just holds, the next word that does not)
    let cases = [
        (RuleOp::Eq, vec![10], 10, 11),
        (RuleOp::Ne, vec![10], 11, 10),
        (RuleOp::Gt, vec![10], 11, 10),
        (RuleOp::Gte, vec![10], 10, 9),
        (RuleOp::Lt, vec![10], 9, 10),
        (RuleOp::Lte, vec![10], 10, 11),
        (RuleOp::OneOf, vec![3, 7, 10], 10, 11),
        (RuleOp::InRange, vec![5, 10], 10, 11),
        (RuleOp::InRange, vec![5, 10], 5, 4),
    ];
    for (op, values, holds, breaks) in cases {
        let rules = [argument(op, &values)];
        assert_eq!(
            evaluate(&rules, &call_with(&[word(holds)], 0)),
            Ok(()),
            "{op} {holds}"
        );
        // Set rules (eq, one-of) fail the validator's lookup, the others their own check.
        let breach = if rules[0].is_set() {
            not_allowed(&[breaks])
        } else {
            failed(0, breaks)
        };
        assert_eq!(
            evaluate(&rules, &call_with(&[word(breaks)], 0)),
            breach,
            "{op} {breaks}"
        );
    }
}

#[test]
fn an_address_with_dirty_upper_bits_is_another_word() {
    let recipient = address!("0x00000000000000000000000000000000000000be");
    let mut dirty = recipient.into_word().0;
    dirty[0] = 1;
    for op in [RuleOp::Eq, RuleOp::OneOf] {
        let rules = [Rule::Argument {
            index: 0,
            op,
            values: vec![recipient.into()],
        }];
        assert_eq!(
            evaluate(&rules, &call_with(&[recipient.into_word().0], 0)),
            Ok(())
        );
        let breach = evaluate(&rules, &call_with(&[dirty], 0));
        assert_eq!(
            breach,
            Err(RuleBreach::NotAllowed {
                words: vec![U256::from_be_bytes(dirty)]
            })
        );
    }
    // NE passes against the clean address: only the target's own decoder protects there.
    let ne = [Rule::Argument {
        index: 0,
        op: RuleOp::Ne,
        values: vec![recipient.into()],
    }];
    assert_eq!(evaluate(&ne, &call_with(&[dirty], 0)), Ok(()));
}

#[test]
fn a_word_not_entirely_inside_the_data_is_out_of_range_never_zero() {
    let rules = [Rule::Argument {
        index: 1,
        op: RuleOp::Eq,
        values: vec![RuleValue::default()],
    }];
    let short = call_with(&[word(0)], 0);
    let mut one_byte_short = call_with(&[word(0), word(0)], 0);
    one_byte_short.data = Bytes::copy_from_slice(&one_byte_short.data[..67]);
    assert_eq!(evaluate(&rules, &short), out_of_range(0, 36));
    assert_eq!(evaluate(&rules, &one_byte_short), out_of_range(0, 67));
    assert_eq!(evaluate(&rules, &call_with(&[word(0), word(0)], 0)), Ok(()));
}

/// `route(uint256 amount, address[] path)` with `path` of `len` addresses 1, 2, …
fn route_call(len: u64) -> Call {
    let mut words = vec![word(7), word(64), word(len)];
    words.extend((1..=len).map(word));
    call_with(&words, 0)
}

fn path_word(offset: u32, op: RuleOp, values: &[u64]) -> Rule {
    Rule::DynamicArgument {
        index: 1,
        offset,
        op,
        values: values.iter().map(|v| U256::from(*v).into()).collect(),
    }
}

#[test]
fn a_dynamic_argument_is_read_through_its_head_word() {
    let call = route_call(2);
    // Offset 0 is the length, 32 the first element, 64 the second.
    assert_eq!(evaluate(&[path_word(0, RuleOp::Eq, &[2])], &call), Ok(()));
    assert_eq!(evaluate(&[path_word(32, RuleOp::Eq, &[1])], &call), Ok(()));
    assert_eq!(
        evaluate(&[path_word(64, RuleOp::OneOf, &[3, 4])], &call),
        not_allowed(&[2])
    );
    // Past the end of the array's data.
    assert_eq!(
        evaluate(&[path_word(96, RuleOp::Eq, &[0])], &call),
        out_of_range(0, call.data.len())
    );
}

#[test]
fn a_head_word_out_of_range_fails_the_rule() {
    let rule = [path_word(0, RuleOp::Eq, &[0])];
    let mut huge = [0u8; 32];
    huge[27] = 1; // 2**32
    let call = call_with(&[word(7), huge, word(0)], 0);
    assert_eq!(evaluate(&rule, &call), out_of_range(0, call.data.len()));
    // The largest head below 2**32 is read, and out of range.
    let call = call_with(&[word(7), word(u64::from(u32::MAX)), word(0)], 0);
    assert_eq!(evaluate(&rule, &call), out_of_range(0, call.data.len()));
    // No head word at all.
    let call = call_with(&[word(7)], 0);
    assert_eq!(evaluate(&rule, &call), out_of_range(0, 36));
}

#[test]
fn a_value_limit_compares_the_calls_value() {
    let rules = [Rule::CallValue {
        max: U256::from(100),
    }];
    assert_eq!(evaluate(&rules, &call_with(&[], 100)), Ok(()));
    assert_eq!(evaluate(&rules, &call_with(&[], 101)), failed(0, 101));
}

#[test]
fn all_rules_of_a_permission_must_hold_and_the_first_failing_one_is_reported() {
    let rules = [
        argument(RuleOp::Gte, &[5]),
        Rule::Argument {
            index: 1,
            op: RuleOp::Lt,
            values: vec![U256::from(3).into()],
        },
        Rule::CallValue { max: U256::ZERO },
    ];
    assert_eq!(evaluate(&rules, &call_with(&[word(5), word(2)], 0)), Ok(()));
    assert_eq!(
        evaluate(&rules, &call_with(&[word(4), word(9)], 1)),
        failed(0, 4)
    );
    assert_eq!(
        evaluate(&rules, &call_with(&[word(5), word(9)], 1)),
        failed(1, 9)
    );
    assert_eq!(
        evaluate(&rules, &call_with(&[word(5), word(2)], 1)),
        failed(2, 1)
    );
}

#[test]
fn a_word_out_of_range_comes_first_then_the_set_rules_then_the_others() {
    let at = |index: u16, op: RuleOp, values: &[u64]| Rule::Argument {
        index,
        op,
        values: values.iter().map(|v| U256::from(*v).into()).collect(),
    };
    let rules = [
        at(2, RuleOp::Lt, &[6]),
        at(0, RuleOp::OneOf, &[7, 8]),
        at(1, RuleOp::Eq, &[3]),
        at(3, RuleOp::Gt, &[5]),
    ];
    // Rule 0 fails and rule 3 is out of range: the evaluation stops at rule 3.
    let short = call_with(&[word(9), word(3), word(9)], 0);
    assert_eq!(evaluate(&rules, &short), out_of_range(3, 100));
    // Rule 0 fails, and the set rules read 9 and 3: the lookup fails first, with both words.
    let call = call_with(&[word(9), word(3), word(9), word(6)], 0);
    assert_eq!(evaluate(&rules, &call), not_allowed(&[9, 3]));
    // The set rules hold: the first other rule that fails.
    let call = call_with(&[word(8), word(3), word(9), word(5)], 0);
    assert_eq!(evaluate(&rules, &call), failed(0, 9));
    let call = call_with(&[word(8), word(3), word(0), word(6)], 0);
    assert_eq!(evaluate(&rules, &call), Ok(()));
}

fn on_target(rules: Vec<Rule>) -> Permission {
    Permission::FunctionsOnContract {
        address: TARGET,
        functions: vec![SELECTOR],
        rules,
    }
}

fn choose(permissions: &[Permission], calls: &[Call]) -> Result<RuleAttachments, AttachmentError> {
    RuleAttachments::choose(SESSION, ACCOUNT, permissions, calls)
}

#[test]
fn permissions_on_one_function_are_alternatives() -> Result<(), AttachmentError> {
    let low = vec![argument(RuleOp::Lte, &[10])];
    let high = vec![argument(RuleOp::Gte, &[100])];
    let permissions = [on_target(low.clone()), on_target(high.clone())];
    let chosen = choose(&permissions, &[call_with(&[word(5)], 0)])?;
    assert_eq!(
        chosen.as_slice(),
        [RuleAttachment {
            call_index: 0,
            compact: compact_rules(&low, 0)
        }]
    );
    let chosen = choose(&permissions, &[call_with(&[word(200)], 0)])?;
    assert_eq!(chosen.as_slice()[0].compact, compact_rules(&high, 0));
    // Neither holds: the first ruled permission's breach, as its validator error would say.
    let Err(AttachmentError::Denied(denial)) = choose(&permissions, &[call_with(&[word(50)], 0)])
    else {
        panic!("a call that breaks every rule set is refused");
    };
    assert_eq!(denial.rules, low);
    assert_eq!(Err(denial.breach), failed(0, 50));
    Ok(())
}

#[test]
fn a_plain_permission_needs_no_attachment() -> Result<(), AttachmentError> {
    let ruled = on_target(vec![argument(RuleOp::Eq, &[1])]);
    let call = call_with(&[word(2)], 0);
    for plain in [
        on_target(vec![]),
        Permission::FunctionsOnAllContracts {
            functions: vec![SELECTOR],
            rules: vec![],
        },
        Permission::ContractAccess { address: TARGET },
    ] {
        let chosen = choose(&[ruled.clone(), plain], std::slice::from_ref(&call))?;
        assert!(chosen.is_empty());
        assert!(chosen.trailer().is_empty());
    }
    Ok(())
}

#[test]
fn only_calls_the_validator_checks_against_function_permissions_carry_rules()
-> Result<(), AttachmentError> {
    let on_all = Permission::FunctionsOnAllContracts {
        functions: vec![SELECTOR, crate::permission::ERC20_SPEND_SELECTORS[0]],
        rules: vec![argument(RuleOp::Eq, &[1])],
    };
    let mut to_account = call_with(&[word(1)], 0);
    to_account.to = ACCOUNT;
    let mut transfer = call_with(&[word(1)], 0);
    let mut spend = transfer.data.to_vec();
    spend[..4].copy_from_slice(crate::permission::ERC20_SPEND_SELECTORS[0].as_slice());
    transfer.data = spend.into();
    let plain_value = Call::transfer(TARGET, U256::from(1));
    let unrelated = Call {
        data: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
        ..call_with(&[], 0)
    };
    let ruled = call_with(&[word(1)], 0);
    let calls = [to_account, transfer, plain_value, unrelated, ruled];
    let chosen = choose(&[on_all], &calls)?;
    assert_eq!(chosen.as_slice().len(), 1);
    assert_eq!(chosen.as_slice()[0].call_index, 4);
    Ok(())
}

#[test]
fn the_trailer_frames_each_attachment_and_their_length() -> Result<(), AttachmentError> {
    let first = vec![argument(RuleOp::Eq, &[1])];
    let second = vec![Rule::CallValue { max: U256::from(5) }];
    let other = Selector::from([0xab; 4]);
    let permissions = [
        on_target(first.clone()),
        Permission::FunctionsOnAllContracts {
            functions: vec![other],
            rules: second.clone(),
        },
    ];
    let mut second_call = call_with(&[], 5);
    second_call.data = Bytes::from(other.to_vec());
    let calls = [
        call_with(&[word(1)], 0),
        Call::transfer(TARGET, U256::ONE),
        second_call,
    ];
    let trailer = choose(&permissions, &calls)?.trailer();
    let (a, b) = (compact_rules(&first, 0), compact_rules(&second, 0));
    let expected_len = 3 + a.len() + 3 + b.len();
    assert_eq!(trailer.len(), expected_len + 2);
    assert_eq!(trailer[0], 0);
    assert_eq!(&trailer[1..3], &(a.len() as u16).to_be_bytes());
    assert_eq!(&trailer[3..3 + a.len()], &a[..]);
    assert_eq!(trailer[3 + a.len()], 2, "the second ruled call is call 2");
    assert_eq!(
        &trailer[trailer.len() - 2..],
        &(expected_len as u16).to_be_bytes()
    );
    Ok(())
}

#[test]
fn a_denial_reads_as_the_validators_error_naming_the_rule() {
    let recipient = address!("0x00000000000000000000000000000000000000be");
    let rules = vec![
        Rule::Argument {
            index: 0,
            op: RuleOp::Eq,
            values: vec![recipient.into()],
        },
        Rule::CallValue {
            max: U256::from(100),
        },
    ];
    let permission = on_target(rules);
    let denied = |call: Call| match choose(std::slice::from_ref(&permission), &[call]) {
        Err(AttachmentError::Denied(denial)) => denial,
        other => panic!("expected a denial, got {other:?}"),
    };
    let broken = format!("session {SESSION}: calling {SELECTOR} on {TARGET} breaks rule");
    let over_the_limit = denied(call_with(&[recipient.into_word().0], 101));
    assert_eq!(
        over_the_limit.to_string(),
        format!("{broken} 1 of its permission (call value lte 100 wei): the call sends 101 wei")
    );
    let elsewhere = denied(call_with(&[word(1)], 0));
    let words = format!(
        "session {SESSION}: calling {SELECTOR} on {TARGET} with argument words [{}] (what its eq \
         and one-of rules read) is not a combination of values its permissions allow",
        B256::from(word(1))
    );
    assert_eq!(
        elsewhere.to_string(),
        format!("{words} (argument 0 eq {})", recipient.into_word())
    );
    // The validator's errors for the same breaches: without the grant they say what they can;
    // with it, the same sentences as before signing.
    let not_allowed = SessionKeyValidatorErrors::ArgumentsNotAllowed(ArgumentsNotAllowed {
        sessionId: SESSION,
        target: TARGET,
        selector: SELECTOR,
        words: vec![U256::from(1)],
    });
    let value_failed = SessionKeyValidatorErrors::CallRuleFailed(CallRuleFailed {
        sessionId: SESSION,
        target: TARGET,
        selector: SELECTOR,
        ruleIndex: U256::from(1),
        actual: U256::from(101),
    });
    let decode = |error: &SessionKeyValidatorErrors| RevertReason::decode(&error.abi_encode());
    let grant = std::slice::from_ref(&permission);
    assert_eq!(decode(&not_allowed).to_string(), words);
    assert_eq!(decode(&not_allowed).explain(grant), elsewhere.to_string());
    assert_eq!(
        decode(&value_failed).to_string(),
        format!("{broken} 1 of its permission: it read 0x65")
    );
    assert_eq!(
        decode(&value_failed).explain(grant),
        over_the_limit.to_string()
    );
    // Unless the grant has differently ruled permissions on the function: then by index only.
    let other = on_target(vec![argument(RuleOp::Gt, &[7])]);
    assert_eq!(
        decode(&value_failed).explain(&[permission, other]),
        decode(&value_failed).to_string()
    );
}

#[test]
fn the_grant_checks_mirror_invalid_rules() {
    let values = |n: u64| {
        (0..n)
            .map(|v| U256::from(v).into())
            .collect::<Vec<RuleValue>>()
    };
    let rule = |op, n| Rule::Argument {
        index: 0,
        op,
        values: values(n),
    };
    assert_eq!(check_rules(&[rule(RuleOp::OneOf, 32)]), Ok(()));
    // At most 16 rules, and their eq and one-of values at most 32 combinations.
    assert_eq!(check_rules(&vec![rule(RuleOp::Lte, 1); MAX_RULES]), Ok(()));
    assert_eq!(
        check_rules(&vec![rule(RuleOp::Lte, 1); MAX_RULES + 1]),
        Err(RuleError::TooManyRules { count: 17 })
    );
    let sets = [
        rule(RuleOp::OneOf, 4),
        rule(RuleOp::Eq, 1),
        rule(RuleOp::OneOf, 8),
    ];
    assert_eq!(check_rules(&sets), Ok(()));
    assert_eq!(
        check_rules(&[
            rule(RuleOp::OneOf, 8),
            rule(RuleOp::Lt, 1),
            rule(RuleOp::OneOf, 5)
        ]),
        Err(RuleError::TooManyCombinations {
            rule: 2,
            combinations: 40
        })
    );
    assert_eq!(
        check_rules(&[rule(RuleOp::OneOf, 33)]),
        Err(RuleError::OneOfCount { rule: 0, given: 33 })
    );
    assert_eq!(
        check_rules(&[rule(RuleOp::Eq, 1), rule(RuleOp::OneOf, 0)]),
        Err(RuleError::OneOfCount { rule: 1, given: 0 })
    );
    for op in [
        RuleOp::Eq,
        RuleOp::Ne,
        RuleOp::Gt,
        RuleOp::Gte,
        RuleOp::Lt,
        RuleOp::Lte,
    ] {
        assert_eq!(check_rules(&[rule(op, 1)]), Ok(()));
        for given in [0, 2] {
            assert_eq!(
                check_rules(&[rule(op, given)]),
                Err(RuleError::ValueCount {
                    rule: 0,
                    op,
                    expected: 1,
                    given: given as usize
                })
            );
        }
    }
    assert_eq!(
        check_rules(&[rule(RuleOp::InRange, 3)]),
        Err(RuleError::ValueCount {
            rule: 0,
            op: RuleOp::InRange,
            expected: 2,
            given: 3
        })
    );
    let equal_bounds = Rule::Argument {
        index: 0,
        op: RuleOp::InRange,
        values: vec![U256::from(4).into(), U256::from(4).into()],
    };
    assert_eq!(check_rules(&[equal_bounds]), Ok(()));
    let reversed = Rule::Argument {
        index: 0,
        op: RuleOp::InRange,
        values: vec![U256::from(5).into(), U256::from(4).into()],
    };
    assert_eq!(
        check_rules(&[reversed]).map_err(|e| e.to_string()),
        Err(format!(
            "rule 0: in-range bounds are reversed ({} > {})",
            RuleValue::from(U256::from(5)),
            RuleValue::from(U256::from(4))
        ))
    );
}

#[test]
fn values_read_as_padded_words_and_operators_by_name() {
    let address = address!("0x00000000000000000000000000000000000000be");
    for text in [
        "0xbe",
        "0x00be",
        "0x00000000000000000000000000000000000000be",
        &format!("0x{:0>64}", "be"),
    ] {
        assert_eq!(text.parse::<RuleValue>(), Ok(address.into()), "{text}");
    }
    for bad in ["be", "0x", "0xg1", &format!("0x{}", "1".repeat(65)), "0X1"] {
        assert!(bad.parse::<RuleValue>().is_err(), "{bad}");
    }
    for op in RuleOp::ALL {
        assert_eq!(op.name().parse::<RuleOp>(), Ok(op));
        assert_eq!(RuleOp::from_code(op.code()), Some(op));
    }
    assert_eq!(RuleOp::from_code(8), None);
    assert!("approx".parse::<RuleOp>().is_err());
}

/// The definition in docs/permissions.md, written independently of the evaluator: bytes are
/// sliced by hand, words compared as numbers, ops by their codes; a word out of range stops at
/// once, then the set rules' words (kinds 1 and 5 with EQ or ONE_OF) must all be allowed, then
/// the first other rule that fails is reported.
fn reference(
    rules: &[(u8, u8, u16, u32, Vec<U256>)],
    data: &[u8],
    value: U256,
) -> Result<(), RuleBreach> {
    let word = |at: usize| -> Option<U256> {
        (at + 32 <= data.len()).then(|| U256::from_be_slice(&data[at..at + 32]))
    };
    let (mut set_words, mut set_allowed, mut failed) = (Vec::new(), true, None);
    for (i, (kind, op, index, offset, values)) in rules.iter().enumerate() {
        let read = match kind {
            1 => word(4 + 32 * usize::from(*index)),
            5 => word(4 + 32 * usize::from(*index)).and_then(|head| {
                if head >= U256::from(1u64 << 32) {
                    None
                } else {
                    word(4 + head.to::<usize>() + *offset as usize)
                }
            }),
            _ => Some(value),
        };
        let Some(w) = read else {
            return Err(RuleBreach::OutOfRange {
                rule_index: i,
                data_length: data.len(),
            });
        };
        let holds = match op {
            0 => w == values[0],
            1 => w != values[0],
            2 => w > values[0],
            3 => w >= values[0],
            4 => w < values[0],
            5 => w <= values[0],
            6 => values.contains(&w),
            _ => values[0] <= w && w <= values[1],
        };
        if *kind != 6 && (*op == 0 || *op == 6) {
            set_words.push(w);
            set_allowed = set_allowed && holds;
        } else if !holds && failed.is_none() {
            failed = Some(RuleBreach::Failed {
                rule_index: i,
                actual: w,
            });
        }
    }
    if !set_allowed {
        return Err(RuleBreach::NotAllowed { words: set_words });
    }
    failed.map_or(Ok(()), Err)
}

fn small_word() -> impl Strategy<Value = U256> {
    prop_oneof![
        (0u64..8).prop_map(U256::from),
        (0u64..200).prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn arb_rule() -> impl Strategy<Value = Rule> {
    let op = (0u8..8).prop_map(|code| RuleOp::from_code(code).unwrap_or(RuleOp::Eq));
    let values = |op: RuleOp| {
        let count = match op {
            RuleOp::OneOf => 1..4usize,
            RuleOp::InRange => 2..3,
            _ => 1..2,
        };
        proptest::collection::vec(small_word().prop_map(RuleValue::from), count)
    };
    prop_oneof![
        (0u16..4, op.clone()).prop_flat_map(move |(index, op)| values(op)
            .prop_map(move |values| Rule::Argument { index, op, values })),
        (0u16..4, 0u32..160, op).prop_flat_map(move |(index, offset, op)| values(op).prop_map(
            move |values| Rule::DynamicArgument {
                index,
                offset,
                op,
                values
            }
        )),
        small_word().prop_map(|max| Rule::CallValue { max }),
    ]
}

proptest! {
    #[test]
    fn the_evaluator_agrees_with_the_reference_model(
        rules in proptest::collection::vec(arb_rule(), 1..4),
        words in proptest::collection::vec(small_word(), 0..8),
        tail in 0usize..32,
        value in small_word(),
    ) {
        let mut data: Vec<u8> = SELECTOR.to_vec();
        for w in &words {
            data.extend_from_slice(&w.to_be_bytes::<32>());
        }
        data.extend(std::iter::repeat_n(0xee, tail));
        let call = Call { to: TARGET, value, data: data.clone().into() };
        let model: Vec<_> = rules
            .iter()
            .map(|rule| {
                let (op, values) = rule.condition().expect("arb_rule makes conditions only");
                let (index, offset) = match rule {
                    Rule::Argument { index, .. } => (*index, 0),
                    Rule::DynamicArgument { index, offset, .. } => (*index, *offset),
                    _ => (0, 0),
                };
                (rule.kind(), op.code(), index, offset, values.iter().map(|v| v.to_u256()).collect())
            })
            .collect();
        let expected = reference(&model, &data, value);
        prop_assert_eq!(evaluate(&rules, &call), expected);
        prop_assert_eq!(decode_rules(&encode_rules(&rules)), Ok(rules.clone()));
        let json = serde_json::to_string(&rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(serde_json::from_str::<Vec<Rule>>(&json).ok(), Some(rules));
    }
}

const POLICY: Address = address!("0x00000000000000000000000000000000000000b1");

fn blocklist_policy(config: &[u8]) -> Rule {
    Rule::Policy {
        address: POLICY,
        config: Bytes::copy_from_slice(config),
    }
}

#[test]
fn usage_limits_and_policies_read_and_write_their_json() -> Result<(), serde_json::Error> {
    let rules = vec![
        Rule::UsageLimit { calls: 3 },
        blocklist_policy(&[0xaa, 0xbb, 0xcc]),
    ];
    let json = serde_json::json!([
        {"type": "usage-limit", "data": {"calls": 3}},
        {"type": "policy", "data": {"address": POLICY, "config": "0xaabbcc"}},
    ]);
    assert_eq!(serde_json::to_value(&rules)?, json);
    assert_eq!(serde_json::from_value::<Vec<Rule>>(json)?, rules);
    // A policy without config reads as an empty one.
    let bare = serde_json::json!({"type": "policy", "data": {"address": POLICY}});
    assert_eq!(serde_json::from_value::<Rule>(bare)?, blocklist_policy(&[]));
    assert_eq!(rules[0].to_string(), "at most 3 calls");
    assert_eq!(
        rules[1].to_string(),
        format!("policy {POLICY} with config 0xaabbcc")
    );
    assert_eq!(
        blocklist_policy(&[]).to_string(),
        format!("policy {POLICY}")
    );
    Ok(())
}

#[test]
fn usage_limits_and_policies_encode_as_the_solidity_builders_do() -> Result<(), RulesDecodeError> {
    let usage = Rule::UsageLimit { calls: 3 };
    let policy = blocklist_policy(&[0xaa, 0xbb, 0xcc]);
    // RuleBuilders._usage(3, 2): kind 3, op 0, index 0, the permission's index, one value.
    let usage_compact = [
        &hex!("03 00 0000 00000002 01")[..],
        &U256::from(3).to_be_bytes::<32>(),
    ]
    .concat();
    assert_eq!(
        compact_rules(std::slice::from_ref(&usage), 2),
        usage_compact
    );
    // RuleBuilders._policy(0xb1, hex"aabbcc"): kind 4, op 0, index 0, the config's length, the
    // policy as a word and the config padded to one word.
    let mut padded_config = [0u8; 32];
    padded_config[..3].copy_from_slice(&[0xaa, 0xbb, 0xcc]);
    let policy_compact = [
        &hex!("04 00 0000 00000003 02")[..],
        POLICY.into_word().as_slice(),
        &padded_config,
    ]
    .concat();
    assert_eq!(
        compact_rules(std::slice::from_ref(&policy), 2),
        policy_compact
    );
    // The rule data of the table: abi.encode(uint32 count), abi.encode(address policy, bytes config).
    assert_eq!(usage.to_sol().kind, RULE_USAGE);
    assert_eq!(usage.to_sol().data, U256::from(3).to_be_bytes::<32>()[..]);
    let policy_data = [
        POLICY.into_word().as_slice(),
        &U256::from(64).to_be_bytes::<32>(),
        &U256::from(3).to_be_bytes::<32>(),
        &padded_config,
    ]
    .concat();
    assert_eq!(policy.to_sol().kind, RULE_POLICY);
    assert_eq!(policy.to_sol().data, policy_data);
    let rules = vec![usage, policy, blocklist_policy(&[])];
    assert_eq!(decode_rules(&encode_rules(&rules))?, rules);
    // Another permission index is another counter, so other bindings.
    assert_ne!(bindings(&rules, 0), bindings(&rules, 1));
    Ok(())
}

#[test]
fn usage_limits_and_policies_hold_off_chain_and_keep_the_rule_indexes() {
    let rules = [
        Rule::UsageLimit { calls: 1 },
        blocklist_policy(&[]),
        argument(RuleOp::Lte, &[10]),
    ];
    assert_eq!(evaluate(&rules, &call_with(&[word(10)], 0)), Ok(()));
    assert_eq!(evaluate(&rules, &call_with(&[word(11)], 0)), failed(2, 11));
    assert_eq!(evaluate(&rules, &call_with(&[], 0)), out_of_range(2, 4));
    assert!(!rules[0].is_set() && !rules[1].is_set());
}

#[test]
fn the_grant_checks_usage_limits_and_policies() {
    let usage = |calls| Rule::UsageLimit { calls };
    assert_eq!(check_rules(&[usage(1)]), Ok(()));
    assert_eq!(
        check_rules(&[usage(0)]),
        Err(RuleError::NoCalls { rule: 0 })
    );
    assert_eq!(
        check_rules(&[usage(2), blocklist_policy(&[]), usage(5)]),
        Err(RuleError::SecondUsageLimit { rule: 2, first: 0 })
    );
    assert_eq!(
        check_rules(&[Rule::Policy {
            address: Address::ZERO,
            config: Bytes::new(),
        }]),
        Err(RuleError::ZeroPolicy { rule: 0 })
    );
    assert_eq!(
        check_rules(&[blocklist_policy(&[0; MAX_POLICY_CONFIG_BYTES])]),
        Ok(())
    );
    let too_long = check_rules(&[
        usage(1),
        blocklist_policy(&[0; MAX_POLICY_CONFIG_BYTES + 1]),
    ]);
    assert_eq!(
        too_long,
        Err(RuleError::PolicyConfigTooLong {
            rule: 1,
            length: 1025
        })
    );
    assert_eq!(
        too_long.map_err(|error| error.to_string()),
        Err("rule 1: the policy config is 1025 bytes; at most 1024".to_owned())
    );
}

#[test]
fn a_usage_limits_compact_form_names_its_permission_in_the_grant() -> Result<(), AttachmentError> {
    let limited = vec![Rule::UsageLimit { calls: 2 }];
    let permissions = [
        Permission::ContractAccess { address: ACCOUNT },
        on_target(limited.clone()),
    ];
    let chosen = choose(&permissions, &[call_with(&[], 0)])?;
    assert_eq!(chosen.as_slice()[0].compact, compact_rules(&limited, 1));
    Ok(())
}

#[test]
fn the_chains_refusals_of_usage_limits_and_policies_are_sentences() {
    use leash_bindings::{
        RecipientBlocklistPolicy::{RecipientArgumentMissing, RecipientIsBlocked},
        SessionKeyValidator::{PolicyRefused, UsageLimitReached},
    };
    let decode =
        |error: SessionKeyValidatorErrors| RevertReason::decode(&error.abi_encode()).to_string();
    let reached = SessionKeyValidatorErrors::UsageLimitReached(UsageLimitReached {
        sessionId: SESSION,
        target: TARGET,
        selector: SELECTOR,
        limit: U256::from(2),
    });
    assert_eq!(
        decode(reached),
        format!(
            "session {SESSION}: calling {SELECTOR} on {TARGET} is refused: its permission has made \
             the 2 calls its usage limit allows"
        )
    );
    let refused = |reason: Vec<u8>| {
        SessionKeyValidatorErrors::PolicyRefused(PolicyRefused {
            sessionId: SESSION,
            target: TARGET,
            selector: SELECTOR,
            ruleIndex: U256::from(1),
            policy: POLICY,
            reason: reason.into(),
        })
    };
    let refusal = format!(
        "session {SESSION}: policy {POLICY} (rule 1 of the permission) refused calling {SELECTOR} \
         on {TARGET}"
    );
    let blocked = RecipientIsBlocked {
        account: ACCOUNT,
        recipient: POLICY,
    };
    assert_eq!(
        decode(refused(blocked.abi_encode())),
        format!(
            "{refusal}: account {ACCOUNT} has blocked recipient {POLICY} (RecipientBlocklistPolicy)"
        )
    );
    let missing = RecipientArgumentMissing {
        index: U256::from(1),
        dataLength: U256::from(36),
    };
    assert_eq!(
        decode(refused(missing.abi_encode())),
        format!(
            "{refusal}: the call's 36 bytes of data hold no argument word 1, where its config says \
             the recipient is (RecipientBlocklistPolicy)"
        )
    );
    assert_eq!(
        decode(refused(vec![0xde, 0xad])),
        format!("{refusal}: it reverted with 0xdead")
    );
    assert_eq!(
        decode(refused(Vec::new())),
        format!(
            "{refusal} (no answer: it ran out of its gas, has no code, or did not return its \
             selector)"
        )
    );
}

fn daily_rate(calls: u32) -> Rule {
    Rule::RateLimit {
        calls,
        period: RecurringPeriod::every(crate::recurring::DAY),
    }
}

#[test]
fn rate_limits_read_and_write_their_json() -> Result<(), serde_json::Error> {
    let monthly_from = Rule::RateLimit {
        calls: 5,
        period: RecurringPeriod::monthly().starting(1_796_083_200),
    };
    let rules = vec![daily_rate(3), monthly_from.clone()];
    let json = serde_json::json!([
        {"type": "rate-limit", "data": {"calls": 3, "period": {"seconds": 86400, "start": 0}}},
        {"type": "rate-limit", "data": {"calls": 5, "period": {"calendar": "month", "start": 1_796_083_200u64}}},
    ]);
    assert_eq!(serde_json::to_value(&rules)?, json);
    assert_eq!(serde_json::from_value::<Vec<Rule>>(json)?, rules);
    // The period's JSON is a recurring allowance's: `start` may be left out, its checks apply.
    let bare = serde_json::json!({"type": "rate-limit", "data": {"calls": 3, "period": {"seconds": 86400}}});
    assert_eq!(serde_json::from_value::<Rule>(bare)?, daily_rate(3));
    let zero =
        serde_json::json!({"type": "rate-limit", "data": {"calls": 3, "period": {"seconds": 0}}});
    assert!(serde_json::from_value::<Rule>(zero).is_err());
    assert_eq!(daily_rate(3).to_string(), "at most 3 calls every day");
    assert_eq!(
        monthly_from.to_string(),
        "at most 5 calls every calendar month (UTC) from 2026-12-01T00:00:00Z"
    );
    Ok(())
}

#[test]
fn rate_limits_encode_as_the_solidity_builders_do() -> Result<(), RulesDecodeError> {
    let rate = daily_rate(3);
    // RuleBuilders._rate(3, 1 days, 0, 2): kind 7, op 0, index 0, the permission's index, one
    // value, the count.
    let compact = [
        &hex!("07 00 0000 00000002 01")[..],
        &U256::from(3).to_be_bytes::<32>(),
    ]
    .concat();
    assert_eq!(compact_rules(std::slice::from_ref(&rate), 2), compact);
    // The rule data of the table: abi.encode(uint32 count, uint48 period, uint48 start).
    let data = [
        U256::from(3).to_be_bytes::<32>(),
        U256::from(86_400).to_be_bytes::<32>(),
        U256::ZERO.to_be_bytes::<32>(),
    ]
    .concat();
    assert_eq!(rate.to_sol().kind, RULE_RATE);
    assert_eq!(rate.to_sol().data, data);
    // Period 0 is calendar months, and reads back as them.
    let monthly = Rule::RateLimit {
        calls: 1,
        period: RecurringPeriod::monthly().starting(60),
    };
    assert_eq!(
        &monthly.to_sol().data[32..],
        &[
            U256::ZERO.to_be_bytes::<32>(),
            U256::from(60).to_be_bytes::<32>()
        ]
        .concat()[..]
    );
    let rules = vec![rate, Rule::UsageLimit { calls: 9 }, monthly];
    assert_eq!(decode_rules(&encode_rules(&rules))?, rules);
    assert_ne!(bindings(&rules, 0), bindings(&rules, 1));
    Ok(())
}

#[test]
fn rate_limits_hold_off_chain() {
    let rules = [daily_rate(1), argument(RuleOp::Lte, &[10])];
    assert_eq!(evaluate(&rules, &call_with(&[word(10)], 0)), Ok(()));
    assert_eq!(evaluate(&rules, &call_with(&[word(11)], 0)), failed(1, 11));
    assert!(!rules[0].is_set());
}

#[test]
fn the_grant_checks_rate_limits() {
    assert_eq!(
        check_rules(&[daily_rate(1), Rule::UsageLimit { calls: 1 }]),
        Ok(())
    );
    assert_eq!(
        check_rules(&[daily_rate(0)]),
        Err(RuleError::NoRateCalls { rule: 0 })
    );
    let second = check_rules(&[daily_rate(2), blocklist_policy(&[]), daily_rate(5)]);
    assert_eq!(
        second,
        Err(RuleError::SecondRateLimit { rule: 2, first: 0 })
    );
    assert_eq!(
        second.map_err(|error| error.to_string()),
        Err("rule 2: a permission takes one rate limit, and rule 0 is one".to_owned())
    );
    // Built in code, a period can hold what its JSON refuses: zero seconds would be read as
    // calendar months, a start beyond uint48 would be cut.
    let zero_seconds = Rule::RateLimit {
        calls: 1,
        period: RecurringPeriod::every(0),
    };
    assert_eq!(
        check_rules(&[zero_seconds]),
        Err(RuleError::RatePeriod {
            rule: 0,
            source: crate::recurring::PeriodError::ZeroSeconds
        })
    );
    let far_start = Rule::RateLimit {
        calls: 1,
        period: RecurringPeriod::monthly().starting(1 << 48),
    };
    assert!(matches!(
        check_rules(&[far_start]),
        Err(RuleError::RatePeriod { rule: 0, .. })
    ));
}

#[test]
fn rated_calls_are_counted_and_read_back_from_the_signature() -> Result<(), AttachmentError> {
    let other = Selector::from([0xab; 4]);
    let permissions = [
        on_target(vec![Rule::UsageLimit { calls: 4 }]),
        Permission::FunctionsOnAllContracts {
            functions: vec![other],
            rules: vec![argument(RuleOp::Lte, &[10]), daily_rate(2)],
        },
    ];
    let mut rated = call_with(&[word(1)], 0);
    rated.data = [other.as_slice(), &word(1)].concat().into();
    let calls = [call_with(&[], 0), rated.clone(), rated];
    let chosen = choose(&permissions, &calls)?;
    assert_eq!(
        chosen.rated_calls(),
        2,
        "the usage limit is not a rate limit"
    );
    let signature = [
        &[crate::session_signature::SIG_FLAG_RULES][..],
        &[0; 97],
        &chosen.trailer(),
    ]
    .concat();
    assert_eq!(RuleAttachments::of_signature(&signature), chosen);
    // Without the flag the same bytes carry no rules; a trailer that does not frame reads as none.
    assert!(RuleAttachments::of_signature(&signature[1..]).is_empty());
    let mut unframed = signature.clone();
    let last = unframed.len() - 1;
    unframed[last] -= 1;
    assert!(RuleAttachments::of_signature(&unframed).is_empty());
    assert!(RuleAttachments::of_signature(&[]).is_empty());
    Ok(())
}

#[test]
fn the_chains_refusal_of_a_rate_limit_names_the_reset() {
    use leash_bindings::SessionKeyValidator::RateLimitReached;
    let reached = SessionKeyValidatorErrors::RateLimitReached(RateLimitReached {
        sessionId: SESSION,
        target: TARGET,
        selector: SELECTOR,
        limit: U256::from(2),
        resetsAt: U256::from(1_767_312_000),
    });
    assert_eq!(
        RevertReason::decode(&reached.abi_encode()).to_string(),
        format!(
            "session {SESSION}: calling {SELECTOR} on {TARGET} is refused: its permission has made \
             the 2 calls its rate limit allows in this period, which ends at 2026-01-02T00:00:00Z \
             (unix 1767312000) (the calls were undone)"
        )
    );
}
