//! A client of the example backend: the owner grants a fresh session key a capability over
//! `orders/*` (one SIWE + ReCap message, signed once), the key is stored encrypted with
//! leash-store as any leash session key, and then signs each request on its own.
//!
//! Run `session-api-server` first. The owner key is `LEASH_PRIVATE_KEY` (default: anvil's #1).

use alloy_primitives::{B128, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_auth::{Recap, SESSION_HEADER, SessionCapability, SignedCapability, UnsignedRequest};
use leash_store::{
    keystore::ScryptParams,
    session_store::{SessionMetadata, SessionStore},
};
use std::time::{SystemTime, UNIX_EPOCH};

const DOMAIN: &str = "localhost:3000";
const ANVIL_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let owner: PrivateKeySigner = std::env::var("LEASH_PRIVATE_KEY")
        .unwrap_or_else(|_| ANVIL_KEY_1.into())
        .parse()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();

    // 1. The owner grants a new session key `http/*` over the orders, for ten minutes.
    let session_key = PrivateKeySigner::random();
    let mut off_chain = Recap::new();
    off_chain.grant(
        &format!("http://{DOMAIN}/orders/*"),
        "http/*",
        Default::default(),
    )?;
    let mut capability = SessionCapability::new(
        DOMAIN,
        owner.address(),
        session_key.address(),
        1,
        off_chain,
        now,
        now + 600,
    );
    capability.statement = Some("Let my agent manage my orders.".into());
    let message = capability.to_text()?;
    println!("The owner signs:\n\n{message}\n");
    let signature = owner.sign_message_sync(message.as_bytes())?;
    let signed = SignedCapability {
        message,
        signature: signature.as_bytes().into(),
    };

    // 2. The session key is kept as leash keeps every session key: an encrypted keystore, with
    //    the capability beside it in its metadata.
    let dir = std::env::temp_dir().join(format!("leash-session-api-{}", std::process::id()));
    let store = SessionStore::open(&dir)?.with_scrypt_params(ScryptParams::LIGHT);
    let id = keccak256(&signed.message);
    let metadata = SessionMetadata {
        session_id: id,
        session_key: session_key.address(),
        // leash-core's key types are for UserOperation signers; this one signs requests.
        key_type: (),
        account: owner.address(),
        chain_id: 1,
        validator: Default::default(),
        grant: signed,
        created_at: now,
        expires_at: now + 600,
        label: "session-api example".into(),
    };
    store.create(&session_key, &metadata, "example password")?;
    let (key, metadata) = store.load::<SignedCapability, ()>(id, "example password")?;

    // 3. The key signs each request on its own; the owner is not asked again.
    let client = reqwest::Client::new();
    for (method, path, body) in [
        ("POST", "/orders/1", r#"{"qty":2}"#),
        ("GET", "/orders/1", ""),
        ("GET", "/admin", ""),
    ] {
        let request = UnsignedRequest {
            capability: &metadata.grant,
            method,
            target: path,
            body: body.as_bytes(),
            timestamp: now,
            nonce: B128::random(),
        }
        .sign(&key)?;
        let response = client
            .request(method.parse()?, format!("http://{DOMAIN}{path}"))
            .header(SESSION_HEADER, request.to_header())
            .body(body.to_owned())
            .send()
            .await?;
        println!(
            "{method} {path} -> {} {}",
            response.status(),
            response.text().await?
        );
    }
    store.delete(id)?;
    Ok(())
}
