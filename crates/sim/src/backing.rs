//! Where the state the chain has not written itself comes from: nothing (a fresh chain), or a
//! remote node's state at one block, fetched on first use and kept in the chain's cache.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::DynProvider;
use revm::{
    database::{AlloyDB, AlloyDBError},
    database_interface::{AsyncError, DBErrorMarker, DatabaseRef, WrapDatabaseAsync},
    primitives::StorageKey,
    state::{AccountInfo, Bytecode},
};
use std::{fmt, sync::Arc};

/// A node's state read through alloy, with its own runtime so the EVM can read it synchronously.
pub(crate) type RemoteState = WrapDatabaseAsync<AlloyDB<alloy_network::Ethereum, DynProvider>>;

/// The state under the chain's own writes.
#[derive(Clone, Debug)]
pub(crate) enum Backing {
    /// A fresh chain: every account is empty.
    Genesis,
    /// A fork: accounts, code and storage come from a node at a fixed block.
    Remote(Arc<RemoteState>),
}

/// A remote read failed: the fork cannot know the state it needs.
#[derive(Debug)]
pub struct BackingError(String);

impl fmt::Display for BackingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reading the forked node's state: {}", self.0)
    }
}

impl std::error::Error for BackingError {}

impl DBErrorMarker for BackingError {}

impl From<AsyncError<AlloyDBError>> for BackingError {
    fn from(error: AsyncError<AlloyDBError>) -> Self {
        Self(error.to_string())
    }
}

impl DatabaseRef for Backing {
    type Error = BackingError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self {
            Self::Genesis => Ok(None),
            Self::Remote(state) => Ok(state.basic_ref(address)?),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        match self {
            Self::Genesis => Ok(Bytecode::default()),
            // Remote code arrives with its account (`basic_ref`) and is cached there; a lookup by
            // hash means the hash is unknown.
            Self::Remote(_) => Err(BackingError(format!("no code with hash {code_hash}"))),
        }
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<U256, Self::Error> {
        match self {
            Self::Genesis => Ok(U256::ZERO),
            Self::Remote(state) => Ok(state.storage_ref(address, index)?),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self {
            Self::Genesis => Ok(keccak256(number.to_be_bytes())),
            Self::Remote(state) => Ok(state.block_hash_ref(number)?),
        }
    }
}
