//! Argument rules through the JSON-RPC API: a session created with a ruled
//! `functions-on-contract` permission in the Wallet API JSON, a call its rules allow prepared,
//! signed elsewhere and sent (the server stores the operation and attaches the rules again when
//! the signature arrives), and a call they do not allow refused before anything is signed.

mod support;

use alloy_primitives::{Address, B256, Bytes, Selector, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, Target};
use serde_json::{Value, json};
use support::{Harness, OWNER, cast_sign, owner_key, send_params, session_key};

const RECIPIENT: Address = Address::repeat_byte(0x66);

/// `wallet_prepareCalls` params: `Target.pay(RECIPIENT, amount)` under `permissions`.
fn pay_params(permissions: &Value, amount: u64) -> Value {
    let data = Target::payCall {
        _0: RECIPIENT,
        _1: U256::from(amount),
    }
    .abi_encode();
    json!([{
        "calls": [{ "to": Deployment::test_target().address(), "data": Bytes::from(data) }],
        "from": OWNER, "chainId": "0x7a69",
        "capabilities": { "permissions": permissions },
    }])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ruled_permission_in_json_allows_what_its_rules_allow() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let target = Deployment::test_target().address();
    let ruled = json!({"type": "functions-on-contract", "data": {
    "address": target,
    "functions": [Bytes::from(Target::payCall::SELECTOR.to_vec())],
    "rules": [
        {"type": "argument", "data": {"index": 0, "op": "eq", "values": [RECIPIENT]}},
        {"type": "argument", "data": {"index": 1, "op": "in-range", "values": ["0x1", "0x64"]}},
    ]}});
    let created = harness
        .result(
            "wallet_createSession",
            json!([{
                "chainId": "0x7a69",
                "expirySec": 4_102_444_800u64,
                "key": { "type": "secp256k1", "publicKey": key.address() },
                "permissions": [ruled],
                "account": OWNER,
            }]),
        )
        .await?;
    let signature = cast_sign(
        &owner_key(),
        &created["signatureRequest"]["rawPayload"],
        true,
    )?;
    let permissions = json!({ "sessionId": created["sessionId"], "signature": signature });

    let prepared = harness
        .result("wallet_prepareCalls", pay_params(&permissions, 100))
        .await?;
    let key_signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
    let sent = harness
        .result(
            "wallet_sendPreparedCalls",
            send_params(&prepared, &key_signature),
        )
        .await?;
    let status = harness.final_status(&sent["id"]).await?;
    assert_eq!(status["status"], 200, "{status}");

    let refused = harness
        .call("wallet_prepareCalls", pay_params(&permissions, 101))
        .await?;
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    let word = |n: u64| B256::from(U256::from(n));
    let expected = format!(
        "calling {} on {target} breaks rule 1 of its permission (argument 1 in-range [{}, {}]): \
         the word is {}",
        Selector::from(Target::payCall::SELECTOR),
        word(1),
        word(100),
        word(101)
    );
    assert!(message.contains(&expected), "{refused}");
    Ok(())
}
