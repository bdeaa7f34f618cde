//! Fee suggestions. The embedded chain's base fee never moves (1 gwei) and its blocks are never
//! full, so a fee of base fee plus the tip the bundler itself pays is always included.

use super::{block_id::resolve_tag, error::EthError};
use crate::{chain::EmbeddedChain, error::RpcError, params::positional};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{U64, U128};
use alloy_rpc_types_eth::FeeHistory;
use jsonrpsee::types::Params;
use std::sync::Arc;

/// The tip suggested: the one the chain's bundler pays (1 gwei).
const PRIORITY_FEE: u128 = 1_000_000_000;

/// At most this many blocks of history per `eth_feeHistory`, as geth caps it.
const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;

pub(super) async fn gas_price(
    _: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U128, EthError> {
    let base_fee = chain.with_chain(|chain| chain.base_fee());
    Ok(U128::from(u128::from(base_fee) + PRIORITY_FEE))
}

pub(super) async fn max_priority_fee(
    _: Params<'static>,
    _: Arc<EmbeddedChain>,
) -> Result<U128, EthError> {
    Ok(U128::from(PRIORITY_FEE))
}

/// `[blockCount, newestBlock, rewardPercentiles?]`: the constant base fee, each kept block's gas
/// used ratio (0 for a block the chain did not keep), and the suggested tip at every percentile.
pub(super) async fn fee_history(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<FeeHistory, EthError> {
    let count: U64 = positional(&params, 0)?;
    let newest: BlockNumberOrTag = positional(&params, 1)?;
    let percentiles: Option<Vec<f64>> = positional(&params, 2)?;
    Ok(chain.with_chain(|chain| {
        let latest = chain.block_number();
        let newest = resolve_tag(newest, latest).ok_or_else(|| {
            RpcError::invalid("params[1]", format!("the latest block is {latest}"))
        })?;
        let count = count
            .saturating_to::<u64>()
            .min(newest + 1)
            .min(MAX_FEE_HISTORY_BLOCKS);
        let oldest = newest + 1 - count;
        let gas_used_ratio = (oldest..=newest)
            .map(|number| {
                chain.block(number).map_or(0.0, |block| {
                    block.header.gas_used as f64 / block.header.gas_limit as f64
                })
            })
            .collect();
        let base_fee = u128::from(chain.base_fee());
        let size = usize::try_from(count).unwrap_or(usize::MAX);
        let reward =
            percentiles.map(|percentiles| vec![vec![PRIORITY_FEE; percentiles.len()]; size]);
        Ok::<_, RpcError>(FeeHistory {
            base_fee_per_gas: vec![base_fee; size + 1],
            gas_used_ratio,
            base_fee_per_blob_gas: Vec::new(),
            blob_gas_used_ratio: Vec::new(),
            oldest_block: oldest,
            reward,
        })
    })?)
}
