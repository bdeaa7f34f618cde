//! Starting the server: the state, the bundling task and the HTTP listener.

use crate::{
    bundler,
    chain::EmbeddedChain,
    claims,
    config::ServerConfig,
    error::StartError,
    eth::NodeMethods,
    methods::{Context, rpc_module},
    remote_submission,
    served_chain::ServedChain,
    state::{SentCall, SqliteState, State},
};
use jsonrpsee::server::{
    ServerBuilder, ServerConfigBuilder, ServerHandle, middleware::rpc::RpcServiceBuilder,
};
use std::{fs, net::SocketAddr, path::Path, sync::Arc};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

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
    /// The queue of a server that does not submit ([`start_without_submitting`]), held open so
    /// its sends are acknowledged and stay pending.
    _held: Option<UnboundedReceiver<SentCall>>,
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
    let submissions = match &chain {
        ServedChain::Embedded(embedded) => {
            bundler::spawn(embedded.clone(), Arc::clone(&state), resumed)
        }
        ServedChain::Remote(remote) => {
            remote_submission::spawn(remote.as_ref().clone(), Arc::clone(&state), resumed)
        }
    };
    if let Some(lease) = state.claim_lease() {
        claims::spawn(Arc::clone(&state), submissions.clone(), lease);
    }
    listen(
        config,
        Context {
            chain,
            state,
            submissions,
        },
        None,
    )
    .await
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
    let context = Context {
        chain: chain.into(),
        state: Arc::new(state),
        submissions,
    };
    listen(config, context, Some(held)).await
}

async fn listen<S: State>(
    config: &ServerConfig,
    context: Context<S>,
    held: Option<UnboundedReceiver<SentCall>>,
) -> Result<RunningServer, StartError> {
    let limits = ServerConfigBuilder::new()
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(MAX_RESPONSE_BODY_BYTES)
        .build();
    let node = match &context.chain {
        ServedChain::Embedded(_) => None,
        ServedChain::Remote(remote) => Some(remote.node().clone()),
    };
    let node_methods = move |inner| {
        let max_response_bytes = MAX_RESPONSE_BODY_BYTES as usize;
        NodeMethods::new(inner, node.clone(), max_response_bytes)
    };
    let server = ServerBuilder::default()
        .set_config(limits)
        .set_rpc_middleware(RpcServiceBuilder::new().layer_fn(node_methods))
        .build(config.listen)
        .await?;
    let address = server.local_addr()?;
    Ok(RunningServer {
        address,
        handle: server.start(rpc_module(context)),
        _held: held,
    })
}
