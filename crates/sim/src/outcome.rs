//! What happened to a bundle and to each UserOperation in it.

use crate::{RevertReason, SimError};
use alloy_primitives::{B256, Bytes, Log, U256};
use alloy_sol_types::{SolEvent, SolInterface};
use leash_bindings::EntryPoint::{EntryPointErrors, UserOperationEvent, UserOperationRevertReason};

/// The result of one UserOperation that made it into an included bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserOpOutcome {
    /// The EntryPoint's hash of the UserOperation.
    pub user_op_hash: B256,
    /// Whether its calls executed or reverted.
    pub execution: Execution,
    /// Gas the EntryPoint charged for it (`actualGasUsed`).
    pub gas_used: U256,
    /// Wei the EntryPoint charged for it (`actualGasCost`).
    pub gas_cost: U256,
}

/// How the execution phase of an included UserOperation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// The account's calls all succeeded.
    Succeeded,
    /// The account's execution reverted; validation passed, so the gas was still paid.
    Reverted(RevertReason),
}

/// A UserOperation the EntryPoint refused in validation, which reverts the whole `handleOps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Index of the refused UserOperation in the bundle.
    pub op_index: usize,
    /// The ERC-4337 code, such as `AA24` (signature) or `AA23` (account reverted).
    pub code: String,
    /// The EntryPoint's full message, such as `AA24 signature error`.
    pub message: String,
    /// The account's or validator's own revert data, when the EntryPoint passed it on.
    pub inner: Option<RevertReason>,
}

/// The outcome of a `handleOps` transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleOutcome {
    /// The bundle was included: one outcome per UserOperation, in order.
    Included {
        /// Per-UserOperation outcomes.
        ops: Vec<UserOpOutcome>,
        /// Gas the whole `handleOps` transaction used.
        tx_gas_used: u64,
    },
    /// A UserOperation failed validation, so the EntryPoint reverted the bundle.
    Rejected(Rejection),
    /// `handleOps` reverted or halted for a reason other than a UserOperation's validation.
    Failed(RevertReason),
}

impl BundleOutcome {
    /// Reads an included bundle from the EntryPoint's logs.
    pub(crate) fn from_logs(logs: &[Log], tx_gas_used: u64) -> Result<Self, SimError> {
        let mut ops = Vec::new();
        let mut pending_revert = None;
        for log in logs {
            match log.topics().first() {
                Some(&UserOperationRevertReason::SIGNATURE_HASH) => {
                    let event = decode_event::<UserOperationRevertReason>(
                        log,
                        "UserOperationRevertReason",
                    )?;
                    pending_revert = Some(RevertReason::decode(&event.revertReason));
                }
                Some(&UserOperationEvent::SIGNATURE_HASH) => {
                    let event = decode_event::<UserOperationEvent>(log, "UserOperationEvent")?;
                    let execution = match (event.success, pending_revert.take()) {
                        (true, _) => Execution::Succeeded,
                        (false, reason) => Execution::Reverted(
                            reason.unwrap_or(RevertReason::Unknown(Bytes::new())),
                        ),
                    };
                    ops.push(UserOpOutcome {
                        user_op_hash: event.userOpHash,
                        execution,
                        gas_used: event.actualGasUsed,
                        gas_cost: event.actualGasCost,
                    });
                }
                _ => {}
            }
        }
        Ok(Self::Included { ops, tx_gas_used })
    }

    /// Reads a reverted `handleOps` from its revert data.
    pub(crate) fn from_revert(output: &[u8]) -> Self {
        let rejection = |op_index: U256, message: String, inner: Option<RevertReason>| {
            Self::Rejected(Rejection {
                op_index: op_index.saturating_to(),
                code: message
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                message,
                inner,
            })
        };
        match EntryPointErrors::abi_decode(output) {
            Ok(EntryPointErrors::FailedOp(e)) => rejection(e.opIndex, e.reason, None),
            Ok(EntryPointErrors::FailedOpWithRevert(e)) => {
                rejection(e.opIndex, e.reason, Some(RevertReason::decode(&e.inner)))
            }
            _ => Self::Failed(RevertReason::decode(output)),
        }
    }

    /// The per-UserOperation outcomes of an included bundle.
    pub fn included(&self) -> Option<&[UserOpOutcome]> {
        match self {
            Self::Included { ops, .. } => Some(ops),
            _ => None,
        }
    }
}

fn decode_event<E: SolEvent>(log: &Log, what: &'static str) -> Result<E, SimError> {
    E::decode_log_data(&log.data).map_err(|source| SimError::Decode { what, source })
}
