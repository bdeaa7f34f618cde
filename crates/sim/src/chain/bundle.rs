//! `handleOps` bundles on a [`Chain`]: sent and committed, or simulated, with each operation's
//! outcome; the receipts of committed bundles, as a node keeps them.

use super::{Chain, blocks::Inclusion};
use crate::{
    BundleOutcome, RevertReason, SimError,
    erc7562::{Erc7562Violation, ValidationTracer},
    value_transfers::ValueTransferTracer,
};
use alloy_consensus::TxType;
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, I256, keccak256};
use alloy_rpc_types_eth::TransactionReceipt;
use alloy_sol_types::{SolCall, SolValue};
use leash_bindings::{Deployment, EntryPoint, PackedUserOperation};
use revm::{
    Context, InspectEvm, MainBuilder, MainContext,
    context::{TxEnv, result::ExecutionResult},
    context_interface::Transaction,
    state::EvmState,
};
use std::{collections::BTreeMap, sync::Arc};

/// Which outcomes of a bundle change the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Commit {
    /// None: a preflight.
    Never,
    /// Every one, as a node includes a reverting transaction (the bundler pays its gas).
    Always,
    /// All but a bundle the EntryPoint rejected in validation, as a bundler that simulates
    /// validation before it sends.
    UnlessRejected,
}

impl Chain {
    /// Sends `handleOps(ops, bundler)` from the bundler, as a type-4 transaction carrying
    /// `authorizations` when there are any, and commits it.
    pub fn handle_ops(
        &mut self,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<BundleOutcome, SimError> {
        self.run_bundle(ops, authorizations, Commit::Always)
    }

    /// Preflight: runs exactly what [`Chain::handle_ops`] would, validation and execution, and
    /// reports the same outcome without changing the chain.
    pub fn simulate(
        &mut self,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<BundleOutcome, SimError> {
        self.run_bundle(ops, authorizations, Commit::Never)
    }

    /// Runs `handleOps(ops)` as [`Chain::simulate`] does, without changing the chain, and checks
    /// each account's validation (its `validateUserOp` and every call below it) against ERC-7562's
    /// storage and opcode rules, which bundlers with the standard's tracer enforce. Only accounts
    /// are checked: leash's operations have no factory and no paymaster.
    pub fn erc7562_violations(
        &mut self,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<Vec<Erc7562Violation>, SimError> {
        let entry_point = Deployment::entry_point().address();
        let tx = self.handle_ops_tx(entry_point, ops, authorizations)?;
        let block = self.next_block_env();
        let mut evm = Context::mainnet()
            .with_db(&mut self.db)
            .with_block(block)
            .with_cfg(self.cfg.clone())
            .build_mainnet_with_inspector(ValidationTracer::new(entry_point));
        evm.inspect_tx(tx)
            .map_err(|e| SimError::Evm(e.to_string()))?;
        Ok(evm.inspector.into_violations())
    }

    /// The receipt of the committed bundle transaction that included the UserOperation
    /// `user_op_hash`.
    pub(crate) fn bundle_receipt(&self, user_op_hash: B256) -> Option<&TransactionReceipt> {
        self.receipts.get(user_op_hash)
    }

    pub(crate) fn run_bundle(
        &mut self,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
        commit: Commit,
    ) -> Result<BundleOutcome, SimError> {
        let entry_point = Deployment::entry_point().address();
        let tracer = ValueTransferTracer::new(entry_point, ops.len());
        let tx = self.handle_ops_tx(entry_point, ops, authorizations)?;
        let block = self.next_block_env();
        let inclusion = Inclusion {
            hash: self.bundle_tx_hash(tx.nonce),
            from: self.bundler,
            to: Some(entry_point),
            tx_type: if tx.tx_type == 4 {
                TxType::Eip7702
            } else {
                TxType::Eip1559
            },
            effective_gas_price: tx.effective_gas_price(u128::from(block.basefee)),
            signed: None,
        };

        let mut evm = Context::mainnet()
            .with_db(&mut self.db)
            .with_block(block.clone())
            .with_cfg(self.cfg.clone())
            .build_mainnet_with_inspector(tracer);
        let outcome = evm
            .inspect_tx(tx)
            .map_err(|e| SimError::Evm(e.to_string()))?;
        let transfers = evm.inspector.into_transfers();

        let native_balance_changes = self.native_balance_changes(&outcome.state)?;
        let result = outcome.result;
        let bundle = match &result {
            ExecutionResult::Success { logs, .. } => BundleOutcome::included(
                entry_point,
                logs,
                &transfers,
                result.tx_gas_used(),
                native_balance_changes,
            )?,
            ExecutionResult::Revert { output, .. } => BundleOutcome::from_revert(output),
            ExecutionResult::Halt { reason, .. } => {
                BundleOutcome::Failed(RevertReason::Message(format!("halted: {reason:?}")))
            }
        };
        let rejected = matches!(bundle, BundleOutcome::Rejected(_));
        if commit == Commit::Always || (commit == Commit::UnlessRejected && !rejected) {
            let receipt = self.include(block, outcome.state, &result, inclusion);
            if let Some(ops) = bundle.ops() {
                for op in ops {
                    self.receipts.insert(op.user_op_hash, Arc::clone(&receipt));
                }
            }
        }
        Ok(bundle)
    }

    /// `handleOps(ops, bundler)` from the bundler, a type-4 transaction when `authorizations` has
    /// any.
    fn handle_ops_tx(
        &self,
        entry_point: Address,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<TxEnv, SimError> {
        let call = EntryPoint::handleOpsCall {
            ops,
            beneficiary: self.bundler,
        };
        self.tx_from(
            self.bundler,
            entry_point,
            call.abi_encode().into(),
            authorizations,
        )
    }

    /// The hash the next bundle transaction gets.
    pub(crate) fn next_bundle_tx_hash(&self) -> Result<B256, SimError> {
        Ok(self.bundle_tx_hash(self.nonce(self.bundler)?))
    }

    /// The sim signs no transactions, so a bundle's hash is its own: unique per bundler nonce on
    /// this chain, as a real transaction's hash is.
    fn bundle_tx_hash(&self, bundler_nonce: u64) -> B256 {
        keccak256((self.chain_id(), self.bundler, bundler_nonce).abi_encode())
    }

    /// Balance in `state` minus balance now, for every account `state` touched.
    pub(super) fn native_balance_changes(
        &self,
        state: &EvmState,
    ) -> Result<BTreeMap<Address, I256>, SimError> {
        let mut changes = BTreeMap::new();
        for (address, account) in state {
            let before = I256::from_raw(self.balance(*address)?);
            let change = I256::from_raw(account.info.balance).wrapping_sub(before);
            if !change.is_zero() {
                changes.insert(*address, change);
            }
        }
        Ok(changes)
    }
}
