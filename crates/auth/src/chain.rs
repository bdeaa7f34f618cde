//! The chain reads a verifier makes: ERC-1271 and ERC-6492 checks of smart-account owners and the
//! on-chain session's status. One trait over a node's `eth_call` ([`NodeCalls`]) and the
//! embedded chain (leash-sim, with the `sim` feature).

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, Bytes};
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use leash_core::validator_reads::ValidatorReader;
use std::future::Future;

/// How a call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The call ran and reverted (or halted): an answer, not an outage.
    #[error("reverted with {0}")]
    Reverted(Bytes),
    /// The chain could not answer.
    #[error("the chain could not answer: {0}")]
    Unavailable(String),
}

/// An `eth_call` on the chain's latest state, nothing committed. `to: None` runs `input` as
/// creation code (ERC-6492's deployless check).
pub trait EthCall: Send + Sync {
    /// The call's return data.
    fn eth_call(
        &self,
        to: Option<Address>,
        input: Bytes,
    ) -> impl Future<Output = Result<Bytes, CallError>> + Send;
}

/// A chain shared with others (the backend's own reads, a test that revokes a session).
impl<C: EthCall> EthCall for std::sync::Arc<C> {
    fn eth_call(
        &self,
        to: Option<Address>,
        input: Bytes,
    ) -> impl Future<Output = Result<Bytes, CallError>> + Send {
        C::eth_call(self, to, input)
    }
}

/// A node, through any alloy provider.
#[derive(Clone, Debug)]
pub struct NodeCalls<P>(pub P);

impl<P: Provider + Send + Sync> EthCall for NodeCalls<P> {
    async fn eth_call(&self, to: Option<Address>, input: Bytes) -> Result<Bytes, CallError> {
        let mut request = TransactionRequest::default().with_input(input);
        if let Some(to) = to {
            request = request.with_to(to);
        }
        self.0.call(request).await.map_err(|error| {
            match error.as_error_resp() {
                // Nodes word it "execution reverted"; the data may be absent (a bare revert).
                Some(payload) if payload.message.contains("revert") => {
                    CallError::Reverted(payload.as_revert_data().unwrap_or_default())
                }
                _ => CallError::Unavailable(error.to_string()),
            }
        })
    }
}

/// leash-core's session reads over an [`EthCall`], so the status check is the one `leash session
/// show` makes.
pub(crate) struct Reads<'a, C>(pub(crate) &'a C);

impl<C: EthCall> ValidatorReader for Reads<'_, C> {
    type Error = CallError;

    fn view(
        &mut self,
        to: Address,
        input: Bytes,
    ) -> impl Future<Output = Result<Bytes, CallError>> + Send {
        self.0.eth_call(Some(to), input)
    }
}

#[cfg(feature = "sim")]
mod sim {
    use super::{CallError, EthCall};
    use alloy_network::TransactionBuilder;
    use alloy_primitives::{Address, Bytes};
    use alloy_rpc_types_eth::TransactionRequest;
    use leash_sim::{CallFailure, Chain};
    use std::sync::{Mutex, PoisonError};

    /// One `eth_call` on the embedded chain, as a node would answer it.
    pub fn sim_call(
        chain: &mut Chain,
        to: Option<Address>,
        input: Bytes,
    ) -> Result<Bytes, CallError> {
        let mut request = TransactionRequest::default().with_input(input);
        if let Some(to) = to {
            request = request.with_to(to);
        }
        match chain.call_request(&request) {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(CallFailure::Reverted(data))) => Err(CallError::Reverted(data)),
            Ok(Err(CallFailure::Halted(reason))) => {
                Err(CallError::Reverted(reason.into_bytes().into()))
            }
            Err(error) => Err(CallError::Unavailable(error.to_string())),
        }
    }

    /// The embedded chain, shared behind a lock.
    impl EthCall for Mutex<Chain> {
        async fn eth_call(&self, to: Option<Address>, input: Bytes) -> Result<Bytes, CallError> {
            // revm commits whole transactions or nothing: a poisoned lock holds no torn state.
            let mut chain = self.lock().unwrap_or_else(PoisonError::into_inner);
            sim_call(&mut chain, to, input)
        }
    }
}

#[cfg(feature = "sim")]
pub use sim::sim_call;
