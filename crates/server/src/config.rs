//! How the server listens.

use std::net::{Ipv4Addr, SocketAddr};

/// Where the server listens and how much it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The address to listen on: loopback by default, since the server has no authentication.
    pub listen: SocketAddr,
    /// The largest request body read, in bytes; larger requests are refused before parsing.
    pub max_request_body_bytes: u32,
}

/// The default port: ERC-4337's number, free of anvil's 8545.
pub const DEFAULT_PORT: u16 = 4337;

/// A Wallet API request is a few kilobytes (a batch of calls with their data); 1 MiB leaves room
/// for large calldata while bounding what a caller can make the server buffer.
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: u32 = 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            max_request_body_bytes: DEFAULT_MAX_REQUEST_BODY_BYTES,
        }
    }
}
