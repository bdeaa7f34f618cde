//! The bundling task: signed operations are submitted after `wallet_sendPreparedCalls` has
//! answered (clients time out after 10 s and retry), and each call's status follows from what
//! the chain did with it.
//!
//! Every call sent while the previous bundle ran goes into the next one, as a bundler's mempool
//! does: one `handleOps` for all of them rather than one each. An operation the EntryPoint
//! rejects in validation reverts the whole bundle, so it is dropped and the rest bundled again;
//! the dropped one is then sent alone, which gives it its own status (a rejection named as for
//! any single send, or its inclusion if only its neighbours were in its way).

use crate::{
    chain::EmbeddedChain,
    state::{CallStatus, SentCall, State},
    telemetry::CallTracker,
};
use alloy_primitives::B256;
use leash_core::{
    gas_estimate::operation_gas_bound,
    rpc_types::UserOperationReceipt,
    sender::{SignedUserOperation, UserOperationSender},
};
use leash_sdk::service::submit;
use leash_sim::{BundleOutcome, SimSender};
use std::{collections::VecDeque, sync::Arc};
use tokio::{
    sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel},
    task::JoinHandle,
};

/// The most gas the operations of one bundle may ask for together: the embedded chain gives a
/// transaction 16M, and the EntryPoint spends some of its own around every operation.
const BUNDLE_GAS: u128 = 12_000_000;

/// Starts the task on the current runtime, `resumed` (calls a stopped server acknowledged) first;
/// it ends when every sender of the channel is dropped and the calls sent are submitted.
pub(crate) fn spawn<S: State>(
    chain: EmbeddedChain,
    state: Arc<S>,
    resumed: Vec<SentCall>,
    tracker: CallTracker,
) -> (UnboundedSender<QueuedCall>, JoinHandle<()>) {
    let (submissions, queue) = unbounded_channel();
    let task = tokio::spawn(async move {
        let mut bundles = Bundles::new(resumed, queue);
        while let Some(calls) = bundles.next().await {
            bundle(&chain, &state, &tracker, calls).await;
        }
    });
    (submissions, task)
}

/// A call for the submission task.
#[derive(Debug)]
pub(crate) struct QueuedCall {
    pub(crate) call: SentCall,
    /// Read back from the store (resumed at start, or taken over from a server that stopped):
    /// a server before this one may have submitted it, so its receipt is looked up first. A
    /// call sent to this server has never been submitted.
    pub(crate) from_store: bool,
}

impl QueuedCall {
    /// A call `wallet_sendPreparedCalls` just acknowledged here.
    pub(crate) fn sent(call: SentCall) -> Self {
        Self {
            call,
            from_store: false,
        }
    }

    /// A call read back from the store.
    pub(crate) fn from_store(call: SentCall) -> Self {
        Self {
            call,
            from_store: true,
        }
    }
}

/// The calls sent, `resumed` first, in bundles: each bundle is every call that arrived while the
/// previous one was submitted, as much of it as [`BUNDLE_GAS`] allows.
#[derive(Debug)]
pub(crate) struct Bundles {
    waiting: VecDeque<QueuedCall>,
    queue: UnboundedReceiver<QueuedCall>,
}

impl Bundles {
    pub(crate) fn new(resumed: Vec<SentCall>, queue: UnboundedReceiver<QueuedCall>) -> Self {
        Self {
            waiting: resumed.into_iter().map(QueuedCall::from_store).collect(),
            queue,
        }
    }

    /// The next bundle, once there is a call; `None` when every sender of the queue is dropped
    /// and every call sent has been bundled.
    pub(crate) async fn next(&mut self) -> Option<Vec<QueuedCall>> {
        if self.waiting.is_empty() {
            self.waiting.push_back(self.queue.recv().await?);
        }
        while let Ok(call) = self.queue.try_recv() {
            self.waiting.push_back(call);
        }
        Some(next_bundle(&mut self.waiting))
    }
}

/// The oldest waiting calls whose gas fits in one bundle (always at least one).
fn next_bundle(waiting: &mut VecDeque<QueuedCall>) -> Vec<QueuedCall> {
    let mut gas = 0u128;
    let mut calls = Vec::new();
    while let Some(call) = waiting.front() {
        gas = gas.saturating_add(operation_gas_bound(&call.call.operation.op.operation));
        if !calls.is_empty() && gas > BUNDLE_GAS {
            break;
        }
        calls.extend(waiting.pop_front());
    }
    calls
}

/// Submits `calls` in one bundle (less those the EntryPoint rejects, sent alone after it) and
/// records their statuses once the chain that includes them is saved.
async fn bundle<S: State>(
    chain: &EmbeddedChain,
    state: &Arc<S>,
    tracker: &CallTracker,
    calls: Vec<QueuedCall>,
) {
    let sender = chain.sender();
    let mut statuses = Vec::with_capacity(calls.len());
    let mut bundled = Vec::with_capacity(calls.len());
    for QueuedCall { call, from_store } in calls {
        let hash = call.operation.user_op_hash;
        let receipt = if from_store {
            sender.receipt(hash).await
        } else {
            Ok(None)
        };
        match receipt {
            // Included before a restart that came before its status was stored: sending it
            // again would only be refused for its nonce.
            Ok(Some(receipt)) => statuses.push((hash, included(receipt))),
            _ => bundled.push(call),
        }
    }
    let mut alone = Vec::new();
    while !bundled.is_empty() {
        let ops: Vec<SignedUserOperation> = bundled
            .iter()
            .map(|call| call.operation.op.clone())
            .collect();
        match sender.send_bundle(&ops) {
            Ok(BundleOutcome::Included { .. }) => {
                for call in bundled.drain(..) {
                    let hash = call.operation.user_op_hash;
                    statuses.push((hash, receipt_status(&sender, hash).await));
                }
            }
            Ok(BundleOutcome::Rejected(rejection))
                if bundled.len() > 1 && rejection.op_index < bundled.len() =>
            {
                alone.push(bundled.remove(rejection.op_index));
            }
            // A lone rejected operation, or a bundle that failed some other way: each is sent
            // by itself, which names its own error.
            _ => alone.append(&mut bundled),
        }
    }
    for call in alone {
        let status = send_alone(&sender, &call).await;
        statuses.push((call.operation.user_op_hash, status));
    }
    // A status is final only once the chain that shows it is on disk: if the snapshot cannot be
    // written the calls stay pending, and a restart (from the last snapshot) submits them again.
    // The write blocks, so it runs off the runtime's workers, which keep answering requests; a
    // chain in memory has nothing to write.
    if chain.saves_to_disk() {
        let saving = chain.clone();
        if !matches!(
            tokio::task::spawn_blocking(move || saving.save()).await,
            Ok(Ok(()))
        ) {
            tracing::error!(
                calls = statuses.len(),
                "chain not saved: its calls stay pending"
            );
            return;
        }
    }
    tracker.record(state, statuses).await;
}

/// `call` in a bundle of its own, as a client library submits it.
async fn send_alone(sender: &SimSender<'static>, call: &SentCall) -> CallStatus {
    match submit(sender, &call.operation, call.session_state.as_ref()).await {
        // The embedded chain includes a bundle as it is sent, so its receipt is there.
        Ok(hash) => receipt_status(sender, hash).await,
        Err(error) => CallStatus::Failed(error.to_string()),
    }
}

/// The status of the included operation `hash`, from its receipt.
async fn receipt_status(sender: &SimSender<'static>, hash: B256) -> CallStatus {
    match sender.receipt(hash).await {
        Ok(Some(receipt)) => included(receipt),
        Ok(None) => CallStatus::Failed("included, but no receipt was found".to_owned()),
        Err(error) => CallStatus::Failed(error.to_string()),
    }
}

/// The status of an operation whose receipt is `receipt`.
pub(crate) fn included(receipt: UserOperationReceipt) -> CallStatus {
    if receipt.success {
        CallStatus::Confirmed(Box::new(receipt))
    } else {
        CallStatus::Reverted(Box::new(receipt))
    }
}
