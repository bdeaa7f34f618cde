//! `leash serve --rpc-url`: the Wallet API flow on anvil instead of the embedded chain, its
//! operations submitted by a key's `handleOps` or through alto, and every `eth_*` method
//! answered by the node itself.

mod support;

use alloy_node_bindings::{Anvil, AnvilInstance};
use alloy_primitives::{Address, U256};
use alloy_provider::Provider;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, TestToken};
use leash_core::session_signer::P256Verification;
use leash_sdk::{connect, submission::ReceiptWait};
use leash_server::{
    RemoteChain, ServedChain, StartError, Submitter, codes, open_state_dir, state::MemoryState,
};
use leash_testkit::{Alto, PersistentAnvil, anvil, toolchain_binary};
use serde_json::json;
use std::{
    net::{Ipv4Addr, TcpListener},
    time::Duration,
};
use support::{
    Harness, MINTED, OWNER, Signing, cast_sign, create_session_params, loopback,
    node::{BUNDLER_KEY, answering, deploy_leash, dev_key, remote},
    owner_key, p256_keys, send_params, session_key, transfer_call, transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);
/// A server on loopback serving `anvil`'s chain, submitting through `submitter`.
async fn serve(anvil: &AnvilInstance, submitter: Submitter) -> eyre::Result<Harness> {
    let chain = remote(anvil, submitter).await?;
    let server = leash_server::start(&loopback(), chain, MemoryState::new()).await?;
    Harness::connect(server, None)
}

/// The owner's first call delegates the account (the array form), a session key then spends
/// within its allowance, and a spend beyond what is left is refused with the numbers.
async fn delegate_then_spend(harness: &Harness) -> eyre::Result<()> {
    let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "delegation: {status}");
    let (key, key_hex) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 100).await?;

    let id = harness
        .send_session_transfer(&permissions, &key_hex, RECIPIENT, 40)
        .await?;
    let status = harness.final_status(&id).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(status["receipts"][0]["status"], "0x1", "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(40));

    let refused = harness
        .call(
            "wallet_prepareCalls",
            transfer_params(&permissions, RECIPIENT, 61),
        )
        .await?;
    assert_eq!(refused["error"]["code"], codes::DENIED, "{refused}");
    let reason = refused["error"]["data"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("erc20-token-transfer") && reason.contains("requested 61, remaining 60"),
        "{reason}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_spend_on_anvil_through_handle_ops_from_a_key() -> eyre::Result<()> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let harness = serve(&anvil, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    delegate_then_spend(&harness).await
}

/// A P-256 session key on a node's chain: the server probes `0x100` once, when it connects, so
/// the session's signatures name the precompile on Osaka and leash's Solidity verifier before it
/// (the precompile named there would find no code, and the transfer would fail as a signature).
#[tokio::test(flavor = "multi_thread")]
async fn p256_sessions_spend_on_anvil_with_the_precompile_or_without_it() -> eyre::Result<()> {
    for (hardfork, verification) in [
        ("osaka", P256Verification::Precompile),
        ("prague", P256Verification::Fallback),
    ] {
        let anvil = Anvil::at(toolchain_binary("anvil"))
            .args(["--hardfork", hardfork])
            .try_spawn()?;
        deploy_leash(&anvil).await?;
        let chain = remote(&anvil, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
        let served = ServedChain::from(chain);
        assert_eq!(served.p256_verification(), verification, "{hardfork}");
        let server = leash_server::start(&loopback(), served, MemoryState::new()).await?;
        let harness = Harness::connect(server, None)?;
        let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
        assert_eq!(status["status"], 200, "{hardfork}: delegation: {status}");

        let key = p256_keys::random();
        let mut params = create_session_params(Address::ZERO, 100);
        params[0]["key"] = json!({ "type": "p256", "publicKey": p256_keys::sec1(&key) });
        let (_, permissions) = harness.signed_session_of(params).await?;
        let prepared = harness
            .result(
                "wallet_prepareCalls",
                transfer_params(&permissions, RECIPIENT, 40),
            )
            .await?;
        let hash = serde_json::from_value(prepared["signatureRequest"]["rawPayload"].clone())?;
        let request = json!([{
            "type": prepared["type"], "data": prepared["data"], "chainId": prepared["chainId"],
            "signature": p256_keys::signature(&key, hash)?,
        }]);
        let sent = harness.result("wallet_sendPreparedCalls", request).await?;
        let status = harness.final_status(&sent["id"]).await?;
        assert_eq!(status["status"], 200, "{hardfork}: {status}");
        assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(40));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_spend_on_anvil_through_a_bundler_behind_one_that_is_down() -> eyre::Result<()> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let alto = Alto::start(&anvil);
    let url = alto.url().parse()?;
    answering(&url).await?;
    // Nothing listens there: every request falls back to alto.
    let down = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?;
    let down = format!("http://{down}").parse()?;
    let harness = serve(&anvil, Submitter::Bundlers(down, vec![url])).await?;
    delegate_then_spend(&harness).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_submits_the_calls_acknowledged_before_it() -> eyre::Result<()> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let dir = tempfile::tempdir()?;
    let chain = remote(&anvil, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let state = || open_state_dir(dir.path());
    let first = leash_server::start(&loopback(), chain.clone(), state().await?).await?;
    let first = Harness::connect(first, None)?;
    let (_, status) = first.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "delegation: {status}");
    let (key, key_hex) = session_key();
    let (_, permissions) = first.signed_session(key.address(), 100).await?;
    drop(first);

    // Acknowledged, never submitted: what a server killed before submitting leaves behind.
    let second =
        leash_server::start_without_submitting(&loopback(), chain.clone(), state().await?).await?;
    let second = Harness::connect(second, None)?;
    let id = second
        .send_session_transfer(&permissions, &key_hex, RECIPIENT, 40)
        .await?;
    assert_eq!(
        second.result("wallet_getCallsStatus", json!([id])).await?["status"],
        100
    );
    drop(second);

    let third = leash_server::start(&loopback(), chain, state().await?).await?;
    let third = Harness::connect(third, None)?;
    let status = third.final_status(&id).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(third.token_balance(RECIPIENT).await?, U256::from(40));
    Ok(())
}

/// Waits (bounded) until anvil's pool holds `count` pending transactions.
async fn pool_holds(node: &impl Provider, count: u64) -> eyre::Result<()> {
    for _ in 0..200 {
        let status: serde_json::Value = node.raw_request("txpool_status".into(), ()).await?;
        if status["pending"].as_str() == Some(&format!("{count:#x}")) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eyre::bail!("anvil's pool never held {count} pending transactions")
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_sent_while_a_bundle_is_mined_go_out_together_in_the_next() -> eyre::Result<()> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let harness = serve(&anvil, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "delegation: {status}");
    let (key, key_hex) = session_key();
    let (_, permissions) = harness.signed_session(key.address(), 100).await?;
    // Blocks are mined on demand from here: the first bundle waits in the pool for its block.
    let node = connect::reader(&anvil.endpoint_url());
    node.raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (false,))
        .await?;
    let first = harness
        .send_session_transfer(&permissions, &key_hex, RECIPIENT, 10)
        .await?;
    pool_holds(&node, 1).await?;
    let mut rest = Vec::new();
    for amount in [11, 12, 13] {
        rest.push(
            harness
                .send_session_transfer(&permissions, &key_hex, RECIPIENT, amount)
                .await?,
        );
    }
    node.raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await?;
    pool_holds(&node, 1).await?;
    node.raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await?;

    let transaction = |status: &serde_json::Value| status["receipts"][0]["transactionHash"].clone();
    let first = harness.final_status(&first).await?;
    assert_eq!(first["status"], 200, "{first}");
    let mut next = Vec::new();
    for id in &rest {
        let status = harness.final_status(id).await?;
        assert_eq!(status["status"], 200, "{status}");
        next.push(transaction(&status));
    }
    assert_ne!(transaction(&first), next[0]);
    assert!(
        next.iter().all(|hash| *hash == next[0]),
        "the three calls sent while the first bundle waited share one handleOps: {next:?}"
    );
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(46));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_sent_while_the_node_is_down_stay_pending_then_complete() -> eyre::Result<()> {
    let mut node = PersistentAnvil::start();
    deploy_leash(node.instance()).await?;
    let harness = serve(node.instance(), Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "delegation: {status}");
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [transfer_call(RECIPIENT, 3)], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    let signature = cast_sign(
        &owner_key(),
        &prepared["signatureRequest"]["data"]["raw"],
        true,
    )?;

    node.stop();
    // The owner's signed call needs nothing of the node to be acknowledged.
    let sent = harness
        .result(
            "wallet_sendPreparedCalls",
            send_params(&prepared, &signature),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = harness
        .result("wallet_getCallsStatus", json!([sent["id"]]))
        .await?;
    assert_eq!(
        waiting["status"], 100,
        "pending while the node is down: {waiting}"
    );

    node.resume();
    let status = harness.final_status(&sent["id"]).await?;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(3));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_answers_every_eth_method() -> eyre::Result<()> {
    let anvil = anvil();
    deploy_leash(&anvil).await?;
    let harness = serve(&anvil, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let node = connect::reader(&anvil.endpoint_url());

    let number = harness.result("eth_blockNumber", json!([])).await?;
    assert_eq!(
        number,
        json!(format!("{:#x}", node.get_block_number().await?))
    );
    // Outside the embedded chain's subset: the node answers.
    let version = harness.result("web3_clientVersion", json!([])).await?;
    assert!(
        version.as_str().unwrap_or_default().contains("anvil"),
        "{version}"
    );
    let logs = harness
        .result(
            "eth_getLogs",
            json!([{ "fromBlock": "0x0", "address": Deployment::test_token().address() }]),
        )
        .await?;
    assert!(
        !logs.as_array().map(Vec::is_empty).unwrap_or(true),
        "the mint's Transfer: {logs}"
    );
    // The node's errors come back as the node gave them, revert data included.
    let bad = harness
        .call("eth_getBalance", json!(["not an address"]))
        .await?;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let transfer = TestToken::transferCall {
        to: RECIPIENT,
        amount: U256::from(MINTED + 1),
    };
    let call = json!({
        "from": OWNER,
        "to": Deployment::test_token().address(),
        "data": alloy_primitives::Bytes::from(transfer.abi_encode()),
    });
    let reverted = harness.call("eth_call", json!([call, "latest"])).await?;
    assert_eq!(reverted["error"]["code"], 3, "{reverted}");
    assert!(reverted["error"]["data"].is_string(), "{reverted}");
    // A batch mixes the node's methods and the server's own.
    let batch = harness
        .raw(json!([
            { "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [] },
            { "jsonrpc": "2.0", "id": 2, "method": "wallet_getCapabilities", "params": [OWNER, ["0x7a69"]] },
        ]))
        .await?;
    assert_eq!(batch[0]["result"], "0x7a69", "{batch}");
    assert!(batch[1]["result"]["0x7a69"].is_object(), "{batch}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_without_leash_is_refused_at_start() -> eyre::Result<()> {
    let anvil = anvil();
    let submitter = Submitter::Key(dev_key(BUNDLER_KEY)?);
    let refused =
        RemoteChain::connect(anvil.endpoint_url(), submitter, ReceiptWait::default()).await;
    let Err(error @ StartError::Node { .. }) = refused else {
        eyre::bail!("started on a chain without leash: {refused:?}");
    };
    let message = error.to_string();
    assert!(
        message.contains(&anvil.endpoint_url().to_string())
            && message.contains("EntryPoint")
            && message.contains("leash deploy"),
        "{message}"
    );
    Ok(())
}
