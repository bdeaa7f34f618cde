//! One [`UserOperationSender`] for whichever chain the server serves: the embedded chain's
//! simulator, `handleOps` from a key, or a bundler.

use alloy_primitives::{Address, B256, U256};
use alloy_provider::DynProvider;
use leash_core::{
    rpc_types::{UserOperationGasEstimate, UserOperationReceipt},
    sender::{SenderError, SignedUserOperation, UserOperationSender},
};
use leash_sdk::transport::{BundlerClient, DirectSender, Fallback};
use leash_sim::SimSender;

/// The sender of the served chain.
#[derive(Debug)]
pub(crate) enum ChainSender {
    /// The embedded chain.
    Embedded(SimSender<'static>),
    /// A node's chain, through `handleOps` transactions from `--bundler-key`.
    Direct(DirectSender<DynProvider>),
    /// A node's chain, through the bundlers at `--bundler-url` (fallbacks in order).
    Bundler(Fallback<BundlerClient<DynProvider, DynProvider>>),
}

/// Runs `$call` on the sender inside `$self`, whichever it is.
macro_rules! each {
    ($self:ident, $sender:ident => $call:expr) => {
        match $self {
            Self::Embedded($sender) => $call,
            Self::Direct($sender) => $call,
            Self::Bundler($sender) => $call,
        }
    };
}

impl UserOperationSender for ChainSender {
    fn entry_point(&self) -> Address {
        each!(self, sender => sender.entry_point())
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        each!(self, sender => sender.chain_id().await)
    }

    async fn nonce(&self, account: Address, key: U256) -> Result<U256, SenderError> {
        each!(self, sender => sender.nonce(account, key).await)
    }

    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        each!(self, sender => sender.estimate(op).await)
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        each!(self, sender => sender.send(op).await)
    }

    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        each!(self, sender => sender.receipt(user_op_hash).await)
    }
}
