//! A recurring allowance through `leash serve`: `wallet_createSession` takes a limit's `period`,
//! `leash_getSession` reports what the current period has left and when it ends, and a spend
//! beyond the period's rest is denied by `wallet_prepareCalls`, whose estimate runs the execution
//! phase that reads the clock (-32003, leash code 2001, the sentence with the numbers).

mod support;

use alloy_primitives::{Address, U256};
use serde_json::json;
use support::{Harness, create_session_params, hex_u64, session_key, transfer_params};

const RECIPIENT: Address = Address::repeat_byte(0x77);

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_allowance_is_reported_and_refused_beyond_the_days_rest() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, key_hex) = session_key();
    let mut params = create_session_params(key.address(), 100);
    params[0]["permissions"][0]["data"]["period"] = json!({"seconds": 86_400});
    let (id, permissions) = harness.signed_session_of(params).await?;
    let spend = |amount: u64| {
        let (harness, permissions, key_hex) = (&harness, &permissions, &key_hex);
        async move {
            let sent = harness
                .send_session_transfer(permissions, key_hex, RECIPIENT, amount)
                .await?;
            harness.final_status(&sent).await
        }
    };

    let status = spend(60).await?;
    assert_eq!(status["status"], 200, "{status}");
    let session = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    let period = json!({"seconds": 86_400, "start": 0});
    assert_eq!(session["permissions"][0]["data"]["period"], period);
    let budget = &session["budgets"][0];
    assert_eq!(budget["period"], period, "{session}");
    assert_eq!(hex_u64(&budget["remaining"]), Some(40), "{session}");
    assert_eq!(hex_u64(&budget["allowance"]), Some(100), "{session}");
    let resets_at = budget["resetsAt"].as_u64().expect("resetsAt");
    assert_eq!(resets_at % 86_400, 0, "a day ends at midnight UTC");

    // Within the day's amount, beyond its rest: denied before anything is signed, nothing moved.
    let beyond = harness
        .call(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 50),
        )
        .await?;
    let error = &beyond["error"];
    assert_eq!(error["code"], -32003, "{beyond}");
    assert_eq!(error["data"]["leashCode"], 2001, "{beyond}");
    let reason = error["data"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.ends_with(&format!(
            "the operation's calls moved 50 of token {} out of the account, more than the 40 its \
             recurring allowance has left in this period, which ends at {} (unix {resets_at}) (the \
             calls were undone)",
            leash_bindings::Deployment::test_token().address(),
            leash_core::expiry::format_utc(resets_at),
        )),
        "{beyond}"
    );
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(60));
    Ok(())
}
