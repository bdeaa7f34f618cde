//! `eth_call` and `eth_estimateGas` on the latest state, as the request says (sender, value,
//! authorizations); a revert is code 3 with its data.

use super::{block_id::require_latest, error::EthError};
use crate::{chain::EmbeddedChain, error::RpcError, params::positional};
use alloy_primitives::{Bytes, U64};
use alloy_rpc_types_eth::TransactionRequest;
use jsonrpsee::types::Params;
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn call(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<Bytes, EthError> {
    let request = request(&params, &chain)?;
    // A state override would have to be applied to a copy: refused rather than ignored.
    if positional::<Option<Value>>(&params, 2)?.is_some() {
        return Err(RpcError::invalid("params[2]", "state overrides are not supported").into());
    }
    Ok(chain.with_chain(|chain| chain.call_request(&request))??)
}

pub(super) async fn estimate_gas(
    params: Params<'static>,
    chain: Arc<EmbeddedChain>,
) -> Result<U64, EthError> {
    let request = request(&params, &chain)?;
    let gas = chain.with_chain(|chain| chain.estimate_gas(&request))??;
    Ok(U64::from(gas))
}

/// The call in `params[0]`, at the block in `params[1]`, which must be the latest.
fn request(params: &Params<'_>, chain: &EmbeddedChain) -> Result<TransactionRequest, RpcError> {
    let request = positional(params, 0)?;
    require_latest(params, 1, chain)?;
    Ok(request)
}
