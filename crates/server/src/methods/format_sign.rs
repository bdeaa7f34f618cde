//! `wallet_formatSign`: the session key's signature of a message `wallet_prepareSign` prepared,
//! as the account's ERC-1271 signature. The client sends back only the signature, so it is
//! matched against the session's waiting messages, newest first: the first whose nested digest
//! it signs (a contract signer's, as the contract answers now) is the one formatted.

use super::{Context, prepare_sign::signing_session, send_prepared_calls::ask_contract};
use crate::{
    access::Caller,
    access::unix_now,
    error::RpcError,
    params::positional,
    served_chain::ServedChain,
    state::{State, StateError, wire_session_id},
    wire::{
        session_key::KeyType,
        sign::{FormatSignRequest, FormatSignResponse, MessageRequest},
    },
};
use jsonrpsee::types::Params;
use leash_sdk::service::{
    KeySignature, PreparedMessage, ServiceError, SignedMessage, StoredSession, prepare_message,
};
use std::sync::Arc;

const FIELD: &str = "params[0].signature";

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<FormatSignResponse, RpcError> {
    let request: FormatSignRequest = positional(&params, 0)?;
    context.served_chain(request.chain_id)?;
    let signature = request.signature.parse(FIELD)?;
    let session = signing_session(&context, &caller, request.capabilities, request.from).await?;
    let signature = signature.of_key(KeyType::of(&session.key_type), FIELD)?;
    let waiting = waiting_messages(&context, &session).await?;
    let Some(newest) = waiting.first() else {
        return Err(RpcError::NoMessagePrepared {
            account: session.account,
            session: wire_session_id(session.session_id),
        });
    };
    for message in &waiting {
        if let Some(signed) = formatted(&context.chain, message, &signature).await? {
            return Ok(FormatSignResponse {
                signature: signed.signature,
            });
        }
    }
    Err(ServiceError::MessageSignatureMismatch {
        digest: newest.digest,
        kind: newest.signer.kind(),
        expected: newest.signer.id,
    }
    .into())
}

/// The messages `session` has waiting, newest first, each prepared again from the request kept
/// (the session's grant does not change, so neither does what it allows).
async fn waiting_messages<S: State>(
    context: &Context<S>,
    session: &StoredSession,
) -> Result<Vec<PreparedMessage>, RpcError> {
    let kept = context
        .state
        .waiting_messages(session.account, session.session_id, unix_now())
        .await?;
    kept.iter()
        .map(|request| {
            let request: MessageRequest = serde_json::from_str(request).map_err(|error| {
                StateError::Backend(format!("reading a waiting message: {error}"))
            })?;
            Ok(prepare_message(session, request.message(FIELD)?)?)
        })
        .collect()
}

/// `message` signed as the account by `signature`, when it is the session key's signature of the
/// message's digest; `None` when it is another's.
async fn formatted(
    chain: &ServedChain,
    message: &PreparedMessage,
    signature: &KeySignature,
) -> Result<Option<SignedMessage>, RpcError> {
    if let KeySignature::Contract(bytes) = signature
        && ask_contract(chain, &message.signer, message.digest, bytes)
            .await
            .is_err()
    {
        return Ok(None);
    }
    match message.verify(signature) {
        Ok(signed) => Ok(Some(signed)),
        Err(ServiceError::MessageSignatureMismatch { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
