//! `leash_verifySessionRequest`: leash-auth's verifier behind the JSON-RPC server, for backends
//! in other languages. A refusal is an answer naming what failed, not a JSON-RPC error.

mod support;

use alloy_primitives::B128;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_auth::{Recap, SessionCapability, SessionRequest, SignedCapability, UnsignedRequest};
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use support::{Harness, loopback, session_key};

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

/// `POST /orders/1` with body `{"qty":1}`, signed now by a fresh session key under a fresh
/// owner's capability: the owner, the session key and the request.
fn signed_order() -> eyre::Result<(PrivateKeySigner, PrivateKeySigner, SessionRequest)> {
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
    Ok((owner, session, request))
}

/// `leash_verifySessionRequest`'s parameters: `request` received for `resource` with `body`.
fn verify_params(request: &SessionRequest, resource: &str, body: &str) -> Value {
    json!([{
        "request": request,
        "domain": DOMAIN,
        "resource": resource,
        "ability": "http/POST",
        "body": format!("0x{}", alloy_primitives::hex::encode(body)),
    }])
}

#[tokio::test(flavor = "multi_thread")]
async fn verifies_allows_and_names_what_a_refused_request_lacked() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (owner, session, request) = signed_order()?;
    let params = |resource: &str, body: &str| verify_params(&request, resource, body);

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

#[tokio::test(flavor = "multi_thread")]
async fn a_request_accepted_by_one_server_is_a_replay_to_another_on_its_state() -> eyre::Result<()>
{
    // Two servers on one data directory's state, each its own chain and process-local caches:
    // only the state can tell the second that the first accepted the request.
    let dir = tempfile::tempdir()?;
    let first =
        Harness::undelegated_on(&loopback(), leash_server::open_state_dir(dir.path()).await?)
            .await?;
    let second =
        Harness::undelegated_on(&loopback(), leash_server::open_state_dir(dir.path()).await?)
            .await?;
    let (_, session, request) = signed_order()?;
    let params = verify_params(&request, "https://api.example.com/orders/1", "{\"qty\":1}");

    let accepted = first
        .result("leash_verifySessionRequest", params.clone())
        .await?;
    assert_eq!(accepted["valid"], true, "{accepted}");
    assert_eq!(accepted["verified"]["sessionKey"], json!(session.address()));

    let replayed = second.result("leash_verifySessionRequest", params).await?;
    assert_eq!(replayed["valid"], false, "{replayed}");
    assert_eq!(replayed["error"]["status"], 401);
    assert_eq!(replayed["error"]["code"], "replayed-nonce");
    assert_eq!(
        replayed["error"]["message"],
        format!(
            "nonce {} of session key {} was used already (replay)",
            request.nonce,
            session.address()
        )
    );
    Ok(())
}
