//! `leash`: scoped session keys for EIP-7702 smart accounts, from the terminal.

mod args;
mod commands;
mod failure;
mod node;
mod output;

use clap::{Parser, Subcommand};
use output::Output;
use std::process::ExitCode;

/// Scoped session keys for EIP-7702 smart accounts (ERC-4337 v0.8, ERC-7579).
///
/// Exit codes: 0 success, 1 error (node, files, anything unexpected), 2 usage (bad or missing
/// flags), 3 denied by the session's policy or by validation, 4 the calls reverted.
#[derive(Debug, Parser)]
#[command(name = "leash", version, about)]
struct Cli {
    #[command(flatten)]
    global: args::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole story on the embedded chain: delegate an EOA, grant a session key an ERC-20
    /// allowance, spend within it, get denied beyond it, revoke, get denied again.
    Demo,
    /// Deploy the EntryPoint v0.8 and the leash contracts at their deterministic addresses (the
    /// same as `forge script script/Deploy.s.sol`), or check that they are there.
    Deploy(commands::deploy::DeployArgs),
    /// Show an EOA's EIP-7702 delegation, and delegate it to LeashAccount with SessionKeyValidator
    /// installed.
    Delegate(commands::delegate::DelegateArgs),
    /// Create, list, inspect, revoke and delete session keys.
    #[command(subcommand)]
    Session(commands::session::SessionCommand),
    /// Send calls as a session key: a UserOperation through the EntryPoint.
    Send(commands::send::SendArgs),
    /// Session signatures for backends: a session as a SIWE + ReCap capability the owner signs,
    /// requests signed by the session key, and their verification.
    #[command(subcommand)]
    Auth(commands::auth::AuthCommand),
    /// Serve the Wallet API's session-key methods (wallet_createSession, wallet_prepareCalls,
    /// wallet_sendPreparedCalls, wallet_getCallsStatus) over JSON-RPC, on the embedded chain or
    /// on the chain behind --rpc-url.
    Serve(commands::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = Output::new(cli.global.json);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return output.failure(&eyre::Report::new(error)),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo => commands::demo::run(&output),
            Command::Deploy(args) => commands::deploy::run(&cli.global, &output, args).await,
            Command::Delegate(args) => commands::delegate::run(&cli.global, &output, args).await,
            Command::Session(command) => {
                commands::session::run(&cli.global, &output, command).await
            }
            Command::Send(args) => commands::send::run(&cli.global, &output, args).await,
            Command::Serve(args) => commands::serve::run(&cli.global, &output, args).await,
            Command::Auth(command) => commands::auth::run(&cli.global, &output, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => output.failure(&report),
    }
}
