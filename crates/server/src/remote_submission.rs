//! Submission on a node's chain (`--rpc-url`): each call sent goes to the bundler, or in a
//! `handleOps` transaction from the key, in the order it was sent; its status follows from its
//! receipt, waited for (bounded) beside the next submissions.
//!
//! Unlike the embedded chain's bundling task, nothing is batched here: a bundler batches what
//! it receives itself, and `handleOps` from one key goes out one transaction at a time so its
//! transaction nonces never race.

use crate::{
    bundler::included,
    chain_sender::ChainSender,
    remote::RemoteChain,
    state::{CallStatus, SentCall, State},
    telemetry::CallTracker,
};
use leash_bindings::PackedUserOperation;
use leash_core::sender::{SenderError, UserOperationSender};
use leash_sdk::service::{ServiceError, submit, wait_included};
use std::{sync::Arc, time::Duration};
use tokio::{
    sync::mpsc::{UnboundedSender, unbounded_channel},
    task::JoinHandle,
};

/// The first wait before submitting again to a chain that could not be reached, doubled each
/// time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(15);

/// Starts the task on the current runtime, `resumed` (calls a stopped server acknowledged) first;
/// it ends when every sender of the channel is dropped and the calls sent are submitted (their
/// receipts are waited for by tasks of their own).
pub(crate) fn spawn<S: State>(
    chain: RemoteChain,
    state: Arc<S>,
    resumed: Vec<SentCall>,
    tracker: CallTracker,
) -> (UnboundedSender<SentCall>, JoinHandle<()>) {
    let (submissions, mut queue) = unbounded_channel();
    let task = tokio::spawn(async move {
        for call in resumed {
            send(&chain, &state, &tracker, call).await;
        }
        while let Some(call) = queue.recv().await {
            send(&chain, &state, &tracker, call).await;
        }
    });
    (submissions, task)
}

/// Submits `call`, unless it is included already (a server that stopped after submitting it),
/// and leaves a task waiting for its receipt.
async fn send<S: State>(
    chain: &RemoteChain,
    state: &Arc<S>,
    tracker: &CallTracker,
    call: SentCall,
) {
    let sender = chain.sender();
    let hash = call.operation.user_op_hash;
    let included_before = matches!(sender.receipt(hash).await, Ok(Some(_)));
    if !included_before && let Err(error) = submit_when_reachable(&sender, &call).await {
        let failed = CallStatus::Failed(error.to_string());
        tracker.record(state.as_ref(), &[(hash, failed)]).await;
        return;
    }
    let state = Arc::clone(state);
    let tracker = tracker.clone();
    let wait = chain.receipt_wait();
    tokio::spawn(async move {
        let explain = call.session_state.as_ref();
        let no_progress = |_| {};
        let status = match wait_included(
            &sender,
            hash,
            wait,
            tokio::time::sleep,
            no_progress,
            explain,
        )
        .await
        {
            Ok(receipt) => included(receipt),
            Err(ServiceError::NotIncluded { waited, .. }) => CallStatus::Failed(
                not_included(&sender, &call.operation.op.operation, waited).await,
            ),
            Err(error) => CallStatus::Failed(error.to_string()),
        };
        tracker.record(state.as_ref(), &[(hash, status)]).await;
    });
}

/// `call` submitted through `sender`, and again, waiting longer each time, while neither the
/// node nor a bundler can be reached: the call stays pending meanwhile and goes out once they
/// are back. Any answer ends it.
async fn submit_when_reachable(sender: &ChainSender, call: &SentCall) -> Result<(), ServiceError> {
    let mut wait = RETRY_FIRST;
    loop {
        match submit(sender, &call.operation, call.session_state.as_ref()).await {
            Ok(_) => return Ok(()),
            // The handleOps transaction went out but its receipt could not be read: the wait for
            // the operation's receipt finds it.
            Err(ServiceError::Sender(SenderError::Pending(_))) => return Ok(()),
            Err(error) if error.is_unreachable() => {
                tracing::warn!(
                    user_op_hash = %call.operation.user_op_hash,
                    retry_in = ?wait,
                    "the chain cannot be reached: the call stays pending"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            Err(error) => return Err(error),
        }
    }
}

/// Why `op`, sent and waited for `waited` in vain, fails: dropped for good when another operation
/// has used its nonce since, or else not included yet, which it may still be.
async fn not_included(sender: &ChainSender, op: &PackedUserOperation, waited: Duration) -> String {
    let seconds = waited.as_secs();
    let lane = op.nonce >> 64;
    match sender.nonce(op.sender, lane).await {
        Ok(next) if next > op.nonce => format!(
            "dropped: not included within {seconds}s, and its nonce {:#x} has been used by \
             another operation since, so it never will be",
            op.nonce
        ),
        _ => format!(
            "not included within {seconds}s: the bundler dropped it or has not included it \
             yet; its nonce {:#x} is unused, so it may still be included: check \
             eth_getUserOperationReceipt before preparing the calls again",
            op.nonce
        ),
    }
}
