//! `wallet_createSession`: a grant for a key held elsewhere (of any key type: the grant names its
//! signer id, the stored session how it signs), stored unsigned; the owner signs its typed data
//! and the signature arrives with the first `wallet_prepareCalls`.

use super::Context;
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::{State, wire_session_id},
    wire::session::{CreateSessionRequest, CreateSessionResponse, TypedDataRequest},
};
use alloy_primitives::U64;
use jsonrpsee::types::Params;
use leash_core::grant::MAX_VALID_UNTIL;
use leash_sdk::service::{GrantTerms, grant_session, with_key_type};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<CreateSessionResponse, RpcError> {
    let request: CreateSessionRequest = positional(&params, 0)?;
    let chain_id = context.served_chain(request.chain_id)?;
    let domain = context.chain.domain();
    let valid_until = match request.expiry_sec {
        None | Some(0) => MAX_VALID_UNTIL,
        Some(expiry) => expiry,
    };
    let signer = request
        .key
        .signer(context.chain.p256_verification(), "params[0].key")?;
    let terms = GrantTerms {
        account: request.account,
        session_key: signer.id,
        permissions: request.permissions,
        valid_after: 0,
        valid_until,
        label: String::new(),
    };
    let session = grant_session(domain, context.chain.now().await?, terms)?;
    let session = with_key_type(session, signer.key_type)?;
    let typed_data = domain.typed_data(&session.grant.grant());
    let session_id = session.session_id;
    context.state.put_session(session, caller.key()).await?;
    Ok(CreateSessionResponse {
        session_id: wire_session_id(session_id),
        chain_id: U64::from(chain_id),
        signature_request: TypedDataRequest::new(typed_data, session_id),
    })
}
