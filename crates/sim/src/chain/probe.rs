//! `EntryPointProbe` at the EntryPoint's address on a [`Chain`]: a balance-checked operation's
//! validation and execution measured in one transaction, as `handleOps` runs them, without
//! committing and without touching the chain's EntryPoint.

use super::{
    Chain,
    calls::{call_output, run_on},
};
use crate::SimError;
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::Bytes;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, EntryPointProbe, EntryPointProbe::measureCall};
use revm::{
    database::CacheDB,
    database_interface::DatabaseRef,
    state::{AccountInfo, Bytecode},
};

impl Chain {
    /// Runs the probe's `call` at the EntryPoint's address, from the bundler, with
    /// `authorization` applied first: the probe's answer. The probe's code stands in for the
    /// EntryPoint's (its balance and storage stay) only in a layer over the chain's state that
    /// the run reads and writes and that is dropped with it, as a node's state override is.
    pub(crate) fn probe_from_entry_point(
        &self,
        call: &measureCall,
        authorization: Option<SignedAuthorization>,
    ) -> Result<Bytes, SimError> {
        let entry_point = Deployment::entry_point().address();
        let tx = self.call_tx(
            self.bundler,
            entry_point,
            call.abi_encode().into(),
            authorization,
        )?;
        let evm_error = |e: &dyn std::fmt::Display| SimError::Evm(e.to_string());
        let info = self
            .db
            .basic_ref(entry_point)
            .map_err(|e| evm_error(&e))?
            .unwrap_or_default();
        let code = Bytecode::new_raw(EntryPointProbe::DEPLOYED_BYTECODE.clone());
        let mut layer = CacheDB::new(&self.db);
        layer.insert_account_info(
            entry_point,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..info
            },
        );
        let (block, cfg) = self.call_env();
        let outcome = run_on(&mut layer, block, cfg, tx).map_err(|e| evm_error(&e))?;
        call_output(outcome.result, "EntryPointProbe.measure")
    }
}
