//! A server on a data directory stops with calls acknowledged but not submitted, starts again on
//! the same directory, and every acknowledged call becomes final: nothing is lost, nothing is sent
//! twice, and the sessions and the chain (balances, enabled sessions) are where they were.
//!
//! The stop is made deterministic by the middle server never submitting
//! (`start_without_submitting`): whatever it acknowledged is exactly what a server killed before
//! its bundling task ran would leave behind.

// Each test binary uses part of the shared support.
#[allow(dead_code)]
mod support;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, TestToken};
use leash_core::session_state::OnChainStatus;
use leash_server::{
    open_data_dir,
    state::{SqliteState, State, WireSessionId},
};
use serde_json::{Value, json};
use std::{path::Path, time::Duration};
use support::{Harness, MINTED, OWNER, Signing, cast_sign, loopback, session_key, transfer_params};

const RECIPIENT: Address = Address::repeat_byte(0x77);

/// A server on `dir`'s chain and state, listening on a free loopback port; `submitting: false`
/// acknowledges sends and never submits them.
async fn serve(dir: &Path, submitting: bool) -> eyre::Result<Harness> {
    let (chain, state) = open_data_dir(dir).await?;
    let config = loopback();
    let server = if submitting {
        leash_server::start(&config, chain.clone(), state).await?
    } else {
        leash_server::start_without_submitting(&config, chain.clone(), state).await?
    };
    Harness::connect(server, Some(chain))
}

/// A new session of a fresh key over [`OWNER`]'s test tokens, signed by the owner: its
/// `permissions` capability and the key's private key.
async fn signed_session(harness: &Harness) -> eyre::Result<(Value, String)> {
    let (key, key_hex) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 100).await?;
    Ok((permissions, key_hex))
}

/// Prepares a transfer of `amount` to [`RECIPIENT`] under `permissions`, signs it with `key_hex`
/// as `signing` says and sends it: the `wallet_sendPreparedCalls` request and the id it was acknowledged with.
async fn send_transfer(
    harness: &Harness,
    permissions: &Value,
    key: (&str, Signing),
    amount: u64,
) -> eyre::Result<(Value, Value)> {
    let request = signed_transfer(harness, permissions, key, amount).await?;
    let sent = harness
        .result("wallet_sendPreparedCalls", request.clone())
        .await?;
    Ok((request, sent["id"].clone()))
}

/// The `wallet_sendPreparedCalls` request of [`send_transfer`], not sent.
async fn signed_transfer(
    harness: &Harness,
    permissions: &Value,
    (key_hex, signing): (&str, Signing),
    amount: u64,
) -> eyre::Result<Value> {
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(permissions, RECIPIENT, amount),
        )
        .await?;
    let signature = cast_sign(
        key_hex,
        &prepared["signatureRequest"]["data"]["raw"],
        signing == Signing::Raw,
    )?;
    Ok(json!([{
        "type": prepared["type"],
        "data": prepared["data"],
        "chainId": prepared["chainId"],
        "capabilities": { "permissions": permissions },
        "signature": { "type": "secp256k1", "data": signature },
    }]))
}

/// The on-chain status of the session `permissions` names, read through the state in `dir`.
async fn session_status(
    harness: &Harness,
    dir: &Path,
    permissions: &Value,
) -> eyre::Result<OnChainStatus> {
    let id: WireSessionId = serde_json::from_value(permissions["sessionId"].clone())?;
    let state = SqliteState::open(&dir.join(leash_server::STATE_FILE)).await?;
    let session = state
        .session(id, None)
        .await?
        .ok_or_else(|| eyre::eyre!("session {id} was lost"))?;
    Ok(harness.chain()?.session_state(&session.grant)?.status)
}

/// A submitting server on `dir` whose owner holds [`MINTED`] test tokens (saved with the chain)
/// and is delegated by its first owner call.
async fn minted_and_delegated(dir: &Path) -> eyre::Result<Harness> {
    let harness = serve(dir, true).await?;
    let mint = TestToken::mintCall {
        to: OWNER,
        amount: U256::from(MINTED),
    };
    harness.chain()?.with_chain(|chain| {
        let token = Deployment::test_token().address();
        chain.transact(chain.bundler(), token, mint.abi_encode().into(), U256::ZERO)
    })?;
    harness.chain()?.save()?;
    let (_, delegated) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(delegated["status"], 200, "{delegated}");
    Ok(harness)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_call_is_final_after_a_restart() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;

    // 1. A server that submits: the owner is delegated, a session is enabled by its first call.
    let first = minted_and_delegated(dir.path()).await?;
    let (enabled, enabled_key) = signed_session(&first).await?;
    let (_, id) = send_transfer(&first, &enabled, (&enabled_key, Signing::Raw), 10).await?;
    assert_eq!(first.final_status(&id).await?["status"], 200);
    drop(first);

    // 2. Restarted: the chain and the session survived. This server acknowledges three calls
    // (the enabled session's, and the first, lazily enabling, calls of two new sessions: each
    // session has its own nonce lane) and stops before submitting any.
    let second = serve(dir.path(), false).await?;
    assert_eq!(second.token_balance(RECIPIENT).await?, U256::from(10));
    assert_eq!(
        session_status(&second, dir.path(), &enabled).await?,
        OnChainStatus::Enabled
    );
    let (lazy_a, key_a) = signed_session(&second).await?;
    let (lazy_b, key_b) = signed_session(&second).await?;
    let mut acknowledged = Vec::new();
    // One signed as personal_sign does: kept in the contracts' EIP-191 form (v + 4).
    for (permissions, key, signing, amount) in [
        (&enabled, &enabled_key, Signing::Raw, 4),
        (&lazy_a, &key_a, Signing::Raw, 5),
        (&lazy_b, &key_b, Signing::PersonalSign, 6),
    ] {
        acknowledged.push(send_transfer(&second, permissions, (key, signing), amount).await?);
    }
    for (_, id) in &acknowledged {
        let status = second.result("wallet_getCallsStatus", json!([id])).await?;
        assert_eq!(status["status"], 100, "{status}");
    }
    drop(second);

    // 3. Restarted again, submitting: every acknowledged call reaches 200, in order.
    let third = serve(dir.path(), true).await?;
    for (_, id) in &acknowledged {
        let status = third.final_status(id).await?;
        assert_eq!(status["status"], 200, "{status}");
        assert_eq!(status["receipts"][0]["status"], "0x1", "{status}");
    }
    assert_eq!(
        third.token_balance(RECIPIENT).await?,
        U256::from(10 + 4 + 5 + 6)
    );
    assert_eq!(
        third.token_balance(OWNER).await?,
        U256::from(MINTED - (10 + 4 + 5 + 6))
    );
    for permissions in [&lazy_a, &lazy_b] {
        assert_eq!(
            session_status(&third, dir.path(), permissions).await?,
            OnChainStatus::Enabled
        );
    }
    // A client retrying a send from before the restart gets the same id, and nothing moves.
    let (request, id) = &acknowledged[0];
    let replayed = third
        .result("wallet_sendPreparedCalls", request.clone())
        .await?;
    assert_eq!(&replayed["id"], id);
    // The enabled session goes on in its lane after both restarts.
    let (_, id) = send_transfer(&third, &enabled, (&enabled_key, Signing::Raw), 7).await?;
    assert_eq!(third.final_status(&id).await?["status"], 200);
    assert_eq!(
        third.token_balance(RECIPIENT).await?,
        U256::from(10 + 4 + 5 + 6 + 7)
    );
    Ok(())
}

/// Calls acknowledged together go into one bundle when the server resumes them. Two of them
/// were prepared on the same nonce of one session, so the EntryPoint rejects the later one: it
/// leaves the bundle, the others are included, and it alone ends failed.
#[tokio::test(flavor = "multi_thread")]
async fn an_operation_rejected_in_a_bundle_fails_alone() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = minted_and_delegated(dir.path()).await?;
    drop(first);

    let second = serve(dir.path(), false).await?;
    let (session_a, key_a) = signed_session(&second).await?;
    let (session_b, key_b) = signed_session(&second).await?;
    // Both calls of session a are prepared before either is sent: they share a nonce.
    let mut requests = Vec::new();
    for (permissions, key, amount) in [
        (&session_a, &key_a, 4),
        (&session_a, &key_a, 5),
        (&session_b, &key_b, 6),
    ] {
        requests.push(signed_transfer(&second, permissions, (key, Signing::Raw), amount).await?);
    }
    let mut acknowledged = Vec::new();
    for request in requests {
        let sent = second.result("wallet_sendPreparedCalls", request).await?;
        acknowledged.push(sent["id"].clone());
    }
    drop(second);

    let third = serve(dir.path(), true).await?;
    let mut statuses = Vec::new();
    for id in &acknowledged {
        statuses.push(third.final_status(id).await?);
    }
    let codes: Vec<&Value> = statuses.iter().map(|status| &status["status"]).collect();
    assert_eq!(codes, [&json!(200), &json!(400), &json!(200)]);
    let failures = third.metric("leash_submission_failures_total").await?;
    assert_eq!(failures, Some(1.0));
    // The two included went in one bundle transaction.
    let transaction = |status: &Value| status["receipts"][0]["transactionHash"].clone();
    assert_eq!(transaction(&statuses[0]), transaction(&statuses[2]));
    assert!(transaction(&statuses[0]).is_string(), "{}", statuses[0]);
    assert_eq!(third.token_balance(RECIPIENT).await?, U256::from(4 + 6));
    Ok(())
}

/// The status code `dir`'s state holds for the call `id` (the chain id ‖ its UserOperation hash).
async fn stored_status(dir: &Path, id: &Value) -> eyre::Result<u16> {
    let id = id
        .as_str()
        .ok_or_else(|| eyre::eyre!("{id} is not an id"))?;
    let hash: B256 = id[id.len() - 64..].parse()?;
    let state = SqliteState::open(&dir.join(leash_server::STATE_FILE)).await?;
    let status = state.status(hash, None).await?;
    Ok(status
        .ok_or_else(|| eyre::eyre!("call {id} was lost"))?
        .code())
}

/// A server stopped gracefully (what `leash serve` does on SIGTERM) with calls acknowledged:
/// given the time, it submits them all before it returns; given none, each call is final or
/// still pending in the state, as many pending as it reports, and a server started on the same
/// directory completes them. Nothing is lost, nothing is sent twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_shutdown_finishes_calls_in_flight_or_leaves_them_pending() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = minted_and_delegated(dir.path()).await?;
    let (session, key) = signed_session(&first).await?;
    let (_, id) = send_transfer(&first, &session, (&key, Signing::Raw), 1).await?;
    assert_eq!(first.shutdown(Duration::from_secs(10)).await?, 0);
    assert_eq!(stored_status(dir.path(), &id).await?, 200);

    // Three sessions' calls (a nonce lane each) signed first, then sent at once, and the server
    // stopped at once after the acknowledgements: the submission task gets no time.
    let second = serve(dir.path(), true).await?;
    let mut requests = Vec::new();
    for amount in [2, 3, 4] {
        let (session, key) = signed_session(&second).await?;
        requests.push(signed_transfer(&second, &session, (&key, Signing::Raw), amount).await?);
    }
    let send = |request: &Value| second.result("wallet_sendPreparedCalls", request.clone());
    let (a, b, c) = tokio::join!(send(&requests[0]), send(&requests[1]), send(&requests[2]));
    let ids = [a?["id"].clone(), b?["id"].clone(), c?["id"].clone()];
    let left_pending = second.shutdown(Duration::ZERO).await?;
    let mut stored = Vec::new();
    for id in &ids {
        stored.push(stored_status(dir.path(), id).await?);
    }
    assert!(
        stored.iter().all(|code| [100, 200].contains(code)),
        "{stored:?}"
    );
    let pending = stored.iter().filter(|code| **code == 100).count();
    assert_eq!(pending, left_pending, "{stored:?}");

    let third = serve(dir.path(), true).await?;
    for id in &ids {
        assert_eq!(third.final_status(id).await?["status"], 200);
    }
    assert_eq!(
        third.token_balance(RECIPIENT).await?,
        U256::from(1 + 2 + 3 + 4)
    );
    Ok(())
}
