//! The bundling task: signed operations are submitted after `wallet_sendPreparedCalls` has
//! answered (clients time out after 10 s and retry), and each call's status follows from what
//! the chain did with it.

use crate::{
    chain::EmbeddedChain,
    state::{CallStatus, State},
};
use leash_core::{
    prepare::PreparedOperation, sender::UserOperationSender, session_state::SessionState,
};
use leash_sdk::service::submit;
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A signed operation waiting to be bundled.
#[derive(Debug)]
pub(crate) struct Submission {
    /// The operation with its signature in the contracts' form.
    pub(crate) operation: PreparedOperation,
    /// Its session's state when it was signed, to explain a refusal.
    pub(crate) session_state: Option<SessionState>,
}

/// Starts the task on the current runtime; it ends when every sender of the channel is dropped.
pub(crate) fn spawn<S: State>(chain: EmbeddedChain, state: Arc<S>) -> UnboundedSender<Submission> {
    let (submissions, queue) = unbounded_channel();
    tokio::spawn(run(chain, state, queue));
    submissions
}

async fn run<S: State>(
    chain: EmbeddedChain,
    state: Arc<S>,
    mut queue: UnboundedReceiver<Submission>,
) {
    let sender = chain.sender();
    while let Some(submission) = queue.recv().await {
        let hash = submission.operation.user_op_hash;
        let status = match submit(
            &sender,
            &submission.operation,
            submission.session_state.as_ref(),
        )
        .await
        {
            // The embedded chain includes a bundle as it is sent, so its receipt is there.
            Ok(hash) => match sender.receipt(hash).await {
                Ok(Some(receipt)) if receipt.success => CallStatus::Confirmed(Box::new(receipt)),
                Ok(Some(receipt)) => CallStatus::Reverted(Box::new(receipt)),
                Ok(None) => CallStatus::Failed("included, but no receipt was found".to_owned()),
                Err(error) => CallStatus::Failed(error.to_string()),
            },
            Err(error) => CallStatus::Failed(error.to_string()),
        };
        // A status that cannot be stored leaves the call pending; the next slice's persistent
        // store retries, and nothing here can do better than the client polling again.
        let _ = state.set_status(hash, status).await;
    }
}
