//! An anvil whose chain outlives the process: stopped gracefully it writes its state to a file,
//! and started again it reads it back, on the same port. For tests of a node going away and
//! coming back.

use crate::toolchain_binary;
use alloy_node_bindings::{Anvil, AnvilInstance};
use std::{
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::Command,
};
use tempfile::TempDir;

/// An Osaka anvil on a fixed loopback port with `--state` in a temporary directory; killed when
/// dropped.
#[derive(Debug)]
pub struct PersistentAnvil {
    running: Option<AnvilInstance>,
    port: u16,
    dir: TempDir,
}

impl PersistentAnvil {
    /// Starts it on a free port, with a fresh chain.
    ///
    /// # Panics
    /// When no port is free or anvil cannot start.
    pub fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let mut anvil = Self {
            running: None,
            port,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        anvil.resume();
        anvil
    }

    /// The running anvil.
    ///
    /// # Panics
    /// While it is stopped.
    pub fn instance(&self) -> &AnvilInstance {
        self.running.as_ref().expect("anvil is running")
    }

    /// Stops it as a node going down gracefully (SIGTERM), which writes its state.
    ///
    /// # Panics
    /// When it was not running or does not stop.
    pub fn stop(&mut self) {
        let mut instance = self.running.take().expect("anvil is running");
        let terminated = Command::new("kill")
            .args(["-TERM", &instance.child().id().to_string()])
            .status()
            .expect("kill runs");
        assert!(terminated.success(), "anvil took SIGTERM");
        let exited = instance.child_mut().wait().expect("anvil exits");
        // Killed by the signal rather than exiting, it would not have written its state.
        assert!(
            exited.code().is_some(),
            "anvil did not exit by itself: {exited}"
        );
    }

    /// Starts it again on the same port, from the state it wrote when it stopped.
    ///
    /// # Panics
    /// When it is running already or cannot start.
    pub fn resume(&mut self) {
        assert!(self.running.is_none(), "anvil is running already");
        let state: PathBuf = self.dir.path().join("state.json");
        // The platform binary itself, not the npm wrapper in .bin: a wrapper killed by SIGTERM
        // takes anvil down without the state written.
        let binary = toolchain_binary("anvil")
            .parent()
            .and_then(Path::parent)
            .map(|node_modules| node_modules.join(".foundry-bin/anvil"))
            .expect("node_modules/.bin has a parent");
        let instance = Anvil::at(binary)
            .port(self.port)
            .arg("--hardfork")
            .arg("osaka")
            .arg("--state")
            .arg(state.display().to_string())
            .try_spawn()
            .expect("anvil starts");
        self.running = Some(instance);
    }
}
