//! A UserOperation's `data`: the bundler's unpacked v0.8 JSON (leash-core's `RpcUserOperation`)
//! without `signature`, which the Wallet API carries beside it.

use crate::error::RpcError;
use alloy_primitives::U256;
use leash_core::{rpc_types::RpcUserOperation, sender::SignedUserOperation};
use leash_sdk::service::ServiceError;
use serde_json::{Value, json};

const SIGNATURE: &str = "signature";

/// An operation in its wire shape, with what it may cost the account.
#[derive(Debug)]
pub(crate) struct WireOperation {
    pub(crate) data: Value,
    /// Every gas limit at the maximum fee: what the EntryPoint takes as prefund.
    pub(crate) max_cost: U256,
}

/// `op`'s `data`.
pub(crate) fn to_wire(op: &SignedUserOperation) -> Result<WireOperation, RpcError> {
    let rpc = RpcUserOperation::try_from(op).map_err(ServiceError::from)?;
    let gas = rpc.verification_gas_limit + rpc.call_gas_limit + rpc.pre_verification_gas;
    let max_cost = gas.saturating_mul(rpc.max_fee_per_gas);
    // Serializing a struct of strings cannot fail.
    let mut data = json!(rpc);
    if let Some(fields) = data.as_object_mut() {
        fields.remove(SIGNATURE);
    }
    Ok(WireOperation { data, max_cost })
}

/// The operation `data` describes, unsigned; `field` names `data` in errors.
pub(crate) fn from_wire(mut data: Value, field: &str) -> Result<SignedUserOperation, RpcError> {
    let Some(fields) = data.as_object_mut() else {
        return Err(RpcError::invalid(field, "expected an object"));
    };
    fields.insert(SIGNATURE.to_owned(), json!("0x"));
    let rpc: RpcUserOperation = serde_path_to_error::deserialize(data).map_err(|error| {
        RpcError::invalid(
            format!("{field}.{}", error.path()),
            error.into_inner().to_string(),
        )
    })?;
    SignedUserOperation::try_from(rpc).map_err(|error| RpcError::invalid(field, error.to_string()))
}
