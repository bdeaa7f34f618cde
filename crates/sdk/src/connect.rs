//! HTTP connections to a node and to an ERC-4337 bundler, opened the same way by every front end
//! (the CLI's commands, `leash serve --rpc-url`).

use crate::{
    service::{ServiceError, check_bundler_chain},
    transport::BundlerClient,
};
use alloy_network::EthereumWallet;
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;
use url::Url;

/// A provider for reads, and for transactions from accounts the node itself holds (anvil's).
pub fn reader(url: &Url) -> DynProvider {
    ProviderBuilder::new().connect_http(url.clone()).erased()
}

/// A provider that signs its transactions with `key`.
pub fn signing(url: &Url, key: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(key))
        .connect_http(url.clone())
        .erased()
}

/// A client of the ERC-4337 bundler at `url`, reading nonces from `node`, once the bundler has
/// answered that it serves the node's chain (`chain_id`): an operation estimated and hashed for
/// another chain would be signed for nothing.
pub async fn bundler(
    url: &Url,
    node: DynProvider,
    chain_id: u64,
) -> Result<BundlerClient<DynProvider, DynProvider>, ServiceError> {
    let client = BundlerClient::new(reader(url), node);
    check_bundler_chain(&client, chain_id).await?;
    Ok(client)
}
