//! The hosted Session Keys API flow (seeds/004) over HTTP, signed with `cast` as its curl
//! script does: createSession → the owner signs rawPayload → prepareCalls → the session key
//! signs → sendPreparedCalls → getCallsStatus until 200; the key signs the hash raw or as
//! `personal_sign` does (submitted in the contracts' EIP-191 form, v + 4). The owner's own calls
//! go the same way without permissions.

mod support;

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};
use support::{
    Harness, OWNER, Signing, cast_sign, create_session_params, owner_key, session_key,
    transfer_call,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);

/// Prepares a transfer of `amount` under `permissions`, signs it with `key_hex` as `signing`
/// says, sends it and waits for its final status.
async fn send_transfer(
    harness: &Harness,
    permissions: Value,
    (key_hex, signing): (&str, Signing),
    amount: u64,
) -> eyre::Result<(Value, Value)> {
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{
                "calls": [transfer_call(RECIPIENT, amount)],
                "from": OWNER,
                "chainId": "0x7a69",
                "capabilities": { "permissions": permissions, "paymasterService": { "policyId": "x" } },
            }]),
        )
        .await?;
    assert_eq!(prepared["type"], "user-operation-v070");
    assert_eq!(prepared["signatureRequest"]["type"], "personal_sign");
    assert_eq!(prepared["feePayment"]["sponsored"], false);
    let hash = &prepared["signatureRequest"]["data"]["raw"];
    assert_eq!(&prepared["details"]["data"]["hash"], hash);
    let signature = cast_sign(key_hex, hash, signing == Signing::Raw)?;
    let sent = harness
        .result(
            "wallet_sendPreparedCalls",
            json!([{
                "type": prepared["type"],
                "data": prepared["data"],
                "chainId": prepared["chainId"],
                "capabilities": { "permissions": permissions },
                "signature": { "type": "secp256k1", "data": signature },
            }]),
        )
        .await?;
    assert_eq!(sent["preparedCallIds"][0], sent["id"]);
    let status = harness.final_status(&sent["id"]).await?;
    Ok((sent, status))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_flow_with_session_id_and_signature() -> eyre::Result<()> {
    seed_flow(Signing::Raw).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_flow_signed_with_personal_sign() -> eyre::Result<()> {
    seed_flow(Signing::PersonalSign).await
}

/// The seed script's whole flow, the session key signing each operation as `signing` says.
async fn seed_flow(signing: Signing) -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let created = harness
        .result(
            "wallet_createSession",
            create_session_params(key.address(), 100),
        )
        .await?;
    let session_id = created["sessionId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(session_id.len(), 2 + 32, "16-byte session id: {created}");
    assert_eq!(created["chainId"], "0x7a69");
    let request = &created["signatureRequest"];
    assert_eq!(request["type"], "eth_signTypedData_v4");
    assert_eq!(request["data"]["domain"]["chainId"], 31337);
    let owner_signature = cast_sign(&owner_key(), &request["rawPayload"], true)?;

    let permissions = json!({ "sessionId": session_id, "signature": owner_signature });
    let (sent, status) =
        send_transfer(&harness, permissions.clone(), (&key_hex, signing), 40).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(status["id"], sent["id"]);
    assert_eq!(status["receipts"][0]["status"], "0x1");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(40));

    // Enabled now: the next operation carries the session id only.
    let (_, status) = send_transfer(&harness, permissions, (&key_hex, signing), 60).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(100));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_context_form_the_sdk_sends() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let created = harness
        .result(
            "wallet_createSession",
            create_session_params(key.address(), 100),
        )
        .await?;
    let raw_payload = &created["signatureRequest"]["rawPayload"];
    let owner_signature = cast_sign(&owner_key(), raw_payload, true)?;
    let session_id = created["sessionId"].as_str().unwrap_or_default();
    let context = format!("0x00{}{}", &session_id[2..], &owner_signature[2..]);
    let (_, status) = send_transfer(
        &harness,
        json!({ "context": context }),
        (&key_hex, Signing::Raw),
        5,
    )
    .await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(5));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_makes_calls_without_permissions() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    for (signing, amount) in [(Signing::Raw, 7), (Signing::PersonalSign, 8)] {
        let (prepared, status) = harness
            .owner_calls(json!([transfer_call(RECIPIENT, amount)]), signing)
            .await?;
        // Delegated already: one operation, no authorization to sign.
        assert_eq!(prepared["type"], "user-operation-v070", "{prepared}");
        assert_eq!(status["status"], 200, "{status}");
    }
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(15));
    Ok(())
}
