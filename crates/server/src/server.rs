//! Starting the server: the state, the bundling task and the HTTP listener.

use crate::{
    access::AccessLayer,
    bundler::{self, QueuedCall},
    chain::EmbeddedChain,
    claims,
    config::ServerConfig,
    error::StartError,
    eth::NodeMethods,
    methods::{Context, SessionVerifiers, rpc_module},
    remote_submission,
    routes::{self, Probes, RoutesLayer},
    served_chain::ServedChain,
    state::{SqliteState, State},
    telemetry::{CallTracker, Metrics, Observed},
};
use jsonrpsee::server::{
    ServerBuilder, ServerConfigBuilder, ServerHandle, middleware::rpc::RpcServiceBuilder,
};
use std::{fs, net::SocketAddr, path::Path, sync::Arc, time::Duration};
use tokio::{
    sync::mpsc::{UnboundedReceiver, unbounded_channel},
    task::JoinHandle,
};

/// How long a shutdown waits, past its grace, for the status writes in flight: a store that
/// answers takes milliseconds; one that does not leaves the calls pending, as counted.
const STATUS_WRITE_WAIT: Duration = Duration::from_secs(5);

/// The embedded chain's file in a data directory.
pub const CHAIN_FILE: &str = "chain.json";

/// The SQLite state's file in a data directory.
pub const STATE_FILE: &str = "state.sqlite";

/// The largest answer, in bytes: jsonrpsee's default, which a node's forwarded answers (logs,
/// blocks with their transactions) are held to as well.
const MAX_RESPONSE_BODY_BYTES: u32 = 10 * 1024 * 1024;

/// A listening server.
#[derive(Debug)]
pub struct RunningServer {
    address: SocketAddr,
    handle: ServerHandle,
    submission: Submission,
    calls: CallTracker,
}

/// What submits the calls a server acknowledges.
#[derive(Debug)]
enum Submission {
    /// The submission task, which ends once the stopped server has dropped its queue's sender
    /// and it has submitted what it was given.
    Task(JoinHandle<()>),
    /// Nothing ([`start_without_submitting`]): the queue, held open so sends are acknowledged
    /// and stay pending.
    Held {
        _queue: UnboundedReceiver<QueuedCall>,
    },
}

impl RunningServer {
    /// Where it listens (the port the system chose, when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops it; in-flight requests finish.
    pub fn stop(&self) {
        // Stopping twice changes nothing.
        let _ = self.handle.stop();
    }

    /// Waits until it has stopped.
    pub async fn stopped(self) {
        self.handle.stopped().await;
    }

    /// Stops gracefully, within `grace` in all: stops accepting connections, lets the requests
    /// in flight be answered, then lets the submission task submit what it was given. Past
    /// `grace` nothing more is waited for and the task is stopped; either way, every call
    /// acknowledged and not final stays pending in the state store, where a server started on
    /// it (or another replica) submits it. Returns how many this server left so.
    pub async fn shutdown(self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        self.stop();
        let answered = tokio::time::timeout_at(deadline, self.handle.clone().stopped()).await;
        if answered.is_err() {
            tracing::warn!(
                ?grace,
                "shutdown: requests still in flight were not waited for"
            );
        }
        if let Submission::Task(mut task) = self.submission
            && tokio::time::timeout_at(deadline, &mut task).await.is_err()
        {
            tracing::warn!(?grace, "shutdown: the submission task was stopped mid-way");
            task.abort();
            let _ = task.await;
        }
        // A status write the stopped task began finishes on its own: waited for, so that the
        // count below is what the store holds.
        if !self.calls.stored(STATUS_WRITE_WAIT).await {
            tracing::warn!(
                wait = ?STATUS_WRITE_WAIT,
                "shutdown: status writes still in flight are counted as pending"
            );
        }
        let pending = self.calls.pending();
        if pending == 0 {
            tracing::info!("shutdown: no call left pending");
        } else {
            tracing::warn!(
                calls = pending,
                "shutdown: calls left pending in the state store, for the next server on it"
            );
        }
        pending
    }
}

/// The chain and the state kept in `dir` (created when missing): [`CHAIN_FILE`], saved after
/// every bundle, and [`STATE_FILE`]. A server started on them again goes on where it stopped.
pub async fn open_data_dir(dir: &Path) -> Result<(EmbeddedChain, SqliteState), StartError> {
    let state = open_state_dir(dir).await?;
    let chain = EmbeddedChain::open(dir.join(CHAIN_FILE))?;
    Ok((chain, state))
}

/// The state kept in `dir` (created when missing), [`STATE_FILE`], for a server whose chain is
/// a node's: the chain keeps its own state.
pub async fn open_state_dir(dir: &Path) -> Result<SqliteState, StartError> {
    fs::create_dir_all(dir).map_err(|error| StartError::DataDir {
        path: dir.display().to_string(),
        reason: error.to_string(),
    })?;
    Ok(SqliteState::open(&dir.join(STATE_FILE)).await?)
}

/// Serves `chain` (an [`EmbeddedChain`] or a [`RemoteChain`](crate::RemoteChain)) with `state`
/// at `config.listen`, on the current tokio runtime. Calls `state` holds as pending
/// (acknowledged by a server that stopped before they were final) are submitted first.
pub async fn start<S: State>(
    config: &ServerConfig,
    chain: impl Into<ServedChain>,
    state: S,
) -> Result<RunningServer, StartError> {
    let chain = chain.into();
    let state = Arc::new(state);
    let resumed = state.claim_pending_calls(true).await?;
    if !resumed.is_empty() {
        tracing::info!(
            calls = resumed.len(),
            "resuming calls acknowledged before a restart"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let calls = metrics.calls();
    for call in &resumed {
        calls.acknowledged(call.operation.user_op_hash);
    }
    let tracker = calls.clone();
    let (submissions, task) = match &chain {
        ServedChain::Embedded(embedded) => {
            bundler::spawn(embedded.clone(), Arc::clone(&state), resumed, tracker)
        }
        ServedChain::Remote(remote) => {
            let remote = remote.as_ref().clone();
            remote_submission::spawn(remote, Arc::clone(&state), resumed, tracker)
        }
    };
    if let Some(lease) = state.claim_lease() {
        claims::spawn(
            Arc::clone(&state),
            submissions.downgrade(),
            calls.clone(),
            lease,
        );
    }
    let context = Context {
        verifiers: SessionVerifiers::new(chain.clone(), Arc::clone(&state)),
        chain,
        state,
        submissions,
        calls,
        max_pending_calls: config.access.max_pending_calls,
    };
    listen(config, context, metrics, Submission::Task(task)).await
}

/// [`start`], except that nothing is ever submitted: every call sent is acknowledged and stays
/// pending. Tests stop such a server to check what a restart resumes.
#[doc(hidden)]
pub async fn start_without_submitting<S: State>(
    config: &ServerConfig,
    chain: impl Into<ServedChain>,
    state: S,
) -> Result<RunningServer, StartError> {
    let (submissions, held) = unbounded_channel();
    let metrics = Arc::new(Metrics::new());
    let (chain, state) = (chain.into(), Arc::new(state));
    let context = Context {
        verifiers: SessionVerifiers::new(chain.clone(), Arc::clone(&state)),
        chain,
        state,
        submissions,
        calls: metrics.calls(),
        max_pending_calls: config.access.max_pending_calls,
    };
    listen(config, context, metrics, Submission::Held { _queue: held }).await
}

async fn listen<S: State>(
    config: &ServerConfig,
    context: Context<S>,
    metrics: Arc<Metrics>,
    submission: Submission,
) -> Result<RunningServer, StartError> {
    let limits = ServerConfigBuilder::new()
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(MAX_RESPONSE_BODY_BYTES)
        .build();
    let node = match &context.chain {
        ServedChain::Embedded(_) => None,
        ServedChain::Remote(remote) => Some(remote.node().clone()),
    };
    let max_response_bytes = MAX_RESPONSE_BODY_BYTES as usize;
    let observed = {
        let metrics = Arc::clone(&metrics);
        move |inner| Observed::new(inner, Arc::clone(&metrics), max_response_bytes)
    };
    let node_methods = move |inner| NodeMethods::new(inner, node.clone(), max_response_bytes);
    // Outermost first: every call is observed, node methods and those in batches included.
    let rpc = RpcServiceBuilder::new()
        .layer_fn(observed)
        .layer_fn(node_methods);
    let probe = Arc::new(Probes {
        state: Arc::clone(&context.state),
        chain: context.chain.clone(),
    });
    let calls = context.calls.clone();
    let access = AccessLayer::enforced(Arc::clone(&context.state), config.access).await?;
    if access.is_none() && !config.listen.ip().is_loopback() {
        // The default listens on loopback only; this was asked for, but is worth saying.
        tracing::warn!(
            listen = %config.listen,
            "no API keys: anyone who reaches this address may use the server (docs/server.md, Access)"
        );
    }
    // CORS outermost, so that it answers preflights and marks every answer, the routes' too;
    // API keys innermost, so that probes and scrapes need none.
    let http = tower::ServiceBuilder::new()
        .option_layer(routes::cors(&config.cors_origins))
        .layer(RoutesLayer::new(probe, metrics))
        .option_layer(access);
    let server = ServerBuilder::default()
        .set_config(limits)
        .set_http_middleware(http)
        .set_rpc_middleware(rpc)
        .build(config.listen)
        .await?;
    let address = server.local_addr()?;
    tracing::info!(%address, chain_id = context.chain.chain_id(), "listening");
    Ok(RunningServer {
        address,
        handle: server.start(rpc_module(context)),
        submission,
        calls,
    })
}
