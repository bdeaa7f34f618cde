//! Usage and rate limits through `leash_getSession`: what each permission's call counters have
//! left, read from the validator now, before the session is enabled and after its calls, so a
//! client need not recompute them from the grant.

mod support;

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, Target};
use serde_json::{Value, json};
use support::{Harness, OWNER, cast_sign, send_params, session_key};

fn target_call(data: Vec<u8>) -> Value {
    json!({ "to": Deployment::test_target().address(), "data": Bytes::from(data) })
}

#[tokio::test(flavor = "multi_thread")]
async fn get_session_reports_the_calls_each_limit_has_left() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let target = Deployment::test_target().address();
    let selector = |selector: [u8; 4]| Bytes::from(selector.to_vec());
    let permissions = json!([
        {"type": "functions-on-contract", "data": {
            "address": target, "functions": [selector(Target::payCall::SELECTOR)],
            "rules": [{"type": "usage-limit", "data": {"calls": 3}}]}},
        {"type": "functions-on-contract", "data": {
            "address": target, "functions": [selector(Target::pingCall::SELECTOR)],
            "rules": [{"type": "rate-limit", "data": {"calls": 2, "period": {"seconds": 86_400}}}]}},
    ]);
    let (session_id, capability) = harness
        .signed_session_of(json!([{
            "chainId": "0x7a69",
            "expirySec": 4_102_444_800u64,
            "key": { "type": "secp256k1", "publicKey": key.address() },
            "permissions": permissions,
            "account": OWNER,
        }]))
        .await?;
    let session = || harness.result("leash_getSession", json!([{ "sessionId": session_id }]));
    let call = |data: Vec<u8>| {
        let (harness, capability, key_hex) = (&harness, &capability, &key_hex);
        async move {
            let params = json!([{
                "calls": [target_call(data)], "from": OWNER, "chainId": "0x7a69",
                "capabilities": { "permissions": capability },
            }]);
            let prepared = harness.result("wallet_prepareCalls", params).await?;
            let signed = cast_sign(key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
            let sent = harness
                .result("wallet_sendPreparedCalls", send_params(&prepared, &signed))
                .await?;
            harness.final_status(&sent["id"]).await
        }
    };
    let day = json!({"seconds": 86_400, "start": 0});

    // Before the session is enabled each limit is whole, and no period has begun.
    let unused = session().await?;
    assert_eq!(unused["status"], "unused", "{unused}");
    assert_eq!(
        unused["usesLeft"],
        json!([{"permissionIndex": 0, "limit": 3, "left": "0x3"}]),
        "{unused}"
    );
    assert_eq!(
        unused["rateLeft"],
        json!([{"permissionIndex": 1, "limit": 2, "period": day, "left": "0x2", "resetsAt": null}]),
        "{unused}"
    );

    let pay = Target::payCall {
        _0: OWNER,
        _1: U256::from(7),
    }
    .abi_encode();
    assert_eq!(call(pay).await?["status"], 200);
    assert_eq!(call(Target::pingCall {}.abi_encode()).await?["status"], 200);
    let used = session().await?;
    assert_eq!(used["status"], "enabled", "{used}");
    assert_eq!(used["usesLeft"][0]["left"], "0x2", "{used}");
    let rate = &used["rateLeft"][0];
    assert_eq!(rate["left"], "0x1", "{used}");
    let resets_at = rate["resetsAt"]
        .as_u64()
        .expect("the day's end once a call counted");
    assert_eq!(resets_at % 86_400, 0, "a day ends at midnight UTC");

    let listed = harness
        .result("leash_listSessions", json!([{ "account": OWNER }]))
        .await?;
    assert_eq!(listed["sessions"][0]["usesLeft"], used["usesLeft"]);
    assert_eq!(listed["sessions"][0]["rateLeft"], used["rateLeft"]);
    Ok(())
}
