//! Fork mode: the embedded chain starts from an anvil node's state, runs UserOperations on top of
//! it, and leaves the node untouched.

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, U256, address};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::Deployment;
use leash_sim::{Chain, Execution, walkthrough};

const RECIPIENT: Address = address!("0x000000000000000000000000000000000000beef");
const ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

#[test]
fn a_fork_reads_the_node_and_writes_only_to_itself() -> eyre::Result<()> {
    let anvil = leash_testkit::anvil();
    let funder = PrivateKeySigner::from(anvil.keys()[0].clone());
    let owner = PrivateKeySigner::from_bytes(&[0x11; 32].into())?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(funder.clone()))
        .connect_http(anvil.endpoint_url());

    // On the node: the leash contracts, and an EOA with 5 ETH.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        leash_sdk::deploy::deploy_missing(&provider, funder.address(), &Deployment::all()).await?;
        let funding = TransactionRequest::default()
            .with_to(owner.address())
            .with_value(ETH * U256::from(5));
        provider
            .send_transaction(funding)
            .await?
            .get_receipt()
            .await?;
        eyre::Ok(())
    })?;

    // The fork drives its provider's connections on its own runtime: give it its own client.
    let fork_provider = ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .erased();
    let mut fork = Chain::fork(fork_provider, None)?;
    assert_eq!(fork.chain_id(), 31337);
    assert_eq!(
        fork.balance(owner.address())?,
        ETH * U256::from(5),
        "state comes from the node"
    );
    let entry_point = Deployment::entry_point().address();
    let node_code = runtime.block_on(async { provider.get_code_at(entry_point).await })?;
    assert_eq!(
        fork.code(entry_point)?,
        node_code,
        "the node's EntryPoint, not a redeployment"
    );

    let report = walkthrough::owner_transfer(&mut fork, &owner, RECIPIENT, ETH)?;
    let ops = report.outcome.ops().expect("included");
    assert_eq!(ops[0].execution, Execution::Succeeded);
    assert_eq!(fork.balance(RECIPIENT)?, ETH);

    let (recipient, owner_code) = runtime.block_on(async {
        let balance = provider.get_balance(RECIPIENT).await?;
        eyre::Ok((balance, provider.get_code_at(owner.address()).await?))
    })?;
    assert_eq!(recipient, U256::ZERO, "the node saw nothing");
    assert!(owner_code.is_empty(), "the node's EOA is not delegated");
    Ok(())
}
