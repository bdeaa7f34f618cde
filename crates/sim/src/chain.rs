//! An in-memory chain on revm, with the ERC-4337 v0.8 and leash contracts deployed the way every
//! real chain has them.

use crate::{BundleOutcome, RevertReason, SimError};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::SolCall;
use leash_bindings::{
    CREATE2_DEPLOYER, CREATE2_DEPLOYER_RUNTIME_CODE, Deployment, EntryPoint, PackedUserOperation,
};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
    database::{CacheDB, EmptyDB},
    database_interface::DatabaseCommit,
    primitives::{TxKind, hardfork::SpecId},
    state::{AccountInfo, Bytecode},
};

/// The chain id of the embedded chain: anvil's, so wallets configured for local work match.
pub const DEFAULT_CHAIN_ID: u64 = 31337;

/// The account that sends the bundle transactions (and the deployments): anvil's first dev account.
pub const DEFAULT_BUNDLER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

const BASE_FEE: u64 = 1_000_000_000;
const TX_GAS_LIMIT: u64 = 16_000_000;
const BLOCK_GAS_LIMIT: u64 = 36_000_000;
const BUNDLER_FUNDS: u128 = 1_000_000_000_000_000_000_000;

/// An in-memory Prague chain with the EntryPoint v0.8, `Simple7702Account` and `LeashAccount`
/// deployed at their deterministic addresses.
#[derive(Debug)]
pub struct Chain {
    db: CacheDB<EmptyDB>,
    block: BlockEnv,
    cfg: CfgEnv,
    bundler: Address,
}

/// A transaction that executed (successfully or not): what revm reports, committed or not.
#[derive(Debug)]
pub struct TxOutcome {
    /// revm's result: success, revert or halt, with logs and gas.
    pub result: ExecutionResult,
}

impl Chain {
    /// A fresh chain with every [`Deployment`] in place and a funded bundler.
    pub fn new() -> Result<Self, SimError> {
        let mut cfg = CfgEnv::new();
        cfg.spec = SpecId::PRAGUE;
        cfg.chain_id = DEFAULT_CHAIN_ID;
        let block = BlockEnv {
            number: U256::from(1),
            timestamp: U256::from(1_767_225_600u64),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: BASE_FEE,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        };
        let mut chain = Self {
            db: CacheDB::new(EmptyDB::new()),
            block,
            cfg,
            bundler: DEFAULT_BUNDLER,
        };
        chain.set_code(CREATE2_DEPLOYER, CREATE2_DEPLOYER_RUNTIME_CODE);
        chain.set_balance(chain.bundler, U256::from(BUNDLER_FUNDS));
        for deployment in Deployment::all() {
            chain.deploy(&deployment)?;
        }
        Ok(chain)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.cfg.chain_id
    }

    /// The address that sends bundles and receives their fees.
    pub fn bundler(&self) -> Address {
        self.bundler
    }

    /// The native balance of `address`.
    pub fn balance(&self, address: Address) -> U256 {
        self.account_info(address)
            .map(|info| info.balance)
            .unwrap_or_default()
    }

    /// The account nonce of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account_info(address)
            .map(|info| info.nonce)
            .unwrap_or_default()
    }

    /// The code at `address` (for a delegated EOA: the EIP-7702 designator).
    pub fn code(&self, address: Address) -> Bytes {
        self.account_info(address)
            .and_then(|info| info.code)
            .map(|code| code.original_bytes())
            .unwrap_or_default()
    }

    /// Sets the native balance of `address`.
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        let mut info = self.account_info(address).unwrap_or_default();
        info.balance = balance;
        self.db.insert_account_info(address, info);
    }

    /// Sets the code of `address`, as a genesis allocation would.
    pub fn set_code(&mut self, address: Address, code: Bytes) {
        let mut info = self.account_info(address).unwrap_or_default();
        info.code = Some(Bytecode::new_raw(code));
        self.db.insert_account_info(address, info);
    }

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
        EntryPoint::getNonceCall::abi_decode_returns(&output).map_err(|source| SimError::Decode {
            what: "getNonce return",
            source,
        })
    }

    /// The deposit `account` holds in the EntryPoint (unused prefunds stay there).
    pub fn entry_point_deposit(&mut self, account: Address) -> Result<U256, SimError> {
        let call = EntryPoint::balanceOfCall { account };
        let output = self.view(
            Deployment::entry_point().address(),
            call.abi_encode().into(),
            "balanceOf",
        )?;
        EntryPoint::balanceOfCall::abi_decode_returns(&output).map_err(|source| SimError::Decode {
            what: "balanceOf return",
            source,
        })
    }

    /// Sends `handleOps(ops, bundler)` from the bundler, as a type-4 transaction carrying
    /// `authorizations` when there are any, and commits it.
    pub fn handle_ops(
        &mut self,
        ops: Vec<PackedUserOperation>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<BundleOutcome, SimError> {
        let call = EntryPoint::handleOpsCall {
            ops,
            beneficiary: self.bundler,
        };
        let tx = self.tx_from(
            self.bundler,
            Deployment::entry_point().address(),
            call.abi_encode().into(),
            authorizations,
        )?;
        let result = self.execute(tx, true)?;
        Ok(match &result {
            ExecutionResult::Success { logs, .. } => {
                BundleOutcome::from_logs(logs, result.tx_gas_used())?
            }
            ExecutionResult::Revert { output, .. } => BundleOutcome::from_revert(output),
            ExecutionResult::Halt { reason, .. } => {
                BundleOutcome::Failed(RevertReason::Message(format!("halted: {reason:?}")))
            }
        })
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
        Ok(TxOutcome {
            result: self.execute(tx, true)?,
        })
    }

    fn deploy(&mut self, deployment: &Deployment) -> Result<(), SimError> {
        let address = deployment.address();
        if !self.code(address).is_empty() {
            return Ok(());
        }
        let outcome = self.transact(
            self.bundler,
            CREATE2_DEPLOYER,
            deployment.deployer_calldata(),
            U256::ZERO,
        )?;
        if !outcome.result.is_success() || self.code(address).is_empty() {
            return Err(SimError::Deployment {
                name: deployment.name,
                reason: format!("{:?}", outcome.result),
            });
        }
        Ok(())
    }

    /// An `eth_call`: runs without gas fees and without committing.
    fn view(
        &mut self,
        to: Address,
        data: Bytes,
        function: &'static str,
    ) -> Result<Bytes, SimError> {
        let tx = TxEnv::builder()
            .caller(Address::ZERO)
            .kind(TxKind::Call(to))
            .data(data)
            .gas_limit(TX_GAS_LIMIT)
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(Address::ZERO))
            .build()
            .map_err(|e| SimError::Evm(format!("{e:?}")))?;
        let block = BlockEnv {
            basefee: 0,
            ..self.block.clone()
        };
        match self.run(tx, block, false)? {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => {
                Err(SimError::CallReverted { function, output })
            }
            ExecutionResult::Halt { reason, .. } => Err(SimError::CallReverted {
                function,
                output: format!("{reason:?}").into_bytes().into(),
            }),
        }
    }

    fn tx_from(
        &self,
        from: Address,
        to: Address,
        data: Bytes,
        authorizations: Vec<SignedAuthorization>,
    ) -> Result<TxEnv, SimError> {
        let mut builder = TxEnv::builder()
            .caller(from)
            .kind(TxKind::Call(to))
            .data(data)
            .gas_limit(TX_GAS_LIMIT)
            .max_fee_per_gas(u128::from(BASE_FEE) * 2)
            .gas_priority_fee(Some(u128::from(BASE_FEE)))
            .chain_id(Some(self.chain_id()))
            .nonce(self.nonce(from));
        builder = if authorizations.is_empty() {
            builder.tx_type(Some(2))
        } else {
            builder
                .tx_type(Some(4))
                .authorization_list_signed(authorizations)
        };
        builder.build().map_err(|e| SimError::Evm(format!("{e:?}")))
    }

    fn execute(&mut self, tx: TxEnv, commit: bool) -> Result<ExecutionResult, SimError> {
        self.run(tx, self.block.clone(), commit)
    }

    fn run(
        &mut self,
        tx: TxEnv,
        block: BlockEnv,
        commit: bool,
    ) -> Result<ExecutionResult, SimError> {
        let mut evm = Context::mainnet()
            .with_db(&mut self.db)
            .with_block(block)
            .with_cfg(self.cfg.clone())
            .build_mainnet();
        let outcome = evm.transact(tx).map_err(|e| SimError::Evm(e.to_string()))?;
        if commit {
            self.db.commit(outcome.state);
        }
        Ok(outcome.result)
    }

    fn account_info(&self, address: Address) -> Option<AccountInfo> {
        self.db
            .cache
            .accounts
            .get(&address)
            .and_then(|account| account.info())
    }
}
