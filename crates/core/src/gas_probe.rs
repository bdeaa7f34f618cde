//! A balance-checked operation's validation and execution measured in one call, through
//! `EntryPointProbe` put at the EntryPoint's address by a state override. Its validation leaves
//! the session in transient storage, and its execution needs it there: the settlement, and any
//! app redeeming the session's typed-data signature (the account's ERC-1271 accepts it only during
//! the session's own operation). Measured in separate calls, that execution would settle nothing
//! and see such a signature void. Shared by the direct sender and the simulator.

use crate::{
    gas_estimate::{execution_call, transaction_gas, validate_user_op_call},
    outflow::EXECUTE_USER_OP_SELECTOR,
    sender::SenderError,
};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::SolCall;
use leash_bindings::{
    EntryPointProbe::{Measurement, measureCall},
    PackedUserOperation,
};

/// Whether `op` is measured through the probe: the balance-checked form (`callData` starting with
/// `executeUserOp`'s selector), whose execution depends on what its validation leaves. Other
/// operations are measured in two calls of their own, which gives the same figures.
pub fn measured_in_one_call(op: &PackedUserOperation) -> bool {
    op.callData.starts_with(EXECUTE_USER_OP_SELECTOR.as_slice())
}

/// The probe's `measure` call for `op`: its `validateUserOp`, then its execution, as the EntryPoint
/// calls them.
pub fn probe_call(op: &PackedUserOperation, user_op_hash: B256) -> measureCall {
    measureCall {
        account: op.sender,
        validation: validate_user_op_call(op, user_op_hash).abi_encode().into(),
        execution: execution_call(op, user_op_hash),
    }
}

/// What the probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probed {
    /// Both calls succeeded: the gas of each, on the basis of a call measured as a transaction of
    /// its own (what [`crate::gas_estimate::user_operation_gas`] takes).
    Measured {
        /// `validateUserOp`'s gas.
        validation_gas: u64,
        /// The execution's gas, its settlement included.
        call_gas: u64,
    },
    /// `validateUserOp` reverted with this data.
    ValidationReverted(Bytes),
    /// The execution reverted with this data.
    ExecutionReverted(Bytes),
}

/// Reads the probe's `output` for `call`.
pub fn probed(call: &measureCall, output: &[u8]) -> Result<Probed, SenderError> {
    let measured =
        measureCall::abi_decode_returns(output).map_err(|source| SenderError::Decode {
            what: "EntryPointProbe.measure return",
            source,
        })?;
    let (validated, executed) = (measured.validated, measured.executed);
    if !validated.success {
        return Ok(Probed::ValidationReverted(validated.returnData));
    }
    if !executed.success {
        return Ok(Probed::ExecutionReverted(executed.returnData));
    }
    Ok(Probed::Measured {
        validation_gas: as_transaction(&validated, &call.validation),
        call_gas: as_transaction(&executed, &call.execution),
    })
}

/// A call's gas in the probe plus what a transaction making it alone would add (its base and
/// calldata), so that the margin separate measurements carry stays in.
fn as_transaction(measured: &Measurement, input: &[u8]) -> u64 {
    transaction_gas(input).saturating_add(measured.gasUsed.saturating_to())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use alloy_sol_types::SolValue;

    fn measurement(gas: u64, success: bool, data: &'static [u8]) -> Measurement {
        Measurement {
            gasUsed: U256::from(gas),
            success,
            returnData: Bytes::from_static(data),
        }
    }

    fn output(validated: Measurement, executed: Measurement) -> Vec<u8> {
        (validated, executed).abi_encode_params()
    }

    fn balance_checked() -> PackedUserOperation {
        let mut call_data = EXECUTE_USER_OP_SELECTOR.to_vec();
        call_data.extend_from_slice(&[0x11; 40]);
        call_data.push(0);
        PackedUserOperation {
            callData: call_data.into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_balance_checked_form_is_measured_in_one_call() {
        assert!(measured_in_one_call(&balance_checked()));
        let plain = PackedUserOperation {
            callData: Bytes::from_static(&[0xe9, 0xae, 0x5c, 0x53, 0]),
            ..Default::default()
        };
        assert!(!measured_in_one_call(&plain));
        assert!(!measured_in_one_call(&PackedUserOperation::default()));
    }

    #[test]
    fn the_probe_runs_validation_then_the_execute_user_op_call() {
        let op = balance_checked();
        let hash = B256::repeat_byte(7);
        let call = probe_call(&op, hash);
        assert_eq!(call.account, op.sender);
        assert_eq!(
            call.validation,
            Bytes::from(validate_user_op_call(&op, hash).abi_encode())
        );
        assert_eq!(call.execution, execution_call(&op, hash));
    }

    #[test]
    fn measurements_take_the_basis_of_a_transaction_of_their_own() {
        let call = probe_call(&balance_checked(), B256::ZERO);
        let answer = output(
            measurement(40_000, true, &[]),
            measurement(90_000, true, &[]),
        );
        assert_eq!(
            probed(&call, &answer).expect("decodes"),
            Probed::Measured {
                validation_gas: 40_000 + transaction_gas(&call.validation),
                call_gas: 90_000 + transaction_gas(&call.execution),
            }
        );
    }

    #[test]
    fn a_revert_in_either_call_is_reported_with_its_data() {
        let call = probe_call(&balance_checked(), B256::ZERO);
        let failed_validation = output(measurement(1, false, b"v"), measurement(1, false, b"e"));
        assert_eq!(
            probed(&call, &failed_validation).expect("decodes"),
            Probed::ValidationReverted(Bytes::from_static(b"v")),
            "validation first: its failure explains the execution's"
        );
        let failed_execution = output(measurement(1, true, &[]), measurement(1, false, b"e"));
        assert_eq!(
            probed(&call, &failed_execution).expect("decodes"),
            Probed::ExecutionReverted(Bytes::from_static(b"e"))
        );
        assert!(matches!(
            probed(&call, &[1, 2, 3]),
            Err(SenderError::Decode { .. })
        ));
    }
}
