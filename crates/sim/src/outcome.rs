//! What happened to a bundle and to each UserOperation in it.

use crate::{
    SimError,
    value_transfers::{Phase, ValueTransfer},
};
use alloy_primitives::{Address, B256, Bytes, I256, Log, U256};
use alloy_sol_types::SolEvent;
use leash_bindings::{
    EntryPoint::{BeforeExecution, UserOperationEvent, UserOperationRevertReason},
    IERC20,
};
use leash_core::{rejection::EntryPointRejection, revert_reason::RevertReason};
use std::collections::BTreeMap;

/// Signed balance changes per address: native value, and per ERC-20 token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BalanceChanges {
    /// Native balance change per address, in wei.
    pub native: BTreeMap<Address, I256>,
    /// ERC-20 balance change per token, then per holder, in token units (from `Transfer` events).
    pub erc20: BTreeMap<Address, BTreeMap<Address, I256>>,
}

impl BalanceChanges {
    /// The native balance change of `address` (zero when untouched).
    pub fn native_of(&self, address: Address) -> I256 {
        self.native.get(&address).copied().unwrap_or_default()
    }

    /// The balance change of `holder` in `token` (zero when untouched).
    pub fn erc20_of(&self, token: Address, holder: Address) -> I256 {
        self.erc20
            .get(&token)
            .and_then(|holders| holders.get(&holder))
            .copied()
            .unwrap_or_default()
    }

    fn add_native(&mut self, transfer: &ValueTransfer) {
        add(&mut self.native, transfer.from, transfer.to, transfer.value);
    }

    fn add_erc20(&mut self, token: Address, from: Address, to: Address, value: U256) {
        add(self.erc20.entry(token).or_default(), from, to, value);
    }
}

fn add(changes: &mut BTreeMap<Address, I256>, from: Address, to: Address, value: U256) {
    let value = I256::from_raw(value);
    *changes.entry(from).or_default() -= value;
    *changes.entry(to).or_default() += value;
    changes.retain(|_, change| !change.is_zero());
}

/// The result of one UserOperation that made it into an included bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserOpOutcome {
    /// The EntryPoint's hash of the UserOperation.
    pub user_op_hash: B256,
    /// Whether its calls executed or reverted.
    pub execution: Execution,
    /// Gas the EntryPoint charged for it (`actualGasUsed`).
    pub gas_used: U256,
    /// Wei the EntryPoint charged for it (`actualGasCost`), settled from the account's deposit.
    pub gas_cost: U256,
    /// Logs its calls emitted (the EntryPoint's own events excluded).
    pub logs: Vec<Log>,
    /// Value its calls moved: native (from the calls themselves) and ERC-20 (from `Transfer` events).
    /// Gas is not in here: see `gas_cost`.
    pub balance_changes: BalanceChanges,
}

/// How the execution phase of an included UserOperation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// The account's calls all succeeded.
    Succeeded,
    /// The account's execution reverted; validation passed, so the gas was still paid.
    Reverted(RevertReason),
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
        /// The exact native balance change of every address the transaction touched, gas included.
        native_balance_changes: BTreeMap<Address, I256>,
    },
    /// A UserOperation failed validation, so the EntryPoint reverted the bundle; its decoded
    /// inner revert says which rule said no ([`EntryPointRejection::inner_reason`]).
    Rejected(EntryPointRejection),
    /// `handleOps` reverted or halted for a reason other than a UserOperation's validation.
    Failed(RevertReason),
}

impl BundleOutcome {
    /// Reads an included bundle from the EntryPoint's logs and the traced value transfers.
    pub(crate) fn included(
        entry_point: Address,
        logs: &[Log],
        transfers: &[ValueTransfer],
        tx_gas_used: u64,
        native_balance_changes: BTreeMap<Address, I256>,
    ) -> Result<Self, SimError> {
        let mut ops = Vec::new();
        let mut executing = false;
        let mut current = OpInProgress::default();
        for log in logs {
            if log.address != entry_point {
                if executing {
                    current.record(log);
                }
                continue;
            }
            match log.topics().first() {
                Some(&BeforeExecution::SIGNATURE_HASH) => executing = true,
                Some(&UserOperationRevertReason::SIGNATURE_HASH) => {
                    let event = decode_event::<UserOperationRevertReason>(
                        log,
                        "UserOperationRevertReason",
                    )?;
                    current.revert_reason = Some(RevertReason::decode(&event.revertReason));
                }
                Some(&UserOperationEvent::SIGNATURE_HASH) => {
                    let event = decode_event::<UserOperationEvent>(log, "UserOperationEvent")?;
                    ops.push(std::mem::take(&mut current).finish(event));
                }
                _ => {}
            }
        }
        for transfer in transfers {
            if let Phase::Execution(index) = transfer.phase
                && let Some(op) = ops.get_mut(index)
            {
                op.balance_changes.add_native(transfer);
            }
        }
        Ok(Self::Included {
            ops,
            tx_gas_used,
            native_balance_changes,
        })
    }

    /// Reads a reverted `handleOps` from its revert data.
    pub(crate) fn from_revert(output: &[u8]) -> Self {
        match EntryPointRejection::from_revert_data(output) {
            Some(rejection) => Self::Rejected(rejection),
            None => Self::Failed(RevertReason::decode(output)),
        }
    }

    /// The per-UserOperation outcomes of an included bundle.
    pub fn ops(&self) -> Option<&[UserOpOutcome]> {
        match self {
            Self::Included { ops, .. } => Some(ops),
            _ => None,
        }
    }

    /// The rejection, if a UserOperation failed validation.
    pub fn rejection(&self) -> Option<&EntryPointRejection> {
        match self {
            Self::Rejected(rejection) => Some(rejection),
            _ => None,
        }
    }
}

/// The logs and ERC-20 transfers of the UserOperation currently executing.
#[derive(Debug, Default)]
struct OpInProgress {
    logs: Vec<Log>,
    balance_changes: BalanceChanges,
    revert_reason: Option<RevertReason>,
}

impl OpInProgress {
    fn record(&mut self, log: &Log) {
        if let Ok(transfer) = IERC20::Transfer::decode_log_data(&log.data) {
            self.balance_changes
                .add_erc20(log.address, transfer.from, transfer.to, transfer.value);
        }
        self.logs.push(log.clone());
    }

    fn finish(self, event: UserOperationEvent) -> UserOpOutcome {
        let execution = if event.success {
            Execution::Succeeded
        } else {
            Execution::Reverted(
                self.revert_reason
                    .unwrap_or(RevertReason::Unknown(Bytes::new())),
            )
        };
        UserOpOutcome {
            user_op_hash: event.userOpHash,
            execution,
            gas_used: event.actualGasUsed,
            gas_cost: event.actualGasCost,
            logs: self.logs,
            balance_changes: self.balance_changes,
        }
    }
}

fn decode_event<E: SolEvent>(log: &Log, what: &'static str) -> Result<E, SimError> {
    E::decode_log_data(&log.data).map_err(|source| SimError::Decode { what, source })
}
