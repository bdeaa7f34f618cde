//! What every use case checks on the node before relying on it: the chain, the contracts, the
//! clock and the fees.

use super::{ServiceError, StoredSession};
use crate::deploy::{Deployment, missing_deployments};
use alloy_provider::Provider;
use alloy_rpc_types_eth::BlockNumberOrTag;
use leash_core::{grant::GrantDomain, prepare::Fees, sender::UserOperationSender};

/// The grant domain of this chain's `SessionKeyValidator` at its deterministic address.
pub fn grant_domain(chain_id: u64) -> GrantDomain {
    GrantDomain {
        chain_id,
        validator: Deployment::session_key_validator().address(),
    }
}

/// The contracts every session use case needs: the EntryPoint, `LeashAccount` and
/// `SessionKeyValidator`.
pub fn required_deployments() -> [Deployment; 3] {
    [
        Deployment::entry_point(),
        Deployment::leash_account(),
        Deployment::session_key_validator(),
    ]
}

/// Fails with [`ServiceError::NotDeployed`] unless every [`required_deployments`] has code.
pub async fn require_deployments<P: Provider>(provider: &P) -> Result<(), ServiceError> {
    let missing = missing_deployments(provider, &required_deployments()).await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::NotDeployed { missing })
    }
}

/// The latest block's timestamp: what validation compares session windows against, so expiries
/// count from it rather than from this machine's clock.
pub async fn chain_time<P: Provider>(provider: &P) -> Result<u64, ServiceError> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await?
        .ok_or(ServiceError::NoLatestBlock)?;
    Ok(block.header.timestamp)
}

/// The node's current EIP-1559 fees.
pub async fn fees<P: Provider>(provider: &P) -> Result<Fees, ServiceError> {
    let estimate = provider.estimate_eip1559_fees().await?;
    Ok(Fees {
        max_fee_per_gas: estimate.max_fee_per_gas,
        max_priority_fee_per_gas: estimate.max_priority_fee_per_gas,
    })
}

/// `session`'s grant domain, after checking that the node serves the session's chain (a grant
/// signed for one chain is worthless on another, and its session id differs).
pub async fn session_domain<P: Provider>(
    provider: &P,
    session: &StoredSession,
) -> Result<GrantDomain, ServiceError> {
    let actual = provider.get_chain_id().await?;
    if actual != session.chain_id {
        return Err(ServiceError::WrongChain {
            session: session.session_id,
            expected: session.chain_id,
            actual,
        });
    }
    Ok(GrantDomain {
        chain_id: actual,
        validator: session.validator,
    })
}

/// Fails unless `bundler` answers and serves `node_chain_id`: operations it estimated for another
/// chain would be signed with the wrong chain id.
pub async fn check_bundler_chain<S: UserOperationSender>(
    bundler: &S,
    node_chain_id: u64,
) -> Result<(), ServiceError> {
    let bundler_chain_id = bundler.chain_id().await.map_err(ServiceError::Sender)?;
    if bundler_chain_id == node_chain_id {
        Ok(())
    } else {
        Err(ServiceError::BundlerWrongChain {
            bundler: bundler_chain_id,
            node: node_chain_id,
        })
    }
}
