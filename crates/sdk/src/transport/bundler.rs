//! The standard ERC-4337 bundler JSON-RPC (ERC-7769), for any hosted or self-run bundler.

use crate::transport::entry_point_nonce;
use alloy_primitives::{Address, B256, U256};
use alloy_provider::Provider;
use leash_bindings::Deployment;
use leash_core::sender::{SenderError, UserOperationSender};
use leash_core::{
    rpc_types::{RpcUserOperation, UserOperationGasEstimate, UserOperationReceipt},
    sender::SignedUserOperation,
};

/// A client of a bundler's `eth_sendUserOperation`, `eth_estimateUserOperationGas`,
/// `eth_getUserOperationReceipt` and `eth_supportedEntryPoints`.
///
/// The bundler API has no state reads, so nonces come from `node`, a provider of the same chain;
/// pass the same provider twice when one endpoint serves both (many hosted bundlers do).
#[derive(Clone, Debug)]
pub struct BundlerClient<B, N> {
    bundler: B,
    node: N,
    entry_point: Address,
}

impl<B: Provider, N: Provider> BundlerClient<B, N> {
    /// A client of `bundler` for the canonical EntryPoint v0.8, reading state from `node`.
    pub fn new(bundler: B, node: N) -> Self {
        Self {
            bundler,
            node,
            entry_point: Deployment::entry_point().address(),
        }
    }

    /// Uses another EntryPoint v0.8 deployment.
    pub fn with_entry_point(mut self, entry_point: Address) -> Self {
        self.entry_point = entry_point;
        self
    }

    /// The EntryPoints the bundler serves (`eth_supportedEntryPoints`).
    pub async fn supported_entry_points(&self) -> Result<Vec<Address>, SenderError> {
        self.bundler
            // No parameters: an empty array (bundlers refuse `null`).
            .raw_request("eth_supportedEntryPoints".into(), [(); 0])
            .await
            .map_err(SenderError::from_bundler)
    }

    /// The JSON-RPC parameters of `eth_sendUserOperation` and `eth_estimateUserOperationGas`:
    /// the unpacked operation and the EntryPoint.
    fn params(&self, op: &SignedUserOperation) -> Result<(RpcUserOperation, Address), SenderError> {
        Ok((RpcUserOperation::try_from(op)?, self.entry_point))
    }
}

impl<B: Provider, N: Provider> UserOperationSender for BundlerClient<B, N> {
    fn entry_point(&self) -> Address {
        self.entry_point
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        self.bundler
            .get_chain_id()
            .await
            .map_err(SenderError::from_bundler)
    }

    async fn nonce(&self, sender: Address, key: U256) -> Result<U256, SenderError> {
        entry_point_nonce(&self.node, self.entry_point, sender, key).await
    }

    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        self.bundler
            .raw_request("eth_estimateUserOperationGas".into(), self.params(op)?)
            .await
            .map_err(SenderError::from_bundler)
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        self.bundler
            .raw_request("eth_sendUserOperation".into(), self.params(op)?)
            .await
            .map_err(SenderError::from_bundler)
    }

    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        self.bundler
            .raw_request("eth_getUserOperationReceipt".into(), (user_op_hash,))
            .await
            .map_err(SenderError::from_bundler)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;
    use alloy_provider::ProviderBuilder;
    use leash_bindings::PackedUserOperation;
    use serde_json::json;

    #[test]
    fn requests_carry_the_operation_then_the_entry_point() {
        let node = ProviderBuilder::new().connect_http("http://127.0.0.1:1".parse().expect("url"));
        let client = BundlerClient::new(node.clone(), node);
        let op = SignedUserOperation::new(PackedUserOperation {
            sender: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            ..Default::default()
        });
        let params = serde_json::to_value(client.params(&op).expect("converts")).expect("JSON");
        assert_eq!(
            params[1],
            json!("0x4337084d9e255ff0702461cf8895ce9e3b5ff108")
        );
        assert_eq!(
            params[0]["sender"],
            json!("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
        );
        assert_eq!(params.as_array().map(Vec::len), Some(2));
    }
}
