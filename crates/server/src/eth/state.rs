//! Reads of the latest state: chain id, block number, balances, code, storage, nonces.

use super::{block_id::require_latest, error::EthError};
use crate::{chain::EmbeddedChain, params::positional};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn chain_id(
    _: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U64, EthError> {
    Ok(U64::from(chain.chain_id()))
}

/// The chain id in decimal, as `net_version` answers.
pub(super) async fn net_version(
    _: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<String, EthError> {
    Ok(chain.chain_id().to_string())
}

pub(super) async fn block_number(
    _: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U64, EthError> {
    Ok(U64::from(chain.with_chain(|chain| chain.block_number())))
}

pub(super) async fn balance(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U256, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &chain)?;
    let balance = chain.with_chain(|chain| chain.balance(address));
    Ok(balance?)
}

pub(super) async fn code(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<Bytes, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &chain)?;
    let code = chain.with_chain(|chain| chain.code(address));
    Ok(code?)
}

pub(super) async fn storage_at(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<B256, EthError> {
    let address: Address = positional(&params, 0)?;
    let slot: U256 = positional(&params, 1)?;
    require_latest(&params, 2, &chain)?;
    let value = chain.with_chain(|chain| chain.storage_at(address, slot));
    Ok(value?.into())
}

/// The account nonce; `pending` is the same, as the chain keeps no pool.
pub(super) async fn nonce(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U64, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &chain)?;
    let nonce = chain.with_chain(|chain| chain.nonce(address));
    Ok(U64::from(nonce?))
}
