//! Submission on a node's chain (`--rpc-url`): each call sent goes to the bundler, or in a
//! `handleOps` transaction from the key, in the order it was sent; its status follows from its
//! receipt, waited for (bounded) beside the next submissions.
//!
//! Unlike the embedded chain's bundling task, nothing is batched here: a bundler batches what
//! it receives itself, and `handleOps` from one key goes out one transaction at a time so its
//! transaction nonces never race.

use crate::{
    bundler::included,
    remote::RemoteChain,
    state::{CallStatus, SentCall, State},
    telemetry::CallTracker,
};
use leash_core::sender::UserOperationSender;
use leash_sdk::service::{submit, wait_included};
use std::sync::Arc;
use tokio::{
    sync::mpsc::{UnboundedSender, unbounded_channel},
    task::JoinHandle,
};

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
    if !included_before
        && let Err(error) = submit(&sender, &call.operation, call.session_state.as_ref()).await
    {
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
            Err(error) => CallStatus::Failed(error.to_string()),
        };
        tracker.record(state.as_ref(), &[(hash, status)]).await;
    });
}
