//! `leash serve`: the Wallet API's session-key methods over JSON-RPC, on the embedded chain.

use crate::output::Output;
use clap::Args;
use eyre::WrapErr;
use leash_server::{
    DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, EmbeddedChain, RunningServer, ServerConfig,
    StartError, state::MemoryState,
};
use serde_json::json;
use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Loopback by default: the server has no authentication.
    #[arg(long, default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)))]
    listen: SocketAddr,
    /// The largest request body read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BODY_BYTES)]
    max_request_body: u32,
    /// Keep the state (SQLite) and the embedded chain in this directory, so a restart goes on
    /// where the server stopped; without it everything is in memory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) async fn run(out: &Output, args: ServeArgs) -> eyre::Result<()> {
    let config = ServerConfig {
        listen: args.listen,
        max_request_body_bytes: args.max_request_body,
    };
    let (server, chain_id) = start(out, &config, args.data_dir.as_deref())
        .await
        .wrap_err_with(|| format!("serving on {}", args.listen))?;
    let address = server.local_addr();
    if out.is_json() {
        out.document(json!({ "listening": format!("http://{address}"), "chainId": chain_id }));
    } else {
        out.line(format!(
            "leash serve: http://{address} (embedded chain {chain_id}, anvil's dev accounts \
             funded; an account's first owner call delegates it)"
        ));
    }
    server.stopped().await;
    Ok(())
}

/// The server, its state and chain in `data_dir` or, without one, in memory (said on stderr,
/// since everything is lost when it stops).
async fn start(
    out: &Output,
    config: &ServerConfig,
    data_dir: Option<&std::path::Path>,
) -> Result<(RunningServer, u64), StartError> {
    match data_dir {
        Some(dir) => {
            let (chain, state) = leash_server::open_data_dir(dir).await?;
            let chain_id = chain.chain_id();
            Ok((leash_server::start(config, chain, state).await?, chain_id))
        }
        None => {
            out.progress("leash serve: no --data-dir: state and chain are in memory, lost on exit");
            let chain = EmbeddedChain::dev()?;
            let chain_id = chain.chain_id();
            Ok((
                leash_server::start(config, chain, MemoryState::new()).await?,
                chain_id,
            ))
        }
    }
}
