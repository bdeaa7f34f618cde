//! Reads of the latest state: chain id, block number, balances, code, storage, nonces.

use super::{block_id::require_latest, error::EthError};
use crate::{methods::Context, params::positional, state::State};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn chain_id<S: State>(
    _: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<U64, EthError> {
    Ok(U64::from(context.chain.chain_id()))
}

/// The chain id in decimal, as `net_version` answers.
pub(super) async fn net_version<S: State>(
    _: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<String, EthError> {
    Ok(context.chain.chain_id().to_string())
}

pub(super) async fn block_number<S: State>(
    _: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<U64, EthError> {
    Ok(U64::from(
        context.chain.with_chain(|chain| chain.block_number()),
    ))
}

pub(super) async fn balance<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<U256, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &context.chain)?;
    let balance = context.chain.with_chain(|chain| chain.balance(address));
    Ok(balance?)
}

pub(super) async fn code<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<Bytes, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &context.chain)?;
    let code = context.chain.with_chain(|chain| chain.code(address));
    Ok(code?)
}

pub(super) async fn storage_at<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<B256, EthError> {
    let address: Address = positional(&params, 0)?;
    let slot: U256 = positional(&params, 1)?;
    require_latest(&params, 2, &context.chain)?;
    let value = context
        .chain
        .with_chain(|chain| chain.storage_at(address, slot));
    Ok(value?.into())
}

/// The account nonce; `pending` is the same, as the chain keeps no pool.
pub(super) async fn nonce<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<U64, EthError> {
    let address: Address = positional(&params, 0)?;
    require_latest(&params, 1, &context.chain)?;
    let nonce = context.chain.with_chain(|chain| chain.nonce(address));
    Ok(U64::from(nonce?))
}
