#![doc = include_str!("../README.md")]

mod alto;
mod persistent_anvil;
mod postgres;

pub use alto::{Alto, listening_addresses};
pub use persistent_anvil::PersistentAnvil;
pub use postgres::Postgres;

use alloy_node_bindings::{Anvil, AnvilInstance};
use std::path::PathBuf;

/// `node_modules/.bin/<name>` of the workspace (`forge`, `anvil`, `cast`…).
///
/// # Panics
/// When it is missing, with the command that installs it.
pub fn toolchain_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/.bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/toolchain to install the npm toolchain",
        path.display()
    );
    path
}

/// An anvil with Osaka rules (EIP-7702, the P256VERIFY precompile) on a free loopback port; it is
/// killed when dropped.
///
/// # Panics
/// When anvil cannot start.
pub fn anvil() -> AnvilInstance {
    Anvil::at(toolchain_binary("anvil"))
        .arg("--hardfork")
        .arg("osaka")
        .try_spawn()
        .expect("anvil starts")
}
