//! What a node's `eth_call`, `eth_estimateGas` and `eth_getStorageAt` answer, on the chain's
//! current state: calls run as the request says (sender, value, authorizations), without fees
//! and without committing.

use super::{Chain, raw_transactions::TransactionError};
use crate::SimError;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use revm::{
    context::{TxEnv, result::ExecutionResult},
    database_interface::DatabaseRef,
    primitives::eip7825::TX_GAS_LIMIT_CAP,
};

/// How a call failed: it ran, and stopped without success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// It reverted with this data.
    Reverted(Bytes),
    /// It halted (out of gas, an invalid opcode): revm's reason.
    Halted(String),
}

impl CallFailure {
    /// `result`'s output when it succeeded, else how it failed.
    fn check(result: ExecutionResult) -> Result<Bytes, Self> {
        match result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(Self::Reverted(output)),
            ExecutionResult::Halt { reason, .. } => Err(Self::Halted(format!("{reason:?}"))),
        }
    }
}

impl Chain {
    /// Storage slot `slot` of `address`.
    pub fn storage_at(&self, address: Address, slot: U256) -> Result<U256, SimError> {
        Ok(self.db.storage_ref(address, slot)?)
    }

    /// `eth_call`: runs `request` under its gas limit (when it names none, the block's up to
    /// EIP-7825's cap) and returns its output.
    pub fn call_request(
        &mut self,
        request: &TransactionRequest,
    ) -> Result<Result<Bytes, CallFailure>, TransactionError> {
        let result = self.run_request(request, self.request_gas(request))?;
        Ok(CallFailure::check(result))
    }

    /// `eth_estimateGas`: the least gas limit under which `request` succeeds, found by
    /// bisection between what it spends and its gas limit (as `eth_call` runs it), as
    /// nodes do since refunds and the 63/64 rule make the spent gas too little; or the failed
    /// failure under that limit.
    pub fn estimate_gas(
        &mut self,
        request: &TransactionRequest,
    ) -> Result<Result<u64, CallFailure>, TransactionError> {
        let cap = self.request_gas(request);
        let result = self.run_request(request, cap)?;
        let ExecutionResult::Success { gas, .. } = &result else {
            return Ok(CallFailure::check(result).map(|_| cap));
        };
        let (mut failing, mut succeeding) = (gas.total_gas_spent().saturating_sub(1), cap);
        // The interval halves every round: at most log2(cap) rounds, 24 under EIP-7825's cap.
        while succeeding - failing > 1 {
            let limit = failing + (succeeding - failing) / 2;
            let succeeded =
                matches!(self.run_request(request, limit), Ok(result) if result.is_success());
            if succeeded {
                succeeding = limit;
            } else {
                failing = limit;
            }
        }
        Ok(Ok(succeeding))
    }

    /// The gas limit `request` runs under: its own, else the block's as far as a transaction may
    /// have (EIP-7825's cap under Osaka), as nodes fill it in.
    fn request_gas(&self, request: &TransactionRequest) -> u64 {
        request
            .gas
            .unwrap_or_else(|| self.block.gas_limit.min(TX_GAS_LIMIT_CAP))
    }

    /// One uncommitted run of `request` with `gas_limit`, at no gas price. The sender may be a
    /// contract, as nodes allow in calls (EIP-3607 guards only signed transactions).
    fn run_request(
        &mut self,
        request: &TransactionRequest,
        gas_limit: u64,
    ) -> Result<ExecutionResult, TransactionError> {
        let tx = self.request_tx(request, gas_limit)?;
        let outcome = self.run_as_call(tx).map_err(TransactionError::from_evm)?;
        Ok(outcome.result)
    }

    fn request_tx(
        &self,
        request: &TransactionRequest,
        gas_limit: u64,
    ) -> Result<TxEnv, TransactionError> {
        let from = request.from.unwrap_or_default();
        let authorizations = request.authorization_list.clone().unwrap_or_default();
        let builder = TxEnv::builder()
            .caller(from)
            .kind(request.to.unwrap_or(TxKind::Create))
            .data(request.input.input().cloned().unwrap_or_default())
            .value(request.value.unwrap_or_default())
            .gas_limit(gas_limit)
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(from)?)
            .access_list(request.access_list.clone().unwrap_or_default());
        // A type-4 request is estimated with its authorizations applied and paid for.
        let builder = if authorizations.is_empty() {
            builder
        } else {
            builder
                .tx_type(Some(4))
                .gas_priority_fee(Some(0))
                .authorization_list_signed(authorizations)
        };
        builder
            .build()
            .map_err(|error| TransactionError::Invalid(format!("{error:?}")))
    }
}
