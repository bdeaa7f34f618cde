//! Calls and plain transactions on a [`Chain`]: view calls, the EntryPoint's reads, measured
//! calls for gas estimates, and the transactions that deploy contracts.

use super::{BASE_FEE, Chain, TX_GAS_LIMIT, TxOutcome};
use crate::{
    SimError,
    backing::{Backing, BackingError},
};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, Bytes, I256, U256};
use alloy_sol_types::SolCall;
use leash_bindings::{CREATE2_DEPLOYER, Deployment, EntryPoint, IERC20};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::{
        BlockEnv, CfgEnv, TxEnv,
        result::{EVMError, ExecutionResult, ResultAndState},
    },
    database::CacheDB,
    database_interface::{Database, DatabaseCommit},
    primitives::TxKind,
    state::EvmState,
};
use std::collections::BTreeMap;

impl Chain {
    /// The EntryPoint nonce of `sender` under nonce `key` (`key << 64 | sequence`).
    pub fn entry_point_nonce(&mut self, sender: Address, key: U256) -> Result<U256, SimError> {
        let call = EntryPoint::getNonceCall {
            sender,
            key: key.to(),
        };
        let output = self.view(
            Deployment::entry_point().address(),
            call.abi_encode().into(),
            "getNonce",
        )?;
        decode_return::<EntryPoint::getNonceCall>(&output, "getNonce return")
    }

    /// The deposit `account` holds in the EntryPoint (unused prefunds stay there).
    pub fn entry_point_deposit(&mut self, account: Address) -> Result<U256, SimError> {
        let call = EntryPoint::balanceOfCall { account };
        let output = self.view(
            Deployment::entry_point().address(),
            call.abi_encode().into(),
            "balanceOf",
        )?;
        decode_return::<EntryPoint::balanceOfCall>(&output, "balanceOf return")
    }

    /// The `token` balance of `holder`.
    pub fn erc20_balance(&mut self, token: Address, holder: Address) -> Result<U256, SimError> {
        let call = IERC20::balanceOfCall { owner: holder };
        let output = self.view(token, call.abi_encode().into(), "balanceOf")?;
        decode_return::<IERC20::balanceOfCall>(&output, "balanceOf return")
    }

    /// Calls a view function of `to` (no fees, nothing committed) and decodes its return.
    pub fn call<C: SolCall>(&mut self, to: Address, call: C) -> Result<C::Return, SimError> {
        let output = self.view(to, call.abi_encode().into(), "view call")?;
        decode_return::<C>(&output, "view call return")
    }

    /// Sends a plain transaction from `from` and commits it.
    pub fn transact(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
        value: U256,
    ) -> Result<TxOutcome, SimError> {
        let mut tx = self.tx_from(from, to, data, Vec::new())?;
        tx.value = value;
        let mut evm = self.evm(self.block.clone());
        let outcome = evm.transact(tx).map_err(|e| SimError::Evm(e.to_string()))?;
        self.db.commit(outcome.state);
        Ok(TxOutcome {
            result: outcome.result,
        })
    }

    /// Runs `data` on `to` as the EntryPoint calls an account, with `authorization` applied
    /// first, without fees and without committing: the gas it spent (refunds not deducted, as a
    /// gas limit must cover them), or its revert data.
    pub(crate) fn measure_from_entry_point(
        &mut self,
        to: Address,
        data: Bytes,
        authorization: Option<SignedAuthorization>,
    ) -> Result<Result<u64, Bytes>, SimError> {
        let (result, _) = self.run_from_entry_point(to, data, authorization)?;
        Ok(match result {
            ExecutionResult::Success { gas, .. } => Ok(gas.total_gas_spent()),
            ExecutionResult::Revert { output, .. } => Err(output),
            ExecutionResult::Halt { .. } => Err(Bytes::new()),
        })
    }

    /// Runs `data` on the account `to` as the EntryPoint runs a UserOperation's `callData`,
    /// without fees and without committing: the result with the logs the calls emitted, and the
    /// native balance change of every address they touched. What an operation that passed
    /// validation would do, short of the gas it pays.
    pub fn dry_run_from_entry_point(
        &mut self,
        to: Address,
        data: Bytes,
    ) -> Result<(TxOutcome, BTreeMap<Address, I256>), SimError> {
        let (result, state) = self.run_from_entry_point(to, data, None)?;
        let changes = self.native_balance_changes(&state)?;
        Ok((TxOutcome { result }, changes))
    }

    /// One transaction from the EntryPoint to `to`, uncommitted: its result and the state it
    /// would leave.
    fn run_from_entry_point(
        &mut self,
        to: Address,
        data: Bytes,
        authorization: Option<SignedAuthorization>,
    ) -> Result<(ExecutionResult, EvmState), SimError> {
        let entry_point = Deployment::entry_point().address();
        // The EntryPoint is a contract; a node's eth_estimateGas lets it send all the same.
        let tx = self.call_tx(entry_point, to, data, authorization)?;
        let outcome = self
            .run_as_call(tx)
            .map_err(|e| SimError::Evm(e.to_string()))?;
        Ok((outcome.result, outcome.state))
    }

    /// A fee-less transaction from `caller` to `to`, as an `eth_call` sends it, with
    /// `authorization` applied first when there is one.
    pub(super) fn call_tx(
        &self,
        caller: Address,
        to: Address,
        data: Bytes,
        authorization: Option<SignedAuthorization>,
    ) -> Result<TxEnv, SimError> {
        let builder = TxEnv::builder()
            .caller(caller)
            .kind(TxKind::Call(to))
            .data(data)
            .gas_limit(TX_GAS_LIMIT)
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(caller)?);
        let builder = match authorization {
            Some(authorization) => builder
                .tx_type(Some(4))
                .gas_priority_fee(Some(0))
                .authorization_list_signed(vec![authorization]),
            None => builder,
        };
        builder.build().map_err(|e| SimError::Evm(format!("{e:?}")))
    }

    /// Runs `tx` uncommitted, at no base fee, as a node's `eth_call` and `eth_estimateGas` do: the
    /// sender may be a contract (EIP-3607 guards only signed transactions).
    pub(super) fn run_as_call(
        &mut self,
        tx: TxEnv,
    ) -> Result<ResultAndState, EVMError<BackingError>> {
        let (block, cfg) = self.call_env();
        run_on(&mut self.db, block, cfg, tx)
    }

    /// The block and configuration an `eth_call` runs in: no base fee, and the sender may be a
    /// contract.
    pub(super) fn call_env(&self) -> (BlockEnv, CfgEnv) {
        let mut cfg = self.cfg.clone();
        cfg.disable_eip3607 = true;
        let block = BlockEnv {
            basefee: 0,
            ..self.block.clone()
        };
        (block, cfg)
    }

    pub(super) fn deploy(&mut self, deployment: &Deployment) -> Result<(), SimError> {
        let address = deployment.address();
        if !self.code(address)?.is_empty() {
            return Ok(());
        }
        let data = deployment.deployer_calldata();
        let outcome = self.transact(self.bundler, CREATE2_DEPLOYER, data, U256::ZERO)?;
        if !outcome.result.is_success() || self.code(address)?.is_empty() {
            return Err(SimError::Deployment {
                name: deployment.name,
                reason: format!("{:?}", outcome.result),
            });
        }
        Ok(())
    }

    /// An `eth_call`: runs without gas fees and without committing.
    pub(crate) fn view(
        &mut self,
        to: Address,
        input: Bytes,
        function: &'static str,
    ) -> Result<Bytes, SimError> {
        let tx = TxEnv::builder()
            .caller(Address::ZERO)
            .kind(TxKind::Call(to))
            .data(input)
            .gas_limit(TX_GAS_LIMIT)
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(Address::ZERO)?)
            .build()
            .map_err(|e| SimError::Evm(format!("{e:?}")))?;
        let mut evm = self.evm(BlockEnv {
            basefee: 0,
            ..self.block.clone()
        });
        let outcome = evm.transact(tx).map_err(|e| SimError::Evm(e.to_string()))?;
        call_output(outcome.result, function)
    }

    pub(super) fn evm(
        &mut self,
        block: BlockEnv,
    ) -> revm::handler::MainnetEvm<revm::handler::MainnetContext<&mut CacheDB<Backing>>> {
        Context::mainnet()
            .with_db(&mut self.db)
            .with_block(block)
            .with_cfg(self.cfg.clone())
            .build_mainnet()
    }

    pub(super) fn tx_from(
        &self,
        from: Address,
        to: Address,
        data: Bytes,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<TxEnv, SimError> {
        let builder = TxEnv::builder()
            .caller(from)
            .kind(TxKind::Call(to))
            .data(data)
            .gas_limit(TX_GAS_LIMIT)
            .max_fee_per_gas(u128::from(BASE_FEE) * 2)
            .gas_priority_fee(Some(u128::from(BASE_FEE)))
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(from)?);
        let builder = if authorizations.is_empty() {
            builder.tx_type(Some(2))
        } else {
            builder
                .tx_type(Some(4))
                .authorization_list_signed(authorizations)
        };
        builder.build().map_err(|e| SimError::Evm(format!("{e:?}")))
    }
}

/// Runs `tx` on `db` in `block` with `cfg`, uncommitted.
pub(super) fn run_on<DB: Database>(
    db: DB,
    block: BlockEnv,
    cfg: CfgEnv,
    tx: TxEnv,
) -> Result<ResultAndState, EVMError<DB::Error>> {
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_block(block)
        .with_cfg(cfg)
        .build_mainnet();
    evm.transact(tx)
}

/// What a call of `function` returned, or its revert (a halt's reason as its data).
pub(super) fn call_output(
    result: ExecutionResult,
    function: &'static str,
) -> Result<Bytes, SimError> {
    match result {
        ExecutionResult::Success { output, .. } => Ok(output.into_data()),
        ExecutionResult::Revert { output, .. } => Err(SimError::CallReverted { function, output }),
        ExecutionResult::Halt { reason, .. } => Err(SimError::CallReverted {
            function,
            output: format!("{reason:?}").into_bytes().into(),
        }),
    }
}

fn decode_return<C: SolCall>(output: &[u8], what: &'static str) -> Result<C::Return, SimError> {
    C::abi_decode_returns(output).map_err(|source| SimError::Decode { what, source })
}
