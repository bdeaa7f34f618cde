//! ERC-7715 on the server, in MetaMask's shapes: `wallet_getSupportedExecutionPermissions`, the
//! two steps of `wallet_requestExecutionPermissions` (the typed data to sign, then the grant with
//! its context), every refused type and rule with its error, and a grant used through
//! `wallet_prepareCalls` / `wallet_sendPreparedCalls`, revoked with
//! `wallet_revokeExecutionPermission`, and refused after.

mod support;

use alloy_primitives::{Address, B256, U256};
use leash_bindings::Deployment;
use serde_json::{Value, json};
use support::{
    Harness, OWNER, Signing, cast_sign, owner_key, session_key, smart_owner, transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);
/// 2100-01-01: an expiry no test outlives.
const EXPIRY: u64 = 4_102_444_800;
/// Before the embedded chain's genesis (2026-01-01): the session is valid at once.
const START_TIME: u64 = 1_767_000_000;
/// leash-core's `DEFAULT_GAS_LIMIT` (0.01 ETH), as the grant shows it.
const DEFAULT_GAS_LIMIT: &str = "0x2386f26fc10000";

/// An `erc20-token-allowance` of `allowance` test tokens for `key`, in MetaMask's shape.
fn erc20_request(key: Address, allowance: u64) -> Value {
    json!({
        "chainId": "0x7a69", "from": OWNER, "to": key,
        "permission": {
            "type": "erc20-token-allowance", "isAdjustmentAllowed": true,
            "data": {
                "tokenAddress": Deployment::test_token().address(),
                "allowanceAmount": format!("{allowance:#x}"),
                "startTime": START_TIME,
                "justification": "pay for the subscription",
            },
        },
        "rules": [{ "type": "expiry", "data": { "timestamp": EXPIRY } }],
    })
}

/// `request` with `fields` added.
fn with(request: &Value, fields: Value) -> Value {
    let mut request = request.clone();
    if let (Some(request), Value::Object(fields)) = (request.as_object_mut(), fields) {
        request.extend(fields);
    }
    request
}

/// The first step's answer to `request`, signed by the owner: the second step's request.
fn signed(request: &Value, issued: &Value) -> eyre::Result<Value> {
    let signature = cast_sign(
        &owner_key(),
        &issued["signatureRequest"]["rawPayload"],
        true,
    )?;
    Ok(with(
        request,
        json!({ "sessionId": issued["sessionId"], "signature": signature }),
    ))
}

/// `0x00 ‖ sessionId ‖ signature`, the context `wallet_prepareCalls` takes.
fn context(session_id: &Value, signature: &Value) -> String {
    let hex = |value: &Value| {
        value
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("0x")
            .to_owned()
    };
    format!("0x00{}{}", hex(session_id), hex(signature))
}

/// Both steps for `request`: the granted permission as answered.
async fn grant(harness: &Harness, request: &Value) -> eyre::Result<Value> {
    let issued = harness
        .result("wallet_requestExecutionPermissions", json!([request]))
        .await?;
    let second = signed(request, &issued[0])?;
    let granted = harness
        .result("wallet_requestExecutionPermissions", json!([second]))
        .await?;
    Ok(granted[0].clone())
}

/// What `wallet_getGrantedExecutionPermissions` answers.
async fn granted_list(harness: &Harness) -> eyre::Result<Value> {
    harness
        .result("wallet_getGrantedExecutionPermissions", json!([]))
        .await
}

/// The response to `wallet_revokeExecutionPermission` of `context`, by name.
async fn revoke(harness: &Harness, context: &Value) -> eyre::Result<Value> {
    harness
        .call(
            "wallet_revokeExecutionPermission",
            json!({ "permissionContext": context }),
        )
        .await
}

/// The response to a session transfer of `amount` under `permissions`, prepared only.
async fn prepare_transfer(
    harness: &Harness,
    permissions: &Value,
    amount: u64,
) -> eyre::Result<Value> {
    harness
        .call(
            "wallet_prepareCalls",
            transfer_params(permissions, RECIPIENT, amount),
        )
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_allowance_and_periodic_types_are_listed_as_supported() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let support = json!({ "chainIds": ["0x7a69"], "ruleTypes": ["expiry"] });
    let supported = harness
        .result("wallet_getSupportedExecutionPermissions", json!([]))
        .await?;
    assert_eq!(
        supported,
        json!({ "native-token-allowance": support, "erc20-token-allowance": support,
                "native-token-periodic": support, "erc20-token-periodic": support })
    );
    let capabilities = harness
        .result("wallet_getCapabilities", json!([OWNER]))
        .await?;
    assert_eq!(
        capabilities["0x7a69"]["executionPermissions"],
        json!({
            "supported": true,
            "permissionTypes": ["native-token-allowance", "erc20-token-allowance",
                                "native-token-periodic", "erc20-token-periodic"],
            "ruleTypes": ["expiry"],
        })
    );
    // The Wallet API's own list is unchanged; leash's own types stand apart.
    assert_eq!(
        capabilities["0x7a69"]["permissions"]["permissionTypes"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
    assert_eq!(
        capabilities["0x7a69"]["permissions"]["leashPermissionTypes"],
        json!(["paymaster", "typed-data-signing", "personal-sign"])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_is_granted_in_two_steps_in_metamasks_shape() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (key, _) = session_key();
    let erc20 = erc20_request(key.address(), 100);
    let native = json!({
        "chainId": "0x7a69", "from": OWNER, "to": key.address(),
        "permission": {
            "type": "native-token-allowance", "isAdjustmentAllowed": false,
            "data": { "allowanceAmount": "0xde0b6b3a7640000" },
        },
        "rules": [
            { "type": "expiry", "data": { "timestamp": EXPIRY } },
            { "type": "redeemer", "data": { "addresses": [key.address()] } },
        ],
    });

    let issued = harness
        .result("wallet_requestExecutionPermissions", json!([erc20, native]))
        .await?;
    let token = Deployment::test_token().address();
    let erc20_permissions = json!([
        { "type": "erc20-token-transfer", "data": { "address": token, "allowance": "0x64" } },
        { "type": "gas-limit", "data": { "limit": DEFAULT_GAS_LIMIT } },
    ]);
    let native_permissions = json!([
        { "type": "native-token-transfer", "data": { "allowance": "0xde0b6b3a7640000" } },
        { "type": "gas-limit", "data": { "limit": DEFAULT_GAS_LIMIT } },
    ]);
    for (answer, request, permissions) in [
        (&issued[0], &erc20, &erc20_permissions),
        (&issued[1], &native, &native_permissions),
    ] {
        let request_typed = &answer["signatureRequest"];
        assert_eq!(request_typed["type"], "eth_signTypedData_v4", "{answer}");
        assert_eq!(request_typed["data"]["primaryType"], "SessionGrant");
        assert_eq!(
            answer["sessionId"].as_str().map(str::len),
            Some(2 + 32),
            "16 bytes"
        );
        let expected = with(
            request,
            json!({
                "sessionId": answer["sessionId"],
                "signatureRequest": request_typed,
                "leashPermissions": permissions,
            }),
        );
        assert_eq!(answer, &expected);
    }
    assert_eq!(
        issued[0]["signatureRequest"]["data"]["message"]["validAfter"],
        json!(START_TIME)
    );
    assert_eq!(
        issued[0]["signatureRequest"]["data"]["message"]["validUntil"],
        json!(EXPIRY)
    );

    let second = signed(&erc20, &issued[0])?;
    let granted = harness
        .result("wallet_requestExecutionPermissions", json!([second]))
        .await?;
    assert_eq!(
        granted,
        json!([with(
            &erc20,
            json!({
                "context": context(&second["sessionId"], &second["signature"]),
                "dependencies": [],
                "delegationManager": Deployment::session_key_validator().address(),
                "leashPermissions": erc20_permissions,
            })
        )])
    );
    let listed = granted_list(&harness).await?;
    assert_eq!(listed, granted, "only the one granted, not the one issued");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_periodic_request_is_granted_as_a_recurring_limit() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (key, _) = session_key();
    let token = Deployment::test_token().address();
    let periodic = |kind: &str, data: Value| {
        json!({
            "chainId": "0x7a69", "from": OWNER, "to": key.address(),
            "permission": { "type": kind, "isAdjustmentAllowed": true, "data": data },
            "rules": [{ "type": "expiry", "data": { "timestamp": EXPIRY } }],
        })
    };
    let erc20 = periodic(
        "erc20-token-periodic",
        json!({ "tokenAddress": token, "periodAmount": "0x64", "periodDuration": 86400,
                "startTime": START_TIME, "justification": "a daily budget" }),
    );
    let native = periodic(
        "native-token-periodic",
        json!({ "periodAmount": "0x2a", "periodDuration": 3600 }),
    );
    let issued = harness
        .result("wallet_requestExecutionPermissions", json!([erc20, native]))
        .await?;
    assert_eq!(
        issued[0]["leashPermissions"][0],
        json!({ "type": "erc20-token-transfer",
                "data": { "address": token, "allowance": "0x64",
                          "period": { "seconds": 86400, "start": START_TIME } } })
    );
    // Without a startTime, periods count from the epoch (an hour resets on the hour, UTC).
    assert_eq!(
        issued[1]["leashPermissions"][0],
        json!({ "type": "native-token-transfer",
                "data": { "allowance": "0x2a", "period": { "seconds": 3600, "start": 0 } } })
    );
    let second = signed(&erc20, &issued[0])?;
    let granted = harness
        .result("wallet_requestExecutionPermissions", json!([second]))
        .await?;
    assert_eq!(
        granted[0]["context"],
        context(&second["sessionId"], &second["signature"]),
        "granted"
    );

    for (data, field, message) in [
        (
            json!({ "periodAmount": "0x1", "periodDuration": 86400 }),
            "params[0].permission.data.tokenAddress",
            "an erc20-token-periodic permission names its token",
        ),
        (
            json!({ "tokenAddress": token, "periodAmount": "0x1", "periodDuration": 0 }),
            "params[0].permission.data.periodDuration",
            "",
        ),
    ] {
        let (code, error, text) = refusal(&harness, periodic("erc20-token-periodic", data)).await?;
        assert_eq!((code, &error["field"]), (-32602, &json!(field)), "{text}");
        assert!(text.contains(message), "{text}");
    }
    Ok(())
}

/// `(code, data)` of the error `wallet_requestExecutionPermissions` answers `request` with.
async fn refusal(harness: &Harness, request: Value) -> eyre::Result<(i64, Value, String)> {
    let response = harness
        .call("wallet_requestExecutionPermissions", json!([request]))
        .await?;
    let error = &response["error"];
    eyre::ensure!(!error.is_null(), "not refused: {response}");
    Ok((
        error["code"].as_i64().unwrap_or_default(),
        error["data"].clone(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_and_rule_leash_does_not_enforce_is_refused_with_the_reason() -> eyre::Result<()>
{
    let harness = Harness::undelegated().await?;
    let (key, _) = session_key();
    let token = Deployment::test_token().address();
    let streams = "streams (an amount accruing per second) are not enforced by leash yet; ask \
                   for a one-off *-allowance with an expiry rule";
    let revocations = "a session limited to revoking approvals is not enforced by leash yet";
    let unknown = "not an ERC-7715 permission type leash knows; it grants native-token-allowance, \
                   erc20-token-allowance, native-token-periodic and erc20-token-periodic";
    for (kind, data, reason) in [
        (
            "native-token-stream",
            json!({ "amountPerSecond": "0x1", "maxAmount": "0x10" }),
            streams,
        ),
        (
            "erc20-token-stream",
            json!({ "tokenAddress": token, "amountPerSecond": "0x1" }),
            streams,
        ),
        ("erc20-token-revocation", json!({}), revocations),
        (
            "token-approval-revocation",
            json!({ "erc20Approve": true, "erc721Approve": true, "erc721SetApprovalForAll": true,
                    "permit2Approve": true, "permit2Lockdown": true,
                    "permit2InvalidateNonces": true }),
            revocations,
        ),
        ("native-token-lottery", json!({}), unknown),
    ] {
        let mut request = erc20_request(key.address(), 1);
        request["permission"] = json!({ "type": kind, "isAdjustmentAllowed": true, "data": data });
        let (code, data, message) = refusal(&harness, request).await?;
        assert_eq!(
            (code, &data),
            (
                -32000,
                &json!({ "leashCode": 4013, "field": "params[0].permission.type",
                         "type": kind, "reason": reason })
            ),
            "{kind}"
        );
        assert_eq!(
            message,
            format!("params[0].permission.type: {kind} is not supported: {reason}")
        );
    }

    let someone = Address::repeat_byte(0x42);
    for (rule, kind, reason) in [
        (
            json!({ "type": "payee", "data": { "addresses": [someone] } }),
            "payee",
            "leash does not restrict where a session's ERC-20 and native spends go yet",
        ),
        (
            json!({ "type": "redeemer", "data": { "addresses": [someone] } }),
            "redeemer",
            "only the session key (to) redeems a leash session: the rule may list exactly it, no \
             other address",
        ),
        (
            json!({ "type": "redeemer", "data": { "addresses": [key.address(), someone] } }),
            "redeemer",
            "only the session key (to) redeems a leash session: the rule may list exactly it, no \
             other address",
        ),
        (
            json!({ "type": "spending-cap", "data": {} }),
            "spending-cap",
            "not an ERC-7715 rule type leash knows; it enforces expiry",
        ),
    ] {
        let mut request = erc20_request(key.address(), 1);
        request["rules"] = json!([{ "type": "expiry", "data": { "timestamp": EXPIRY } }, rule]);
        let (code, data, _) = refusal(&harness, request).await?;
        assert_eq!(
            (code, data),
            (
                -32000,
                json!({ "leashCode": 4013, "field": "params[0].rules[1].type",
                        "type": kind, "reason": reason })
            ),
            "{kind}"
        );
    }

    // Schema errors: -32602 naming the field.
    let mut without_expiry = erc20_request(key.address(), 1);
    without_expiry["rules"] = Value::Null;
    let mut without_from = erc20_request(key.address(), 1);
    without_from
        .as_object_mut()
        .map(|fields| fields.remove("from"));
    let mut half_second_step = erc20_request(key.address(), 1);
    half_second_step["signature"] = json!(format!("0x{}", "11".repeat(65)));
    let mut bad_amount = erc20_request(key.address(), 1);
    bad_amount["permission"]["data"]["allowanceAmount"] = json!("twelve");
    for (request, field, reason) in [
        (
            without_expiry,
            "params[0].rules",
            "an expiry rule is required: a leash grant always ends",
        ),
        (
            without_from,
            "params[0].from",
            "required: the server grants for the account named, it has none of its own",
        ),
        (
            half_second_step,
            "params[0]",
            "give sessionId and signature together (the second step), or neither (the first)",
        ),
        (bad_amount, "params[0].permission.data.allowanceAmount", ""),
    ] {
        let (code, data, message) = refusal(&harness, request).await?;
        assert_eq!(
            (code, &data["leashCode"], &data["field"]),
            (-32602, &json!(4001), &json!(field))
        );
        assert!(message.ends_with(reason), "{message}");
    }
    let (code, data, message) = refusal(&harness, json!({})).await?;
    assert_eq!((code, &data["field"]), (-32602, &json!("params[0]")));
    assert!(message.contains("chainId"), "{message}");

    // Nothing was issued for any of them.
    let listed = harness
        .result("leash_listSessions", json!([{ "account": OWNER }]))
        .await?;
    assert_eq!(listed["sessions"], json!([]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_step_must_carry_the_request_issued_and_the_owners_signature() -> eyre::Result<()>
{
    let harness = Harness::undelegated().await?;
    let (key, _) = session_key();
    let request = erc20_request(key.address(), 100);
    let issued = harness
        .result("wallet_requestExecutionPermissions", json!([request]))
        .await?;
    let second = signed(&request, &issued[0])?;

    let mut raised = second.clone();
    raised["permission"]["data"]["allowanceAmount"] = json!("0x65");
    let (code, data, message) = refusal(&harness, raised).await?;
    assert_eq!((code, &data["field"]), (-32602, &json!("params[0]")));
    assert!(message.contains("not the request session"), "{message}");

    let (other, _) = session_key();
    let mut forged = second.clone();
    forged["signature"] = json!(cast_sign(
        &other.to_bytes().to_string(),
        &issued[0]["signatureRequest"]["rawPayload"],
        true
    )?);
    let (code, data, _) = refusal(&harness, forged).await?;
    assert_eq!((code, &data["leashCode"]), (-32000, &json!(1008)));

    let mut unknown = second;
    unknown["sessionId"] = json!(format!("0x{}", "07".repeat(16)));
    let (code, data, _) = refusal(&harness, unknown).await?;
    assert_eq!((code, &data["leashCode"]), (-32000, &json!(1002)));

    let nothing = granted_list(&harness).await?;
    assert_eq!(nothing, json!([]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_permission_is_used_revoked_and_then_refused() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let granted = grant(&harness, &erc20_request(key.address(), 100)).await?;
    let permissions = json!({ "context": granted["context"] });

    let id = harness
        .send_session_transfer(&permissions, &key_hex, RECIPIENT, 30)
        .await?;
    let status = harness.final_status(&id).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(30));
    // The allowance is the grant's: 70 left.
    let beyond = prepare_transfer(&harness, &permissions, 71).await?;
    assert_eq!(beyond["error"]["code"], -32003, "{beyond}");
    assert_eq!(granted_list(&harness).await?, json!([granted]));

    let malformed = revoke(&harness, &json!("0x00aa")).await?;
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    assert_eq!(
        malformed["error"]["data"]["field"],
        "params.permissionContext"
    );

    let revocation = revoke(&harness, &granted["context"]).await?["result"].clone();
    let prepared = &revocation["preparedCalls"];
    assert_eq!(prepared["type"], "user-operation-v070", "{revocation}");
    let status = harness.send_owner_signed(prepared, Signing::Raw).await?;
    assert_eq!(status["status"], 200, "{status}");

    let refused = prepare_transfer(&harness, &permissions, 1).await?;
    assert_eq!(refused["error"]["code"], -32003, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("is revoked"), "{message}");
    // Revoked on chain: the answer is MetaMask's bare {}, and the grant is no longer listed.
    let revoked = revoke(&harness, &granted["context"]).await?["result"].clone();
    assert_eq!(revoked, json!({}));
    // Its parameters in an array, as some clients send every method's, are read the same way.
    let positional = harness
        .result(
            "wallet_revokeExecutionPermission",
            json!([{ "permissionContext": granted["context"] }]),
        )
        .await?;
    assert_eq!(positional, json!({}));
    assert_eq!(granted_list(&harness).await?, json!([]));
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(30));
    Ok(())
}

/// `to` names who redeems the permission: a contract (here an ERC-1271 smart account) signs as
/// `isValidSignature` asks it, a `contract` session key; an EOA, delegated or not, with its key.
#[tokio::test(flavor = "multi_thread")]
async fn a_contract_as_to_signs_as_its_is_valid_signature_accepts() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (owner, _) = session_key();
    let contract = smart_owner::deploy(&harness, owner.address())?;
    let granted = grant(&harness, &erc20_request(contract, 100)).await?;
    let session_id = &granted["context"].as_str().unwrap_or_default()[4..36];
    let session = harness
        .result(
            "leash_getSession",
            json!([{ "sessionId": format!("0x{session_id}") }]),
        )
        .await?;
    assert_eq!(session["keyType"]["type"], "contract", "{session}");
    assert_eq!(session["sessionKey"], json!(contract));

    let permissions = json!({ "context": granted["context"] });
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 30),
        )
        .await?;
    assert_eq!(
        prepared["signatureRequest"]["type"], "contract",
        "{prepared}"
    );
    let hash: B256 = serde_json::from_value(prepared["signatureRequest"]["data"]["raw"].clone())?;
    let send = |signature: Value| {
        json!([{
            "type": prepared["type"], "data": prepared["data"], "chainId": prepared["chainId"],
            "signature": signature,
        }])
    };
    let (stranger, _) = session_key();
    let refused = harness
        .call(
            "wallet_sendPreparedCalls",
            send(smart_owner::signature(&stranger, hash)?),
        )
        .await?;
    assert_eq!(refused["error"]["data"]["leashCode"], 1018, "{refused}");
    let sent = harness
        .result(
            "wallet_sendPreparedCalls",
            send(smart_owner::signature(&owner, hash)?),
        )
        .await?;
    let status = harness.final_status(&sent["id"]).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(30));

    // The owner's account is delegated (EIP-7702): code, but its key signs.
    let delegated = harness
        .result(
            "wallet_requestExecutionPermissions",
            json!([erc20_request(OWNER, 1)]),
        )
        .await?;
    let session = harness
        .result(
            "leash_getSession",
            json!([{ "sessionId": delegated[0]["sessionId"] }]),
        )
        .await?;
    assert_eq!(session["keyType"]["type"], "secp256k1", "{session}");
    Ok(())
}
