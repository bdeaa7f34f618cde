//! Calls sent one after another without waiting: an operation prepared while an earlier one of
//! the same lane is sent but not yet included is numbered after it, for a session's calls and for
//! the owner's own.

mod support;

use alloy_primitives::{Address, U256};
use leash_server::state::MemoryState;
use serde_json::{Value, json};
use support::{
    Harness, OWNER, cast_sign, loopback, owner_key, send_params, session_key, transfer_call,
    transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);

/// The nonce of a `wallet_prepareCalls` answer's operation.
fn nonce(prepared: &Value) -> eyre::Result<U256> {
    Ok(serde_json::from_value(prepared["data"]["nonce"].clone())?)
}

/// A server on `delegated`'s chain that acknowledges sends and never submits them: what it
/// acknowledged stays pending, as behind a slow bundler.
async fn never_submitting(delegated: &Harness) -> eyre::Result<Harness> {
    let chain = delegated.chain()?.clone();
    let server =
        leash_server::start_without_submitting(&loopback(), chain.clone(), MemoryState::new())
            .await?;
    Harness::connect(server, Some(chain))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_call_prepared_behind_a_pending_one_takes_the_next_nonce() -> eyre::Result<()> {
    let delegated = Harness::start().await?;
    let harness = never_submitting(&delegated).await?;
    let (key, key_hex) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 100).await?;

    let first = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 1),
        )
        .await?;
    let signature = cast_sign(&key_hex, &first["signatureRequest"]["data"]["raw"], true)?;
    harness
        .result("wallet_sendPreparedCalls", send_params(&first, &signature))
        .await?;
    let second = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 2),
        )
        .await?;
    assert_eq!(nonce(&second)?, nonce(&first)? + U256::from(1));

    // Prepared again without sending the second: still after the first, not after the second.
    let third = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 3),
        )
        .await?;
    assert_eq!(nonce(&third)?, nonce(&second)?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_call_prepared_behind_a_pending_one_takes_the_next_nonce() -> eyre::Result<()> {
    let delegated = Harness::start().await?;
    let harness = never_submitting(&delegated).await?;
    let owner_calls =
        json!([{ "calls": [transfer_call(RECIPIENT, 1)], "from": OWNER, "chainId": "0x7a69" }]);

    let first = harness
        .result("wallet_prepareCalls", owner_calls.clone())
        .await?;
    let signature = cast_sign(
        &owner_key(),
        &first["signatureRequest"]["data"]["raw"],
        true,
    )?;
    harness
        .result("wallet_sendPreparedCalls", send_params(&first, &signature))
        .await?;
    let second = harness.result("wallet_prepareCalls", owner_calls).await?;
    assert_eq!(nonce(&second)?, nonce(&first)? + U256::from(1));
    Ok(())
}
