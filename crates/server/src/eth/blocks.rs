//! `eth_getBlockByNumber`: the latest block, or an earlier one a transaction was mined in
//! (`null` otherwise). Transactions are listed by hash whatever the second parameter asks.

use super::{block_id::resolve_tag, error::EthError};
use crate::{chain::EmbeddedChain, params::positional};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::Block;
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn by_number(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<Option<Block>, EthError> {
    let tag: BlockNumberOrTag = positional(&params, 0)?;
    // Read so that a malformed flag is still -32602; hashes are all the chain lists.
    let _full: Option<bool> = positional(&params, 1)?;
    Ok(chain.with_chain(|chain| {
        resolve_tag(tag, chain.block_number()).and_then(|number| chain.block(number))
    }))
}
