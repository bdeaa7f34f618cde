//! The block a state read names. The embedded chain keeps its latest state only, so a read is
//! answered for the latest block (`latest`, `pending`, `safe`, `finalized`, or its number) and
//! refused with -32602 for any other, rather than answered with the wrong state.

use crate::{chain::EmbeddedChain, error::RpcError, params::positional};
use alloy_eips::{BlockId, BlockNumberOrTag};
use jsonrpsee::types::Params;

/// Checks that the block at `params[index]` (absent: latest) is the latest one.
pub(super) fn require_latest(
    params: &Params<'_>,
    index: usize,
    chain: &EmbeddedChain,
) -> Result<(), RpcError> {
    let block: Option<BlockId> = positional(params, index)?;
    let latest = chain.with_chain(|chain| chain.block_number());
    match block.map(|block| resolve(block, latest)) {
        None | Some(Some(_)) => Ok(()),
        Some(None) => Err(not_kept(index, latest)),
    }
}

/// The number `tag` names when it is at most `latest` and its state is kept: tags other than
/// `earliest` are the latest block on a chain that mines on demand.
pub(super) fn resolve_tag(tag: BlockNumberOrTag, latest: u64) -> Option<u64> {
    match tag {
        BlockNumberOrTag::Number(number) => (number <= latest).then_some(number),
        BlockNumberOrTag::Earliest => Some(0),
        _ => Some(latest),
    }
}

/// `block` when it names the latest block, whose state the chain holds.
fn resolve(block: BlockId, latest: u64) -> Option<u64> {
    match block {
        BlockId::Number(tag) => resolve_tag(tag, latest).filter(|number| *number == latest),
        BlockId::Hash(_) => None,
    }
}

/// The -32602 for a block whose state the chain does not keep.
pub(super) fn not_kept(index: usize, latest: u64) -> RpcError {
    RpcError::invalid(
        format!("params[{index}]"),
        format!(
            "the embedded chain keeps only its latest state: name latest, pending or block \
             {latest} (for history, use --rpc-url with a full node)"
        ),
    )
}
