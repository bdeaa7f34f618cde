//! Connections to the chain's node and the checks every command makes before relying on it.

use crate::{
    failure::{Failure, sender_failure},
    output::Output,
};
use alloy_network::EthereumWallet;
use alloy_primitives::B256;
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;
use leash_bindings::Deployment;
use leash_core::{
    grant::GrantDomain,
    prepare::{Fees, PreparedOperation},
    rpc_types::UserOperationReceipt,
    sender::{SignedUserOperation, UserOperationSender},
    session_state::SessionState,
};
use leash_sdk::{
    deploy::missing_deployments,
    submission::{ReceiptWait, ReceiptWaitError, wait_for_receipt},
    transport::BundlerClient,
};
use leash_sim::{BundleOutcome, Chain};
use std::time::Duration;
use url::Url;

/// A provider for reads (and for transactions from accounts the node holds).
pub(crate) fn reader(url: &Url) -> DynProvider {
    ProviderBuilder::new().connect_http(url.clone()).erased()
}

/// A provider that signs transactions with `key`.
pub(crate) fn signing(url: &Url, key: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(key))
        .connect_http(url.clone())
        .erased()
}

/// The chain id, which also proves the node answers.
pub(crate) async fn chain_id(provider: &DynProvider, url: &Url) -> eyre::Result<u64> {
    provider
        .get_chain_id()
        .await
        .wrap_err_with(|| format!("no answer from the node at {url}"))
}

/// The grant domain on this chain.
pub(crate) fn grant_domain(chain_id: u64) -> GrantDomain {
    GrantDomain {
        chain_id,
        validator: Deployment::session_key_validator().address(),
    }
}

/// Fails unless the EntryPoint, `LeashAccount` and `SessionKeyValidator` have code.
pub(crate) async fn require_contracts(provider: &DynProvider) -> eyre::Result<()> {
    let needed = [
        Deployment::entry_point(),
        Deployment::leash_account(),
        Deployment::session_key_validator(),
    ];
    let missing = missing_deployments(provider, &needed).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|d| format!("{} ({})", d.name, d.address()))
        .collect();
    Err(Failure::usage(format!(
        "not deployed on this chain: {}; run `leash deploy --private-key …` or \
         `forge script script/Deploy.s.sol --rpc-url … --broadcast`",
        names.join(", ")
    )))
}

/// The latest block's timestamp: what validation compares session windows against.
pub(crate) async fn chain_time(provider: &DynProvider) -> eyre::Result<u64> {
    let block = provider
        .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
        .await?
        .ok_or_else(|| eyre::eyre!("the node has no latest block"))?;
    Ok(block.header.timestamp)
}

/// Current EIP-1559 fees.
pub(crate) async fn fees(provider: &DynProvider) -> eyre::Result<Fees> {
    let estimate = provider
        .estimate_eip1559_fees()
        .await
        .wrap_err("estimating fees")?;
    Ok(Fees {
        max_fee_per_gas: estimate.max_fee_per_gas,
        max_priority_fee_per_gas: estimate.max_priority_fee_per_gas,
    })
}

/// Sends `request` and waits for its receipt. It is estimated first, so a call that would revert
/// fails (exit 3, with the decoded reason) without spending gas; one that reverts anyway when
/// included fails with exit 4.
pub(crate) async fn send_checked(
    provider: &DynProvider,
    request: TransactionRequest,
    what: &str,
) -> eyre::Result<B256> {
    if let Err(error) = provider.estimate_gas(request.clone()).await {
        let reason = error
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data())
            .map(|data| leash_core::revert_reason::RevertReason::decode(&data).to_string())
            .unwrap_or_else(|| error.to_string());
        return Err(Failure::denied(format!("{what} would fail: {reason}")));
    }
    let receipt = provider
        .send_transaction(request)
        .await
        .wrap_err_with(|| format!("sending {what}"))?
        .get_receipt()
        .await?;
    if !receipt.status() {
        return Err(Failure::reverted(format!(
            "{what} {} reverted",
            receipt.transaction_hash
        )));
    }
    Ok(receipt.transaction_hash)
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

/// A client of the ERC-4337 bundler at `url`, reading nonces from `node`; fails unless the
/// bundler answers and serves the same chain as the node (id `chain_id`).
pub(crate) async fn bundler(
    url: &Url,
    node: DynProvider,
    chain_id: u64,
) -> eyre::Result<BundlerClient<DynProvider, DynProvider>> {
    let client = BundlerClient::new(reader(url), node);
    let bundler_chain = client
        .chain_id()
        .await
        .wrap_err_with(|| format!("no answer from the bundler at {url}"))?;
    if bundler_chain != chain_id {
        return Err(Failure::usage(format!(
            "the bundler at {url} serves chain {bundler_chain}, the node chain {chain_id}"
        )));
    }
    Ok(client)
}

/// Sends `prepared` through `sender` and waits (bounded by `wait`) for its receipt, with a
/// progress line on stderr while it is not included. A refusal is explained with `state`
/// (exit 3 or 4).
pub(crate) async fn deliver<S: UserOperationSender>(
    sender: &S,
    prepared: &PreparedOperation,
    wait: ReceiptWait,
    state: Option<&SessionState>,
    out: &Output,
) -> eyre::Result<UserOperationReceipt> {
    let hash = prepared.user_op_hash;
    let sent = sender
        .send(&prepared.op)
        .await
        .map_err(|error| sender_failure(error, state))?;
    if sent != hash {
        return Err(eyre::eyre!(
            "the bundler returned UserOperation hash {sent} for the operation signed as {hash}"
        ));
    }
    let mut reported = None;
    let receipt = wait_for_receipt(
        sender,
        hash,
        wait,
        tokio::time::sleep,
        |waited: Duration| {
            // One line at once, then one every 5 s.
            let seconds = waited.as_secs();
            if reported.is_none_or(|last| seconds >= last + 5) {
                reported = Some(seconds);
                out.progress(format!(
                    "waiting for UserOperation {hash} to be included ({seconds}s of {}s)",
                    wait.timeout.as_secs()
                ));
            }
        },
    )
    .await;
    match receipt {
        Ok(receipt) => Ok(receipt),
        Err(ReceiptWaitError::Sender(error)) => Err(sender_failure(error, state)),
        Err(timeout @ ReceiptWaitError::TimedOut { .. }) => Err(eyre::Report::new(timeout)),
    }
}
