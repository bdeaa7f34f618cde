//! Pimlico's alto bundler (npm `@pimlico/alto`, installed by `scripts/toolchain`) in front of an
//! anvil, listening on loopback only.

use crate::toolchain_binary;
use alloy_node_bindings::AnvilInstance;
use std::{
    net::{Ipv4Addr, TcpListener},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

/// The canonical ERC-4337 v0.8 EntryPoint, the one alto serves.
const ENTRY_POINT: &str = "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108";

/// A running alto; killed when dropped.
#[derive(Debug)]
pub struct Alto {
    process: Child,
    port: u16,
}

impl Alto {
    /// Starts alto for the canonical EntryPoint v0.8 on `anvil`, with dev keys 3 (executor) and 4
    /// (utility: it deploys alto's simulation contracts at startup). Alto 0.0.20 listens on
    /// 0.0.0.0 whatever `--host` says, so a preload (`loopback.cjs`) moves its listener to
    /// 127.0.0.1. It answers once its simulation contracts are deployed: poll it before use.
    ///
    /// # Panics
    /// When no port is free or alto cannot start.
    pub fn start(anvil: &AnvilInstance) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let key = |index: usize| format!("0x{}", hex(&anvil.keys()[index].to_bytes()));
        let preload = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("loopback.cjs");
        let process = Command::new(toolchain_binary("alto"))
            .env("NODE_OPTIONS", format!("--require {}", preload.display()))
            .args(["--entrypoints", ENTRY_POINT])
            .arg("--executor-private-keys")
            .arg(key(3))
            .arg("--utility-private-key")
            .arg(key(4))
            .arg("--rpc-url")
            .arg(anvil.endpoint())
            .args(["--port", &port.to_string()])
            // Safe mode traces validation against the ERC-7562 rules with a JS tracer anvil lacks.
            .args(["--safe-mode", "false", "--log-level", "warn"])
            .stdout(Stdio::null())
            .spawn()
            .expect("alto starts");
        Self { process, port }
    }

    /// Alto's JSON-RPC endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Alto's port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Alto {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The local addresses listening on TCP `port`, read from `/proc/net/tcp` and `/proc/net/tcp6`
/// (Linux), as they appear there: `0100007F` is 127.0.0.1, `00000000` is 0.0.0.0.
pub fn listening_addresses(port: u16) -> Vec<String> {
    let wanted = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    // local_address is `ADDR:PORT`; state 0A is LISTEN.
                    let (address, local_port) = fields.get(1)?.split_once(':')?;
                    (local_port == wanted && fields.get(3) == Some(&"0A"))
                        .then(|| address.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
