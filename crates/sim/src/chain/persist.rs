//! A fresh chain's whole state in a file: every account (balance, nonce, code, storage), the
//! clock and block number, and the receipts of committed bundles, so an embedded chain can stop
//! and go on where it was.
//!
//! The file is leash's own plain JSON, not revm's `CacheDB` serialization: it holds what a
//! genesis allocation holds, so it reads the same whatever revm's internal types become.

use super::{Chain, receipts::Receipts};
use crate::{SimError, backing::Backing};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::TransactionReceipt;
use revm::state::{AccountInfo, Bytecode};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::Write,
    path::Path,
};

/// The layout version; a file of another is refused rather than misread.
const FORMAT: u32 = 1;

/// What [`Chain::save_to`] writes.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SavedChain {
    format: u32,
    chain_id: u64,
    block_number: u64,
    timestamp: u64,
    bundler: Address,
    accounts: BTreeMap<Address, SavedAccount>,
    /// By UserOperation hash (a bundle of several operations repeats its receipt).
    receipts: BTreeMap<B256, TransactionReceipt>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SavedAccount {
    balance: U256,
    nonce: u64,
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    code: Bytes,
    /// Non-zero slots only: on a fresh chain a missing slot reads zero.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    storage: BTreeMap<U256, U256>,
}

impl Chain {
    /// Writes the whole state to `path` atomically: a temporary file beside it, flushed to disk,
    /// then renamed over it, so a crash leaves the previous state or this one.
    ///
    /// A fork cannot be saved: most of its state lives in the node it reads.
    pub fn save_to(&self, path: &Path) -> Result<(), SimError> {
        let failed = |reason: String| SimError::Persist {
            path: path.display().to_string(),
            reason,
        };
        if matches!(self.db.db, Backing::Remote(_)) {
            return Err(failed("a fork's state lives in its node".to_owned()));
        }
        let mut accounts = BTreeMap::new();
        for (address, account) in &self.db.cache.accounts {
            // An account the chain knows to be absent reads as absent from a fresh chain too.
            let Some(info) = account.info() else {
                continue;
            };
            let storage = account
                .storage
                .iter()
                .filter(|(_, value)| !value.is_zero())
                .map(|(slot, value)| (*slot, *value))
                .collect();
            let saved = SavedAccount {
                balance: info.balance,
                nonce: info.nonce,
                code: self.code(*address)?,
                storage,
            };
            accounts.insert(*address, saved);
        }
        let saved = SavedChain {
            format: FORMAT,
            chain_id: self.chain_id(),
            block_number: self.block_number(),
            timestamp: self.timestamp(),
            bundler: self.bundler,
            accounts,
            receipts: (self.receipts.iter())
                .map(|(hash, receipt)| (hash, receipt.clone()))
                .collect(),
        };
        let json = serde_json::to_vec(&saved).map_err(|error| failed(error.to_string()))?;
        write_atomically(path, &json).map_err(|error| failed(error.to_string()))
    }

    /// The chain [`Chain::save_to`] wrote at `path`.
    pub fn load_from(path: &Path) -> Result<Self, SimError> {
        let failed = |reason: String| SimError::Persist {
            path: path.display().to_string(),
            reason,
        };
        let json = fs::read(path).map_err(|error| failed(error.to_string()))?;
        let saved: SavedChain =
            serde_json::from_slice(&json).map_err(|error| failed(error.to_string()))?;
        if saved.format != FORMAT {
            return Err(failed(format!(
                "format {}, this build reads {FORMAT}",
                saved.format
            )));
        }
        let mut chain = Self::empty(saved.chain_id, saved.block_number, saved.timestamp);
        chain.bundler = saved.bundler;
        for (address, account) in saved.accounts {
            let code = Bytecode::new_raw_checked(account.code)
                .map_err(|error| failed(format!("code of {address}: {error:?}")))?;
            let info = AccountInfo {
                balance: account.balance,
                nonce: account.nonce,
                ..AccountInfo::default()
            }
            .with_code(code);
            chain.db.insert_account_info(address, info);
            for (slot, value) in account.storage {
                chain.db.insert_account_storage(address, slot, value)?;
            }
        }
        chain.receipts = Receipts::from_saved(saved.receipts);
        Ok(chain)
    }
}

/// Replaces `path` with `contents` so that a reader (or a crash) sees the old file or the new
/// one, never a part.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = Path::new(&temporary);
    let mut file = File::create(temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(temporary, path)?;
    // The rename itself is durable once the directory is synced.
    match path.parent() {
        Some(directory) if !directory.as_os_str().is_empty() => File::open(directory)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}
