//! The `eth_*` subset against `leash serve` alone, driven by the real `cast` as a script would:
//! reads of the chain, a plain transfer and an EIP-7702 delegation sent as signed transactions
//! (each mined at once, its receipt there), and the errors: an unserved method names
//! `--rpc-url`, a wrong chain id or a stale nonce is refused (-32000), a revert is code 3 with
//! its data.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod support;

use alloy_primitives::{Address, U256, address};
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, IERC20};
use leash_core::eip7702::delegation_designator;
use leash_server::DEV_ACCOUNT_KEYS;
use leash_testkit::toolchain_binary;
use serde_json::{Value, json};
use std::process::Command;
use support::{Harness, MINTED, OWNER};

/// anvil's second and third dev accounts.
const SENDER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const DELEGATOR: Address = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
const RECIPIENT: Address = Address::repeat_byte(0x55);

/// `cast <args> --rpc-url <the server>`: its trimmed stdout, failing on a non-zero exit. Every
/// request is bounded by `--rpc-timeout`.
fn cast(harness: &Harness, args: &[&str]) -> eyre::Result<String> {
    let output = Command::new(toolchain_binary("cast"))
        .args(args)
        .args(["--rpc-url", &harness.url, "--rpc-timeout", "10"])
        .output()?;
    eyre::ensure!(
        output.status.success(),
        "cast {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

fn key(index: usize) -> String {
    DEV_ACCOUNT_KEYS[index].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn cast_reads_the_embedded_chain() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    assert_eq!(cast(&harness, &["chain-id"])?, "31337");
    let latest = harness.chain()?.with_chain(|chain| chain.block_number());
    assert_eq!(cast(&harness, &["block-number"])?, latest.to_string());
    let sender = SENDER.to_string();
    assert_eq!(
        cast(&harness, &["balance", &sender])?,
        "10000000000000000000000"
    );
    assert_eq!(cast(&harness, &["nonce", &sender])?, "0");

    let entry_point = Deployment::entry_point().address();
    let code = harness
        .chain()?
        .with_chain(|chain| chain.code(entry_point))?;
    assert!(!code.is_empty());
    assert_eq!(
        cast(&harness, &["code", &entry_point.to_string()])?,
        code.to_string()
    );

    let token = Deployment::test_token().address().to_string();
    let owner = OWNER.to_string();
    let balance = cast(
        &harness,
        &["call", &token, "balanceOf(address)(uint256)", &owner],
    )?;
    // cast adds the scientific form: `1000000 [1e6]`.
    assert_eq!(balance.split(' ').next(), Some(MINTED.to_string().as_str()));

    let block = cast(&harness, &["block", "latest", "--json"])?;
    let block: Value = serde_json::from_str(&block)?;
    assert_eq!(block["number"], format!("{latest:#x}"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn cast_send_transfers_and_mines_a_block() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let before = harness.chain()?.with_chain(|chain| chain.block_number());
    let sent = cast(
        &harness,
        &[
            "send",
            &RECIPIENT.to_string(),
            "--value",
            "1000",
            "--private-key",
            &key(1),
            "--json",
        ],
    )?;
    let receipt: Value = serde_json::from_str(&sent)?;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["from"], SENDER.to_string().to_lowercase());
    assert_eq!(receipt["blockNumber"], format!("{:#x}", before + 1));

    let hash = receipt["transactionHash"].as_str().unwrap_or_default();
    let again: Value = serde_json::from_str(&cast(&harness, &["receipt", hash, "--json"])?)?;
    assert_eq!(again, receipt);
    let transaction = harness
        .result("eth_getTransactionByHash", json!([hash]))
        .await?;
    assert_eq!(transaction["from"], receipt["from"]);
    assert_eq!(transaction["value"], "0x3e8");

    assert_eq!(
        cast(&harness, &["balance", &RECIPIENT.to_string()])?,
        "1000"
    );
    assert_eq!(cast(&harness, &["nonce", &SENDER.to_string()])?, "1");
    let fee = U256::from_str_radix(
        receipt["gasUsed"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("0x"),
        16,
    )? * U256::from_str_radix(
        receipt["effectiveGasPrice"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("0x"),
        16,
    )?;
    let balance = harness.chain()?.with_chain(|chain| chain.balance(SENDER))?;
    let funded = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
    assert_eq!(balance, funded - U256::from(1000u64) - fee);
    assert_eq!(cast(&harness, &["block-number"])?, (before + 1).to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn cast_send_auth_delegates_an_eoa() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let leash_account = Deployment::leash_account().address();
    let sent = cast(
        &harness,
        &[
            "send",
            &DELEGATOR.to_string(),
            "--auth",
            &leash_account.to_string(),
            "--private-key",
            &key(2),
            "--json",
        ],
    )?;
    let receipt: Value = serde_json::from_str(&sent)?;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["type"], "0x4");
    assert_eq!(
        cast(&harness, &["code", &DELEGATOR.to_string()])?,
        delegation_designator(leash_account).to_string()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unserved_method_names_rpc_url() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    for method in ["eth_getLogs", "web3_clientVersion", "net_peerCount"] {
        let response = harness.call(method, json!([])).await?;
        assert_eq!(response["error"]["code"], -32601, "{response}");
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(method) && message.contains("--rpc-url"),
            "{message}"
        );
    }
    // Not a node method: jsonrpsee's own answer.
    let response = harness.call("wallet_nothing", json!([])).await?;
    assert_eq!(response["error"]["code"], -32601, "{response}");
    // In a batch, each call is answered as it is alone.
    let batch = harness
        .raw(json!([
            { "jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{}] },
            { "jsonrpc": "2.0", "id": 2, "method": "eth_chainId", "params": [] },
            { "jsonrpc": "2.0", "method": "eth_chainId", "params": [] },
        ]))
        .await?;
    let answers = batch.as_array().map(Vec::as_slice).unwrap_or_default();
    assert_eq!(answers.len(), 2, "{batch}");
    let message = answers[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("--rpc-url"), "{batch}");
    assert_eq!(answers[1]["result"], "0x7a69", "{batch}");
    Ok(())
}

/// A signed transfer of 1 wei from anvil's fourth dev account, made offline by `cast mktx`.
fn signed_transfer(harness: &Harness, chain: u64, nonce: u64) -> eyre::Result<String> {
    cast(
        harness,
        &[
            "mktx",
            &RECIPIENT.to_string(),
            "--value",
            "1",
            "--private-key",
            &key(3),
            "--chain",
            &chain.to_string(),
            "--nonce",
            &nonce.to_string(),
            "--gas-limit",
            "21000",
            "--gas-price",
            "2gwei",
            "--priority-gas-price",
            "1gwei",
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_raw_transactions_say_why() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let refused = |response: &Value, expected: &str| {
        assert_eq!(response["error"]["code"], -32000, "{response}");
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    };

    let other_chain = signed_transfer(&harness, 1, 0)?;
    let response = harness
        .call("eth_sendRawTransaction", json!([other_chain]))
        .await?;
    refused(&response, "chain id 1 is not this chain's (31337)");

    let ahead = signed_transfer(&harness, 31337, 1)?;
    let response = harness
        .call("eth_sendRawTransaction", json!([ahead]))
        .await?;
    refused(&response, "nonce too high");

    let first = signed_transfer(&harness, 31337, 0)?;
    let hash = harness
        .result("eth_sendRawTransaction", json!([first]))
        .await?;
    let receipt = harness
        .result("eth_getTransactionReceipt", json!([hash]))
        .await?;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let response = harness
        .call("eth_sendRawTransaction", json!([first]))
        .await?;
    refused(&response, "nonce too low");

    let response = harness
        .call("eth_sendRawTransaction", json!(["0x1234"]))
        .await?;
    refused(&response, "not a signed transaction");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reverting_call_answers_code_3_with_its_data() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let transfer = IERC20::transferCall {
        to: OWNER,
        amount: U256::from(1),
    };
    let request = json!({
        "from": RECIPIENT,
        "to": Deployment::test_token().address(),
        "data": alloy_primitives::Bytes::from(transfer.abi_encode()),
    });
    for method in ["eth_call", "eth_estimateGas"] {
        let response = harness.call(method, json!([request, "latest"])).await?;
        assert_eq!(response["error"]["code"], 3, "{response}");
        let data = response["error"]["data"].as_str().unwrap_or_default();
        assert!(data.len() > 2, "{response}");
    }
    let response = harness
        .call("eth_call", json!([request, "earliest"]))
        .await?;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    Ok(())
}
