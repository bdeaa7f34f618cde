//! Independent implementations: the npm `siwe` 3 and `siwe-recap` packages (installed by
//! scripts/toolchain) read leash's capabilities, and leash reads and verifies theirs.

mod support;

use leash_auth::{SessionCapability, SignedCapability, Verifier, VerifierConfig};
use serde_json::{Value, json};
use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};
use support::*;

/// Runs tests/npm/siwe_recap.cjs with `request` on stdin; its JSON answer.
fn npm(request: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm/siwe_recap.cjs");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        root.join("node_modules/siwe-recap").is_dir(),
        "npm siwe-recap is missing: run scripts/toolchain"
    );
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs (Node.js 20+)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("writes");
    let output = child.wait_with_output().expect("node finishes");
    assert!(output.status.success(), "node failed: {output:?}");
    serde_json::from_slice(&output.stdout).expect("node answers JSON")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn attenuations_json(capability: &SessionCapability) -> Value {
    serde_json::to_value(capability.recap().attenuations()).expect("serializes")
}

#[test]
fn npm_siwe_and_siwe_recap_read_and_verify_a_leash_capability() {
    let (owner, session) = (key(1), key(2));
    let chain = chain();
    let record = on_chain_session(&chain, &owner, session.address());
    let domain = chain.lock().expect("lock").grant_domain();
    let capability = SessionCapability::from_record(DOMAIN, &domain, &record, off_chain(), now());
    let signed = sign_capability(&capability, &owner);

    let answer =
        npm(&json!({ "check": { "message": signed.message, "signature": signed.signature } }));
    assert_eq!(answer["verified"], true, "{answer}");
    assert_eq!(answer["reprinted"], true, "siwe prints the same text");
    assert_eq!(answer["address"], owner.address().to_checksum(None));
    assert_eq!(answer["attenuations"], attenuations_json(&capability));
    assert_eq!(answer["recapStatement"], capability.recap().statement());
}

#[tokio::test]
async fn leash_reads_and_verifies_a_capability_the_npm_packages_made() {
    let (owner, session) = (key(1), key(2));
    let made = npm(&json!({ "make": {
        "privateKey": format!("{}", alloy_primitives::B256::repeat_byte(1)),
        "sessionKey": session.address().to_string().to_lowercase(),
        "domain": DOMAIN,
        "chainId": 1,
        "expirationTime": "2100-01-01T00:00:00.000Z",
    }}));
    let message = made["message"].as_str().expect("a message").to_owned();
    let capability = SessionCapability::parse(&message).expect("leash parses it");
    assert_eq!(capability.owner, owner.address());
    assert_eq!(capability.session_key, session.address());
    assert_eq!(
        capability.statement.as_deref(),
        Some("Sign a session key to use with this API.")
    );
    assert_eq!(attenuations_json(&capability), made["attenuations"]);
    // Their text has milliseconds and a lower-case URI; leash renders seconds and EIP-55, and
    // reads its own rendering back to the same capability. The verifier checks the text signed.
    let rendered = capability.to_text().expect("renders");
    assert_eq!(
        SessionCapability::parse(&rendered).expect("parses"),
        capability
    );

    let signed = SignedCapability {
        message,
        signature: made["signature"]
            .as_str()
            .expect("a signature")
            .parse()
            .expect("hex"),
    };
    let verifier = Verifier::new(VerifierConfig::new(DOMAIN));
    let now = now();
    let post = request(&signed, &session, "POST", "/orders/1", b"{}", now, 1);
    let verified = check(&verifier, &post, b"{}", &scope("POST", "/orders/1"), now)
        .await
        .expect("accepted");
    assert_eq!(verified.ability, "http/POST");
    let pkp = leash_auth::Scope {
        resource: "litPKP://0x1234".into(),
        ability: "pkp-signing/sign".into(),
    };
    let sign = request(&signed, &session, "POST", "/pkp", b"", now, 2);
    let verified = check(&verifier, &sign, b"", &pkp, now)
        .await
        .expect("a Lit resource, with its conditions");
    assert_eq!(verified.conditions[0]["limit"], 3);
}
