//! What every use case checks on the node before relying on it: the chain, the contracts, the
//! clock and the fees.

use super::{ServiceError, StoredSession};
use crate::deploy::{Deployment, missing_deployments};
use alloy_primitives::{Address, U256, address, hex};
use alloy_provider::Provider;
use alloy_rpc_types_eth::{BlockNumberOrTag, TransactionRequest};
use leash_core::{
    grant::GrantDomain, prepare::Fees, sender::UserOperationSender,
    session_signer::P256Verification,
};

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

/// The P256VERIFY precompile (EIP-7951 on Osaka, RIP-7212 on rollups).
const P256_PRECOMPILE: Address = address!("0x0000000000000000000000000000000000000100");

/// A valid P256VERIFY input, `digest ‖ r ‖ s ‖ x ‖ y`: the key of secret
/// `keccak256("leash P256VERIFY probe key")` signing `keccak256("leash P256VERIFY probe")`.
const P256_PROBE: [u8; 160] = hex!(
    "3e96c94d0866d2d5d7a2dfe11457824142c8e20e7d097fbc060a1c126cf7f441"
    "3106a6f259ef51606a7ccf55317c202779d36fa5c4f791af0a743b972903ea3d"
    "de57c99341596ce177d8c33366c9f4d7c441aa43b97f58811b511f4bb2c34312"
    "dc9e71429394aa515e5792871d40a940df69259d73f26fd170e78b67be0d2040"
    "dc56429e7072eb8f06d04a738e4b55fdd26803a5d76f28175cef2df3025919cf"
);

/// Who checks P-256 signatures best on this chain: the precompile when `0x100` verifies a valid
/// signature (it answers 32 bytes of 1), else leash's Solidity verifier. Probed once, when a
/// session is created; a wrong answer could only cost gas, never admit a forgery
/// (docs/architecture.md, "Session signers that are not EOAs").
pub async fn p256_verification<P: Provider>(
    provider: &P,
) -> Result<P256Verification, ServiceError> {
    let probe = TransactionRequest::default()
        .to(P256_PRECOMPILE)
        .input(P256_PROBE.to_vec().into());
    let answer = provider.call(probe).await?;
    Ok(if answer[..] == U256::ONE.to_be_bytes::<32>() {
        P256Verification::Precompile
    } else {
        P256Verification::Fallback
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};

    #[test]
    fn the_probe_is_a_valid_signature() {
        let (digest, rest) = P256_PROBE.split_at(32);
        let (signature, point) = rest.split_at(64);
        let key = VerifyingKey::from_sec1_bytes(&[&[0x04], point].concat()).expect("a point");
        let signature = Signature::from_slice(signature).expect("r ‖ s");
        key.verify_prehash(digest, &signature).expect("verifies");
        let mut other = digest.to_vec();
        other[0] ^= 1;
        assert!(key.verify_prehash(&other, &signature).is_err());
    }
}
