//! `leash_listSessions`: every session the server holds for an account, each as
//! `leash_getSession` answers it (no hosted API lists them).

use super::{Context, get_session::session_info};
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::State,
    wire::sessions::{AccountRequest, SessionList},
};
use jsonrpsee::types::Params;
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<SessionList, RpcError> {
    let request: AccountRequest = positional(&params, 0)?;
    let stored = context
        .state
        .sessions_of(request.account, caller.key())
        .await?;
    let mut sessions = Vec::with_capacity(stored.len());
    for session in stored {
        sessions.push(session_info(&context, session).await?);
    }
    Ok(SessionList { sessions })
}
