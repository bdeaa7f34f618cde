//! `wallet_prepareSign`: a session signing a message as its account (ERC-1271, nested as
//! ERC-7739 nests it). The grant is checked for the message's permission, the message is kept
//! in the state for `wallet_formatSign` (by every server on the store: clients send back only
//! the signature), and the session's key is asked to sign the nested digest as
//! `wallet_prepareCalls` asks a key of its type.

use super::Context;
use crate::{
    access::Caller,
    access::unix_now,
    error::RpcError,
    params::positional,
    state::{MESSAGE_LIFETIME, State, StateError, WaitingMessage},
    wire::{
        prepare::Capabilities,
        sign::{PrepareSignRequest, PrepareSignResponse},
        signature_request::SignatureRequest,
    },
};
use alloy_primitives::{Address, U64};
use jsonrpsee::types::Params;
use leash_sdk::service::{StoredSession, prepare_message};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<PrepareSignResponse, RpcError> {
    let request: PrepareSignRequest = positional(&params, 0)?;
    let chain_id = context.served_chain(request.chain_id)?;
    let asked = serde_json::to_string(&request.signature_request).map_err(|error| {
        StateError::Backend(format!("encoding the message to keep it: {error}"))
    })?;
    let message = request
        .signature_request
        .message("params[0].signatureRequest")?;
    let session = signing_session(&context, &caller, request.capabilities, request.from).await?;
    let prepared = prepare_message(&session, message)?;
    let signature_request = SignatureRequest::session(&session.key_type, prepared.digest);
    let now = unix_now();
    let waiting = WaitingMessage {
        account: session.account,
        session_id: session.session_id,
        digest: prepared.digest,
        request: asked,
        expires_at: now.saturating_add(MESSAGE_LIFETIME.as_secs()),
    };
    context.state.put_message(waiting, now).await?;
    Ok(PrepareSignResponse {
        chain_id: U64::from(chain_id),
        signature_request,
    })
}

/// The session `capabilities.permissions` names, which must be `from`'s. Only a session signs
/// here: the owner's own 65-byte signature of a hash is what the account accepts from it.
pub(super) async fn signing_session<S: State>(
    context: &Context<S>,
    caller: &Caller,
    capabilities: Capabilities,
    from: Address,
) -> Result<StoredSession, RpcError> {
    let permissions = capabilities.permissions.ok_or_else(|| {
        RpcError::invalid(
            "params[0].capabilities.permissions",
            "name the session that signs (context, or sessionId): the owner signs with its own \
             key, and the account accepts its 65-byte signature of the hash as it is",
        )
    })?;
    let id = permissions.session()?.id;
    let session = context.session(id, caller).await?;
    if session.account != from {
        return Err(RpcError::invalid(
            "params[0].from",
            format!("session {id} belongs to {}", session.account),
        ));
    }
    Ok(session)
}
