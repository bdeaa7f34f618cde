//! An EOA's EIP-7702 delegation as a live chain has it.

use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::Address;
use alloy_provider::{Provider, transport::TransportError};
use alloy_signer::{Signer, SignerSync};
use leash_core::eip7702::{delegate_of, sign_authorization};

/// Why a delegation could not be read or an authorization signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DelegationError {
    /// The node could not be reached or failed.
    #[error("node request failed: {0}")]
    Transport(#[from] TransportError),
    /// The signer failed.
    #[error(transparent)]
    Operation(#[from] leash_core::error::OperationError),
}

/// The delegate of `account` on the provider's chain (`eth_getCode` at the latest block), or
/// `None` when the account is not delegated.
pub async fn delegate_at<P: Provider>(
    provider: &P,
    account: Address,
) -> Result<Option<Address>, DelegationError> {
    Ok(delegate_of(&provider.get_code_at(account).await?))
}

/// The authorization to send with `signer`'s first UserOperation: `None` when its EOA is already
/// delegated to `delegate`, otherwise one signed for this chain at the EOA's current nonce (the
/// bundler, not the EOA, sends the type-4 transaction that carries it).
pub async fn authorization_if_not_delegated<P: Provider>(
    provider: &P,
    signer: &(impl SignerSync + Signer),
    delegate: Address,
) -> Result<Option<SignedAuthorization>, DelegationError> {
    let eoa = Signer::address(signer);
    if delegate_at(provider, eoa).await? == Some(delegate) {
        return Ok(None);
    }
    let chain_id = provider.get_chain_id().await?;
    let nonce = provider.get_transaction_count(eoa).await?;
    Ok(Some(sign_authorization(signer, chain_id, delegate, nonce)?))
}
