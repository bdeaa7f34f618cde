//! The npm toolchain's binaries, and an anvil with the leash contracts deployed.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

use alloy_network::EthereumWallet;
use alloy_node_bindings::AnvilInstance;
use alloy_primitives::Address;
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;

pub use leash_testkit::anvil;

/// The `index`th funded dev key of `anvil`.
pub fn dev_key(anvil: &AnvilInstance, index: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[index].clone())
}

/// A provider that signs with `key`.
pub fn wallet_provider(anvil: &AnvilInstance, key: PrivateKeySigner) -> impl Provider + Clone {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(key))
        .connect_http(anvil.endpoint_url())
}

/// Deploys the leash contracts from `from`.
pub async fn deploy(provider: &impl Provider, from: Address) {
    leash_sdk::deploy::deploy_missing(provider, from, &leash_bindings::Deployment::all())
        .await
        .expect("contracts deploy");
}
