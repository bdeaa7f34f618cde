//! `wallet_getCallsStatus` (EIP-5792).

use super::calls::Details;
use crate::state::CallStatus;
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use leash_core::rpc_types::UserOperationReceipt;
use serde::Serialize;

/// The status of one calls id.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallsStatusResponse {
    id: Bytes,
    chain_id: U64,
    atomic: bool,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipts: Option<Vec<WireReceipt>>,
    details: Details,
}

impl CallsStatusResponse {
    pub(crate) fn new(id: Bytes, chain_id: u64, user_op_hash: B256, status: &CallStatus) -> Self {
        Self {
            id,
            chain_id: U64::from(chain_id),
            // One UserOperation: its calls succeed or revert together.
            atomic: true,
            status: status.code(),
            receipts: status
                .receipt()
                .map(|receipt| vec![WireReceipt::from(receipt)]),
            details: Details::user_operation(user_op_hash, None),
        }
    }
}

/// The receipt of the operation: `status` is its calls' success, the logs are its own.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WireReceipt {
    status: U64,
    block_hash: B256,
    block_number: U64,
    gas_used: U256,
    transaction_hash: B256,
    logs: Vec<WireLog>,
}

#[derive(Clone, Debug, Serialize)]
struct WireLog {
    address: Address,
    data: Bytes,
    topics: Vec<B256>,
}

impl From<&UserOperationReceipt> for WireReceipt {
    fn from(receipt: &UserOperationReceipt) -> Self {
        let transaction = &receipt.receipt;
        Self {
            status: U64::from(u8::from(receipt.success)),
            block_hash: transaction.block_hash.unwrap_or_default(),
            block_number: U64::from(transaction.block_number.unwrap_or_default()),
            gas_used: receipt.actual_gas_used,
            transaction_hash: transaction.transaction_hash,
            logs: receipt
                .logs
                .iter()
                .map(|log| WireLog {
                    address: log.address(),
                    data: log.data().data.clone(),
                    topics: log.topics().to_vec(),
                })
                .collect(),
        }
    }
}
