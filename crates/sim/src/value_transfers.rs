//! An inspector that records the native value moved by calls that did not revert, so that each
//! UserOperation's native balance changes can be reported (ETH transfers emit no logs).

use alloy_primitives::{Address, Log, U256};
use alloy_sol_types::SolEvent;
use leash_bindings::EntryPoint::{BeforeExecution, UserOperationEvent};
use revm::{
    Inspector,
    interpreter::{CallInputs, CallOutcome, CallScheme},
};

/// Native value moved from one address to another by a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ValueTransfer {
    pub(crate) from: Address,
    pub(crate) to: Address,
    pub(crate) value: U256,
    /// Where in `handleOps` it happened.
    pub(crate) phase: Phase,
}

/// The part of a `handleOps` transaction a transfer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Validation (prefunds to the EntryPoint).
    Validation,
    /// The execution of the UserOperation with this index in the bundle.
    Execution(usize),
    /// After the last UserOperation: the beneficiary's compensation.
    Settlement,
}

/// Records value transfers, dropping those of frames that revert. It follows the EntryPoint's own
/// events to tell phases apart: `BeforeExecution` ends validation, and each `UserOperationEvent`
/// ends one UserOperation's execution.
#[derive(Debug)]
pub(crate) struct ValueTransferTracer {
    entry_point: Address,
    op_count: usize,
    executing: bool,
    completed_ops: usize,
    /// Transfers of the frames still running, innermost last.
    open_frames: Vec<Vec<ValueTransfer>>,
    committed: Vec<ValueTransfer>,
}

impl ValueTransferTracer {
    pub(crate) fn new(entry_point: Address, op_count: usize) -> Self {
        Self {
            entry_point,
            op_count,
            executing: false,
            completed_ops: 0,
            open_frames: Vec::new(),
            committed: Vec::new(),
        }
    }

    pub(crate) fn into_transfers(self) -> Vec<ValueTransfer> {
        self.committed
    }

    fn phase(&self) -> Phase {
        match (self.executing, self.completed_ops < self.op_count) {
            (false, _) => Phase::Validation,
            (true, true) => Phase::Execution(self.completed_ops),
            (true, false) => Phase::Settlement,
        }
    }
}

impl<CTX> Inspector<CTX> for ValueTransferTracer {
    fn call(&mut self, _context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        let mut frame = Vec::new();
        let moves_value = matches!(inputs.scheme, CallScheme::Call) && inputs.transfers_value();
        if let (true, Some(value)) = (moves_value, inputs.transfer_value()) {
            frame.push(ValueTransfer {
                from: inputs.caller,
                to: inputs.target_address,
                value,
                phase: self.phase(),
            });
        }
        self.open_frames.push(frame);
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        let Some(frame) = self.open_frames.pop() else {
            return;
        };
        if !outcome.result.result.is_ok() {
            return;
        }
        match self.open_frames.last_mut() {
            Some(parent) => parent.extend(frame),
            None => self.committed.extend(frame),
        }
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        if log.address != self.entry_point {
            return;
        }
        match log.topics().first() {
            Some(&BeforeExecution::SIGNATURE_HASH) => self.executing = true,
            Some(&UserOperationEvent::SIGNATURE_HASH) => self.completed_ops += 1,
            _ => {}
        }
    }
}
