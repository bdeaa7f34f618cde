//! HTTP connections to a node and to an ERC-4337 bundler, opened the same way by every front end
//! (the CLI's commands, `leash serve --rpc-url`).

use crate::{
    service::{ServiceError, check_bundler_chain},
    transport::{BundlerClient, Fallback},
};
use alloy_network::EthereumWallet;
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_client::ClientBuilder;
use alloy_signer_local::PrivateKeySigner;
use alloy_transport::layers::RetryBackoffLayer;
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

/// How often a bundler client retries a request the bundler turned away for load (HTTP 429 or
/// 503), and the first wait, doubled at each retry: about 6 s in all before the request fails
/// (and a [`Fallback`] tries the next bundler).
const BUNDLER_RETRIES: u32 = 5;
const BUNDLER_FIRST_BACKOFF_MS: u64 = 200;
/// alloy's budget of compute units per second, which paces its retries; bundlers publish none.
const BUNDLER_COMPUTE_UNITS_PER_SECOND: u64 = 330;

/// Clients of the bundler at `first` and then those at `rest`, tried in that order
/// ([`Fallback`]), reading nonces from `node`. Each that answers must serve the node's chain
/// (`chain_id`); one that cannot be reached now stays in the list, since it may be back when it
/// is needed, but one at least must answer.
pub async fn bundlers(
    first: &Url,
    rest: &[Url],
    node: DynProvider,
    chain_id: u64,
) -> Result<Fallback<BundlerClient<DynProvider, DynProvider>>, ServiceError> {
    let rest = rest
        .iter()
        .map(|url| bundler_client(url, node.clone()))
        .collect();
    let fallback = Fallback::new(bundler_client(first, node), rest);
    let mut unreachable = None;
    let mut reachable = 0;
    for client in fallback.senders() {
        match check_bundler_chain(client, chain_id).await {
            Ok(()) => reachable += 1,
            Err(error @ ServiceError::Sender(_)) => unreachable = Some(error),
            Err(error) => return Err(error),
        }
    }
    match unreachable {
        Some(error) if reachable == 0 => Err(error),
        _ => Ok(fallback),
    }
}

fn bundler_client(url: &Url, node: DynProvider) -> BundlerClient<DynProvider, DynProvider> {
    let retrying = RetryBackoffLayer::new(
        BUNDLER_RETRIES,
        BUNDLER_FIRST_BACKOFF_MS,
        BUNDLER_COMPUTE_UNITS_PER_SECOND,
    );
    let client = ClientBuilder::default().layer(retrying).http(url.clone());
    let bundler = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_client(client)
        .erased();
    BundlerClient::new(bundler, node)
}
