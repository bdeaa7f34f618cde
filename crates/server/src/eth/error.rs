//! How the `eth_*` methods fail: as a node does, so `cast` and viem read the error as they read
//! a node's. A revert is code 3 with the revert data in `data`; a transaction the chain refuses
//! (nonce, chain id, funds) is -32000 with the reason; none of these is -32603, which clients
//! retry.

use crate::error::{RpcError, codes};
use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;
use leash_core::revert_reason::RevertReason;
use leash_sim::{CallFailure, SimError, TransactionError};

/// The code nodes answer a reverted `eth_call` or `eth_estimateGas` with.
const EXECUTION_REVERTED: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub(super) enum EthError {
    /// A malformed request (-32602) or the chain's failure (-32603), as the Wallet API answers.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The call reverted with this data.
    #[error("execution reverted{}", revert_suffix(.0))]
    Reverted(Bytes),
    /// The call stopped without reverting: out of gas, an invalid opcode.
    #[error("execution halted: {0}")]
    Halted(String),
    /// The chain refused the transaction or call: its own fault, the same if sent again.
    #[error("{0}")]
    Refused(TransactionError),
}

impl From<TransactionError> for EthError {
    fn from(error: TransactionError) -> Self {
        match error {
            TransactionError::Chain(error) => Self::Rpc(error.into()),
            refused => Self::Refused(refused),
        }
    }
}

impl From<CallFailure> for EthError {
    fn from(failure: CallFailure) -> Self {
        match failure {
            CallFailure::Reverted(data) => Self::Reverted(data),
            CallFailure::Halted(reason) => Self::Halted(reason),
        }
    }
}

impl From<SimError> for EthError {
    fn from(error: SimError) -> Self {
        Self::Rpc(error.into())
    }
}

/// `: <reason>` when the revert data decodes, as nodes append `Error(string)`'s message.
fn revert_suffix(data: &Bytes) -> String {
    match RevertReason::decode(data) {
        RevertReason::Unknown(_) => String::new(),
        reason => format!(": {reason}"),
    }
}

impl From<EthError> for ErrorObjectOwned {
    fn from(error: EthError) -> Self {
        match error {
            EthError::Rpc(error) => error.into(),
            EthError::Reverted(ref data) => {
                ErrorObjectOwned::owned(EXECUTION_REVERTED, error.to_string(), Some(data))
            }
            EthError::Halted(_) | EthError::Refused(_) => {
                ErrorObjectOwned::owned(codes::INVALID_INPUT, error.to_string(), None::<()>)
            }
        }
    }
}
