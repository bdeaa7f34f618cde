//! Seeded property tests of everything that decodes bytes or text from outside: revert data
//! (every known error's selector followed by arbitrary words, and arbitrary bytes), bundler
//! messages, and `personal_sign` signatures. Whatever arrives, each decoder returns, and each
//! decoded error reads as a sentence: never a panic.

use alloy_primitives::{Bytes, U256};
use leash_bindings::{
    EntryPoint::EntryPointErrors, LeashAccount::LeashAccountErrors,
    SessionKeyValidator::SessionKeyValidatorErrors,
};
use leash_core::{
    denial::Denial,
    rejection::{AaCode, EntryPointRejection},
    revert_reason::RevertReason,
    signing::to_eip191_form,
};
use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};

const CASES: u32 = 4_096;

/// `Error(string)` and `Panic(uint256)`, beside the contracts' own errors.
const BUILTIN_SELECTORS: [[u8; 4]; 2] = [[0x08, 0xc3, 0x79, 0xa0], [0x4e, 0x48, 0x7b, 0x71]];

fn runner(seed: u8) -> TestRunner {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// An ABI word: small numbers (lengths, offsets, booleans, ids) as often as arbitrary ones, so
/// dynamic fields decode as often as they fail.
fn word() -> impl Strategy<Value = [u8; 32]> {
    prop_oneof![
        (0u64..300).prop_map(|small| U256::from(small).to_be_bytes::<32>()),
        any::<[u8; 32]>(),
    ]
}

/// A known selector followed by words and a ragged tail.
fn revert_data() -> impl Strategy<Value = Vec<u8>> {
    let selectors: Vec<[u8; 4]> = SessionKeyValidatorErrors::SELECTORS
        .iter()
        .chain(LeashAccountErrors::SELECTORS)
        .chain(EntryPointErrors::SELECTORS)
        .chain(&BUILTIN_SELECTORS)
        .copied()
        .collect();
    (
        proptest::sample::select(selectors),
        proptest::collection::vec(word(), 0..10),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(selector, words, tail)| {
            let mut data = selector.to_vec();
            data.extend(words.concat());
            data.extend(tail);
            data
        })
}

fn decodes_to_a_sentence(data: &[u8]) {
    let _ = RevertReason::decode(data).to_string();
    let _ = Denial::from_revert_data(data).message().len();
    if let Some(rejection) = EntryPointRejection::from_revert_data(data) {
        let _ = rejection.to_string();
        if let Some(inner) = rejection.inner_reason() {
            let _ = inner.to_string();
        }
    }
}

#[test]
fn revert_data_of_every_known_error_decodes_or_is_unknown() {
    let decoded = std::cell::Cell::new(0);
    runner(1)
        .run(&revert_data(), |data| {
            decodes_to_a_sentence(&data);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
    // The words are shaped so that a good share of the cases decode to a known error.
    runner(2)
        .run(&revert_data(), |data| {
            if !matches!(RevertReason::decode(&data), RevertReason::Unknown(_)) {
                decoded.set(decoded.get() + 1);
            }
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
    let decoded = decoded.get();
    // `-- --nocapture` shows it (docs/benchmarks.md).
    println!("{decoded} of {CASES} decoded to a known error");
    assert!(decoded > CASES / 10, "only {decoded} of {CASES} decoded");
}

#[test]
fn arbitrary_bytes_decode_without_panicking() {
    runner(3)
        .run(&proptest::collection::vec(any::<u8>(), 0..400), |data| {
            decodes_to_a_sentence(&data);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn bundler_messages_are_read_without_panicking() {
    let message = prop_oneof![
        "[ -~]{0,120}",
        "(AA[0-9]{2}|FailedOp|reverted|0x[0-9a-f]{0,80})[ -~]{0,60}",
    ];
    let inner = proptest::option::of(revert_data().prop_map(Bytes::from));
    runner(4)
        .run(&(message, inner), |(message, inner)| {
            if let Some(rejection) = EntryPointRejection::from_bundler_message(&message, inner) {
                let _ = rejection.to_string();
            }
            let _ = AaCode::find(&message);
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn personal_sign_signatures_convert_or_are_refused() {
    runner(5)
        .run(
            &proptest::collection::vec(any::<u8>(), 0..100),
            |signature| {
                match to_eip191_form(&signature) {
                    Ok(form) => prop_assert_eq!(signature.len(), 65, "{:?}", form),
                    Err(error) => {
                        let _ = error.to_string();
                    }
                }
                Ok(())
            },
        )
        .unwrap_or_else(|error| panic!("{error}"));
}
