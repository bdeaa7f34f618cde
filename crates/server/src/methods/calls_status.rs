//! `wallet_getCallsStatus`: a sent call's EIP-5792 status; an id this server did not issue is
//! error 5730.

use super::Context;
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::State,
    wire::{send::parse_call_id, status::CallsStatusResponse},
};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<CallsStatusResponse, RpcError> {
    let id: Bytes = positional(&params, 0)?;
    let chain_id = context.chain.chain_id();
    let unknown = || RpcError::UnknownCall { id: id.to_string() };
    let user_op_hash = match parse_call_id(&id) {
        Some((chain, hash)) if chain == B256::left_padding_from(&chain_id.to_be_bytes()) => hash,
        _ => return Err(unknown()),
    };
    let status = context
        .state
        .status(user_op_hash, caller.key())
        .await?
        .ok_or_else(unknown)?;
    Ok(CallsStatusResponse::new(
        id.clone(),
        chain_id,
        user_op_hash,
        &status,
    ))
}
