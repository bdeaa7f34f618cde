//! `leash serve`: the Wallet API's session-key methods over JSON-RPC, on the embedded chain or,
//! with `--rpc-url`, on a node's chain.

use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs},
    failure::Failure,
    output::Output,
};
use clap::Args;
use eyre::WrapErr;
use leash_server::{
    DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, EmbeddedChain, RemoteChain, RunningServer,
    ServedChain, ServerConfig, Submitter, state::MemoryState,
};
use serde_json::json;
use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Loopback by default: the server has no authentication.
    #[arg(long, default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)))]
    listen: SocketAddr,
    /// The largest request body read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BODY_BYTES)]
    max_request_body: u32,
    /// Keep the state (SQLite) and, without --rpc-url, the embedded chain in this directory, so
    /// a restart goes on where the server stopped; without it everything is in memory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// With --rpc-url: the key whose handleOps transactions submit the operations.
    #[command(flatten)]
    bundler: BundlerArgs,
    /// With --rpc-url: the bundler the operations are submitted to instead.
    #[command(flatten)]
    bundler_rpc: BundlerRpcArgs,
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: ServeArgs) -> eyre::Result<()> {
    let config = ServerConfig {
        listen: args.listen,
        max_request_body_bytes: args.max_request_body,
    };
    let remote = match global.optional_rpc_url()? {
        Some(url) => {
            let submitter = submitter(&args)?;
            let through = match &submitter {
                Submitter::Key(key) => format!("handleOps from {}", key.address()),
                Submitter::Bundler(bundler) => format!("the bundler at {bundler}"),
            };
            let described = format!("at {url}; operations through {through}");
            let wait = args.bundler_rpc.receipt_wait();
            Some((RemoteChain::connect(url, submitter, wait).await?, described))
        }
        None if args.bundler.bundler_key.is_some() || args.bundler_rpc.bundler_url.is_some() => {
            return Err(Failure::usage(
                "--bundler-key and --bundler-url submit to the chain behind --rpc-url; without \
                 it the embedded chain bundles by itself",
            ));
        }
        None => None,
    };
    let chain = remote.as_ref().map(|(chain, _)| chain.clone());
    let (server, chain_id) = start(out, &config, args.data_dir.as_deref(), chain)
        .await
        .wrap_err_with(|| format!("serving on {}", args.listen))?;
    let address = server.local_addr();
    if out.is_json() {
        out.document(json!({ "listening": format!("http://{address}"), "chainId": chain_id }));
    } else {
        let served = match &remote {
            Some((_, described)) => format!("chain {chain_id} {described}"),
            None => format!(
                "embedded chain {chain_id}, anvil's dev accounts funded; an account's first \
                 owner call delegates it"
            ),
        };
        out.line(format!("leash serve: http://{address} ({served})"));
    }
    server.stopped().await;
    Ok(())
}

/// Who submits operations to the chain behind `--rpc-url`: exactly one of the two flags.
fn submitter(args: &ServeArgs) -> eyre::Result<Submitter> {
    match (args.bundler.signer()?, args.bundler_rpc.url()?) {
        (Some(key), None) => Ok(Submitter::Key(key)),
        (None, Some(url)) => Ok(Submitter::Bundler(url)),
        (Some(_), Some(_)) => Err(Failure::usage(
            "pass one of --bundler-key and --bundler-url: operations go through one of them",
        )),
        (None, None) => Err(Failure::usage(
            "leash serve --rpc-url needs a way to submit operations: --bundler-key HEX (a funded \
             key that sends handleOps) or --bundler-url URL (an ERC-4337 bundler)",
        )),
    }
}

/// The server on `remote` (or, without one, the embedded chain), its state in `data_dir` or,
/// without one, in memory (said on stderr, since everything is lost when it stops).
async fn start(
    out: &Output,
    config: &ServerConfig,
    data_dir: Option<&Path>,
    remote: Option<RemoteChain>,
) -> eyre::Result<(RunningServer, u64)> {
    let (chain, state): (ServedChain, _) = match (remote, data_dir) {
        (None, Some(dir)) => {
            let (chain, state) = leash_server::open_data_dir(dir).await?;
            (chain.into(), Some(state))
        }
        (None, None) => (EmbeddedChain::dev()?.into(), None),
        (Some(chain), Some(dir)) => (chain.into(), Some(leash_server::open_state_dir(dir).await?)),
        (Some(chain), None) => (chain.into(), None),
    };
    let chain_id = chain.chain_id();
    let server = match state {
        Some(state) => leash_server::start(config, chain, state).await?,
        None => {
            out.progress(match chain {
                ServedChain::Embedded(_) => {
                    "leash serve: no --data-dir: state and chain are in memory, lost on exit"
                }
                ServedChain::Remote(_) => {
                    "leash serve: no --data-dir: sessions and calls are in memory, lost on exit"
                }
            });
            leash_server::start(config, chain, MemoryState::new()).await?
        }
    };
    Ok((server, chain_id))
}
