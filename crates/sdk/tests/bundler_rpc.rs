//! `BundlerClient` against a real ERC-4337 bundler: Pimlico's alto (npm `@pimlico/alto`, installed
//! by `scripts/toolchain`) in front of anvil.

mod common;

use alloy_node_bindings::AnvilInstance;
use alloy_primitives::{Address, Bytes, U256, utils::parse_ether};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;
use common::{anvil, deploy, dev_key, wallet_provider};
use leash_bindings::Deployment;
use leash_sdk::{
    AaCode, BundlerClient, Call, GasSettings, SenderError, SignedUserOperation,
    UserOperationBuilder, UserOperationSender, authorization_if_not_delegated, delegate_at,
    sign_owner, user_operation_hash,
};
use leash_testkit::toolchain_binary;
use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const RECIPIENT: Address = Address::repeat_byte(0xbe);

/// A running alto; killed when dropped.
struct Alto {
    process: Child,
    url: String,
}

impl Drop for Alto {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Starts alto for the canonical EntryPoint v0.8 on `anvil`, with dev keys 3 (executor) and 4
/// (utility: it deploys alto's simulation contracts at startup).
fn alto(anvil: &AnvilInstance) -> Alto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let key = |index: usize| dev_key(anvil, index).to_bytes().to_string();
    let process = Command::new(toolchain_binary("alto"))
        .arg("--entrypoints")
        .arg(Deployment::entry_point().address().to_string())
        .arg("--executor-private-keys")
        .arg(key(3))
        .arg("--utility-private-key")
        .arg(key(4))
        .arg("--rpc-url")
        .arg(anvil.endpoint())
        .arg("--port")
        .arg(port.to_string())
        // Safe mode traces validation against the ERC-7562 rules with a JS tracer anvil lacks.
        .args(["--safe-mode", "false", "--log-level", "warn"])
        .stdout(Stdio::null())
        .spawn()
        .expect("alto starts");
    Alto {
        process,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn ready_client(
    anvil: &AnvilInstance,
    alto: &Alto,
) -> BundlerClient<impl Provider + Clone, impl Provider + Clone> {
    let bundler = ProviderBuilder::new().connect_http(alto.url.parse().expect("url"));
    let node = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let client = BundlerClient::new(bundler, node);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client.supported_entry_points().await {
            Ok(entry_points) => {
                assert_eq!(entry_points, vec![Deployment::entry_point().address()]);
                return client;
            }
            // Not listening yet.
            Err(SenderError::Transport(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => panic!("alto did not answer: {error}"),
        }
    }
}

/// A transfer from `owner`'s EOA signed by `signer`, with its authorization while the EOA is not
/// delegated.
async fn transfer_operation(
    client: &impl UserOperationSender,
    node: &impl Provider,
    owner: &PrivateKeySigner,
    signer: &PrivateKeySigner,
    gas: GasSettings,
) -> SignedUserOperation {
    let leash_account = Deployment::leash_account().address();
    let authorization = authorization_if_not_delegated(node, owner, leash_account)
        .await
        .expect("authorization");
    let nonce = client
        .nonce(owner.address(), U256::ZERO)
        .await
        .expect("nonce");
    let mut builder = UserOperationBuilder::new(owner.address())
        .nonce(nonce)
        .calls(&[Call::transfer(RECIPIENT, parse_ether("1").expect("ether"))])
        .expect("one call")
        .gas(gas);
    if authorization.is_some() {
        builder = builder.eip7702();
    }
    let mut operation = builder.build().expect("complete");
    let chain_id = client.chain_id().await.expect("chain id");
    let hash = user_operation_hash(
        &operation,
        client.entry_point(),
        chain_id,
        Some(leash_account),
    )
    .expect("hash");
    operation.signature = sign_owner(signer, hash).expect("signs");
    SignedUserOperation {
        operation,
        authorization,
    }
}

#[tokio::test]
async fn bundler_estimates_sends_and_reports_a_delegating_operation() {
    let anvil = anvil();
    let deployer = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let stranger = dev_key(&anvil, 2);
    let node = wallet_provider(&anvil, deployer.clone());
    deploy(&node, deployer.address()).await;
    let alto = alto(&anvil);
    let client = ready_client(&anvil, &alto).await;

    // A signature by the wrong key: the bundler's simulation rejects it with AA24.
    let forged =
        transfer_operation(&client, &node, &owner, &stranger, GasSettings::default()).await;
    let error = client.send(&forged).await.expect_err("wrong signer");
    let SenderError::Rejected(rejection) = error else {
        panic!("expected an EntryPoint rejection, got {error:?}");
    };
    assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);

    // Estimate with a dummy signature, then sign the estimated operation.
    let mut draft =
        transfer_operation(&client, &node, &owner, &owner, GasSettings::default()).await;
    draft.operation.signature = Bytes::from(vec![0xff; 65]);
    let estimate = client.estimate(&draft).await.expect("estimates");
    let gas = GasSettings {
        verification_gas_limit: estimate.verification_gas_limit.to(),
        call_gas_limit: estimate.call_gas_limit.to(),
        pre_verification_gas: estimate.pre_verification_gas.to(),
        ..GasSettings::default()
    };
    let op = transfer_operation(&client, &node, &owner, &owner, gas).await;
    let before = node.get_balance(RECIPIENT).await.expect("balance");
    let user_op_hash = client.send(&op).await.expect("accepted");

    let deadline = Instant::now() + Duration::from_secs(30);
    let receipt = loop {
        if let Some(receipt) = client.receipt(user_op_hash).await.expect("lookup") {
            break receipt;
        }
        assert!(Instant::now() < deadline, "not bundled in time");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(receipt.success);
    assert_eq!(receipt.user_op_hash, user_op_hash);
    assert_eq!(receipt.sender, owner.address());
    assert_eq!(
        node.get_balance(RECIPIENT).await.expect("balance") - before,
        parse_ether("1").expect("ether")
    );
    assert_eq!(
        delegate_at(&node, owner.address()).await.expect("code"),
        Some(Deployment::leash_account().address())
    );
}
