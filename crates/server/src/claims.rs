//! The claims task of a server on a shared store: it keeps this server's claims on its pending
//! calls alive, and takes over the calls of servers that stopped or died (their claims lapsed),
//! handing them to the submission task like any call sent here.
//!
//! A call taken over may have been submitted already by the server that died; the submission
//! tasks look up its receipt before sending it, and an operation's nonce lets the EntryPoint run
//! it once at most, however often it is sent.

use crate::{bundler::QueuedCall, state::State, telemetry::CallTracker};
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc::WeakUnboundedSender;

/// Starts the task on the current runtime: every third of `lease` it renews this server's claims
/// and claims what has lapsed. It ends with the server: it holds the submission queue weakly, so
/// that a stopping server's queue closes and the submission task can finish (a graceful
/// shutdown waits for it).
pub(crate) fn spawn<S: State>(
    state: Arc<S>,
    submissions: WeakUnboundedSender<QueuedCall>,
    tracker: CallTracker,
    lease: Duration,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(lease / 3);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and the server claimed what was its own at start.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(submissions) = submissions.upgrade() else {
                return;
            };
            // A store that cannot be reached now is tried again at the next tick; this server's
            // claims may lapse meanwhile, and then another server submits its calls instead.
            if let Err(error) = state.renew_claims().await {
                tracing::warn!(%error, "renewing this server's claims");
                continue;
            }
            match state.claim_pending_calls(false).await {
                Ok(calls) => {
                    for call in calls {
                        tracing::info!(
                            user_op_hash = %call.operation.user_op_hash,
                            "taking over a call whose server stopped"
                        );
                        tracker.taken_over(call.operation.user_op_hash);
                        if submissions.send(QueuedCall::from_store(call)).is_err() {
                            return;
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming lapsed calls"),
            }
        }
    });
}
