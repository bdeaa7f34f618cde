//! `wallet_prepareCalls`: the unsigned operation, its gas estimated with the placeholder
//! signature (a call the session may not make is refused here, with the rule and the numbers),
//! and the hash to sign. The owner's call from an account that is not delegated to
//! `LeashAccount` also delegates it: the answer is the `array` form, the authorization to sign
//! and then the operation, which installs the validator before the calls.

use super::Context;
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    pending_nonces::PendingNonces,
    state::{PreparedCall, PreparedSigner, State, WireSessionId},
    wire::{
        calls::Details,
        delegation::{ArrayResponse, PrepareCallsAnswer},
        prepare::{
            FeePayment, PermissionsCapability, PrepareCallsRequest, PreparedCallsResponse,
            SessionReference, USER_OPERATION_TYPE,
        },
        signature_request::SignatureRequest,
        user_operation::to_wire,
    },
};
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, U64};
use jsonrpsee::types::Params;
use leash_core::{
    calls::Call,
    denial::Denial,
    prepare::UnsignedOperation,
    session_signer::SessionKeyType,
    session_state::{OnChainStatus, SessionState},
};
use leash_sdk::service::{
    Delegation, ServiceError, SessionSend, StoredSession, with_owner_signature,
};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<PrepareCallsAnswer, RpcError> {
    let request: PrepareCallsRequest = positional(&params, 0)?;
    let chain_id = context.served_chain(request.chain_id)?;
    let calls: Vec<Call> = request.calls.into_iter().map(Call::from).collect();
    let from = request.from;
    match request.capabilities.permissions {
        Some(permissions) => {
            let prepared =
                prepare_session_calls(&context, &caller, permissions, from, &calls).await?;
            let user_op_hash = prepared.unsigned.user_op_hash;
            let request = SignatureRequest::session(&prepared.key_type, user_op_hash);
            let prepared_call = PreparedCall {
                user_op_hash,
                operation: prepared.unsigned.op,
                calls,
                signer: PreparedSigner::Session(prepared.session),
                session_state: Some(prepared.state),
            };
            answer(&context, &caller, chain_id, prepared_call, request, None).await
        }
        None => prepare_owner(&context, &caller, chain_id, from, calls).await,
    }
}

/// A session's operation, prepared and estimated but not stored: what `wallet_prepareCalls`
/// answers with and `leash_explainCalls` explains.
pub(super) struct SessionPrepared {
    pub(super) unsigned: UnsignedOperation,
    pub(super) session: WireSessionId,
    pub(super) state: SessionState,
    /// How the session's key signs: what it is asked to sign.
    pub(super) key_type: SessionKeyType,
}

/// The session `permissions` names makes `calls` from `from`: its operation estimated with the
/// placeholder signature, so a call the session may not make is refused here as
/// [`ServiceError::Denied`], with the rule and the numbers (a revoked session as well).
pub(super) async fn prepare_session_calls<S: State>(
    context: &Context<S>,
    caller: &Caller,
    permissions: PermissionsCapability,
    from: Address,
    calls: &[Call],
) -> Result<SessionPrepared, RpcError> {
    require_calls(calls)?;
    let reference = permissions.session()?;
    let id = reference.id;
    let session = signed_session(context, caller, reference, from).await?;
    // The session's state says whether the validator is installed: with the delegate, whether
    // sessions can work on the account at all.
    let state = context.chain.session_state(&session.grant).await?;
    let delegation = Delegation {
        delegate: context.chain.delegate(from).await?,
        validator_installed: state.validator_installed,
    };
    if !delegation.is_complete() {
        return Err(RpcError::NotDelegated { account: from });
    }
    // A revoked session's estimate passes (validation only returns a failed signature, which an
    // estimate does not check), yet its operation can never be included: refuse it here.
    if state.status == OnChainStatus::Revoked {
        let reason = format!("session {id} is revoked: its operations fail validation (AA24)");
        return Err(ServiceError::Denied(Denial::Validation(reason)).into());
    }
    let key_type = session.key_type.clone();
    let send = SessionSend::with_state(session, context.chain.domain(), state.clone())?;
    let fees = context.chain.fees().await?;
    let pending = PendingNonces::of(context.state.as_ref(), from).await?;
    let unsigned = send
        .prepare(&pending.on(context.chain.sender()), calls, fees)
        .await?;
    Ok(SessionPrepared {
        unsigned,
        session: id,
        state,
        key_type,
    })
}

/// The owner of `from` makes `calls` itself: prepared, stored and answered as
/// `wallet_prepareCalls` does, delegating the account on the way when it must (the `array`
/// form).
pub(super) async fn prepare_owner<S: State>(
    context: &Context<S>,
    caller: &Caller,
    chain_id: u64,
    from: Address,
    calls: Vec<Call>,
) -> Result<PrepareCallsAnswer, RpcError> {
    let delegation = context.chain.delegation(from).await?;
    if delegation.is_complete() {
        require_calls(&calls)?;
    }
    let nonce = context.chain.authorization_nonce(from).await?;
    let pending = PendingNonces::of(context.state.as_ref(), from).await?;
    let authorization = delegation.authorization(chain_id, nonce);
    let unsigned = context
        .chain
        .prepare_owner_calls(from, &delegation, authorization.as_ref(), &calls, pending)
        .await?;
    let request = SignatureRequest::personal_sign(unsigned.user_op_hash);
    let prepared_call = PreparedCall {
        user_op_hash: unsigned.user_op_hash,
        operation: unsigned.op,
        calls,
        signer: PreparedSigner::Owner(from),
        session_state: None,
    };
    answer(
        context,
        caller,
        chain_id,
        prepared_call,
        request,
        authorization,
    )
    .await
}

/// Stores `unsigned` for `wallet_sendPreparedCalls` and answers with it and `signature_request`:
/// the operation, or the `array` form when `authorization` must be signed first.
async fn answer<S: State>(
    context: &Context<S>,
    caller: &Caller,
    chain_id: u64,
    prepared: PreparedCall,
    signature_request: SignatureRequest,
    authorization: Option<Authorization>,
) -> Result<PrepareCallsAnswer, RpcError> {
    let user_op_hash = prepared.user_op_hash;
    let wire = to_wire(&prepared.operation)?;
    let details = Details::user_operation(user_op_hash, Some(&prepared.calls));
    context.state.put_prepared(prepared, caller.key()).await?;
    let operation = PreparedCallsResponse {
        kind: USER_OPERATION_TYPE,
        data: wire.data,
        chain_id: U64::from(chain_id),
        signature_request,
        fee_payment: FeePayment::self_paid(wire.max_cost),
        details,
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
    caller: &Caller,
    reference: SessionReference,
    from: Address,
) -> Result<StoredSession, RpcError> {
    let session = context.session(reference.id, caller).await?;
    if session.account != from {
        return Err(RpcError::invalid(
            "params[0].from",
            format!("session {} belongs to {}", reference.id, session.account),
        ));
    }
    match reference.owner_signature {
        Some(signature) if session.grant.owner_signature.as_ref() != Some(&signature) => {
            let session = with_owner_signature(session, signature)?;
            context
                .state
                .put_session(session.clone(), caller.key())
                .await?;
            Ok(session)
        }
        _ => Ok(session),
    }
}
