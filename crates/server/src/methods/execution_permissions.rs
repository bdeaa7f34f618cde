//! ERC-7715's companions of `wallet_requestExecutionPermissions`: what is supported, what was
//! granted, and revoking a grant.

use super::{Context, prepare_revoke::prepare_owner_revocation};
use crate::{
    access::Caller,
    error::RpcError,
    params::by_name,
    state::State,
    wire::{
        delegation::PrepareCallsAnswer, execution_permissions::supported, prepare::SessionReference,
    },
};
use alloy_primitives::Bytes;
use jsonrpsee::types::Params;
use leash_core::session_state::OnChainStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// `wallet_getSupportedExecutionPermissions`: the permission types leash grants on the served
/// chain, each with the rules it enforces.
pub(super) async fn get_supported<S: State>(
    _params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<Value, RpcError> {
    Ok(supported(context.chain.chain_id()))
}

/// `wallet_getGrantedExecutionPermissions`: every permission granted under the caller's key that
/// is still in force, as `wallet_requestExecutionPermissions` answered it. One revoked on chain,
/// or past its expiry, is left out.
pub(super) async fn get_granted<S: State>(
    _params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<Vec<Value>, RpcError> {
    let now = context.chain.now().await?;
    let mut in_force = Vec::new();
    for (session, granted) in context.state.execution_permissions(caller.key()).await? {
        if session.grant.valid_until <= now {
            continue;
        }
        let state = context.chain.session_state(&session.grant).await?;
        if state.status != OnChainStatus::Revoked {
            in_force.push(granted);
        }
    }
    Ok(in_force)
}

/// `{permissionContext}`, by name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeRequest {
    permission_context: Bytes,
}

/// `{}` once the session is revoked on chain; until then, with `preparedCalls`: the owner's
/// revocation, prepared as `wallet_prepareCalls` answers, to sign and send with
/// `wallet_sendPreparedCalls`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RevokeAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    prepared_calls: Option<PrepareCallsAnswer>,
}

/// `wallet_revokeExecutionPermission`. Revoking takes a transaction of the account, which only
/// its owner signs: the answer carries it prepared, and is a bare `{}` once the chain has it.
pub(super) async fn revoke<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<RevokeAnswer, RpcError> {
    let request: RevokeRequest = by_name(&params)?;
    let field = "params.permissionContext";
    let reference = SessionReference::from_context(&request.permission_context, field)?;
    let session = context.session(reference.id, &caller).await?;
    if session.grant.owner_signature != reference.owner_signature {
        return Err(RpcError::invalid(
            field,
            format!(
                "not a context of session {}: its owner signature is not the one granted",
                reference.id
            ),
        ));
    }
    let state = context.chain.session_state(&session.grant).await?;
    if state.status == OnChainStatus::Revoked {
        return Ok(RevokeAnswer {
            prepared_calls: None,
        });
    }
    let chain_id = context.chain.chain_id();
    let prepared = prepare_owner_revocation(&context, &caller, chain_id, &session).await?;
    Ok(RevokeAnswer {
        prepared_calls: Some(prepared),
    })
}
