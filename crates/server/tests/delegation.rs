//! An account that is not delegated yet: its owner's first `wallet_prepareCalls` answers with the
//! array form (the EIP-7702 authorization to sign, then the operation that installs the
//! validator and makes the calls), the signed array delegates it in one bundle, and sessions work
//! on it from then on.

mod support;

use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, U256};
use leash_bindings::Deployment;
use leash_core::eip7702::delegate_of;
use serde_json::{Value, json};
use support::{
    Harness, OWNER, Signing, cast_sign, create_session_params, owner_key, send_params, session_key,
    transfer_call,
};

const RECIPIENT: Address = Address::repeat_byte(0x55);

#[tokio::test(flavor = "multi_thread")]
async fn the_first_owner_call_delegates_then_a_session_works() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (prepared, status) = harness
        .owner_calls(json!([transfer_call(RECIPIENT, 3)]), Signing::PersonalSign)
        .await?;
    assert_eq!(prepared["type"], "array", "{prepared}");
    let authorization = &prepared["data"][0];
    let leash_account = Deployment::leash_account().address();
    assert_eq!(authorization["type"], "authorization");
    assert_eq!(authorization["chainId"], "0x7a69");
    assert_eq!(authorization["data"]["address"], json!(leash_account));
    // The owner is the chain's bundler: its bundle raised its nonce once before the
    // authorization applied (and the authorization once more), so the authorization named the
    // nonce the owner has now, less one.
    let nonce = harness.chain()?.with_chain(|chain| chain.nonce(OWNER))? - 1;
    let expected = Authorization {
        chain_id: U256::from(31337),
        address: leash_account,
        nonce,
    };
    assert_eq!(authorization["data"]["nonce"], format!("{nonce:#x}"));
    assert_eq!(authorization["signatureRequest"]["type"], "eip7702Auth");
    assert_eq!(
        authorization["signatureRequest"]["rawPayload"],
        json!(expected.signature_hash())
    );
    let operation = &prepared["data"][1];
    assert_eq!(operation["type"], "user-operation-v070");
    assert_eq!(operation["data"]["factory"], "0x7702", "{operation}");
    assert!(operation["data"].get("eip7702Auth").is_none());
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(3));
    let code = harness.chain()?.with_chain(|chain| chain.code(OWNER))?;
    assert_eq!(delegate_of(&code), Some(leash_account));

    // Delegated with the validator: a session of the owner works now.
    let (key, key_hex) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 10).await?;
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{
                "calls": [transfer_call(RECIPIENT, 4)], "from": OWNER, "chainId": "0x7a69",
                "capabilities": { "permissions": permissions },
            }]),
        )
        .await?;
    assert_eq!(prepared["type"], "user-operation-v070");
    let signature = cast_sign(
        &key_hex,
        &prepared["signatureRequest"]["data"]["raw"],
        false,
    )?;
    let sent = harness
        .result(
            "wallet_sendPreparedCalls",
            send_params(&prepared, &signature),
        )
        .await?;
    let status = harness.final_status(&sent["id"]).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(7));
    Ok(())
}

/// [`Harness::start`] delegates the owner with no calls (`calls: []`, the array form alone).
#[tokio::test(flavor = "multi_thread")]
async fn delegating_alone_takes_no_calls() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let code = harness.chain()?.with_chain(|chain| chain.code(OWNER))?;
    assert_eq!(
        delegate_of(&code),
        Some(Deployment::leash_account().address())
    );
    // Once delegated, an empty call list has nothing to sign.
    let response = harness
        .call(
            "wallet_prepareCalls",
            json!([{ "calls": [], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert_eq!(response["error"]["data"]["field"], "params[0].calls");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_of_an_undelegated_account_is_refused() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (key, _) = session_key();
    let created = harness
        .result(
            "wallet_createSession",
            create_session_params(key.address(), 10),
        )
        .await?;
    let owner_signature = cast_sign(
        &owner_key(),
        &created["signatureRequest"]["rawPayload"],
        true,
    )?;
    let response = harness
        .call(
            "wallet_prepareCalls",
            json!([{
                "calls": [transfer_call(RECIPIENT, 1)], "from": OWNER, "chainId": "0x7a69",
                "capabilities": { "permissions": { "sessionId": created["sessionId"], "signature": owner_signature } },
            }]),
        )
        .await?;
    assert_eq!(response["error"]["code"], -32000, "{response}");
    assert_eq!(response["error"]["data"]["leashCode"], 4006);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authorization_signed_by_another_key_is_refused() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [transfer_call(RECIPIENT, 1)], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    let (_, other_key) = session_key();
    let authorization = &prepared["data"][0];
    let operation = &prepared["data"][1];
    let item = |item: &Value, signature: String| {
        json!({
            "type": item["type"], "data": item["data"], "chainId": item["chainId"],
            "signature": { "type": "secp256k1", "data": signature },
        })
    };
    let request = json!([{ "type": "array", "data": [
        item(authorization, cast_sign(&other_key, &authorization["signatureRequest"]["rawPayload"], true)?),
        item(operation, cast_sign(&owner_key(), &operation["signatureRequest"]["data"]["raw"], true)?),
    ]}]);
    let response = harness.call("wallet_sendPreparedCalls", request).await?;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert_eq!(
        response["error"]["data"]["field"],
        "params[0].data[0].signature"
    );
    Ok(())
}
