//! After a UserOperation is submitted: waiting for it to be included, and what it did.

use super::ServiceError;
use crate::submission::{ReceiptWait, ReceiptWaitError, wait_for_receipt};
use alloy_primitives::B256;
use leash_core::{
    calls::Call, revert_reason::RevertReason, rpc_types::UserOperationReceipt,
    sender::UserOperationSender, session_state::SessionState, token_transfers::Movements,
};
use std::{future::Future, time::Duration};

/// Waits (bounded by `wait`, sleeping with the caller's `sleep`) for `user_op_hash`'s receipt
/// from `sender`; `pending` hears how long it has waited each time the operation is not
/// included yet. A refusal is explained with `state` when it is a session's.
pub async fn wait_included<S, F, Fut>(
    sender: &S,
    user_op_hash: B256,
    wait: ReceiptWait,
    sleep: F,
    pending: impl FnMut(Duration),
    state: Option<&SessionState>,
) -> Result<UserOperationReceipt, ServiceError>
where
    S: UserOperationSender,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    match wait_for_receipt(sender, user_op_hash, wait, sleep, pending).await {
        Ok(receipt) => Ok(receipt),
        Err(ReceiptWaitError::Sender(error)) => Err(ServiceError::from_sender(error, state)),
        Err(ReceiptWaitError::TimedOut {
            user_op_hash,
            waited,
        }) => Err(ServiceError::NotIncluded {
            user_op_hash,
            waited,
        }),
    }
}

/// What an included UserOperation did.
#[derive(Clone, Debug)]
pub struct Included {
    /// The operation.
    pub user_op_hash: B256,
    /// The bundler's receipt.
    pub receipt: UserOperationReceipt,
    /// What its calls moved; nothing when they reverted.
    pub moved: Movements,
    /// Why its calls reverted, decoded, when they did.
    pub revert_reason: Option<String>,
}

impl Included {
    /// The outcome of `calls`, included with `receipt`.
    pub fn new(receipt: UserOperationReceipt, calls: &[Call]) -> Self {
        let (moved, revert_reason) = if receipt.success {
            let logs = receipt.logs.iter().map(|log| &log.inner);
            (Movements::executed(calls, logs), None)
        } else {
            let reason = RevertReason::decode(&receipt.reason).to_string();
            (Movements::default(), Some(reason))
        };
        Self {
            user_op_hash: receipt.user_op_hash,
            receipt,
            moved,
            revert_reason,
        }
    }

    /// The bundle transaction that included it.
    pub fn transaction(&self) -> B256 {
        self.receipt.receipt.transaction_hash
    }

    /// `Ok` when its calls succeeded, otherwise [`ServiceError::Reverted`]: inclusion alone does
    /// not mean the calls ran.
    pub fn check(&self) -> Result<(), ServiceError> {
        match &self.revert_reason {
            None => Ok(()),
            Some(reason) => Err(ServiceError::Reverted {
                what: "UserOperation".to_owned(),
                hash: self.user_op_hash,
                reason: Some(reason.clone()),
            }),
        }
    }
}
