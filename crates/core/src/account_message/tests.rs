use super::*;
use crate::session_signer::P256Verification;
use alloy_primitives::address;
use alloy_sol_types::{SolStruct, eip712_domain, sol};
use serde_json::json;

sol! {
    /// tests/sol/utils/TypedDataApp.sol's `Pull`.
    struct Pull {
        address token;
        uint256 amount;
        address to;
        uint256 nonce;
    }

    /// ERC-7739's `TypedDataSign` of a `Pull`, as an ordinary EIP-712 struct: the nesting the
    /// digest reproduces by hand.
    struct TypedDataSign {
        Pull contents;
        string name;
        string version;
        uint256 chainId;
        address verifyingContract;
        bytes32 salt;
    }

    /// ERC-7739's `PersonalSign`.
    struct PersonalSign {
        bytes prefixed;
    }
}

const CHAIN_ID: u64 = 31337;
const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000a1");
const APP: Address = address!("0x00000000000000000000000000000000000000a9");
const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");
const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000f0");

fn pull() -> Pull {
    Pull {
        token: TOKEN,
        amount: U256::from(10),
        to: address!("0x000000000000000000000000000000000000cafe"),
        nonce: U256::from(7),
    }
}

fn app_domain() -> Eip712Domain {
    eip712_domain! {
        name: "TypedDataApp",
        version: "1",
        chain_id: CHAIN_ID,
        verifying_contract: APP,
    }
}

/// A `Pull` as a dapp hands it to `eth_signTypedData_v4`.
fn pull_json(domain: serde_json::Value, primary_type: &str) -> TypedData {
    serde_json::from_value(json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            primary_type: [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint256"},
                {"name": "to", "type": "address"},
                {"name": "nonce", "type": "uint256"}
            ]
        },
        "primaryType": primary_type,
        "domain": domain,
        "message": {"token": TOKEN, "amount": "10", "to": pull().to, "nonce": 7}
    }))
    .expect("typed data JSON")
}

fn app_domain_json() -> serde_json::Value {
    json!({"name": "TypedDataApp", "version": "1", "chainId": CHAIN_ID, "verifyingContract": APP})
}

fn typed() -> AccountMessage {
    AccountMessage::typed_data(&pull_json(app_domain_json(), "Pull")).expect("nestable")
}

#[test]
fn typed_data_keeps_the_contents_and_the_app_domain() {
    let AccountMessage::TypedData(data) = typed() else {
        panic!("typed data")
    };
    assert_eq!(data.domain, app_domain());
    assert_eq!(data.verifying_contract, APP);
    assert_eq!(data.contents, pull().eip712_hash_struct());
    assert_eq!(
        data.contents_type,
        "Pull(address token,uint256 amount,address to,uint256 nonce)"
    );
    assert_eq!(data.contents_name(), "Pull");
    assert_eq!(
        typed().hash(),
        pull().eip712_signing_hash(&app_domain()),
        "the app's own hash"
    );
    assert_eq!(
        typed().permission(),
        Permission::TypedDataSigning { address: APP }
    );
}

#[test]
fn the_typed_data_digest_is_erc7739s_typed_data_sign_in_the_apps_domain() {
    let nested = TypedDataSign {
        contents: pull(),
        name: ACCOUNT_DOMAIN_NAME.into(),
        version: ACCOUNT_DOMAIN_VERSION.into(),
        chainId: U256::from(CHAIN_ID),
        verifyingContract: ACCOUNT,
        salt: B256::ZERO,
    };
    assert_eq!(
        typed().digest(ACCOUNT, CHAIN_ID),
        nested.eip712_signing_hash(&app_domain())
    );
    assert_ne!(
        typed().digest(APP, CHAIN_ID),
        typed().digest(ACCOUNT, CHAIN_ID),
        "another account, another digest"
    );
    assert_ne!(
        typed().digest(ACCOUNT, 1),
        typed().digest(ACCOUNT, CHAIN_ID)
    );
}

#[test]
fn the_personal_digest_is_erc7739s_personal_sign_in_the_accounts_domain() {
    let message = AccountMessage::personal("leash.example wants you to sign in");
    let prefixed = b"\x19Ethereum Signed Message:\n34leash.example wants you to sign in";
    assert_eq!(message.hash(), keccak256(prefixed));
    let nested = PersonalSign {
        prefixed: prefixed.to_vec().into(),
    };
    let domain = eip712_domain! {
        name: "LeashAccount",
        version: "1",
        chain_id: CHAIN_ID,
        verifying_contract: ACCOUNT,
    };
    assert_eq!(domain, account_domain(ACCOUNT, CHAIN_ID));
    assert_eq!(
        message.digest(ACCOUNT, CHAIN_ID),
        nested.eip712_signing_hash(&domain)
    );
    assert_eq!(message.permission(), Permission::PersonalSign);
}

#[test]
fn a_personal_signature_is_the_validator_mode_session_and_key_signature() {
    let session_id = B256::repeat_byte(0x5e);
    let key_signature = [0xab; 65];
    let signature = AccountMessage::personal("hi")
        .account_signature(VALIDATOR, session_id, SignerKind::Secp256k1, &key_signature)
        .expect("fits");
    let expected = [
        VALIDATOR.as_slice(),
        &[FORM_PERSONAL],
        session_id.as_slice(),
        &[0, 65],
        &key_signature,
    ]
    .concat();
    assert_eq!(signature, Bytes::from(expected));

    let webauthn = SignerKind::WebAuthn(P256Verification::Fallback);
    let signature = AccountMessage::personal("hi")
        .account_signature(VALIDATOR, session_id, webauthn, &[1; 300])
        .expect("fits");
    assert_eq!(signature[20], 5 << 2 | FORM_PERSONAL);
    assert_eq!(&signature[53..55], &[1, 44]);
    assert_eq!(signature.len(), 55 + 300);
}

#[test]
fn a_typed_data_signature_carries_the_domain_fields_contents_and_type() {
    let session_id = B256::repeat_byte(0x5e);
    let kind = SignerKind::P256(P256Verification::Precompile);
    let signature = typed()
        .account_signature(VALIDATOR, session_id, kind, &[7; 128])
        .expect("fits");
    let contents_type = "Pull(address token,uint256 amount,address to,uint256 nonce)";
    let tail = [
        &[0x0f][..],
        keccak256("TypedDataApp").as_slice(),
        keccak256("1").as_slice(),
        &U256::from(CHAIN_ID).to_be_bytes::<32>(),
        APP.into_word().as_slice(),
        pull().eip712_hash_struct().as_slice(),
        contents_type.as_bytes(),
        &u16::try_from(contents_type.len())
            .expect("short")
            .to_be_bytes(),
    ]
    .concat();
    let expected = [
        VALIDATOR.as_slice(),
        &[2 << 2 | FORM_TYPED_DATA],
        session_id.as_slice(),
        &[0, 128],
        &[7; 128],
        &tail,
    ]
    .concat();
    assert_eq!(signature, Bytes::from(expected));
}

#[test]
fn the_fields_byte_names_the_present_fields_in_eip712_order() {
    assert_eq!(domain_fields(&app_domain()), 0x0f);
    assert_eq!(domain_fields(&account_domain(ACCOUNT, 1)), 0x0f);
    assert_eq!(domain_fields(&Eip712Domain::default()), 0);
    let salted = Eip712Domain {
        salt: Some(B256::repeat_byte(1)),
        verifying_contract: Some(APP),
        ..Default::default()
    };
    assert_eq!(domain_fields(&salted), 0x18);
    let message = AccountMessage::typed_data(&pull_json(
        json!({"verifyingContract": APP, "salt": B256::repeat_byte(1)}),
        "Pull",
    ))
    .expect("nestable");
    let signature = message
        .account_signature(VALIDATOR, B256::ZERO, SignerKind::Secp256k1, &[0; 65])
        .expect("fits");
    let tail = &signature[20 + 35 + 65..];
    assert_eq!(tail[0], 0x18);
    assert_eq!(&tail[1..33], APP.into_word().as_slice());
    assert_eq!(&tail[33..65], B256::repeat_byte(1).as_slice());
}

#[test]
fn what_the_contract_could_not_read_is_refused() {
    let no_contract = json!({"name": "TypedDataApp", "version": "1", "chainId": CHAIN_ID});
    assert_eq!(
        AccountMessage::typed_data(&pull_json(no_contract, "Pull"))
            .expect_err("no verifyingContract")
            .to_string(),
        "the typed data's domain names no verifyingContract"
    );
    assert!(matches!(
        AccountMessage::typed_data(&pull_json(app_domain_json(), "pull")),
        Err(MessageError::ContentsName(name)) if name == "pull"
    ));
    let mut unknown = pull_json(app_domain_json(), "Pull");
    unknown.primary_type = "Order".into();
    assert!(matches!(
        AccountMessage::typed_data(&unknown),
        Err(MessageError::TypedData(_))
    ));
    let mut wrong_value = pull_json(app_domain_json(), "Pull");
    wrong_value.message["amount"] = json!("ten");
    assert!(matches!(
        AccountMessage::typed_data(&wrong_value),
        Err(MessageError::TypedData(_))
    ));
    assert_eq!(
        typed()
            .account_signature(VALIDATOR, B256::ZERO, SignerKind::Contract, &[0; 65_536])
            .expect_err("too long")
            .to_string(),
        "the key signature is 65536 bytes; at most 65,535"
    );
}

#[test]
fn contents_names_follow_solidity() {
    for good in ["Pull", "PermitSingle", "_x", "A1", "Übung"] {
        assert!(nestable(good), "{good}");
    }
    for bad in ["", "pull", "A B", "A,B", "A)", "A(", "A\0"] {
        assert!(!nestable(bad), "{bad:?}");
    }
}
