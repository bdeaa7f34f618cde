//! Starting the server: the state, the bundling task and the HTTP listener.

use crate::{
    bundler,
    chain::EmbeddedChain,
    config::ServerConfig,
    error::StartError,
    methods::{Context, rpc_module},
    state::State,
};
use jsonrpsee::server::{ServerBuilder, ServerConfigBuilder, ServerHandle};
use std::{net::SocketAddr, sync::Arc};

/// A listening server.
#[derive(Debug)]
pub struct RunningServer {
    address: SocketAddr,
    handle: ServerHandle,
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

/// Serves `chain` with `state` at `config.listen`, on the current tokio runtime.
pub async fn start<S: State>(
    config: &ServerConfig,
    chain: EmbeddedChain,
    state: S,
) -> Result<RunningServer, StartError> {
    let state = Arc::new(state);
    let submissions = bundler::spawn(chain.clone(), Arc::clone(&state));
    let limits = ServerConfigBuilder::new()
        .max_request_body_size(config.max_request_body_bytes)
        .build();
    let server = ServerBuilder::default()
        .set_config(limits)
        .build(config.listen)
        .await?;
    let address = server.local_addr()?;
    let module = rpc_module(Context {
        chain,
        state,
        submissions,
    });
    Ok(RunningServer {
        address,
        handle: server.start(module),
    })
}
