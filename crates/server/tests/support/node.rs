//! A node's chain for the servers under test: anvil with leash deployed and the owner's tokens
//! minted, and the dev keys that send its transactions.

use super::{MINTED, OWNER};
use alloy_network::TransactionBuilder;
use alloy_node_bindings::AnvilInstance;
use alloy_primitives::U256;
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, TestToken};
use leash_sdk::{connect, deploy::deploy_missing, submission::ReceiptWait};
use leash_server::{DEV_ACCOUNT_KEYS, RemoteChain, Submitter};
use std::time::Duration;
use url::Url;

/// anvil's dev account 8 sends `handleOps` (alto holds 3 and 4, the deployer is 9; replicas
/// take 5 to 7).
pub(crate) const BUNDLER_KEY: usize = 8;
const DEPLOYER_KEY: usize = 9;

pub(crate) fn dev_key(index: usize) -> eyre::Result<PrivateKeySigner> {
    Ok(PrivateKeySigner::from_bytes(&DEV_ACCOUNT_KEYS[index])?)
}

/// Deploys leash's contracts and the test token on `anvil`, and mints [`MINTED`] to [`OWNER`].
pub(crate) async fn deploy_leash(anvil: &AnvilInstance) -> eyre::Result<()> {
    let deployer = dev_key(DEPLOYER_KEY)?;
    let node = connect::signing(&anvil.endpoint_url(), deployer.clone());
    let contracts = [Deployment::all(), Deployment::test_contracts()].concat();
    deploy_missing(&node, deployer.address(), &contracts).await?;
    let mint = TestToken::mintCall {
        to: OWNER,
        amount: U256::from(MINTED),
    };
    let request = TransactionRequest::default()
        .with_to(Deployment::test_token().address())
        .with_input(mint.abi_encode());
    let receipt = node.send_transaction(request).await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "minting reverted");
    Ok(())
}

/// Waits (up to 60 s) until the JSON-RPC endpoint at `url` answers: alto takes a few seconds to
/// listen.
pub(crate) async fn answering(url: &Url) -> eyre::Result<()> {
    let endpoint = connect::reader(url);
    for _ in 0..240 {
        if endpoint.get_chain_id().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eyre::bail!("{url} did not answer within 60 s")
}

/// `anvil`'s chain, served through `submitter`.
pub(crate) async fn remote(
    anvil: &AnvilInstance,
    submitter: Submitter,
) -> eyre::Result<RemoteChain> {
    let wait = ReceiptWait::default();
    Ok(RemoteChain::connect(anvil.endpoint_url(), submitter, wait).await?)
}
