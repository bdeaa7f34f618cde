//! `eth_sendRawTransaction` and what follows it: the transaction is checked, run and mined in a
//! block of its own before the hash is answered, so its receipt is there at once.

use super::error::EthError;
use crate::{chain::EmbeddedChain, params::positional};
use alloy_primitives::{B256, Bytes};
use alloy_rpc_types_eth::{Transaction, TransactionReceipt};
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn send_raw(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<B256, EthError> {
    let raw: Bytes = positional(&params, 0)?;
    let hash = chain.with_chain(|chain| chain.send_raw_transaction(&raw))?;
    // The chain's file (with --data-dir) holds the new state, as after every bundle.
    chain.save()?;
    Ok(hash)
}

pub(super) async fn receipt(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<Option<TransactionReceipt>, EthError> {
    let hash: B256 = positional(&params, 0)?;
    Ok(chain.with_chain(|chain| chain.receipt_by_hash(hash).cloned()))
}

pub(super) async fn by_hash(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<Option<Transaction>, EthError> {
    let hash: B256 = positional(&params, 0)?;
    Ok(chain.with_chain(|chain| chain.transaction_by_hash(hash).cloned()))
}
