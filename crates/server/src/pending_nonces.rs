//! Nonces that count the calls already sent: an operation prepared while an earlier one in the
//! same nonce lane is acknowledged but not yet included takes the nonce after it, so a client
//! that sends calls one after another, without waiting for each to be included, does not have
//! the second refused for a nonce the first uses.
//!
//! Only sent calls count, not prepared ones: a prepared operation that is never sent would leave
//! a gap no later operation could pass. And if a sent call fails after all, an operation prepared
//! behind it waits on a nonce nothing fills; it is prepared again, from the chain's nonce.

use crate::state::{State, StateError};
use alloy_primitives::{Address, B256, U256};
use leash_core::{
    rpc_types::{UserOperationGasEstimate, UserOperationReceipt},
    sender::{SenderError, SignedUserOperation, UserOperationSender},
};
use std::collections::HashMap;

/// The nonce after the last pending call of each lane of one account.
#[derive(Debug, Default)]
pub(crate) struct PendingNonces {
    account: Address,
    next_by_lane: HashMap<U256, U256>,
}

impl PendingNonces {
    /// Those of `account`'s calls pending in `state`.
    pub(crate) async fn of<S: State>(state: &S, account: Address) -> Result<Self, StateError> {
        let mut next_by_lane: HashMap<U256, U256> = HashMap::new();
        for call in state.pending_calls_of(account).await? {
            let op = &call.operation.op.operation;
            let after = op.nonce.saturating_add(U256::from(1));
            let next = next_by_lane.entry(op.nonce >> 64).or_default();
            *next = (*next).max(after);
        }
        Ok(Self {
            account,
            next_by_lane,
        })
    }

    /// `sender`, with its nonces raised past these pending calls.
    pub(crate) fn on<S>(self, sender: S) -> AfterPending<S> {
        AfterPending {
            sender,
            pending: self,
        }
    }
}

/// A sender whose `nonce` answers the chain's or, when higher, the one after the pending calls.
#[derive(Debug)]
pub(crate) struct AfterPending<S> {
    sender: S,
    pending: PendingNonces,
}

impl<S: UserOperationSender + Sync> UserOperationSender for AfterPending<S> {
    fn entry_point(&self) -> Address {
        self.sender.entry_point()
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        self.sender.chain_id().await
    }

    async fn nonce(&self, account: Address, key: U256) -> Result<U256, SenderError> {
        let on_chain = self.sender.nonce(account, key).await?;
        let after_pending = (account == self.pending.account)
            .then(|| self.pending.next_by_lane.get(&key).copied())
            .flatten()
            .unwrap_or_default();
        Ok(on_chain.max(after_pending))
    }

    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        self.sender.estimate(op).await
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        self.sender.send(op).await
    }

    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        self.sender.receipt(user_op_hash).await
    }
}
