//! `wallet_prepareCalls`: the unsigned operation, its gas estimated with the placeholder
//! signature (a call the session may not make is refused here, with the rule and the numbers),
//! and the hash to sign. The owner's call from an account that is not delegated to
//! `LeashAccount` also delegates it: the answer is the `array` form, the authorization to sign
//! and then the operation, which installs the validator before the calls.

use super::Context;
use crate::{
    error::RpcError,
    params::positional,
    state::{PreparedCall, PreparedSigner, State},
    wire::{
        calls::Details,
        delegation::{ArrayResponse, PrepareCallsAnswer},
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
use leash_sim::SimSender;
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<PrepareCallsAnswer, RpcError> {
    let request: PrepareCallsRequest = positional(&params, 0)?;
    let chain_id = context.served_chain(request.chain_id)?;
    let calls: Vec<Call> = request.calls.into_iter().map(Call::from).collect();
    let from = request.from;
    let delegation = context.chain.delegation(from)?;
    let (unsigned, signer, authorization) = match request.capabilities.permissions {
        Some(permissions) => {
            if !delegation.is_complete() {
                return Err(RpcError::NotDelegated { account: from });
            }
            require_calls(&calls)?;
            let reference = permissions.session()?;
            let id = reference.id;
            let session = signed_session(&context, reference, from).await?;
            let state = context.chain.session_state(&session.grant)?;
            let send = SessionSend::with_state(session, context.chain.domain(), state)?;
            let sender = context.chain.sender();
            let unsigned = send.prepare(&sender, &calls, sender.fees()).await?;
            (unsigned, PreparedSigner::Session(id), None)
        }
        None => {
            if delegation.is_complete() {
                require_calls(&calls)?;
            }
            let nonce = context.chain.authorization_nonce(from)?;
            let authorization = delegation.authorization(chain_id, nonce);
            let unsigned = match &authorization {
                None => {
                    let sender = context.chain.sender();
                    let fees = sender.fees();
                    prepare_owner_calls(&sender, from, &delegation, None, &calls, fees).await?
                }
                // Estimated as if delegated: the owner has not signed the authorization yet.
                Some(authorization) => {
                    let mut delegated = context.chain.delegated_copy(from)?;
                    let sender = SimSender::new(&mut delegated);
                    let fees = sender.fees();
                    let authorization = Some(authorization);
                    prepare_owner_calls(&sender, from, &delegation, authorization, &calls, fees)
                        .await?
                }
            };
            (unsigned, PreparedSigner::Owner(from), authorization)
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
    let operation = PreparedCallsResponse {
        kind: USER_OPERATION_TYPE,
        data: wire.data,
        chain_id: U64::from(chain_id),
        signature_request: PersonalSignRequest::of(user_op_hash),
        fee_payment: FeePayment::self_paid(wire.max_cost),
        details: Details::user_operation(user_op_hash, Some(&calls)),
    };
    Ok(match authorization {
        None => PrepareCallsAnswer::Operation(Box::new(operation)),
        Some(authorization) => {
            PrepareCallsAnswer::Array(ArrayResponse::new(&authorization, operation))
        }
    })
}

/// An account that is delegated already needs a call to make (without one, there is nothing to
/// sign for).
fn require_calls(calls: &[Call]) -> Result<(), RpcError> {
    if calls.is_empty() {
        return Err(RpcError::invalid(
            "params[0].calls",
            "at least one call (the account is delegated already)",
        ));
    }
    Ok(())
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
