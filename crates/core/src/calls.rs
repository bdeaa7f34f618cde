//! Calls through `LeashAccount.execute` (ERC-7579 single and batch execution), and the account's
//! own module management.

use crate::error::OperationError;
use alloy_primitives::{Address, B256, Bytes, U256, b256};
use alloy_sol_types::{SolCall, SolValue};
use leash_bindings::{Deployment, Execution, LeashAccount};

/// ERC-7579 mode: one call, revert on failure.
pub const MODE_SINGLE: B256 = B256::ZERO;

/// ERC-7579 mode: a batch of calls that reverts as a whole if one fails.
pub const MODE_BATCH: B256 =
    b256!("0x0100000000000000000000000000000000000000000000000000000000000000");

/// ERC-7579 module type of a validator (`MODULE_TYPE_VALIDATOR` in
/// contracts/interfaces/IERC7579Module.sol; tests/solidity_facts.rs checks they agree).
pub const MODULE_TYPE_VALIDATOR: U256 = U256::from_limbs([1, 0, 0, 0]);

/// One call made by the account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    /// The called address.
    pub to: Address,
    /// Native value sent with the call, in wei.
    pub value: U256,
    /// The call's data.
    pub data: Bytes,
}

impl Call {
    /// A plain native-value transfer.
    pub fn transfer(to: Address, value: U256) -> Self {
        Self {
            to,
            value,
            data: Bytes::new(),
        }
    }
}

/// The account calldata `execute(mode, executionCalldata)` for `calls`: single mode for one call,
/// batch mode for more.
pub fn execute_calldata(calls: &[Call]) -> Result<Bytes, OperationError> {
    let (mode, execution_calldata) = match calls {
        [] => return Err(OperationError::NoCalls),
        [call] => {
            let packed = [
                call.to.as_slice(),
                &call.value.to_be_bytes::<32>(),
                &call.data,
            ]
            .concat();
            (MODE_SINGLE, packed)
        }
        calls => {
            let executions: Vec<Execution> = calls
                .iter()
                .map(|c| Execution {
                    target: c.to,
                    value: c.value,
                    callData: c.data.clone(),
                })
                .collect();
            (MODE_BATCH, executions.abi_encode())
        }
    };
    Ok(LeashAccount::executeCall {
        mode,
        executionCalldata: execution_calldata.into(),
    }
    .abi_encode()
    .into())
}

/// The calls of account calldata `execute(mode, executionCalldata)` in the single or batch mode
/// [`execute_calldata`] writes; `None` for anything else.
pub fn decode_execute_calldata(data: &[u8]) -> Option<Vec<Call>> {
    let execute = LeashAccount::executeCall::abi_decode(data).ok()?;
    let execution = &execute.executionCalldata;
    if execute.mode == MODE_SINGLE {
        let to = Address::from_slice(execution.get(..20)?);
        let value = U256::from_be_slice(execution.get(20..52)?);
        let data = Bytes::copy_from_slice(&execution[52..]);
        return Some(vec![Call { to, value, data }]);
    }
    if execute.mode != MODE_BATCH {
        return None;
    }
    let executions = <Vec<Execution> as SolValue>::abi_decode(execution).ok()?;
    Some(
        executions
            .into_iter()
            .map(|execution| Call {
                to: execution.target,
                value: execution.value,
                data: execution.callData,
            })
            .collect(),
    )
}

/// The account calldata `installModule(validator type, SessionKeyValidator, "")`: what an owner
/// sends (as a UserOperation, or a transaction to itself) before sessions can validate.
pub fn install_validator_calldata() -> Bytes {
    LeashAccount::installModuleCall {
        moduleTypeId: MODULE_TYPE_VALIDATOR,
        module: Deployment::session_key_validator().address(),
        initData: Bytes::new(),
    }
    .abi_encode()
    .into()
}
