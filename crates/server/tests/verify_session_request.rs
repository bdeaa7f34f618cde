//! `leash_verifySessionRequest`: leash-auth's verifier behind the JSON-RPC server, for backends
//! in other languages. A refusal is an answer naming what failed, not a JSON-RPC error.

mod support;

use alloy_primitives::B128;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_auth::{Recap, SessionCapability, SignedCapability, UnsignedRequest};
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use support::{Harness, session_key};

const DOMAIN: &str = "api.example.com";

fn signed_capability(
    owner: &PrivateKeySigner,
    session: &PrivateKeySigner,
    now: u64,
) -> SignedCapability {
    let mut off_chain = Recap::new();
    off_chain
        .grant("https://api.example.com/orders/*", "http/POST", Map::new())
        .expect("a valid entry");
    let capability = SessionCapability::new(
        DOMAIN,
        owner.address(),
        session.address(),
        31337,
        off_chain,
        now,
        now + 600,
    );
    let message = capability.to_text().expect("renders");
    let signature = owner.sign_message_sync(message.as_bytes()).expect("signs");
    SignedCapability {
        message,
        signature: signature.as_bytes().into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verifies_allows_and_names_what_a_refused_request_lacked() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (owner, (session, _)) = (PrivateKeySigner::random(), session_key());
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let capability = signed_capability(&owner, &session, now);
    let request = UnsignedRequest {
        capability: &capability,
        method: "POST",
        target: "/orders/1",
        body: b"{\"qty\":1}",
        timestamp: now,
        nonce: B128::repeat_byte(1),
    }
    .sign(&session)?;
    let params = |resource: &str, body: &str| -> Value {
        json!([{
            "request": request,
            "domain": DOMAIN,
            "resource": resource,
            "ability": "http/POST",
            "body": format!("0x{}", alloy_primitives::hex::encode(body)),
        }])
    };

    let outside = harness
        .result(
            "leash_verifySessionRequest",
            params("https://api.example.com/admin", "{\"qty\":1}"),
        )
        .await?;
    assert_eq!(outside["valid"], false);
    assert_eq!(outside["error"]["status"], 403);
    assert_eq!(outside["error"]["code"], "resource-outside-capability");
    assert_eq!(
        outside["error"]["missing"]["resource"],
        "https://api.example.com/admin"
    );

    let orders = "https://api.example.com/orders/1";
    let tampered = harness
        .result("leash_verifySessionRequest", params(orders, "{\"qty\":9}"))
        .await?;
    assert_eq!(tampered["error"]["code"], "body-mismatch", "{tampered}");

    let valid = harness
        .result("leash_verifySessionRequest", params(orders, "{\"qty\":1}"))
        .await?;
    assert_eq!(valid["valid"], true, "{valid}");
    assert_eq!(valid["verified"]["owner"], json!(owner.address()));
    assert_eq!(valid["verified"]["ownerKind"], "eoa");
    assert_eq!(valid["verified"]["sessionKey"], json!(session.address()));

    let replayed = harness
        .result("leash_verifySessionRequest", params(orders, "{\"qty\":1}"))
        .await?;
    assert_eq!(replayed["error"]["code"], "replayed-nonce", "{replayed}");
    assert_eq!(replayed["error"]["status"], 401);
    Ok(())
}
