#![doc = include_str!("../README.md")]

mod bundler;
mod chain;
mod config;
mod error;
mod eth;
mod methods;
mod params;
mod server;
pub mod state;
mod wire;

pub use chain::{DEV_ACCOUNT_KEYS, EmbeddedChain};
pub use config::{DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, ServerConfig};
pub use error::{RpcError, StartError, codes, leash_codes};
pub use server::{
    CHAIN_FILE, RunningServer, STATE_FILE, open_data_dir, start, start_without_submitting,
};
