//! An in-memory chain on revm, with the ERC-4337 v0.8 and leash contracts deployed the way every
//! real chain has them.

mod blocks;
mod bundle;
mod calls;
mod persist;
mod probe;
mod raw_transactions;
mod receipts;
mod requests;
mod sessions;

use crate::{
    SimError,
    backing::{Backing, RemoteState},
};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_provider::{DynProvider, Provider};
use leash_bindings::{CREATE2_DEPLOYER, CREATE2_DEPLOYER_RUNTIME_CODE, Deployment};
use leash_core::grant::GrantDomain;
pub use receipts::KEPT_RECEIPTS;
use receipts::Receipts;
use revm::{
    context::{BlockEnv, CfgEnv, result::ExecutionResult},
    database::{AlloyDB, CacheDB},
    database_interface::{DatabaseRef, WrapDatabaseAsync},
    primitives::hardfork::SpecId,
    state::{AccountInfo, Bytecode},
};
use std::sync::Arc;

pub(crate) use bundle::Commit;
pub use raw_transactions::TransactionError;
pub use requests::CallFailure;

/// The chain id of the embedded chain: anvil's, so wallets configured for local work match.
pub const DEFAULT_CHAIN_ID: u64 = 31337;

/// The account that sends the bundle transactions (and the deployments): anvil's first dev account.
pub const DEFAULT_BUNDLER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

pub(crate) const BASE_FEE: u64 = 1_000_000_000;
const SECONDS_PER_BLOCK: u64 = 12;
const GENESIS_TIMESTAMP: u64 = 1_767_225_600;
const TX_GAS_LIMIT: u64 = 16_000_000;
const BLOCK_GAS_LIMIT: u64 = 36_000_000;
const BUNDLER_FUNDS: u128 = 1_000_000_000_000_000_000_000;

/// An in-memory Osaka chain (so P256VERIFY is at `0x100`) with the EntryPoint v0.8,
/// `Simple7702Account`, `LeashAccount`, `SessionKeyValidator` and the test contracts deployed at
/// their deterministic addresses.
///
/// Transactions run in the current block; the clock only moves when told to
/// ([`Chain::advance_time`]), so runs are deterministic. [`Chain::mine_per_transaction`] mines
/// each committed transaction in a block of its own instead, as `leash serve` does.
#[derive(Clone, Debug)]
pub struct Chain {
    db: CacheDB<Backing>,
    block: BlockEnv,
    cfg: CfgEnv,
    bundler: Address,
    /// The receipt of each committed bundle, by the hash of every operation it included.
    receipts: Receipts,
    mined: blocks::Mined,
}

/// A plain transaction's result, as revm reports it.
#[derive(Debug)]
pub struct TxOutcome {
    /// Success, revert or halt, with logs and gas.
    pub result: ExecutionResult,
}

/// A saved state of a [`Chain`], clock included, to return to with [`Chain::restore`].
#[derive(Clone, Debug)]
pub struct ChainSnapshot(Box<Chain>);

impl Chain {
    /// A fresh chain with every [`Deployment`] in place and a funded bundler.
    pub fn new() -> Result<Self, SimError> {
        let chain = Self::empty(DEFAULT_CHAIN_ID, 1, GENESIS_TIMESTAMP);
        let deployments = Deployment::all()
            .into_iter()
            .chain(Deployment::test_contracts());
        chain.with_deployments(deployments)
    }

    /// A chain with no accounts at all, its clock at `timestamp` in block `number`.
    fn empty(chain_id: u64, number: u64, timestamp: u64) -> Self {
        let mut cfg = CfgEnv::new();
        cfg.spec = SpecId::OSAKA;
        cfg.chain_id = chain_id;
        let block = BlockEnv {
            number: U256::from(number),
            timestamp: U256::from(timestamp),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: BASE_FEE,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        };
        Self {
            db: CacheDB::new(Backing::Genesis),
            block,
            cfg,
            bundler: DEFAULT_BUNDLER,
            receipts: Receipts::default(),
            mined: blocks::Mined::default(),
        }
    }

    /// A fork of the chain behind `provider` at `block` (the latest when `None`): accounts, code
    /// and storage are read from the node on first use and every write stays here, so a preflight
    /// runs against real state without touching it. Leash contracts the node lacks are deployed
    /// in the fork; the bundler is funded in the fork.
    ///
    /// The fork reads the node synchronously on its own runtime: create it, use it and drop it
    /// outside async code (e.g. in `tokio::task::spawn_blocking`), and give it a provider of its
    /// own — an HTTP client whose pooled connections belong to another runtime would stall.
    pub fn fork(provider: DynProvider, block: Option<u64>) -> Result<Self, SimError> {
        // revm reads through `Handle::block_on`, which drives IO only on a multi-thread runtime.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| SimError::Fork(format!("starting the fork's runtime: {e}")))?;
        let (chain_id, header) = runtime
            .block_on(async {
                let chain_id = provider.get_chain_id().await?;
                let id = block.map_or(BlockNumberOrTag::Latest, BlockNumberOrTag::Number);
                let header = provider.get_block_by_number(id).await?.map(|b| b.header);
                Ok::<_, alloy_provider::transport::TransportError>((chain_id, header))
            })
            .map_err(|e| SimError::Fork(format!("reading the node: {e}")))?;
        let header =
            header.ok_or_else(|| SimError::Fork(format!("the node has no block {block:?}")))?;

        let mut cfg = CfgEnv::new();
        cfg.spec = SpecId::OSAKA;
        cfg.chain_id = chain_id;
        let block = BlockEnv {
            number: U256::from(header.number),
            timestamp: U256::from(header.timestamp),
            gas_limit: header.gas_limit,
            basefee: header.base_fee_per_gas.unwrap_or_default(),
            prevrandao: Some(header.mix_hash),
            beneficiary: header.beneficiary,
            ..Default::default()
        };
        let remote: RemoteState =
            WrapDatabaseAsync::with_runtime(AlloyDB::new(provider, header.number.into()), runtime);
        let chain = Self {
            db: CacheDB::new(Backing::Remote(Arc::new(remote))),
            block,
            cfg,
            bundler: DEFAULT_BUNDLER,
            receipts: Receipts::default(),
            mined: blocks::Mined::default(),
        };
        chain.with_deployments(Deployment::all())
    }

    /// Funds the bundler and deploys what is missing through the CREATE2 deployer (installing the
    /// deployer itself where the chain has none, as a genesis allocation would).
    fn with_deployments(
        mut self,
        deployments: impl IntoIterator<Item = Deployment>,
    ) -> Result<Self, SimError> {
        if self.code(CREATE2_DEPLOYER)?.is_empty() {
            self.set_code(CREATE2_DEPLOYER, CREATE2_DEPLOYER_RUNTIME_CODE)?;
        }
        self.set_balance(self.bundler, U256::from(BUNDLER_FUNDS))?;
        for deployment in deployments {
            self.deploy(&deployment)?;
        }
        Ok(self)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.cfg.chain_id
    }

    /// The address that sends bundles and receives their fees.
    pub fn bundler(&self) -> Address {
        self.bundler
    }

    /// The grant domain of this chain's `SessionKeyValidator`.
    pub fn grant_domain(&self) -> GrantDomain {
        GrantDomain {
            chain_id: self.chain_id(),
            validator: Deployment::session_key_validator().address(),
        }
    }

    /// The current block's timestamp, in seconds.
    pub fn timestamp(&self) -> u64 {
        self.block.timestamp.saturating_to()
    }

    /// The current block number.
    pub fn block_number(&self) -> u64 {
        self.block.number.saturating_to()
    }

    /// Moves the clock forward by `seconds`, and the block number by one per 12 seconds (at least
    /// one).
    pub fn advance_time(&mut self, seconds: u64) {
        self.block.timestamp += U256::from(seconds);
        self.block.number += U256::from((seconds / SECONDS_PER_BLOCK).max(1));
    }

    /// Saves the whole state, clock included.
    pub fn snapshot(&self) -> ChainSnapshot {
        ChainSnapshot(Box::new(self.clone()))
    }

    /// Returns to a saved state.
    pub fn restore(&mut self, snapshot: ChainSnapshot) {
        *self = *snapshot.0;
    }

    /// The native balance of `address`.
    pub fn balance(&self, address: Address) -> Result<U256, SimError> {
        Ok(self.account_info(address)?.balance)
    }

    /// The account nonce of `address`.
    pub fn nonce(&self, address: Address) -> Result<u64, SimError> {
        Ok(self.account_info(address)?.nonce)
    }

    /// The code at `address` (for a delegated EOA: the EIP-7702 designator).
    pub fn code(&self, address: Address) -> Result<Bytes, SimError> {
        let info = self.account_info(address)?;
        let code = match info.code {
            Some(code) => code,
            None => self
                .db
                .code_by_hash_ref(info.code_hash)
                .map_err(SimError::from)?,
        };
        Ok(code.original_bytes())
    }

    /// Sets the native balance of `address`.
    pub fn set_balance(&mut self, address: Address, balance: U256) -> Result<(), SimError> {
        let mut info = self.account_info(address)?;
        info.balance = balance;
        self.db.insert_account_info(address, info);
        Ok(())
    }

    /// Sets the code of `address`, as a genesis allocation would.
    pub fn set_code(&mut self, address: Address, code: Bytes) -> Result<(), SimError> {
        let mut info = self.account_info(address)?;
        info.code = Some(Bytecode::new_raw(code));
        self.db.insert_account_info(address, info);
        Ok(())
    }

    /// The account as the chain sees it: its own writes, else the backing state.
    fn account_info(&self, address: Address) -> Result<AccountInfo, SimError> {
        Ok(self.db.basic_ref(address)?.unwrap_or_default())
    }
}
