//! `leash serve`: the Wallet API's session-key methods over JSON-RPC, on the embedded chain or,
//! with `--rpc-url`, on a node's chain.

use super::serve_keys::{self, ServeCommand};
use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs},
    failure::Failure,
    output::Output,
};
use alloy_primitives::B64;
use clap::{Args, ValueEnum};
use eyre::WrapErr;
use leash_server::{
    CorsOrigins, DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, EmbeddedChain, RemoteChain,
    RunningServer, ServedChain, ServerConfig, Submitter,
    access::{AccessConfig, DEFAULT_BURST, DEFAULT_MAX_PENDING_CALLS, DEFAULT_RATE},
    state::{Claimant, MemoryState, PostgresState, Rate},
};
use serde_json::json;
use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    num::{NonZeroU32, NonZeroUsize},
    path::PathBuf,
    time::Duration,
};
use tracing_subscriber::{
    Layer, filter::LevelFilter, filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Loopback by default: without API keys there is no authentication.
    #[arg(long, default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)))]
    listen: SocketAddr,
    /// The largest request body read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BODY_BYTES)]
    max_request_body: u32,
    /// Keep the state (SQLite) and, without --rpc-url, the embedded chain in this directory, so
    /// a restart goes on where the server stopped; without it everything is in memory.
    // Global: `leash serve keys …` manages the keys of the same store.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "database_url",
        global = true
    )]
    data_dir: Option<PathBuf>,
    /// With --rpc-url: keep the state in this PostgreSQL database (postgres://…), which several
    /// servers (replicas) may share.
    // The URL often carries a password: help does not show the variable's value.
    #[arg(
        long,
        env = "LEASH_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        global = true
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
    /// An origin whose pages may call the server from a browser (CORS), such as
    /// https://app.example; repeatable, or `*` for any. Without it no CORS headers are sent.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// How the logs on stderr are written: text lines, or one JSON object a line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The least severe log level written (off, error, warn, info, debug, trace). Without it,
    /// RUST_LOG's directives (`info,leash_server=debug`), else info.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<LevelFilter>,
    /// On SIGTERM or SIGINT: how long requests in flight and the submissions under way are
    /// waited for before exiting; calls not final by then stay pending in the state.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    shutdown_grace: u64,
    /// Require an API key of every request, even while the state store holds none. Without it,
    /// keys are required once the store holds one (`leash serve keys add`) when the server
    /// starts.
    #[arg(long)]
    require_api_key: bool,
    /// A key's rate limit, N/s or N/min, unless it has its own; counted on each server.
    #[arg(long, value_name = "RATE", default_value_t = DEFAULT_RATE)]
    rate_limit: Rate,
    /// A key's burst above its rate, unless it has its own.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BURST)]
    rate_burst: NonZeroU32,
    /// The calls a key may send a UTC day, unless it has its own; counted in the state store,
    /// across servers. Without it, no quota.
    #[arg(long, value_name = "CALLS")]
    daily_quota: Option<u64>,
    /// The calls an account may have pending: wallet_sendPreparedCalls refuses more.
    #[arg(long, value_name = "CALLS",
          default_value_t = NonZeroUsize::new(DEFAULT_MAX_PENDING_CALLS).unwrap_or(NonZeroUsize::MIN))]
    max_pending_calls: NonZeroUsize,
    #[command(subcommand)]
    command: Option<ServeCommand>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

pub(crate) async fn run(
    global: &GlobalArgs,
    out: &Output,
    mut args: ServeArgs,
) -> eyre::Result<()> {
    if let Some(ServeCommand::Keys(command)) = args.command.take() {
        return keys(out, Store::of(&args), command).await;
    }
    let config = ServerConfig {
        listen: args.listen,
        max_request_body_bytes: args.max_request_body,
        cors_origins: CorsOrigins::parse(&args.cors_origins).map_err(Failure::usage)?,
        access: AccessConfig {
            require_api_key: args.require_api_key,
            rate: args.rate_limit,
            burst: args.rate_burst,
            daily_quota: args.daily_quota,
            max_pending_calls: args.max_pending_calls.get(),
        },
    };
    init_logs(args.log_format, args.log_level)?;
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
    termination().await?;
    // What was left pending is logged; a server started on the same state submits it.
    server
        .shutdown(Duration::from_secs(args.shutdown_grace))
        .await;
    Ok(())
}

/// The server's logs on stderr (stdout carries the command's own output), filtered by
/// `--log-level`, else by RUST_LOG, else at info.
fn init_logs(format: LogFormat, level: Option<LevelFilter>) -> eyre::Result<()> {
    let filter = match (level, std::env::var("RUST_LOG")) {
        (Some(level), _) => Targets::new().with_default(level),
        (None, Ok(directives)) => directives.parse::<Targets>().map_err(|error| {
            Failure::usage(format!(
                "RUST_LOG={directives}: {error} (levels by target: info,leash_server=debug)"
            ))
        })?,
        (None, Err(_)) => Targets::new().with_default(LevelFilter::INFO),
    };
    let logs = match format {
        LogFormat::Text => fmt::layer().with_writer(io::stderr).boxed(),
        LogFormat::Json => fmt::layer().json().with_writer(io::stderr).boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .try_init()
        .wrap_err("installing the log subscriber")
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what `docker stop`, systemd and Kubernetes send).
#[cfg(unix)]
async fn termination() -> eyre::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).wrap_err("listening for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.wrap_err("listening for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

/// Resolves on Ctrl-C, the only termination signal outside Unix.
#[cfg(not(unix))]
async fn termination() -> eyre::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .wrap_err("listening for Ctrl-C")
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

/// `leash serve keys …` on the state in `store`.
async fn keys(out: &Output, store: Store, command: serve_keys::KeysCommand) -> eyre::Result<()> {
    match store {
        Store::Postgres { url, claimant } => {
            serve_keys::run(out, PostgresState::open(&url, claimant).await?, command).await
        }
        Store::Directory(dir) => {
            serve_keys::run(out, leash_server::open_state_dir(&dir).await?, command).await
        }
        Store::Memory => Err(Failure::usage(
            "leash serve keys manages the keys in a server's state store: pass its --data-dir \
             DIR or --database-url URL",
        )),
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
