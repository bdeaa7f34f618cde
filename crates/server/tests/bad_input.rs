//! Requests the server must refuse, each with its code and the field or rule named; never a
//! panic, never -32603 for the caller's mistake.

mod support;

use alloy_primitives::Address;
use serde_json::{Value, json};
use support::{
    Harness, OWNER, Signing, cast_sign, create_session_params, send_params, session_key,
    transfer_call,
};

fn error(response: &Value) -> (i64, String, Value) {
    let error = &response["error"];
    (
        error["code"].as_i64().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default().to_owned(),
        error["data"].clone(),
    )
}

/// A signed session and a prepared transfer of `amount` under it: (permissions, prepared).
async fn prepared_transfer(
    harness: &Harness,
    key: Address,
    amount: u64,
) -> eyre::Result<(Value, Value)> {
    let (_, permissions) = harness.signed_session(key, 100).await?;
    let prepared = harness
        .call(
            "wallet_prepareCalls",
            json!([{
                "calls": [transfer_call(Address::repeat_byte(0x77), amount)],
                "from": OWNER, "chainId": "0x7a69",
                "capabilities": { "permissions": permissions },
            }]),
        )
        .await?;
    Ok((permissions, prepared))
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_params_name_their_field() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let cases = [
        (
            "wallet_createSession",
            json!([{ "chainId": "0x7a69" }]),
            "params[0]",
        ),
        (
            "wallet_createSession",
            json!([{ "account": OWNER, "chainId": "0x7a69", "key": { "type": "ed25519", "publicKey": OWNER }, "permissions": [{ "type": "root" }] }]),
            "params[0].key.type",
        ),
        (
            "wallet_prepareCalls",
            json!([{ "calls": [{ "to": "0x12" }], "from": OWNER, "chainId": "0x7a69" }]),
            "params[0].calls[0].to",
        ),
        (
            "wallet_prepareCalls",
            json!([{ "calls": [{ "to": OWNER }], "from": OWNER, "chainId": "0x7a69", "capabilities": { "permissions": { "context": "0x01" } } }]),
            "params[0].capabilities.permissions.context",
        ),
        (
            "wallet_sendPreparedCalls",
            json!([{ "type": "user-operation-v070", "data": { "sender": OWNER }, "chainId": "0x7a69", "signature": { "type": "secp256k1", "data": "0x00" } }]),
            "params[0].signature.data",
        ),
        ("wallet_getCallsStatus", json!([7]), "params[0]"),
        ("wallet_getCapabilities", json!(["nope"]), "params[0]"),
    ];
    for (method, params, field) in cases {
        let (code, message, data) = error(&harness.call(method, params).await?);
        assert_eq!(code, -32602, "{method}: {message}");
        assert_eq!(data["field"], field, "{method}: {message}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_sessions_chains_and_calls() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let unknown_session = harness
        .call(
            "wallet_prepareCalls",
            json!([{ "calls": [{ "to": OWNER }], "from": OWNER, "chainId": "0x7a69",
                     "capabilities": { "permissions": { "sessionId": format!("0x{}", "ab".repeat(16)) } } }]),
        )
        .await?;
    let (code, _, data) = error(&unknown_session);
    assert_eq!((code, data["leashCode"].clone()), (-32000, json!(1002)));

    let mut wrong_chain = create_session_params(Address::repeat_byte(1), 1);
    wrong_chain[0]["chainId"] = json!("0x1");
    let (code, message, data) = error(&harness.call("wallet_createSession", wrong_chain).await?);
    assert_eq!(
        (code, data["leashCode"].clone()),
        (-32000, json!(1015)),
        "{message}"
    );

    let unknown_call = format!("0x{}", "00".repeat(64));
    let (code, _, _) = error(
        &harness
            .call("wallet_getCallsStatus", json!([unknown_call]))
            .await?,
    );
    assert_eq!(code, 5730);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spend_beyond_the_allowance_is_refused_at_prepare() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, _) = session_key();
    let (_, prepared) = prepared_transfer(&harness, key.address(), 101).await?;
    let (code, message, data) = error(&prepared);
    assert_eq!(code, -32003, "{message}");
    assert_eq!(data["leashCode"], 2001);
    assert!(message.contains("erc20-token-transfer"), "{message}");
    assert!(message.contains("requested 101"), "{message}");
    assert!(message.contains("remaining 100"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_sends_once_and_another_key_is_refused() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let (_, prepared) = prepared_transfer(&harness, key.address(), 30).await?;
    let prepared = prepared["result"].clone();
    let hash = &prepared["signatureRequest"]["data"]["raw"];

    let (_, stranger) = session_key();
    for signing in [Signing::Raw, Signing::PersonalSign] {
        let wrong = cast_sign(&stranger, hash, signing == Signing::Raw)?;
        let (code, message, data) = error(
            &harness
                .call("wallet_sendPreparedCalls", send_params(&prepared, &wrong))
                .await?,
        );
        assert_eq!(
            (code, data["leashCode"].clone()),
            (-32000, json!(1014)),
            "{signing:?}: {message}"
        );
    }

    let signature = cast_sign(&key_hex, hash, true)?;
    let first = harness
        .result(
            "wallet_sendPreparedCalls",
            send_params(&prepared, &signature),
        )
        .await?;
    let replay = harness
        .result(
            "wallet_sendPreparedCalls",
            send_params(&prepared, &signature),
        )
        .await?;
    assert_eq!(first["id"], replay["id"]);
    assert_eq!(harness.final_status(&first["id"]).await?["status"], 200);
    assert_eq!(
        harness.token_balance(Address::repeat_byte(0x77)).await?,
        alloy_primitives::U256::from(30),
        "the replay sent nothing"
    );

    let mut changed = prepared.clone();
    changed["data"]["callGasLimit"] = json!("0x1");
    let (code, _, data) = error(
        &harness
            .call(
                "wallet_sendPreparedCalls",
                send_params(&changed, &signature),
            )
            .await?,
    );
    assert_eq!((code, data["leashCode"].clone()), (-32000, json!(4002)));
    Ok(())
}
