use alloy_primitives::Bytes;

/// An infrastructure failure of the simulator. A transaction or UserOperation that reverts is not
/// an error: it is an outcome (see [`crate::BundleOutcome`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// revm refused the transaction (bad nonce, insufficient funds for gas, invalid header) or its
    /// database failed.
    #[error("EVM error: {0}")]
    Evm(String),
    /// Reading the forked node's state failed, so the fork cannot know the state it needs.
    #[error(transparent)]
    Backing(#[from] crate::BackingError),
    /// A fork could not be started.
    #[error("forking: {0}")]
    Fork(String),
    /// A contract of the deterministic deployment could not be created.
    #[error("deploying {name} failed: {reason}")]
    Deployment {
        /// The contract's name.
        name: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A read-only call that must succeed reverted.
    #[error("call to {function} reverted: {output}")]
    CallReverted {
        /// The called function.
        function: &'static str,
        /// The revert data.
        output: Bytes,
    },
    /// Building or signing a UserOperation or authorization failed.
    #[error(transparent)]
    Sdk(#[from] leash_core::error::OperationError),
    /// A scripted flow's operation could not be prepared or sent for a reason other than a
    /// rejection (which is an outcome).
    #[error(transparent)]
    Sender(#[from] leash_core::sender::SenderError),
    /// A scripted flow built a grant the SDK refuses.
    #[error(transparent)]
    Grant(#[from] leash_core::grant::GrantError),
    /// A saved chain could not be written or read.
    #[error("chain file {path}: {reason}")]
    Persist {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// Return data or logs did not decode as the ABI says they must.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        source: alloy_sol_types::Error,
    },
}
