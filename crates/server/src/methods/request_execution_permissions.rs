//! ERC-7715's `wallet_requestExecutionPermissions`, in two steps since the wallet, not the
//! server, holds the owner's key. The first issues a session for each request (stored unsigned,
//! as `wallet_createSession` does) and answers its typed data to sign; the second, the same
//! request with `sessionId` and the owner's `signature`, checks the signature and answers
//! MetaMask's shape, whose `context` is the permissions context `wallet_prepareCalls` takes.

use super::Context;
use crate::{
    access::Caller,
    error::RpcError,
    params::positional_list,
    served_chain::ServedChain,
    state::{State, wire_session_id},
    wire::{
        execution_permissions::{ExecutionPermissionRequest, Step},
        prepare::SessionReference,
        session::TypedDataRequest,
    },
};
use alloy_primitives::Address;
use jsonrpsee::types::Params;
use leash_core::{
    eip7702::delegate_of, session_signer::SessionKeyType, signing::PLACEHOLDER_SIGNATURE,
};
use leash_sdk::service::{StoredSession, grant_session, with_key_type, with_owner_signature};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<Vec<Value>, RpcError> {
    let requests = positional_list(&params)?
        .into_iter()
        .enumerate()
        .map(|(index, value)| ExecutionPermissionRequest::parse(value, index))
        .collect::<Result<Vec<_>, _>>()?;
    if requests.is_empty() {
        return Err(RpcError::invalid(
            "params",
            "at least one permission request",
        ));
    }
    // Every request is checked before anything is stored: a call is granted whole or not at all.
    let domain = context.chain.domain();
    let now = context.chain.now().await?;
    let mut sessions = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        context.served_chain(request.chain_id)?;
        let session = match &request.step {
            Step::Issue => {
                let session = grant_session(domain, now, request.terms())?;
                let key_type = redeemer_key_type(&context.chain, session.session_key).await?;
                with_key_type(session, key_type)?
            }
            Step::Grant {
                session_id,
                signature,
            } => {
                let session = context.session(*session_id, &caller).await?;
                if !request.was_issued_as(&session.grant) {
                    return Err(RpcError::invalid(
                        format!("params[{index}]"),
                        format!(
                            "not the request session {session_id} was issued for: send it back \
                             as it was, with sessionId and signature added"
                        ),
                    ));
                }
                with_owner_signature(session, signature.clone())?
            }
        };
        sessions.push(session);
    }
    let mut answers = Vec::with_capacity(requests.len());
    for (request, session) in requests.iter().zip(sessions) {
        answers.push(store_and_answer(&context, &caller, request, session).await?);
    }
    Ok(answers)
}

/// How the permission's `to` signs: a contract (code other than an EIP-7702 delegation, whose
/// EOA's key still signs) as ERC-1271 asks it, as a `contract` session key; anything else with
/// its secp256k1 key.
async fn redeemer_key_type(chain: &ServedChain, to: Address) -> Result<SessionKeyType, RpcError> {
    let code = chain.code(to).await?;
    Ok(if code.is_empty() || delegate_of(&code).is_some() {
        SessionKeyType::Secp256k1
    } else {
        SessionKeyType::Contract {
            placeholder: PLACEHOLDER_SIGNATURE.into(),
        }
    })
}

/// Stores `session` for `request` and answers: the typed data to sign (first step), or the
/// permission granted, also recorded for `wallet_getGrantedExecutionPermissions` (second).
async fn store_and_answer<S: State>(
    context: &Context<S>,
    caller: &Caller,
    request: &ExecutionPermissionRequest,
    session: StoredSession,
) -> Result<Value, RpcError> {
    let id = wire_session_id(session.session_id);
    // The grant's own permissions show what the owner signs: the default gas-limit included.
    let leash_permissions = json!(session.grant.permissions);
    match &request.step {
        Step::Issue => {
            let typed_data = context.chain.domain().typed_data(&session.grant.grant());
            let signature_request = TypedDataRequest::new(typed_data, session.session_id);
            context.state.put_session(session, caller.key()).await?;
            Ok(request.answer(json!({
                "sessionId": id,
                "signatureRequest": signature_request,
                "leashPermissions": leash_permissions,
            })))
        }
        Step::Grant { signature, .. } => {
            let granted = request.answer(json!({
                "context": SessionReference::context(id, signature),
                // The account needs no deployment: its owner's first wallet_prepareCalls
                // delegates it (EIP-7702), which no factory call could do.
                "dependencies": [],
                // No ERC-7710 DelegationManager: the validator enforces and redeems the grant.
                "delegationManager": context.chain.domain().validator,
                "leashPermissions": leash_permissions,
            }));
            context.state.put_session(session, caller.key()).await?;
            context
                .state
                .put_execution_permission(id, &granted, caller.key())
                .await?;
            Ok(granted)
        }
    }
}
