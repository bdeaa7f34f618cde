//! Several servers on one PostgreSQL database and one chain (anvil), as replicas behind a load
//! balancer: any of them answers any method, a send reaching all of them at once is submitted
//! once, and the calls of a replica that stopped before submitting them are taken over by
//! another once its claims lapse.

mod support;

use alloy_node_bindings::AnvilInstance;
use alloy_primitives::{Address, U256};
use leash_server::{
    RunningServer, Submitter,
    state::{Claimant, PostgresState},
};
use leash_testkit::{Postgres, anvil};
use serde_json::{Value, json};
use std::time::Duration;
use support::{
    Harness, OWNER, Signing, cast_sign, create_session_params, loopback,
    node::{deploy_leash, dev_key, remote},
    send_params, session_key, transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);
/// Short, so a takeover happens within the test.
const LEASE: Duration = Duration::from_secs(2);

/// A replica `id` on `url`'s database and `anvil`'s chain, sending `handleOps` from dev key
/// `key` (each replica its own, so their transaction nonces never race); with `submitting:
/// false` it acknowledges sends and never submits them, as a replica killed before submitting.
async fn replica(
    anvil: &AnvilInstance,
    url: &str,
    (id, key): (&str, usize),
    submitting: bool,
) -> eyre::Result<Harness> {
    let chain = remote(anvil, Submitter::Key(dev_key(key)?)).await?;
    let claimant = Claimant {
        id: id.to_owned(),
        lease: LEASE,
    };
    let state = PostgresState::open(url, claimant).await?;
    let server: RunningServer = if submitting {
        leash_server::start(&loopback(), chain, state).await?
    } else {
        leash_server::start_without_submitting(&loopback(), chain, state).await?
    };
    Harness::connect(server, None)
}

/// A chain with leash deployed, and a PostgreSQL cluster with a `leash` database: the chain and the
/// cluster, which the caller keeps alive, and the database's URL.
async fn chain_and_database() -> eyre::Result<(AnvilInstance, Postgres, String)> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let postgres = Postgres::start();
    let url = postgres.database("leash");
    Ok((anvil, postgres, url))
}

/// The owner of `first`'s account delegates through it (its first owner call).
async fn delegate(first: &Harness) -> eyre::Result<()> {
    let (_, status) = first.owner_calls(json!([]), Signing::Raw).await?;
    eyre::ensure!(status["status"] == 200, "delegation: {status}");
    Ok(())
}

/// The owner delegated through `first`, and a session of a fresh key with an allowance of 100
/// created through it: the `permissions` that name it and the key's private key.
async fn delegated_with_session(first: &Harness) -> eyre::Result<(Value, String)> {
    delegate(first).await?;
    let (key, key_hex) = session_key();
    let (_, permissions) = first.signed_session(key.address(), 100).await?;
    Ok((permissions, key_hex))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_reaching_three_replicas_at_once_is_submitted_once() -> eyre::Result<()> {
    let (anvil, _postgres, url) = chain_and_database().await?;
    let a = replica(&anvil, &url, ("a", 5), true).await?;
    let b = replica(&anvil, &url, ("b", 6), true).await?;
    let c = replica(&anvil, &url, ("c", 7), true).await?;
    let (permissions, key_hex) = delegated_with_session(&a).await?;

    // Prepared on one replica, signed, and sent to all three at once.
    let prepared = b
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 40),
        )
        .await?;
    let signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
    let request = send_params(&prepared, &signature);
    let (on_a, on_b, on_c) = tokio::join!(
        a.result("wallet_sendPreparedCalls", request.clone()),
        b.result("wallet_sendPreparedCalls", request.clone()),
        c.result("wallet_sendPreparedCalls", request.clone()),
    );
    let id = on_a?["id"].clone();
    assert_eq!(on_b?["id"], id);
    assert_eq!(on_c?["id"], id);

    for replica in [&a, &b, &c] {
        let status = replica.final_status(&id).await?;
        assert_eq!(status["status"], 200, "{status}");
    }
    assert_eq!(c.token_balance(RECIPIENT).await?, U256::from(40));
    // One UserOperationEvent for the operation: it ran once.
    let hash = &prepared["signatureRequest"]["data"]["raw"];
    let events = c
        .result(
            "eth_getLogs",
            json!([{ "fromBlock": "0x0", "topics": [null, hash] }]),
        )
        .await?;
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_takes_over_the_calls_of_one_that_stopped() -> eyre::Result<()> {
    let (anvil, _postgres, url) = chain_and_database().await?;
    let survivor = replica(&anvil, &url, ("survivor", 5), true).await?;
    let (permissions, key_hex) = delegated_with_session(&survivor).await?;
    // A second session: operations prepared before the first is included take their own nonce
    // lane, so the two are independent.
    let (other_key, other_hex) = session_key();
    let (_, other) = survivor.signed_session(other_key.address(), 100).await?;

    // Acknowledged by a replica that never submits, which then stops.
    let doomed = replica(&anvil, &url, ("doomed", 6), false).await?;
    let mut ids = Vec::new();
    for (permissions, key_hex, amount) in [(&permissions, &key_hex, 10), (&other, &other_hex, 20)] {
        let id = doomed
            .send_session_transfer(permissions, key_hex, RECIPIENT, amount)
            .await?;
        ids.push(id);
    }
    drop(doomed);

    // Once the doomed replica's claims lapse, the survivor submits both.
    for id in &ids {
        let status = survivor.final_status(id).await?;
        assert_eq!(status["status"], 200, "{status}");
    }
    assert_eq!(survivor.token_balance(RECIPIENT).await?, U256::from(30));
    let taken_over = survivor.metric("leash_calls_taken_over_total").await?;
    assert_eq!(taken_over, Some(2.0), "counted as taken over");
    let pending = survivor.metric("leash_calls_pending").await?;
    assert_eq!(pending, Some(0.0), "and pending until final");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restarting_under_load_loses_no_call_and_runs_none_twice() -> eyre::Result<()> {
    let (anvil, postgres, url) = chain_and_database().await?;
    let server = replica(&anvil, &url, ("only", 5), true).await?;
    let (_, status) = server.owner_calls(json!([]), Signing::Raw).await?;
    eyre::ensure!(status["status"] == 200, "delegation: {status}");

    // Sessions first (each its own nonce lane), then their calls sent at once, and the database
    // halted while they are submitted: their statuses cannot be written.
    let mut signed = Vec::new();
    for _ in 0..4 {
        let (key, key_hex) = session_key();
        let (_, permissions) = server.signed_session(key.address(), 100).await?;
        let prepared = server
            .result(
                "wallet_prepareCalls",
                transfer_params(&permissions, RECIPIENT, 5),
            )
            .await?;
        let signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
        signed.push(send_params(&prepared, &signature));
    }
    let mut ids = Vec::new();
    for request in &signed {
        ids.push(
            server
                .result("wallet_sendPreparedCalls", request.clone())
                .await?["id"]
                .clone(),
        );
    }
    postgres.halt();
    // While it is down, requests that need it fail (and clients retry): nothing is acknowledged.
    let refused = server
        .call("wallet_getCallsStatus", json!([ids[0]]))
        .await?;
    assert_eq!(refused["error"]["code"], -32603, "{refused}");
    tokio::time::sleep(LEASE * 2).await;
    postgres.resume();

    // Back up, the server takes its lapsed calls again, finds them included, and records it.
    for id in &ids {
        let status = server.final_status(id).await?;
        assert_eq!(status["status"], 200, "{status}");
    }
    assert_eq!(server.token_balance(RECIPIENT).await?, U256::from(20));
    Ok(())
}

/// A message a session asks one replica to prepare (`wallet_prepareSign`) is formatted by another
/// (`wallet_formatSign`): the messages waiting for their signatures are in the shared database.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_prepared_by_one_replica_is_formatted_by_another() -> eyre::Result<()> {
    let (anvil, _postgres, url) = chain_and_database().await?;
    let a = replica(&anvil, &url, ("a", 5), true).await?;
    let b = replica(&anvil, &url, ("b", 6), true).await?;
    delegate(&a).await?;
    let (key, key_hex) = session_key();
    let mut params = create_session_params(key.address(), 100);
    params[0]["permissions"]
        .as_array_mut()
        .ok_or_else(|| eyre::eyre!("permissions"))?
        .push(json!({ "type": "personal-sign" }));
    let (_, permissions) = a.signed_session_of(params).await?;
    let ask = |field: &str, value: Value| {
        json!([{
            "from": OWNER, "chainId": "0x7a69", field: value,
            "capabilities": { "permissions": permissions },
        }])
    };

    let login = json!({ "type": "personal_sign", "data": "login to app.example" });
    let prepared = a
        .result("wallet_prepareSign", ask("signatureRequest", login))
        .await?;
    let signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
    let signature = ask(
        "signature",
        json!({ "type": "secp256k1", "data": signature }),
    );
    let by_b = b.result("wallet_formatSign", signature.clone()).await?;
    let by_a = a.result("wallet_formatSign", signature).await?;
    assert_eq!(by_b, by_a);
    assert!(by_b["signature"].is_string(), "{by_b}");
    Ok(())
}
