//! A recurring allowance through `leash serve`: `wallet_createSession` takes a limit's `period`,
//! `leash_getSession` reports what the current period has left and when it ends, and a spend
//! beyond the period's rest is included with its calls reverted (EIP-5792 status 500).

mod support;

use alloy_primitives::{Address, U256};
use serde_json::json;
use support::{Harness, create_session_params, hex_u64, session_key};

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

    // Within the day's amount, beyond its rest: included, the calls reverted, nothing moved.
    let status = spend(50).await?;
    assert_eq!(status["status"], 500, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(60));
    Ok(())
}
