//! leash's own methods, which no hosted API offers: `leash_getSession` (a held session with its
//! status and what is left of every limit), `leash_listSessions` (every session of an account), `leash_explainCalls` (a dry run: the denial with its
//! numbers, or what the calls would move) and `leash_prepareRevoke` (a revocation prepared,
//! signed, sent and followed like any call; or the transaction a session key sends itself).

mod support;

use alloy_primitives::{Address, Bytes, U256};
use leash_bindings::Deployment;
use serde_json::{Value, json};
use support::{
    Harness, OWNER, Signing, cast_sign, create_session_params, hex_u64, owner_key, session_key,
    transfer_call, transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);

/// A transfer of `amount` by the session: prepared, signed by `key_hex`, sent, final status.
async fn session_transfer(
    harness: &Harness,
    permissions: &Value,
    key_hex: &str,
    amount: u64,
) -> eyre::Result<Value> {
    let id = harness
        .send_session_transfer(permissions, key_hex, RECIPIENT, amount)
        .await?;
    harness.final_status(&id).await
}

/// `(code, leashCode, field, message)` of an error response.
fn error_of(response: &Value) -> (i64, u64, String, String) {
    let error = &response["error"];
    (
        error["code"].as_i64().unwrap_or_default(),
        error["data"]["leashCode"].as_u64().unwrap_or_default(),
        error["data"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn get_session_reports_the_grant_status_and_budgets() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let (id, permissions) = harness.signed_session(key.address(), 100).await?;

    let before = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    assert_eq!(before["sessionId"], id);
    assert_eq!(before["account"], json!(OWNER));
    assert_eq!(before["sessionKey"], json!(key.address()));
    assert_eq!(before["status"], "unused");
    assert_eq!(before["validatorInstalled"], true);
    assert_eq!(before["expired"], false);
    assert_eq!(before["permissions"][0]["type"], "erc20-token-transfer");
    assert_eq!(before["budgets"][0]["notEnabledYet"], true);
    assert_eq!(hex_u64(&before["budgets"][0]["remaining"]), Some(100));

    let status = session_transfer(&harness, &permissions, &key_hex, 30).await?;
    assert_eq!(status["status"], 200, "{status}");
    let after = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    assert_eq!(after["status"], "enabled");
    assert_eq!(after["budgets"][0]["notEnabledYet"], false);
    assert_eq!(hex_u64(&after["budgets"][0]["remaining"]), Some(70));
    assert_eq!(hex_u64(&after["budgets"][0]["allowance"]), Some(100));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn get_session_refuses_unknown_and_malformed_ids() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let unknown = harness
        .call(
            "leash_getSession",
            json!([{ "sessionId": Bytes::from([7u8; 16]) }]),
        )
        .await?;
    let (code, leash_code, _, message) = error_of(&unknown);
    assert_eq!((code, leash_code), (-32000, 1002), "{unknown}");
    assert!(message.contains("0x0707"), "{message}");

    for (params, field) in [
        (json!([{ "sessionId": "0x1234" }]), "params[0].sessionId"),
        (json!([{}]), "params[0]"),
        (json!([]), "params[0]"),
    ] {
        let response = harness.call("leash_getSession", params.clone()).await?;
        let (code, leash_code, named, _) = error_of(&response);
        assert_eq!((code, leash_code), (-32602, 4001), "{params}: {response}");
        assert_eq!(named, field, "{params}: {response}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn list_sessions_gives_every_session_of_the_account_and_no_other() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (first_key, first_hex) = session_key();
    let (second_key, _) = session_key();
    let (first, permissions) = harness.signed_session(first_key.address(), 100).await?;
    let (second, _) = harness.signed_session(second_key.address(), 50).await?;
    let status = session_transfer(&harness, &permissions, &first_hex, 30).await?;
    assert_eq!(status["status"], 200, "{status}");

    let listed = harness
        .result("leash_listSessions", json!([{ "account": OWNER }]))
        .await?;
    let sessions = listed["sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), 2, "{listed}");
    let by_id = |id: &Value| sessions.iter().find(|session| &session["sessionId"] == id);
    let first = by_id(&first).ok_or_else(|| eyre::eyre!("first session missing: {listed}"))?;
    assert_eq!(first["status"], "enabled");
    assert_eq!(hex_u64(&first["budgets"][0]["remaining"]), Some(70));
    let second = by_id(&second).ok_or_else(|| eyre::eyre!("second session missing: {listed}"))?;
    assert_eq!(second["status"], "unused");
    assert_eq!(hex_u64(&second["budgets"][0]["remaining"]), Some(50));
    let ids: Vec<&str> = sessions
        .iter()
        .filter_map(|s| s["sessionId"].as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "ordered by session id");

    let other = harness
        .result("leash_listSessions", json!([{ "account": RECIPIENT }]))
        .await?;
    assert_eq!(other["sessions"], json!([]));

    for (params, field) in [
        (json!([{ "account": "0x1234" }]), "params[0].account"),
        (json!([{}]), "params[0]"),
    ] {
        let response = harness.call("leash_listSessions", params.clone()).await?;
        let (code, leash_code, named, _) = error_of(&response);
        assert_eq!((code, leash_code), (-32602, 4001), "{params}: {response}");
        assert_eq!(named, field, "{params}: {response}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_calls_gives_the_denial_or_the_movements_and_commits_nothing() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, _) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 100).await?;

    let denied = harness
        .result(
            "leash_explainCalls",
            transfer_params(&permissions, RECIPIENT, 150),
        )
        .await?;
    assert_eq!(denied["accepted"], false, "{denied}");
    let reason = denied["denial"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("150") && reason.contains("100"), "{denied}");
    assert_eq!(denied["denial"]["kind"], "validation");
    assert_eq!(denied["denial"]["code"], -32003);
    assert_eq!(denied["denial"]["leashCode"], 2001);
    assert_eq!(denied["tokenTransfers"], json!([]));
    assert_eq!(denied["nativeTransfers"], json!([]));
    // The same refusal wallet_prepareCalls answers.
    let refused = harness
        .call(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 150),
        )
        .await?;
    assert_eq!(refused["error"]["message"], denied["denial"]["message"]);

    let accepted = harness
        .result(
            "leash_explainCalls",
            transfer_params(&permissions, RECIPIENT, 30),
        )
        .await?;
    assert_eq!(accepted["accepted"], true, "{accepted}");
    assert!(accepted.get("denial").is_none());
    let token = Deployment::test_token().address();
    assert_eq!(
        accepted["tokenTransfers"],
        json!([{ "token": token, "from": OWNER, "to": RECIPIENT, "value": "0x1e" }])
    );
    assert_eq!(accepted["nativeTransfers"], json!([]));
    assert_eq!(accepted["nativeBalanceChanges"], json!({}));

    // Nothing was committed: no tokens moved, the session is still unused.
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::ZERO);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_calls_lists_native_value_with_the_simulators_balance_changes() -> eyre::Result<()>
{
    let harness = Harness::start().await?;
    let (key, _) = session_key();
    let mut params = create_session_params(key.address(), 0);
    params[0]["permissions"] =
        json!([{ "type": "native-token-transfer", "data": { "allowance": "0x64" } }]);
    let created = harness.result("wallet_createSession", params).await?;
    let signature = cast_sign(
        &owner_key(),
        &created["signatureRequest"]["rawPayload"],
        true,
    )?;
    let permissions = json!({ "sessionId": created["sessionId"], "signature": signature });
    let explained = harness
        .result(
            "leash_explainCalls",
            json!([{
                "calls": [{ "to": RECIPIENT, "value": "0x28" }],
                "from": OWNER, "chainId": "0x7a69",
                "capabilities": { "permissions": permissions },
            }]),
        )
        .await?;
    assert_eq!(explained["accepted"], true, "{explained}");
    assert_eq!(
        explained["nativeTransfers"],
        json!([{ "to": RECIPIENT, "value": "0x28" }])
    );
    let changes = &explained["nativeBalanceChanges"];
    assert_eq!(
        changes[OWNER.to_string().to_lowercase()],
        "-40",
        "{explained}"
    );
    assert_eq!(
        changes[RECIPIENT.to_string().to_lowercase()],
        "40",
        "{explained}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_calls_refuses_what_prepare_refuses() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let unknown = json!({ "sessionId": Bytes::from([7u8; 16]) });
    let response = harness
        .call(
            "leash_explainCalls",
            transfer_params(&unknown, RECIPIENT, 1),
        )
        .await?;
    assert_eq!(error_of(&response).0, -32000, "{response}");
    assert_eq!(error_of(&response).1, 1002, "{response}");

    let no_session =
        json!([{ "calls": [transfer_call(RECIPIENT, 1)], "from": OWNER, "chainId": "0x7a69" }]);
    let response = harness.call("leash_explainCalls", no_session).await?;
    let (code, _, field, _) = error_of(&response);
    assert_eq!(code, -32602, "{response}");
    assert_eq!(field, "params[0].capabilities.permissions");

    let malformed = json!([{ "calls": [{ "to": "0x12" }], "from": OWNER, "chainId": "0x7a69" }]);
    let response = harness.call("leash_explainCalls", malformed).await?;
    let (code, _, field, _) = error_of(&response);
    assert_eq!(code, -32602, "{response}");
    assert_eq!(field, "params[0].calls[0].to");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prepared_revocation_sent_and_confirmed_ends_the_session() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let (id, permissions) = harness.signed_session(key.address(), 100).await?;
    let status = session_transfer(&harness, &permissions, &key_hex, 10).await?;
    assert_eq!(status["status"], 200, "{status}");

    let prepared = harness
        .result("leash_prepareRevoke", json!([{ "sessionId": id }]))
        .await?;
    assert_eq!(prepared["type"], "user-operation-v070", "{prepared}");
    assert_eq!(prepared["signatureRequest"]["type"], "personal_sign");
    let validator = Deployment::session_key_validator().address();
    assert_eq!(
        prepared["details"]["data"]["calls"][0]["to"],
        json!(validator)
    );
    let status = harness
        .send_owner_signed(&prepared, Signing::PersonalSign)
        .await?;
    assert_eq!(status["status"], 200, "{status}");

    let session = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    assert_eq!(session["status"], "revoked", "{session}");
    let refused = harness
        .call(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 10),
        )
        .await?;
    let (code, _, _, message) = error_of(&refused);
    assert_eq!(code, -32003, "{refused}");
    assert!(message.contains("revoked"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn revoke_all_ends_every_session_of_the_account() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let (key, key_hex) = session_key();
        let (id, permissions) = harness.signed_session(key.address(), 100).await?;
        let status = session_transfer(&harness, &permissions, &key_hex, 5).await?;
        assert_eq!(status["status"], 200, "{status}");
        sessions.push((id, permissions));
    }
    let prepared = harness
        .result(
            "leash_prepareRevoke",
            json!([{ "account": OWNER, "all": true }]),
        )
        .await?;
    let status = harness.send_owner_signed(&prepared, Signing::Raw).await?;
    assert_eq!(status["status"], 200, "{status}");
    for (id, permissions) in &sessions {
        let session = harness
            .result("leash_getSession", json!([{ "sessionId": id }]))
            .await?;
        assert_eq!(session["status"], "revoked", "{session}");
        let refused = harness
            .call(
                "wallet_prepareCalls",
                transfer_params(permissions, RECIPIENT, 1),
            )
            .await?;
        assert_eq!(error_of(&refused).0, -32003, "{refused}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_key_revokes_its_own_session_by_transaction() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, _) = session_key();
    let (id, _) = harness.signed_session(key.address(), 100).await?;
    let answer = harness
        .result(
            "leash_prepareRevoke",
            json!([{ "sessionId": id, "bySessionKey": true, "chainId": "0x7a69" }]),
        )
        .await?;
    assert_eq!(answer["type"], "transaction", "{answer}");
    let tx = &answer["data"];
    assert_eq!(tx["from"], json!(key.address()));
    let validator = Deployment::session_key_validator().address();
    assert_eq!(tx["to"], json!(validator));

    // The key sends it from its own address, paying its own gas.
    let data: Bytes = serde_json::from_value(tx["data"].clone())?;
    let outcome = harness.chain()?.with_chain(|chain| {
        chain.set_balance(key.address(), U256::from(10u64).pow(U256::from(18)))?;
        chain.transact(key.address(), validator, data, U256::ZERO)
    })?;
    assert!(outcome.result.is_success(), "{:?}", outcome.result);
    let session = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    assert_eq!(session["status"], "revoked", "{session}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn prepare_revoke_refuses_unknown_sessions_and_malformed_requests() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let unknown = harness
        .call(
            "leash_prepareRevoke",
            json!([{ "sessionId": Bytes::from([7u8; 16]) }]),
        )
        .await?;
    assert_eq!(error_of(&unknown).0, -32000, "{unknown}");
    assert_eq!(error_of(&unknown).1, 1002, "{unknown}");

    for (params, field) in [
        (json!([{}]), "params[0].sessionId"),
        (json!([{ "sessionId": "0x12" }]), "params[0].sessionId"),
        (json!([{ "account": OWNER }]), "params[0].all"),
        (
            json!([{ "account": OWNER, "all": true, "bySessionKey": true }]),
            "params[0].bySessionKey",
        ),
        (
            json!([{ "account": "0x12", "all": true }]),
            "params[0].account",
        ),
        (
            json!([{ "sessionId": Bytes::from([7u8; 16]), "account": OWNER }]),
            "params[0]",
        ),
    ] {
        let response = harness.call("leash_prepareRevoke", params.clone()).await?;
        let (code, leash_code, named, _) = error_of(&response);
        assert_eq!((code, leash_code), (-32602, 4001), "{params}: {response}");
        assert_eq!(named, field, "{params}: {response}");
    }
    let other_chain = harness
        .call(
            "leash_prepareRevoke",
            json!([{ "account": OWNER, "all": true, "chainId": "0x1" }]),
        )
        .await?;
    assert_eq!(error_of(&other_chain).1, 1015, "{other_chain}");
    Ok(())
}
