//! The bundling task: signed operations are submitted after `wallet_sendPreparedCalls` has
//! answered (clients time out after 10 s and retry), and each call's status follows from what
//! the chain did with it.

use crate::{
    chain::EmbeddedChain,
    state::{CallStatus, SentCall, State},
};
use leash_core::{rpc_types::UserOperationReceipt, sender::UserOperationSender};
use leash_sdk::service::submit;
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Starts the task on the current runtime, `resumed` (calls a stopped server acknowledged) first;
/// it ends when every sender of the channel is dropped.
pub(crate) fn spawn<S: State>(
    chain: EmbeddedChain,
    state: Arc<S>,
    resumed: Vec<SentCall>,
) -> UnboundedSender<SentCall> {
    let (submissions, queue) = unbounded_channel();
    tokio::spawn(run(chain, state, resumed, queue));
    submissions
}

async fn run<S: State>(
    chain: EmbeddedChain,
    state: Arc<S>,
    resumed: Vec<SentCall>,
    mut queue: UnboundedReceiver<SentCall>,
) {
    for call in resumed {
        bundle(&chain, state.as_ref(), call).await;
    }
    while let Some(call) = queue.recv().await {
        bundle(&chain, state.as_ref(), call).await;
    }
}

/// Submits `call` and records its status once the chain that includes it is saved.
async fn bundle<S: State>(chain: &EmbeddedChain, state: &S, call: SentCall) {
    let sender = chain.sender();
    let hash = call.operation.user_op_hash;
    let status = match sender.receipt(hash).await {
        // Included before a restart that came before its status was stored: sending it again
        // would only be refused for its nonce.
        Ok(Some(receipt)) => included(receipt),
        _ => match submit(&sender, &call.operation, call.session_state.as_ref()).await {
            // The embedded chain includes a bundle as it is sent, so its receipt is there.
            Ok(hash) => match sender.receipt(hash).await {
                Ok(Some(receipt)) => included(receipt),
                Ok(None) => CallStatus::Failed("included, but no receipt was found".to_owned()),
                Err(error) => CallStatus::Failed(error.to_string()),
            },
            Err(error) => CallStatus::Failed(error.to_string()),
        },
    };
    // A status is final only once the chain that shows it is on disk: if the snapshot cannot be
    // written the call stays pending, and a restart (from the last snapshot) submits it again.
    if chain.save().is_err() {
        return;
    }
    // A status that cannot be stored leaves the call pending too; a restart reads its receipt.
    let _ = state.set_status(hash, status).await;
}

fn included(receipt: UserOperationReceipt) -> CallStatus {
    if receipt.success {
        CallStatus::Confirmed(Box::new(receipt))
    } else {
        CallStatus::Reverted(Box::new(receipt))
    }
}
