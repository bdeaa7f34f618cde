//! `leash serve`: the Wallet API's session-key methods over JSON-RPC, on the embedded chain or,
//! with `--rpc-url`, on a node's chain.

use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs},
    failure::Failure,
    output::Output,
};
use alloy_primitives::B64;
use clap::Args;
use eyre::WrapErr;
use leash_server::{
    DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, EmbeddedChain, RemoteChain, RunningServer,
    ServedChain, ServerConfig, Submitter,
    state::{Claimant, MemoryState, PostgresState},
};
use serde_json::json;
use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
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
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    data_dir: Option<PathBuf>,
    /// With --rpc-url: keep the state in this PostgreSQL database (postgres://…), which several
    /// servers (replicas) may share.
    // The URL often carries a password: help does not show the variable's value.
    #[arg(
        long,
        env = "LEASH_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,
    /// With --database-url: this server's id among the replicas (unique); one restarted under
    /// the same id resumes its calls at once. Default: a random id.
    #[arg(long, value_name = "ID", requires = "database_url")]
    replica_id: Option<String>,
    /// With --database-url: seconds a replica's claim on its pending calls holds without
    /// renewal; the calls of a replica that died are taken over after it.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "database_url",
          value_parser = clap::value_parser!(u64).range(3..=3600))]
    claim_lease: u64,
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
                Submitter::Bundlers(first, rest) => {
                    let fallbacks: String =
                        rest.iter().map(|url| format!(", then {url}")).collect();
                    format!("the bundler at {first}{fallbacks}")
                }
            };
            let described = format!("at {url}; operations through {through}");
            let wait = args.bundler_rpc.receipt_wait();
            Some((RemoteChain::connect(url, submitter, wait).await?, described))
        }
        None if args.bundler.bundler_key.is_some() || !args.bundler_rpc.bundler_url.is_empty() => {
            return Err(Failure::usage(
                "--bundler-key and --bundler-url submit to the chain behind --rpc-url; without \
                 it the embedded chain bundles by itself",
            ));
        }
        None => None,
    };
    let chain = remote.as_ref().map(|(chain, _)| chain.clone());
    let (server, chain_id) = start(out, &config, Store::of(&args), chain)
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
    match (args.bundler.signer()?, args.bundler_rpc.urls()?) {
        (Some(key), None) => Ok(Submitter::Key(key)),
        (None, Some((first, rest))) => Ok(Submitter::Bundlers(first, rest)),
        (Some(_), Some(_)) => Err(Failure::usage(
            "pass one of --bundler-key and --bundler-url: operations go through one of them",
        )),
        (None, None) => Err(Failure::usage(
            "leash serve --rpc-url needs a way to submit operations: --bundler-key HEX (a funded \
             key that sends handleOps) or --bundler-url URL (an ERC-4337 bundler)",
        )),
    }
}

/// Where `leash serve` keeps its state.
enum Store {
    /// PostgreSQL, shared with other replicas.
    Postgres { url: String, claimant: Claimant },
    /// SQLite (and, for the embedded chain, the chain) in a directory.
    Directory(PathBuf),
    /// This process's memory.
    Memory,
}

impl Store {
    fn of(args: &ServeArgs) -> Self {
        match (&args.database_url, &args.data_dir) {
            (Some(url), _) => Self::Postgres {
                url: url.clone(),
                claimant: Claimant {
                    id: args
                        .replica_id
                        .clone()
                        .unwrap_or_else(|| format!("leash-{}", B64::random())),
                    lease: Duration::from_secs(args.claim_lease),
                },
            },
            (None, Some(dir)) => Self::Directory(dir.clone()),
            (None, None) => Self::Memory,
        }
    }
}

/// The server on `remote` (or, without one, the embedded chain) with its state in `store` (in
/// memory said on stderr, since everything is lost when it stops).
async fn start(
    out: &Output,
    config: &ServerConfig,
    store: Store,
    remote: Option<RemoteChain>,
) -> eyre::Result<(RunningServer, u64)> {
    let memory_warning = match remote {
        None => "leash serve: no --data-dir: state and chain are in memory, lost on exit",
        Some(_) => "leash serve: no --data-dir: sessions and calls are in memory, lost on exit",
    };
    let chain: ServedChain = match (remote, &store) {
        (None, Store::Directory(dir)) => {
            let (chain, state) = leash_server::open_data_dir(dir).await?;
            let chain_id = chain.chain_id();
            return Ok((leash_server::start(config, chain, state).await?, chain_id));
        }
        (None, Store::Postgres { .. }) => {
            return Err(Failure::usage(
                "--database-url is for replicas sharing a chain: pass --rpc-url as well (the \
                 embedded chain lives in one process)",
            ));
        }
        (None, Store::Memory) => EmbeddedChain::dev()?.into(),
        (Some(remote), _) => remote.into(),
    };
    let chain_id = chain.chain_id();
    let server = match store {
        Store::Postgres { url, claimant } => {
            let state = PostgresState::open(&url, claimant).await?;
            leash_server::start(config, chain, state).await?
        }
        Store::Directory(dir) => {
            let state = leash_server::open_state_dir(&dir).await?;
            leash_server::start(config, chain, state).await?
        }
        Store::Memory => {
            out.progress(memory_warning);
            leash_server::start(config, chain, MemoryState::new()).await?
        }
    };
    Ok((server, chain_id))
}
