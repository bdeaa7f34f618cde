//! A leash grant as SIWE + ReCap text and back: lossless, bound to the on-chain session id, and
//! refused when the text says something other than what it grants.

mod support;

use alloy_primitives::{Address, U256, address};
use leash_auth::{GrantError, SessionCapability, grant::leash_resource};
use leash_core::{grant::GrantDomain, permission::Permission, session_state::GrantRecord};
use proptest::prelude::*;
use support::*;

const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000aa");

fn record() -> GrantRecord {
    GrantRecord {
        account: key(1).address(),
        session_key: key(2).address(),
        valid_after: ISSUED,
        valid_until: EXPIRES,
        salt: U256::from(77),
        permissions: vec![
            Permission::Erc20TokenTransfer {
                address: address!("0x00000000000000000000000000000000000000cc"),
                allowance: U256::from(100),
                period: None,
            },
            Permission::NativeTokenTransfer {
                allowance: U256::from(5),
                period: None,
            },
            // A second token after another type: the order is part of the session id.
            Permission::Erc20TokenTransfer {
                address: address!("0x00000000000000000000000000000000000000dd"),
                allowance: U256::from(7),
                period: None,
            },
            Permission::FunctionsOnContract {
                address: address!("0x00000000000000000000000000000000000000ee"),
                functions: vec![[0xa9, 0x05, 0x9c, 0xbb].into()],
                rules: vec![],
            },
        ],
        owner_signature: None,
    }
}

fn domain() -> GrantDomain {
    GrantDomain {
        chain_id: 31337,
        validator: VALIDATOR,
    }
}

fn leash_capability() -> SessionCapability {
    SessionCapability::from_record(DOMAIN, &domain(), &record(), off_chain(), ISSUED)
}

#[test]
fn a_grant_renders_as_siwe_text_and_parses_back_to_itself() {
    let capability = leash_capability();
    let text = capability.to_text().expect("renders");
    assert!(text.starts_with("api.example.com wants you to sign in with your Ethereum account:\n"));
    assert!(text.contains(&format!("URI: did:pkh:eip155:31337:{}", key(2).address())));
    assert!(text.contains("'session': 'erc20-token-transfer', 'functions-on-contract', 'native-token-transfer' for 'leash://"));
    let back = SessionCapability::parse(&text).expect("parses");
    assert_eq!(back, capability);
    let (record_back, id) = back.on_chain_record().expect("on chain");
    assert_eq!(record_back, record());
    assert_eq!(
        id,
        domain().session_id(&record().grant()),
        "core's session id"
    );
}

#[test]
fn a_statement_that_does_not_show_the_capabilities_is_refused() {
    let text = leash_capability().to_text().expect("renders");
    let hidden = text.replace("'http': 'GET', 'POST'", "'http': 'GET'");
    assert!(matches!(
        SessionCapability::parse(&hidden),
        Err(GrantError::StatementMismatch { .. })
    ));
}

#[test]
fn a_resource_naming_another_session_is_refused() {
    // A leash:// resource whose id is not the grant it spells out.
    let mut forged = leash_capability();
    forged.on_chain = None;
    let wrong_id = alloy_primitives::B256::repeat_byte(0x42);
    let mut allowance = serde_json::Map::new();
    allowance.insert("allowance".into(), "0x5".into());
    allowance.insert("position".into(), 0.into());
    forged
        .off_chain
        .grant(
            &leash_resource(VALIDATOR, wrong_id, U256::from(77)),
            "session/native-token-transfer",
            allowance,
        )
        .expect("a valid entry");
    let error = SessionCapability::parse(&forged.to_text().expect("renders")).expect_err("refused");
    assert!(
        matches!(error, GrantError::SessionIdMismatch { stated, .. } if stated == wrong_id),
        "{error}"
    );
}

#[test]
fn a_capability_without_expiry_or_in_non_canonical_text_is_refused() {
    let text = leash_capability().to_text().expect("renders");
    let without_expiry: String = text
        .lines()
        .filter(|line| !line.starts_with("Expiration Time: "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(matches!(
        SessionCapability::parse(&without_expiry),
        Err(GrantError::NoExpiration)
    ));
    let trailing = format!("{text}\n");
    assert!(SessionCapability::parse(&trailing).is_err());
}

proptest! {
    // The capability text is attacker input: a change of any one byte gives an error or a
    // capability that renders to exactly that text, never a panic or a silent reinterpretation.
    #[test]
    fn any_one_byte_change_is_refused_or_read_exactly(at in 0usize..2000, byte in any::<u8>()) {
        let text = leash_capability().to_text().expect("renders");
        let mut bytes = text.into_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(changed) = String::from_utf8(bytes)
            && let Ok(capability) = SessionCapability::parse(&changed)
        {
            prop_assert_eq!(capability.to_text().expect("renders"), changed);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = SessionCapability::parse(&text);
    }
}
