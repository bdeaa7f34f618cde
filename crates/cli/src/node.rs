//! Connections to the chain's node and the bundler, the fork a dry run simulates on, and the
//! progress lines of a wait.

use crate::output::Output;
use alloy_primitives::B256;
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use eyre::WrapErr;
use leash_core::{
    rpc_types::UserOperationReceipt,
    sender::{SignedUserOperation, UserOperationSender},
    session_state::SessionState,
};
use leash_sdk::{
    connect,
    service::{ServiceError, wait_included},
    submission::ReceiptWait,
    transport::{BundlerClient, Fallback},
};
use leash_sim::{BundleOutcome, Chain};
use std::time::Duration;
use url::Url;

pub(crate) use leash_sdk::connect::{reader, signing};

/// The chain id, which also proves the node answers.
pub(crate) async fn chain_id(provider: &DynProvider, url: &Url) -> eyre::Result<u64> {
    provider
        .get_chain_id()
        .await
        .wrap_err_with(|| format!("no answer from the node at {url}"))
}

/// Runs `op` on a fork of the chain at `url` (latest block) without sending anything: the same
/// validation and execution as on chain, with the calls' balance changes.
pub(crate) async fn simulate_on_fork(
    url: &Url,
    op: SignedUserOperation,
) -> eyre::Result<BundleOutcome> {
    let url = url.clone();
    // The fork reads the node synchronously on its own runtime, with a client of its own.
    tokio::task::spawn_blocking(move || {
        let mut fork = Chain::fork(ProviderBuilder::new().connect_http(url).erased(), None)?;
        let authorizations = op.authorization.into_iter().collect();
        Ok(fork.simulate(vec![op.operation], authorizations)?)
    })
    .await
    .wrap_err("the fork's thread failed")?
}

/// Clients of the ERC-4337 bundlers `first` and then `rest` (fallbacks, in order), reading
/// nonces from `node`; fails unless one of them answers and every one that does serves the same
/// chain as the node (id `chain_id`).
pub(crate) async fn bundlers(
    (first, rest): &(Url, Vec<Url>),
    node: DynProvider,
    chain_id: u64,
) -> eyre::Result<Fallback<BundlerClient<DynProvider, DynProvider>>> {
    connect::bundlers(first, rest, node, chain_id)
        .await
        .map_err(|error| match error {
            ServiceError::Sender(error) => {
                eyre::Report::new(error).wrap_err(format!("no answer from the bundler at {first}"))
            }
            error => eyre::Report::new(error).wrap_err("the bundler".to_owned()),
        })
}

/// Waits (bounded by `wait`) for `hash`'s receipt from `sender`, with a progress line on stderr
/// while it is not included: one at once, then one every 5 s.
pub(crate) async fn wait<S: UserOperationSender>(
    sender: &S,
    hash: B256,
    wait: ReceiptWait,
    state: Option<&SessionState>,
    out: &Output,
) -> Result<UserOperationReceipt, ServiceError> {
    let mut reported = None;
    let progress = |waited: Duration| {
        let seconds = waited.as_secs();
        if reported.is_none_or(|last| seconds >= last + 5) {
            reported = Some(seconds);
            out.progress(format!(
                "waiting for UserOperation {hash} to be included ({seconds}s of {}s)",
                wait.timeout.as_secs()
            ));
        }
    };
    wait_included(sender, hash, wait, tokio::time::sleep, progress, state).await
}
