//! Facts the SDK states about the contracts, checked against the Solidity source of truth, so a
//! constant changed in `contracts/` fails here until Rust follows. (Enums and structs come from
//! the bindings' `sol!` types directly; `sol!` does not carry file-level constants, hence this.)

use alloy_primitives::{Selector, U256, keccak256};
use alloy_sol_types::SolCall;
use leash_bindings::LeashAccount;
use leash_core::{
    calls::MODULE_TYPE_VALIDATOR,
    grant::GRANT_DOMAIN_VERSION,
    permission::{ERC20_SPEND_SELECTORS, FORBIDDEN_ACCOUNT_SELECTORS, MAX_ALLOWANCE},
    recurring::RULE_RECURRING,
    rules::{
        MAX_ONE_OF_VALUES, MAX_POLICY_CONFIG_BYTES, MAX_RULES, MAX_SET_COMBINATIONS, RULE_ARGUMENT,
        RULE_CALL_VALUE, RULE_DYNAMIC_ARGUMENT, RULE_POLICY, RULE_RATE, RULE_USAGE, RULES_VERSION,
        RuleOp,
    },
    session_signature::{SIG_FLAG_RULES, SIG_MODE_ENABLE, SIG_MODE_USE, SIG_MODE_USE_ROOT},
    session_signer::{
        SIG_SIGNER_SHIFT, SIGNER_CONTRACT, SIGNER_P256, SIGNER_P256_FALLBACK, SIGNER_SECP256K1,
        SIGNER_WEBAUTHN, SIGNER_WEBAUTHN_FALLBACK,
    },
};
use std::collections::BTreeMap;

fn source(path: &str) -> String {
    let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// `bytes4 constant NAME = 0x…; // signature(…)` lines: name → (selector, signature).
fn selector_constants(text: &str) -> BTreeMap<String, (Selector, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("bytes4 constant "))
        .map(|rest| {
            let (name, rest) = rest.split_once(" = ").expect("NAME = value");
            let (value, comment) = rest.split_once(';').expect("value;");
            let signature = comment.trim().trim_start_matches("//").trim().to_owned();
            let selector: Selector = value.trim().parse().expect("a bytes4 literal");
            (name.to_owned(), (selector, signature))
        })
        .collect()
}

fn group(constants: &BTreeMap<String, (Selector, String)>, prefix: &str) -> Vec<Selector> {
    let mut selectors: Vec<Selector> = constants
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, (selector, _))| *selector)
        .collect();
    selectors.sort();
    selectors
}

fn sorted<const N: usize>(selectors: [Selector; N]) -> Vec<Selector> {
    let mut selectors = selectors.to_vec();
    selectors.sort();
    selectors
}

/// The ABI type of `PackedUserOperation`, which the comments name by its struct name.
const PACKED_USER_OPERATION: &str =
    "(address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes)";

#[test]
fn every_selector_constant_is_its_signatures_hash() {
    assert!(
        LeashAccount::validateUserOpCall::SIGNATURE.contains(PACKED_USER_OPERATION),
        "{}",
        LeashAccount::validateUserOpCall::SIGNATURE
    );
    let constants = selector_constants(&source("contracts/types/SessionTypes.sol"));
    assert!(constants.len() >= 10, "found {constants:?}");
    for (name, (selector, signature)) in &constants {
        let abi_signature = signature.replace("PackedUserOperation", PACKED_USER_OPERATION);
        assert_eq!(
            &keccak256(abi_signature.as_bytes())[..4],
            selector.as_slice(),
            "{name} is not the selector of {signature}"
        );
    }
}

#[test]
fn the_sdk_refuses_the_selectors_the_validator_refuses() {
    let constants = selector_constants(&source("contracts/types/SessionTypes.sol"));
    assert_eq!(sorted(ERC20_SPEND_SELECTORS), group(&constants, "ERC20_"));
    assert_eq!(
        sorted(FORBIDDEN_ACCOUNT_SELECTORS),
        group(&constants, "ACCOUNT_")
    );
}

#[test]
fn numeric_constants_match() {
    let types = source("contracts/types/SessionTypes.sol");
    assert!(
        types.contains("uint256 constant MAX_ALLOWANCE = type(uint128).max;"),
        "MAX_ALLOWANCE changed in Solidity"
    );
    assert_eq!(MAX_ALLOWANCE, U256::from(u128::MAX));
    assert!(
        types.contains(&format!(
            "string constant GRANT_DOMAIN_VERSION = \"{GRANT_DOMAIN_VERSION}\";"
        )),
        "GRANT_DOMAIN_VERSION differs between Solidity and leash-core"
    );
    let module = source("contracts/interfaces/IERC7579Module.sol");
    let declared = module
        .lines()
        .find_map(|line| line.strip_prefix("uint256 constant MODULE_TYPE_VALIDATOR = "))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("MODULE_TYPE_VALIDATOR in IERC7579Module.sol");
    assert_eq!(
        MODULE_TYPE_VALIDATOR,
        declared.parse::<U256>().expect("a number")
    );
}

/// `uint8 constant NAME = value;` and `uint256 [internal] constant NAME = value;` lines with a
/// number.
fn numeric_constants(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("uint8 constant ")
                .or_else(|| line.strip_prefix("uint256 constant "))
                .or_else(|| line.strip_prefix("uint256 internal constant "))?;
            let (name, rest) = rest.split_once(" = ")?;
            let (value, _) = rest.split_once(';')?;
            let value = value.trim();
            let number = match value.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => value.parse().ok()?,
            };
            Some((name.to_owned(), number))
        })
        .collect()
}

#[test]
fn rule_and_signature_constants_match() {
    let constants = numeric_constants(&source("contracts/types/SessionTypes.sol"));
    let mut expected: Vec<(String, u64)> = vec![
        ("RULES_VERSION".into(), RULES_VERSION.into()),
        ("RULE_ARGUMENT".into(), RULE_ARGUMENT.into()),
        ("RULE_DYNAMIC_ARGUMENT".into(), RULE_DYNAMIC_ARGUMENT.into()),
        ("RULE_CALL_VALUE".into(), RULE_CALL_VALUE.into()),
        ("RULE_USAGE".into(), RULE_USAGE.into()),
        ("RULE_POLICY".into(), RULE_POLICY.into()),
        ("RULE_RATE".into(), RULE_RATE.into()),
        (
            "MAX_POLICY_CONFIG_BYTES".into(),
            MAX_POLICY_CONFIG_BYTES as u64,
        ),
        ("RULE_RECURRING".into(), RULE_RECURRING.into()),
        ("MAX_ONE_OF_VALUES".into(), MAX_ONE_OF_VALUES as u64),
        ("SIG_FLAG_RULES".into(), SIG_FLAG_RULES.into()),
        ("SIG_MODE_USE".into(), SIG_MODE_USE.into()),
        ("SIG_MODE_USE_ROOT".into(), SIG_MODE_USE_ROOT.into()),
        ("SIG_MODE_ENABLE".into(), SIG_MODE_ENABLE.into()),
        ("SIG_SIGNER_SHIFT".into(), SIG_SIGNER_SHIFT.into()),
        // The form is what lies below the signer kind.
        ("SIG_FORM_MASK".into(), (1u64 << SIG_SIGNER_SHIFT) - 1),
        ("SIGNER_SECP256K1".into(), SIGNER_SECP256K1.into()),
        ("SIGNER_CONTRACT".into(), SIGNER_CONTRACT.into()),
        ("SIGNER_P256".into(), SIGNER_P256.into()),
        ("SIGNER_P256_FALLBACK".into(), SIGNER_P256_FALLBACK.into()),
        ("SIGNER_WEBAUTHN".into(), SIGNER_WEBAUTHN.into()),
        (
            "SIGNER_WEBAUTHN_FALLBACK".into(),
            SIGNER_WEBAUTHN_FALLBACK.into(),
        ),
    ];
    expected.extend(RuleOp::ALL.into_iter().map(|op| {
        let name = format!("RULE_OP_{}", op.name().replace('-', "_").to_uppercase());
        (name, op.code().into())
    }));
    for (name, value) in expected {
        assert_eq!(
            constants.get(&name),
            Some(&value),
            "{name} differs between contracts/types/SessionTypes.sol and leash-core"
        );
    }
    let ops = constants.keys().filter(|name| name.starts_with("RULE_OP_"));
    assert_eq!(
        ops.count(),
        RuleOp::ALL.len(),
        "an operator leash-core does not know"
    );
    let rule_lib = numeric_constants(&source("contracts/libraries/RuleLib.sol"));
    for (name, value) in [
        ("MAX_RULES", MAX_RULES),
        ("MAX_SET_COMBINATIONS", MAX_SET_COMBINATIONS),
    ] {
        assert_eq!(
            rule_lib.get(name),
            Some(&(value as u64)),
            "{name} differs between contracts/libraries/RuleLib.sol and leash-core"
        );
    }
}
