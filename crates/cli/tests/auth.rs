//! `leash auth grant | sign | verify` on a stored session, no chain needed: the capability signed
//! by the owner (here, or elsewhere and attached), a request signed by the session key, and the
//! verification a backend makes, accepted and refused with exit code 3.

use alloy_primitives::{Address, B256, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_core::{
    grant::{GrantDomain, SessionGrantBuilder},
    permission::Permission,
    session_signer::SessionKeyType,
    session_state::GrantRecord,
};
use leash_store::{
    keystore::ScryptParams,
    session_store::{SessionMetadata, SessionStore},
};
use std::{
    path::Path,
    process::{Command, Output},
};

const OWNER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000aa");
const DOMAIN: &str = "api.example.com";

fn leash(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_HOME", home)
        .env("LEASH_PASSWORD", "pw")
        .env_remove("LEASH_RPC_URL")
        .env_remove("LEASH_PRIVATE_KEY")
        .output()
        .expect("leash runs")
}

/// What a successful run printed.
fn stdout(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status.code()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A session stored as `leash session create` stores one; its id.
fn stored_session(home: &Path, owner: Address) -> B256 {
    let key = PrivateKeySigner::random();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let grant = SessionGrantBuilder::new(owner, key.address(), VALIDATOR)
        .valid_until(now + 3600)
        .permission(Permission::NativeTokenTransfer {
            allowance: U256::from(1000),
            period: None,
        })
        .build(now)
        .expect("a valid grant");
    let domain = GrantDomain {
        chain_id: 31337,
        validator: VALIDATOR,
    };
    let session_id = domain.session_id(&grant);
    let store = SessionStore::open(home.join("sessions"))
        .expect("a store")
        .with_scrypt_params(ScryptParams::LIGHT);
    let metadata = SessionMetadata {
        session_id,
        session_key: key.address(),
        key_type: SessionKeyType::Secp256k1,
        account: owner,
        chain_id: 31337,
        validator: VALIDATOR,
        grant: GrantRecord::new(&grant, None).expect("a record"),
        created_at: now,
        expires_at: now + 3600,
        label: String::new(),
    };
    store.create(&key, &metadata, "pw").expect("stores");
    session_id
}

#[test]
fn grant_sign_and_verify_a_request_from_the_terminal() {
    let home = tempfile::tempdir().expect("tempdir");
    let owner: PrivateKeySigner = OWNER_KEY.parse().expect("a key");
    let id = stored_session(home.path(), owner.address()).to_string();
    let prefix = &id[..10];

    let granted = stdout(&leash(
        home.path(),
        &[
            "auth",
            "grant",
            "--session",
            prefix,
            "--domain",
            DOMAIN,
            "--resource",
            "https://api.example.com/orders/*=http/POST",
            "--private-key",
            OWNER_KEY,
        ],
    ));
    assert!(
        granted.starts_with("api.example.com wants you to sign in with your Ethereum account:")
    );
    assert!(granted.contains("'http': 'POST' for 'https://api.example.com/orders/*'"));
    assert!(granted.contains("'session': 'gas-limit', 'native-token-transfer' for 'leash://"));

    let sign = |target: &str| {
        let header = stdout(&leash(
            home.path(),
            &[
                "auth",
                "sign",
                "--session",
                prefix,
                "--method",
                "POST",
                "--target",
                target,
                "--body",
                "{}",
            ],
        ));
        header.trim().to_owned()
    };
    let verify = |header: &str, domain: &str, body: &str| {
        leash(
            home.path(),
            &[
                "auth",
                "verify",
                "--domain",
                domain,
                "--header",
                header,
                "--base",
                "https://api.example.com",
                "--body",
                body,
            ],
        )
    };

    let header = sign("/orders/1");
    let valid = stdout(&verify(&header, DOMAIN, "{}"));
    assert!(valid.starts_with("valid: "), "{valid}");

    let refusals = [
        (sign("/orders/2"), DOMAIN, "{\"x\":1}", "401 body-mismatch"),
        (
            sign("/orders/3"),
            "evil.example.com",
            "{}",
            "401 wrong-domain",
        ),
        (
            sign("/admin"),
            DOMAIN,
            "{}",
            "403 resource-outside-capability",
        ),
    ];
    for (header, domain, body, expected) in refusals {
        let output = verify(&header, domain, body);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(expected), "{stderr} lacks {expected}");
    }
}

#[test]
fn the_owner_may_sign_the_printed_text_elsewhere() {
    let home = tempfile::tempdir().expect("tempdir");
    let owner: PrivateKeySigner = OWNER_KEY.parse().expect("a key");
    let id = stored_session(home.path(), owner.address()).to_string();
    let printed = stdout(&leash(
        home.path(),
        &["auth", "grant", "--session", &id, "--domain", DOMAIN],
    ));
    let (text, instructions) = printed
        .split_once("\n\nHave the owner sign")
        .expect("instructions follow the text");
    assert!(instructions.contains("--signature"));
    let signature = owner.sign_message_sync(text.as_bytes()).expect("signs");
    let attached = leash(
        home.path(),
        &[
            "auth",
            "grant",
            "--session",
            &id,
            "--domain",
            DOMAIN,
            "--signature",
            &signature.to_string(),
        ],
    );
    let attached = stdout(&attached);
    assert!(attached.starts_with(text), "the same text, now signed");
    let header = stdout(&leash(
        home.path(),
        &["auth", "sign", "--session", &id, "--target", "/x"],
    ));
    let output = leash(
        home.path(),
        &[
            "auth",
            "verify",
            "--domain",
            DOMAIN,
            "--header",
            header.trim(),
            "--resource",
            "leash://x",
            "--ability",
            "session/use",
        ],
    );
    // The session's grant is on-chain only: no off-chain resource is granted.
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("403 resource-outside-capability"));

    // Clearing the stored key ends the session here, its capability with it.
    let capability = home.path().join(format!("sessions/{id}.capability.json"));
    assert!(capability.exists());
    stdout(&leash(home.path(), &["session", "clear", &id]));
    assert!(!capability.exists());
}

#[test]
fn verify_reads_the_node_it_is_given() {
    let anvil = leash_testkit::anvil();
    let url = anvil.endpoint();
    let home = tempfile::tempdir().expect("tempdir");
    let owner: PrivateKeySigner = OWNER_KEY.parse().expect("a key");
    let id = stored_session(home.path(), owner.address()).to_string();
    let grant = [
        "auth",
        "grant",
        "--session",
        &id,
        "--domain",
        DOMAIN,
        "--resource",
        "https://api.example.com/*=http/GET",
        "--private-key",
        OWNER_KEY,
    ];
    stdout(&leash(home.path(), &grant));
    let header = stdout(&leash(
        home.path(),
        &["auth", "sign", "--session", &id, "--target", "/x"],
    ));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "auth",
            "verify",
            "--rpc-url",
            &url,
            "--domain",
            DOMAIN,
            "--header",
            header.trim(),
            "--base",
            "https://api.example.com",
        ];
        args.extend_from_slice(extra);
        leash(home.path(), &args)
    };
    assert!(stdout(&verify(&[])).starts_with("valid: "));
    // A bare anvil has no SessionKeyValidator to ask: the check fails closed.
    let output = verify(&["--check-session"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("503 session-check-failed"), "{stderr}");
}
