//! `leash_prepareRevoke`: a revocation prepared like any call. The owner's is an operation of
//! the account calling `revokeSession(grant)` or `revokeAllSessions()` on the validator (the
//! validator takes the account as `msg.sender`), answered as `wallet_prepareCalls` answers and
//! then sent with `wallet_sendPreparedCalls` and followed with `wallet_getCallsStatus`. A
//! session key revoking its own session cannot do it by an operation, since the validator
//! refuses any session call to itself (`ForbiddenCall`): `revokeSession` also accepts the session
//! key as `msg.sender`, so the answer is the plain transaction the key sends from its address (a
//! contract signer's, the contract's call; a P-256 key has no address and cannot).

use super::{Context, prepare_calls::prepare_owner};
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::State,
    wire::{
        delegation::PrepareCallsAnswer,
        revoke::{PrepareRevokeAnswer, PrepareRevokeRequest, Revocation, TransactionAnswer},
    },
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use jsonrpsee::types::Params;
use leash_bindings::SessionKeyValidator::{revokeAllSessionsCall, revokeSessionCall};
use leash_core::calls::Call;
use leash_sdk::service::{ServiceError, StoredSession};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<PrepareRevokeAnswer, RpcError> {
    let request: PrepareRevokeRequest = positional(&params, 0)?;
    let revocation = request.revocation()?;
    let chain_id = match request.chain_id {
        Some(requested) => context.served_chain(requested)?,
        None => context.chain.chain_id(),
    };
    let validator = context.chain.domain().validator;
    let (account, data) = match revocation {
        Revocation::Session(id) | Revocation::BySessionKey(id) => {
            let session = context.session(id, &caller).await?;
            if let Revocation::BySessionKey(_) = revocation {
                // A P-256 key's signer id is a hash: no key can send from it.
                if session.key_type.derived_id().is_some() {
                    return Err(ServiceError::UnsupportedSigner {
                        session: session.session_id,
                        kind: session.key_type.kind(),
                        what: "it has no address to send a transaction from; the owner revokes \
                               the session",
                    }
                    .into());
                }
                let from = session.session_key;
                let data = revoke_session_data(&session);
                return Ok(PrepareRevokeAnswer::Transaction(TransactionAnswer::new(
                    from, validator, data, chain_id,
                )));
            }
            (session.account, revoke_session_data(&session))
        }
        Revocation::All(account) => (account, Bytes::from(revokeAllSessionsCall {}.abi_encode())),
    };
    let prepared = prepare_validator_call(&context, &caller, chain_id, account, data).await?;
    Ok(PrepareRevokeAnswer::Prepared(prepared))
}

/// The owner's revocation of `session`: the account's operation calling `revokeSession(grant)`
/// on the validator, prepared and answered as `wallet_prepareCalls` answers.
pub(super) async fn prepare_owner_revocation<S: State>(
    context: &Context<S>,
    caller: &Caller,
    chain_id: u64,
    session: &StoredSession,
) -> Result<PrepareCallsAnswer, RpcError> {
    let data = revoke_session_data(session);
    prepare_validator_call(context, caller, chain_id, session.account, data).await
}

/// `revokeSession(grant)` of `session`'s grant, ABI-encoded.
fn revoke_session_data(session: &StoredSession) -> Bytes {
    let call = revokeSessionCall {
        grant: (&session.grant.grant()).into(),
    };
    Bytes::from(call.abi_encode())
}

/// `account`'s owner calls the validator with `data`.
async fn prepare_validator_call<S: State>(
    context: &Context<S>,
    caller: &Caller,
    chain_id: u64,
    account: Address,
    data: Bytes,
) -> Result<PrepareCallsAnswer, RpcError> {
    let calls = vec![Call {
        to: context.chain.domain().validator,
        value: U256::ZERO,
        data,
    }];
    prepare_owner(context, caller, chain_id, account, calls).await
}
