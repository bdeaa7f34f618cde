//! `leash`: scoped session keys for EIP-7702 smart accounts, from the terminal.

mod commands;

use clap::{Parser, Subcommand};

/// Scoped session keys for EIP-7702 smart accounts (ERC-4337 v0.8, ERC-7579).
#[derive(Debug, Parser)]
#[command(name = "leash", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the end-to-end flow on the embedded chain: deploy, delegate an EOA with EIP-7702, and
    /// send an owner-signed UserOperation through the EntryPoint.
    Demo,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    match Cli::parse().command {
        Command::Demo => commands::demo::run(),
    }
}
