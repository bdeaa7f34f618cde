//! `wallet_prepareCalls`: the unsigned operation, its gas estimated with the placeholder
//! signature (a call the session may not make is refused here, with the rule and the numbers),
//! and the hash to sign.

use super::Context;
use crate::{
    error::RpcError,
    params::positional,
    state::{PreparedCall, PreparedSigner, State},
    wire::{
        calls::Details,
        prepare::{
            FeePayment, PersonalSignRequest, PrepareCallsRequest, PreparedCallsResponse,
            SessionReference, USER_OPERATION_TYPE,
        },
        user_operation::to_wire,
    },
};
use alloy_primitives::{Address, U64};
use jsonrpsee::types::Params;
use leash_core::{calls::Call, prepare::UnsignedOperation};
use leash_sdk::service::{SessionSend, StoredSession, prepare_owner_calls, with_owner_signature};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<PreparedCallsResponse, RpcError> {
    let request: PrepareCallsRequest = positional(&params, 0)?;
    let chain_id = context.served_chain(request.chain_id)?;
    if request.calls.is_empty() {
        return Err(RpcError::invalid(
            "params[0].calls",
            "at least one call (delegation-only requests are not served yet)",
        ));
    }
    let calls: Vec<Call> = request.calls.into_iter().map(Call::from).collect();
    let sender = context.chain.sender();
    let fees = sender.fees();
    let (unsigned, signer) = match request.capabilities.permissions {
        Some(permissions) => {
            let reference = permissions.session()?;
            let id = reference.id;
            let session = signed_session(&context, reference, request.from).await?;
            let state = context.chain.session_state(&session.grant)?;
            let send = SessionSend::with_state(session, context.chain.domain(), state)?;
            let unsigned = send.prepare(&sender, &calls, fees).await?;
            (unsigned, PreparedSigner::Session(id))
        }
        None => {
            let unsigned = prepare_owner_calls(&sender, request.from, &calls, fees).await?;
            (unsigned, PreparedSigner::Owner(request.from))
        }
    };
    let UnsignedOperation { op, user_op_hash } = unsigned;
    let wire = to_wire(&op)?;
    context
        .state
        .put_prepared(PreparedCall {
            user_op_hash,
            operation: op,
            calls: calls.clone(),
            signer,
        })
        .await?;
    Ok(PreparedCallsResponse {
        kind: USER_OPERATION_TYPE,
        data: wire.data,
        chain_id: U64::from(chain_id),
        signature_request: PersonalSignRequest::of(user_op_hash),
        fee_payment: FeePayment::self_paid(wire.max_cost),
        details: Details::user_operation(user_op_hash, Some(&calls)),
    })
}

/// The session `reference` names, for the account `from`, with the owner's signature it
/// carries checked and kept: until the chain says the session is enabled, every operation takes
/// the grant and that signature along (the lazy enable).
async fn signed_session<S: State>(
    context: &Context<S>,
    reference: SessionReference,
    from: Address,
) -> Result<StoredSession, RpcError> {
    let session = context.session(reference.id).await?;
    if session.account != from {
        return Err(RpcError::invalid(
            "params[0].from",
            format!("session {} belongs to {}", reference.id, session.account),
        ));
    }
    match reference.owner_signature {
        Some(signature) if session.grant.owner_signature.as_ref() != Some(&signature) => {
            let session = with_owner_signature(session, signature)?;
            context.state.put_session(session.clone()).await?;
            Ok(session)
        }
        _ => Ok(session),
    }
}
