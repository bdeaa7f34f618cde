//! `leash_getSession`: a session the server holds, with its status and what is left of every
//! limit, read from the validator now (no hosted API answers this).

use super::Context;
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::{State, wire_session_id},
    wire::sessions::{SessionIdRequest, SessionInfo},
};
use alloy_primitives::U64;
use jsonrpsee::types::Params;
use leash_sdk::service::StoredSession;
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<SessionInfo, RpcError> {
    let request: SessionIdRequest = positional(&params, 0)?;
    let session = context.session(request.session_id, &caller).await?;
    session_info(&context, session).await
}

/// `session` as it is kept and as the validator sees it now.
pub(super) async fn session_info<S: State>(
    context: &Context<S>,
    session: StoredSession,
) -> Result<SessionInfo, RpcError> {
    let state = context.chain.session_state(&session.grant).await?;
    let call_limits = context
        .chain
        .call_limits_left(&session.grant, state.status)
        .await?;
    Ok(SessionInfo {
        session_id: wire_session_id(session.session_id),
        chain_id: U64::from(context.chain.chain_id()),
        expired: context.chain.now().await? > session.grant.valid_until,
        grant: session.grant,
        key_type: session.key_type,
        state,
        call_limits,
    })
}
