//! Gas limits of a UserOperation from two measured calls, as a self-bundling sender estimates
//! them: the account's `validateUserOp` and its execution of `callData`, each run as the
//! EntryPoint. Shared by the direct sender (on a node) and the simulator (in revm), so both give
//! the same limits for the same measurements.

use crate::{
    outflow::EXECUTE_USER_OP_SELECTOR, rpc_types::UserOperationGasEstimate,
    sender::SignedUserOperation,
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{
    EntryPoint::handleOpsCall,
    LeashAccount::{self, executeUserOpCall, validateUserOpCall},
    PackedUserOperation,
};

/// Gas of a transaction before its calldata.
const TX_BASE_GAS: u64 = 21_000;
/// What the EntryPoint spends per operation outside the metered validation and execution; the
/// value ERC-4337 bundlers add to `preVerificationGas`.
const PER_OPERATION_OVERHEAD_GAS: u64 = 18_300;
/// What the EntryPoint's validation phase spends around `validateUserOp` and charges to
/// `verificationGasLimit`: reading and updating the nonce (a write to a warm, non-zero slot),
/// deposit accounting and the cold accesses to the sender and its delegate.
const ENTRY_POINT_VALIDATION_GAS: u64 = 15_000;
/// The extra cost of the first operation in a nonce lane: its nonce slot goes from zero to
/// non-zero (`SSTORE` 20000 instead of 2900).
const FIRST_NONCE_IN_LANE_GAS: u64 = 17_100;
/// EIP-7702's charge per authorization in a transaction (`PER_EMPTY_ACCOUNT_COST`).
const PER_AUTHORIZATION_GAS: u64 = 25_000;

/// The call the EntryPoint makes to execute `op`: for the balance-checked form (`callData`
/// starting with `executeUserOp`'s selector), `executeUserOp(op, userOpHash)`, as ERC-4337 v0.8
/// does; otherwise `callData` itself.
pub fn execution_call(op: &PackedUserOperation, user_op_hash: B256) -> Bytes {
    if !op.callData.starts_with(EXECUTE_USER_OP_SELECTOR.as_slice()) {
        return op.callData.clone();
    }
    executeUserOpCall {
        userOp: account_user_operation(op),
        userOpHash: user_op_hash,
    }
    .abi_encode()
    .into()
}

/// The `validateUserOp` call the EntryPoint makes for `op`, to be measured as the EntryPoint.
pub fn validate_user_op_call(op: &PackedUserOperation, user_op_hash: B256) -> validateUserOpCall {
    validateUserOpCall {
        userOp: account_user_operation(op),
        userOpHash: user_op_hash,
        // Any amount: paying the EntryPoint its prefund (a value call that credits the account's
        // deposit) is part of validation, and costs the same for any amount.
        missingAccountFunds: U256::from(1),
    }
}

/// The `handleOps` calldata that carries `ops` in one bundle, in order, paying `beneficiary`.
pub fn handle_ops_calldata(ops: &[PackedUserOperation], beneficiary: Address) -> Vec<u8> {
    handleOpsCall {
        ops: ops.to_vec(),
        beneficiary,
    }
    .abi_encode()
}

/// The most gas `op` may use in a bundle, as the EntryPoint bounds it: its verification and call
/// limits (packed high and low in `accountGasLimits`), its `preVerificationGas` and, when a
/// paymaster sponsors it, the paymaster's verification and post-operation limits (the 16-byte
/// words after its address in `paymasterAndData`). A bundle's transaction given the sum over its
/// operations cannot run out of gas before they do (each operation's `preVerificationGas` pays
/// the transaction's base cost once more).
pub fn operation_gas_bound(op: &PackedUserOperation) -> u128 {
    let word = |bytes: &[u8]| {
        bytes
            .iter()
            .fold(0u128, |n, byte| n << 8 | u128::from(*byte))
    };
    let limits = op.accountGasLimits.0;
    let paymaster = match op.paymasterAndData.get(20..52) {
        Some(limits) => word(&limits[..16]).saturating_add(word(&limits[16..])),
        None => 0,
    };
    word(&limits[..16])
        .saturating_add(word(&limits[16..]))
        .saturating_add(op.preVerificationGas.saturating_to())
        .saturating_add(paymaster)
}

/// The limits for `op`, sent alone in a `handleOps` paying `beneficiary`, given the gas its
/// `validateUserOp` and its execution took when run as the EntryPoint: each in a transaction of
/// its own, or, for the balance-checked form, one after the other in `EntryPointProbe`
/// ([`crate::gas_probe`]), so that the execution's settlement is measured with the context its
/// validation left. Either way each call's own transaction overhead, 21000 and calldata, stays in
/// as margin. The EntryPoint's own validation work (nonce, deposit) is added to the validation
/// gas; `preVerificationGas` is the transaction's base and calldata gas, the EntryPoint's
/// per-operation overhead and the authorization's charge.
pub fn user_operation_gas(
    op: &SignedUserOperation,
    beneficiary: Address,
    validation_gas: u64,
    call_gas: u64,
) -> UserOperationGasEstimate {
    let first_in_lane = op.operation.nonce.as_limbs()[0] == 0;
    let lane_gas = if first_in_lane {
        FIRST_NONCE_IN_LANE_GAS
    } else {
        0
    };
    let verification_gas_limit = validation_gas + ENTRY_POINT_VALIDATION_GAS + lane_gas;
    let calldata = handle_ops_calldata(std::slice::from_ref(&op.operation), beneficiary);
    let authorizations = u64::from(op.authorization.is_some());
    let pre_verification_gas = TX_BASE_GAS
        + calldata_gas(&calldata)
        + PER_OPERATION_OVERHEAD_GAS
        + authorizations * PER_AUTHORIZATION_GAS;
    UserOperationGasEstimate {
        pre_verification_gas: U256::from(pre_verification_gas),
        verification_gas_limit: U256::from(verification_gas_limit),
        call_gas_limit: U256::from(call_gas),
        paymaster_verification_gas_limit: None,
        paymaster_post_op_gas_limit: None,
    }
}

/// The same operation as `LeashAccount`'s bindings type it (the ABI tuple is identical).
fn account_user_operation(op: &PackedUserOperation) -> LeashAccount::PackedUserOperation {
    LeashAccount::PackedUserOperation {
        sender: op.sender,
        nonce: op.nonce,
        initCode: op.initCode.clone(),
        callData: op.callData.clone(),
        accountGasLimits: op.accountGasLimits,
        preVerificationGas: op.preVerificationGas,
        gasFees: op.gasFees,
        paymasterAndData: op.paymasterAndData.clone(),
        signature: op.signature.clone(),
    }
}

/// What a transaction whose input is `input` costs before it runs: its base and calldata gas.
pub(crate) fn transaction_gas(input: &[u8]) -> u64 {
    TX_BASE_GAS + calldata_gas(input)
}

/// Calldata gas as EIP-7623 (Prague) charges it: the larger of the standard cost (4 per zero
/// byte, 16 per other byte, over 21000) and the floor (10 per token, a token being a zero byte or
/// a quarter of another byte).
fn calldata_gas(calldata: &[u8]) -> u64 {
    let zeros = calldata.iter().filter(|&&b| b == 0).count() as u64;
    let non_zeros = calldata.len() as u64 - zeros;
    let standard = zeros * 4 + non_zeros * 16;
    let floor = (zeros + non_zeros * 4) * 10;
    standard.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_checked_form_executes_through_execute_user_op() {
        let mut op = PackedUserOperation {
            callData: Bytes::from_static(&[0xe9, 0xae, 0x5c, 0x53, 0]),
            ..Default::default()
        };
        let hash = B256::repeat_byte(3);
        assert_eq!(execution_call(&op, hash), op.callData);
        let mut checked = EXECUTE_USER_OP_SELECTOR.to_vec();
        checked.extend_from_slice(&op.callData);
        checked.extend_from_slice(&[0x11; 40]);
        checked.push(2);
        op.callData = checked.into();
        let call = executeUserOpCall::abi_decode(&execution_call(&op, hash)).expect("decodes");
        assert_eq!(
            (call.userOp.callData, call.userOpHash),
            (op.callData.clone(), hash)
        );
        // Measured with its validation's context, the execution's gas holds its settlement.
        let estimate = user_operation_gas(&SignedUserOperation::new(op), Address::ZERO, 0, 1_000);
        assert_eq!(estimate.call_gas_limit, U256::from(1_000));
    }

    #[test]
    fn a_bundle_bound_counts_every_limit_and_the_paymaster_s() {
        let mut limits = [0u8; 32];
        limits[15] = 7; // verificationGasLimit
        limits[31] = 11; // callGasLimit
        let mut op = PackedUserOperation {
            accountGasLimits: limits.into(),
            preVerificationGas: U256::from(13),
            ..Default::default()
        };
        assert_eq!(operation_gas_bound(&op), 31);
        // A paymaster address without its limits is not a valid sponsorship: nothing to add.
        op.paymasterAndData = vec![0x22; 20].into();
        assert_eq!(operation_gas_bound(&op), 31);
        let mut sponsored = vec![0x22; 20];
        sponsored.extend_from_slice(&U256::from(17).to_be_bytes::<32>()[16..]);
        sponsored.extend_from_slice(&U256::from(19).to_be_bytes::<32>()[16..]);
        sponsored.extend_from_slice(b"paymaster data");
        op.paymasterAndData = sponsored.into();
        assert_eq!(operation_gas_bound(&op), 31 + 17 + 19);
        op.preVerificationGas = U256::MAX;
        assert_eq!(operation_gas_bound(&op), u128::MAX, "saturates");
    }

    #[test]
    fn calldata_gas_takes_the_eip7623_floor() {
        assert_eq!(calldata_gas(&[0, 0]), 20);
        assert_eq!(calldata_gas(&[1]), 40);
    }
}
