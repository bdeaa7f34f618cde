//! `eth_call` and `eth_estimateGas` on the latest state, as the request says (sender, value,
//! authorizations); a revert is code 3 with its data.

use super::{block_id::require_latest, error::EthError};
use crate::{error::RpcError, methods::Context, params::positional, state::State};
use alloy_primitives::{Bytes, U64};
use alloy_rpc_types_eth::TransactionRequest;
use jsonrpsee::types::Params;
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn call<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<Bytes, EthError> {
    let request = request(&params, &context)?;
    // A state override would have to be applied to a copy: refused rather than ignored.
    if positional::<Option<Value>>(&params, 2)?.is_some() {
        return Err(RpcError::invalid("params[2]", "state overrides are not supported").into());
    }
    Ok(context
        .chain
        .with_chain(|chain| chain.call_request(&request))??)
}

pub(super) async fn estimate_gas<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<U64, EthError> {
    let request = request(&params, &context)?;
    let gas = context
        .chain
        .with_chain(|chain| chain.estimate_gas(&request))??;
    Ok(U64::from(gas))
}

/// The call in `params[0]`, at the block in `params[1]`, which must be the latest.
fn request<S: State>(
    params: &Params<'_>,
    context: &Context<S>,
) -> Result<TransactionRequest, RpcError> {
    let request = positional(params, 0)?;
    require_latest(params, 1, &context.chain)?;
    Ok(request)
}
