//! Several senders in fallback order: each request goes to the first that can be reached, so an
//! operation still gets out when a bundler is down. Any answer, a refusal included, is final:
//! only a sender that could not be reached (connection refused, timed out, HTTP 5xx, still rate
//! limited after the client's own retries) passes the request on.

use alloy_primitives::{Address, B256, U256};
use leash_core::{
    rpc_types::{UserOperationGasEstimate, UserOperationReceipt},
    sender::{SenderError, SignedUserOperation, UserOperationSender},
};
use std::future::Future;

/// Senders tried in order, the first of them the primary.
#[derive(Clone, Debug)]
pub struct Fallback<S> {
    first: S,
    rest: Vec<S>,
}

impl<S: UserOperationSender + Sync> Fallback<S> {
    /// `first`, then each of `rest` in order when the ones before cannot be reached.
    pub fn new(first: S, rest: Vec<S>) -> Self {
        Self { first, rest }
    }

    /// Every sender, in the order they are tried.
    pub fn senders(&self) -> impl Iterator<Item = &S> {
        std::iter::once(&self.first).chain(&self.rest)
    }

    /// The first answer of `request` from a sender that could be reached, or the last sender's
    /// failure when none could.
    async fn first_answer<'a, T, F, Fut>(&'a self, request: F) -> Result<T, SenderError>
    where
        F: Fn(&'a S) -> Fut + Sync,
        Fut: Future<Output = Result<T, SenderError>> + Send,
        T: Send,
    {
        let mut answer = request(&self.first).await;
        for sender in &self.rest {
            match &answer {
                Err(error) if error.is_unreachable() => answer = request(sender).await,
                _ => break,
            }
        }
        answer
    }
}

impl<S: UserOperationSender + Sync> UserOperationSender for Fallback<S> {
    fn entry_point(&self) -> Address {
        self.first.entry_point()
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        self.first_answer(|sender| sender.chain_id()).await
    }

    async fn nonce(&self, account: Address, key: U256) -> Result<U256, SenderError> {
        self.first_answer(|sender| sender.nonce(account, key)).await
    }

    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        self.first_answer(|sender| sender.estimate(op)).await
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        self.first_answer(|sender| sender.send(op)).await
    }

    /// Asked of each reachable sender in turn until one has it: a bundler finds the receipts of
    /// operations it did not include too, but one that was down when the operation went out may
    /// not have indexed them.
    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        let mut answer = self.first.receipt(user_op_hash).await;
        for sender in &self.rest {
            match &answer {
                Ok(Some(_)) => break,
                Err(error) if !error.is_unreachable() => break,
                _ => {
                    answer = match sender.receipt(user_op_hash).await {
                        // A later sender that is down says nothing about what an earlier found.
                        Err(error) if error.is_unreachable() && answer.is_ok() => answer,
                        later => later,
                    }
                }
            }
        }
        answer
    }
}
