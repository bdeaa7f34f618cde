//! Submission on a node's chain (`--rpc-url`).
//!
//! With `--bundler-key` the server is its own bundler: every call sent while the previous bundle
//! ran goes into the next `handleOps` transaction, as on the embedded chain, and the calls'
//! statuses follow from that transaction's receipt. One transaction at a time, so the key's
//! transaction nonces never race. With `--bundler-url` each call goes to the bundler as it comes
//! (the bundler batches what it receives), and its status follows from its receipt, waited for
//! (bounded) beside the next submissions.

use crate::{
    bundler::{Bundles, QueuedCall, included},
    chain_sender::ChainSender,
    remote::RemoteChain,
    state::{CallStatus, SentCall, State},
    telemetry::CallTracker,
};
use alloy_primitives::B256;
use alloy_provider::DynProvider;
use leash_bindings::PackedUserOperation;
use leash_core::sender::{SenderError, SignedUserOperation, UserOperationSender};
use leash_sdk::{
    service::{ServiceError, submit, wait_included},
    transport::DirectSender,
};
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::{
    sync::mpsc::{UnboundedSender, unbounded_channel},
    task::JoinHandle,
};

/// The first wait before submitting again to a chain that could not be reached, doubled each
/// time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(15);

/// Starts the task on the current runtime, `resumed` (calls a stopped server acknowledged) first;
/// it ends when every sender of the channel is dropped and the calls sent are submitted (the
/// receipts of calls sent to a bundler are waited for by tasks of their own).
pub(crate) fn spawn<S: State>(
    chain: RemoteChain,
    state: Arc<S>,
    resumed: Vec<SentCall>,
    tracker: CallTracker,
) -> (UnboundedSender<QueuedCall>, JoinHandle<()>) {
    let (submissions, mut queue) = unbounded_channel();
    let task = tokio::spawn(async move {
        match chain.direct_sender() {
            Some(direct) => {
                let mut bundles = Bundles::new(resumed, queue);
                while let Some(calls) = bundles.next().await {
                    bundle(&chain, &direct, &state, &tracker, calls).await;
                }
            }
            None => {
                for call in resumed {
                    send(&chain, &state, &tracker, QueuedCall::from_store(call)).await;
                }
                while let Some(queued) = queue.recv().await {
                    send(&chain, &state, &tracker, queued).await;
                }
            }
        }
    });
    (submissions, task)
}

/// Submits `calls` in one `handleOps` from the key, less those included already (taken over
/// from a server that stopped after submitting them) and those the EntryPoint refuses, which
/// are sent alone after it for their own statuses; records the bundle's statuses in one write.
async fn bundle<S: State>(
    chain: &RemoteChain,
    direct: &DirectSender<DynProvider>,
    state: &Arc<S>,
    tracker: &CallTracker,
    calls: Vec<QueuedCall>,
) {
    let from_store: Vec<B256> = calls
        .iter()
        .filter(|queued| queued.from_store)
        .map(|queued| queued.call.operation.user_op_hash)
        .collect();
    // When the lookup fails the calls are bundled anyway: one included already is refused for
    // its nonce, and sent alone, which looks its receipt up again.
    let mut found = if from_store.is_empty() {
        HashMap::new()
    } else {
        direct.receipts(&from_store).await.unwrap_or_default()
    };
    let mut statuses = Vec::with_capacity(calls.len());
    let mut bundled = Vec::with_capacity(calls.len());
    for QueuedCall { call, .. } in calls {
        match found.remove(&call.operation.user_op_hash) {
            Some(receipt) => statuses.push((call.operation.user_op_hash, included(receipt))),
            None => bundled.push(call),
        }
    }
    let mut alone = Vec::new();
    let mut unconfirmed = Vec::new();
    let mut retry = RETRY_FIRST;
    while !bundled.is_empty() {
        let ops: Vec<SignedUserOperation> = bundled
            .iter()
            .map(|call| call.operation.op.clone())
            .collect();
        match direct.send_bundle(&ops, tokio::time::sleep).await {
            Ok(mut receipts) => {
                for call in bundled.drain(..) {
                    let hash = call.operation.user_op_hash;
                    match receipts.remove(&hash) {
                        Some(receipt) => statuses.push((hash, included(receipt))),
                        None => unconfirmed.push(call),
                    }
                }
            }
            Err(SenderError::Rejected(rejection))
                if bundled.len() > 1 && rejection.op_index < bundled.len() =>
            {
                alone.push(bundled.remove(rejection.op_index));
            }
            Err(error) if error.is_unreachable() => {
                tracing::warn!(
                    calls = bundled.len(),
                    retry_in = ?retry,
                    %error,
                    "the chain cannot be reached: the calls stay pending"
                );
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
            // The transaction went out but its receipt could not be read: each call's own
            // receipt is waited for.
            Err(SenderError::Pending(_)) => unconfirmed.append(&mut bundled),
            // A lone rejected operation, or a bundle that failed some other way: each is sent by
            // itself, which names its own error.
            Err(_) => alone.append(&mut bundled),
        }
    }
    tracker.record(state, statuses).await;
    for call in unconfirmed {
        wait_for_receipt(chain, state, tracker, call);
    }
    // A call refused in the bundle is looked up again before it is sent alone: it may have been
    // included by the time it is.
    for call in alone {
        send(chain, state, tracker, QueuedCall::from_store(call)).await;
    }
}

/// Submits `queued` alone, unless it is included already (read back from the store, it may have
/// been submitted by a server that stopped), and leaves a task waiting for its receipt.
async fn send<S: State>(
    chain: &RemoteChain,
    state: &Arc<S>,
    tracker: &CallTracker,
    queued: QueuedCall,
) {
    let sender = chain.sender();
    let QueuedCall { call, from_store } = queued;
    let hash = call.operation.user_op_hash;
    let included_before = from_store && matches!(sender.receipt(hash).await, Ok(Some(_)));
    if !included_before && let Err(error) = submit_when_reachable(&sender, &call).await {
        let failed = CallStatus::Failed(error.to_string());
        tracker.record(state, vec![(hash, failed)]).await;
        return;
    }
    wait_for_receipt(chain, state, tracker, call);
}

/// Leaves a task waiting (bounded) for the receipt of `call`, submitted, and recording its status.
fn wait_for_receipt<S: State>(
    chain: &RemoteChain,
    state: &Arc<S>,
    tracker: &CallTracker,
    call: SentCall,
) {
    let sender = chain.sender();
    let state = Arc::clone(state);
    let tracker = tracker.clone();
    let wait = chain.receipt_wait();
    tokio::spawn(async move {
        let hash = call.operation.user_op_hash;
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
        tracker.record(&state, vec![(hash, status)]).await;
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
