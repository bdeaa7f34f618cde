//! A UserOperation's receipt read from its bundle transaction's receipt, as bundlers build
//! `eth_getUserOperationReceipt`: shared by the direct sender and the simulator.

use crate::{rpc_types::UserOperationReceipt, sender::SenderError};
use alloy_primitives::{Address, Bytes};
use alloy_rpc_types_eth::{Log, TransactionReceipt};
use alloy_sol_types::SolEvent;
use leash_bindings::EntryPoint::{BeforeExecution, UserOperationEvent, UserOperationRevertReason};

/// The receipt of the operation whose `UserOperationEvent` is `event_log`, one of `receipt`'s
/// logs.
pub fn user_operation_receipt(
    receipt: TransactionReceipt,
    event_log: &Log,
    entry_point: Address,
) -> Result<UserOperationReceipt, SenderError> {
    let event = decode_log::<UserOperationEvent>(event_log, "UserOperationEvent")?;
    let (logs, reason) = operation_logs(&receipt, event_log, entry_point)?;
    Ok(UserOperationReceipt {
        user_op_hash: event.userOpHash,
        entry_point,
        sender: event.sender,
        nonce: event.nonce,
        paymaster: event.paymaster,
        actual_gas_cost: event.actualGasCost,
        actual_gas_used: event.actualGasUsed,
        success: event.success,
        reason,
        logs,
        receipt,
    })
}

/// The logs one operation emitted in a bundle: those after the EntryPoint's previous
/// `BeforeExecution` or `UserOperationEvent` and before the operation's own event; and its
/// `UserOperationRevertReason`, if it has one.
fn operation_logs(
    receipt: &TransactionReceipt,
    event_log: &Log,
    entry_point: Address,
) -> Result<(Vec<Log>, Bytes), SenderError> {
    let all = receipt.logs();
    let end = all
        .iter()
        .position(|log| log.log_index == event_log.log_index)
        .unwrap_or(all.len());
    let is_boundary = |log: &Log| {
        log.address() == entry_point
            && matches!(
                log.topic0(),
                Some(&BeforeExecution::SIGNATURE_HASH | &UserOperationEvent::SIGNATURE_HASH)
            )
    };
    let start = all[..end]
        .iter()
        .rposition(is_boundary)
        .map_or(0, |index| index + 1);
    let mut logs = Vec::new();
    let mut reason = Bytes::new();
    for log in &all[start..end] {
        if log.address() == entry_point
            && log.topic0() == Some(&UserOperationRevertReason::SIGNATURE_HASH)
        {
            reason = decode_log::<UserOperationRevertReason>(log, "UserOperationRevertReason")?
                .revertReason;
        } else {
            logs.push(log.clone());
        }
    }
    Ok((logs, reason))
}

fn decode_log<E: SolEvent>(log: &Log, what: &'static str) -> Result<E, SenderError> {
    E::decode_log_data(log.data()).map_err(|source| SenderError::Decode { what, source })
}
