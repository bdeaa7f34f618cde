#![doc = include_str!("../README.md")]

pub mod access;
mod bundler;
mod chain;
mod chain_sender;
mod claims;
mod config;
mod error;
mod eth;
mod methods;
mod params;
mod pending_nonces;
mod remote;
mod remote_submission;
mod routes;
mod served_chain;
mod server;
pub mod state;
mod telemetry;
mod wire;

pub use chain::{DEV_ACCOUNT_KEYS, EmbeddedChain};
pub use config::{CorsOrigins, DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, ServerConfig};
pub use error::{RpcError, StartError, codes, leash_codes};
pub use remote::{RemoteChain, Submitter};
pub use served_chain::ServedChain;
pub use server::{
    CHAIN_FILE, RunningServer, STATE_FILE, open_data_dir, open_state_dir, start,
    start_without_submitting,
};
