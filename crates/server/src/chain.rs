//! The embedded chain the server serves: leash-sim's revm chain, shared by the request handlers
//! and the bundling task.

use crate::error::StartError;
use alloy_primitives::{Address, B256, Bytes, U256, b256, uint};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::{Deployment, SessionKeyValidator::isInitializedCall};
use leash_core::{
    eip7702::{delegate_of, delegation_designator},
    grant::GrantDomain,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::CallLimitsLeft,
};
use leash_sdk::service::Delegation;
use leash_sim::{Chain, SimError, SimSender};
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

/// The private keys of anvil's ten default dev accounts (mnemonic `test test … junk`): public
/// test keys, so wallets and scripts written against anvil work against the embedded chain.
pub const DEV_ACCOUNT_KEYS: [B256; 10] = [
    b256!("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    b256!("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    b256!("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    b256!("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    b256!("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    b256!("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    b256!("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    b256!("0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    b256!("0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    b256!("0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
];

/// What each dev account holds, as on anvil: 10,000 ether.
const DEV_ACCOUNT_BALANCE: U256 = uint!(10_000_000_000_000_000_000_000_U256);

/// The embedded chain, shared: every holder locks it for one read or one bundle at a time.
#[derive(Clone, Debug)]
pub struct EmbeddedChain {
    chain: Arc<Mutex<Chain>>,
    domain: GrantDomain,
    /// Where the chain is saved after every bundle; `None` keeps it in memory only.
    file: Option<Arc<Path>>,
}

impl EmbeddedChain {
    /// A fresh chain (id 31337, every leash contract deployed) whose ten anvil dev accounts are
    /// funded. They are not delegated: an account's first owner call delegates it, as on the
    /// hosted API (`wallet_prepareCalls` answers with the authorization to sign).
    pub fn dev() -> Result<Self, StartError> {
        Ok(Self::new(dev_chain()?))
    }

    /// The chain saved at `file` ([`Chain::load_from`]), or a fresh [`EmbeddedChain::dev`]
    /// chain saved there when there is no such file yet; [`EmbeddedChain::save`] writes it back.
    pub fn open(file: PathBuf) -> Result<Self, StartError> {
        let chain = if file.exists() {
            Chain::load_from(&file)?
        } else {
            let chain = dev_chain()?;
            chain.save_to(&file)?;
            chain
        };
        Ok(Self {
            file: Some(file.into()),
            ..Self::new(chain)
        })
    }

    /// Writes the chain to its file, when it has one (the bundling task does after every bundle;
    /// a test that changes the chain through [`EmbeddedChain::with_chain`] does it itself).
    pub fn save(&self) -> Result<(), SimError> {
        match &self.file {
            // Written from a copy, so requests wait for the chain only while it is copied, not
            // while it is serialized and synced to disk.
            Some(file) => {
                let copy = self.lock().clone();
                copy.save_to(file)
            }
            None => Ok(()),
        }
    }

    /// Whether [`EmbeddedChain::save`] writes a file.
    pub(crate) fn saves_to_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Serves `chain` as it is (tests prepare one first), in memory only. From now on it mines
    /// every bundle and signed transaction in a block of its own, as a node mining on demand.
    pub fn new(mut chain: Chain) -> Self {
        chain.mine_per_transaction();
        let domain = chain.grant_domain();
        Self {
            chain: Arc::new(Mutex::new(chain)),
            domain,
            file: None,
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.domain.chain_id
    }

    /// The grant domain of the chain's `SessionKeyValidator`.
    pub fn domain(&self) -> GrantDomain {
        self.domain
    }

    /// A sender of UserOperations to the chain.
    pub fn sender(&self) -> SimSender<'static> {
        SimSender::shared(Arc::clone(&self.chain))
    }

    /// The chain's clock, which session windows are checked against.
    pub fn now(&self) -> u64 {
        self.lock().timestamp()
    }

    /// `record`'s session as the validator sees it.
    pub fn session_state(&self, record: &GrantRecord) -> Result<SessionState, SimError> {
        self.lock().session_state(&self.domain, record)
    }

    /// What is left of the usage and rate limits of `record`'s session, in `status`.
    pub fn call_limits_left(
        &self,
        record: &GrantRecord,
        status: OnChainStatus,
    ) -> Result<CallLimitsLeft, SimError> {
        self.lock().call_limits_left(&self.domain, record, status)
    }

    /// `account`'s delegation: its EIP-7702 delegate and whether `SessionKeyValidator` is
    /// installed.
    /// The contract `account` delegates to, if any.
    /// The code at `address`.
    pub(crate) fn code(&self, address: Address) -> Result<Bytes, SimError> {
        self.lock().code(address)
    }

    pub(crate) fn delegation(&self, account: Address) -> Result<Delegation, SimError> {
        let validator = Deployment::session_key_validator().address();
        let mut chain = self.lock();
        Ok(Delegation {
            delegate: delegate_of(&chain.code(account)?),
            validator_installed: chain.call(validator, isInitializedCall { account })?,
        })
    }

    /// The nonce an authorization of `account` must name to apply in the next bundle: its
    /// account nonce, plus one when it is the bundler, since a transaction's sender has its nonce
    /// raised before the transaction's authorizations apply.
    pub(crate) fn authorization_nonce(&self, account: Address) -> Result<u64, SimError> {
        let chain = self.lock();
        Ok(chain.nonce(account)? + u64::from(account == chain.bundler()))
    }

    /// A copy of the chain on which `account` is delegated to `LeashAccount`: where the first
    /// operation of an undelegated EOA is estimated before its owner has signed the
    /// authorization (a node's estimate takes the same as a state override).
    pub(crate) fn delegated_copy(&self, account: Address) -> Result<Chain, SimError> {
        let mut copy = self.lock().clone();
        copy.set_code(
            account,
            delegation_designator(Deployment::leash_account().address()),
        )?;
        Ok(copy)
    }

    /// The chain itself, for reads outside the server (tests, a status page).
    pub fn with_chain<T>(&self, read: impl FnOnce(&mut Chain) -> T) -> T {
        read(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Chain> {
        // revm commits whole transactions or nothing, so a panic elsewhere left no torn state.
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh chain with the ten dev accounts funded.
fn dev_chain() -> Result<Chain, StartError> {
    let mut chain = Chain::new()?;
    for key in DEV_ACCOUNT_KEYS {
        let owner = PrivateKeySigner::from_bytes(&key).map_err(|error| StartError::DevAccount {
            account: None,
            reason: error.to_string(),
        })?;
        chain.set_balance(owner.address(), DEV_ACCOUNT_BALANCE)?;
    }
    Ok(chain)
}
