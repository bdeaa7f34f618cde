//! Putting the leash contracts on a chain: every [`Deployment`] through the standard CREATE2
//! deployer, so each lands at its canonical address.

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256};
use alloy_provider::{PendingTransactionError, Provider, transport::TransportError};
use alloy_rpc_types_eth::TransactionRequest;
use leash_bindings::CREATE2_DEPLOYER;
/// The leash contracts and their deterministic addresses, which these functions take.
pub use leash_bindings::Deployment;

/// Why the contracts could not be deployed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The chain has no code at the CREATE2 deployer's address.
    #[error("no CREATE2 deployer at {CREATE2_DEPLOYER} on this chain")]
    NoCreate2Deployer,
    /// The deployment transaction reverted.
    #[error("deploying {name} reverted in transaction {tx_hash}")]
    Reverted {
        /// The contract.
        name: &'static str,
        /// The transaction.
        tx_hash: B256,
    },
    /// The transaction succeeded but left no code at the expected address.
    #[error("deploying {name} left no code at {address}")]
    NoCode {
        /// The contract.
        name: &'static str,
        /// Its expected address.
        address: Address,
    },
    /// A deployment transaction was sent but its receipt could not be obtained.
    #[error(transparent)]
    Pending(#[from] PendingTransactionError),
    /// The node could not be reached or refused the transaction.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// The `deployments` that have no code on the provider's chain, in the order given.
pub async fn missing_deployments<P: Provider>(
    provider: &P,
    deployments: &[Deployment],
) -> Result<Vec<Deployment>, TransportError> {
    let mut missing = Vec::new();
    for deployment in deployments {
        if provider.get_code_at(deployment.address()).await?.is_empty() {
            missing.push(*deployment);
        }
    }
    Ok(missing)
}

/// Deploys, from `from`, each of `deployments` that has no code yet, in the order given (pass
/// [`Deployment::all`] for what every chain needs, dependencies first, and add
/// [`Deployment::test_contracts`] on local chains); returns the ones it deployed. Running it again
/// deploys nothing.
pub async fn deploy_missing<P: Provider>(
    provider: &P,
    from: Address,
    deployments: &[Deployment],
) -> Result<Vec<Deployment>, DeployError> {
    if provider.get_code_at(CREATE2_DEPLOYER).await?.is_empty() {
        return Err(DeployError::NoCreate2Deployer);
    }
    let mut deployed = Vec::new();
    for deployment in deployments.iter().copied() {
        let address = deployment.address();
        if !provider.get_code_at(address).await?.is_empty() {
            continue;
        }
        let request = TransactionRequest::default()
            .with_from(from)
            .with_to(CREATE2_DEPLOYER)
            .with_input(deployment.deployer_calldata());
        let receipt = provider
            .send_transaction(request)
            .await?
            .get_receipt()
            .await?;
        if !receipt.status() {
            return Err(DeployError::Reverted {
                name: deployment.name,
                tx_hash: receipt.transaction_hash,
            });
        }
        if provider.get_code_at(address).await?.is_empty() {
            return Err(DeployError::NoCode {
                name: deployment.name,
                address,
            });
        }
        deployed.push(deployment);
    }
    Ok(deployed)
}
