//! The npm toolchain's binaries, and an anvil with the leash contracts deployed.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

use alloy_network::EthereumWallet;
use alloy_node_bindings::{Anvil, AnvilInstance};
use alloy_primitives::Address;
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;
use std::path::PathBuf;

/// `node_modules/.bin/<name>` of the workspace, installed by `scripts/toolchain`.
pub fn toolchain_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/.bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/toolchain to install the npm toolchain",
        path.display()
    );
    path
}

/// A Prague anvil; it is killed when dropped.
pub fn anvil() -> AnvilInstance {
    Anvil::at(toolchain_binary("anvil"))
        .arg("--hardfork")
        .arg("prague")
        .try_spawn()
        .expect("anvil starts")
}

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
    leash_sdk::deploy_missing(provider, from, &leash_bindings::Deployment::all())
        .await
        .expect("contracts deploy");
}
