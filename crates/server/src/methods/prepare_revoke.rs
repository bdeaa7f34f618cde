//! `leash_prepareRevoke`: a revocation prepared like any call. The owner's is an operation of
//! the account calling `revokeSession(grant)` or `revokeAllSessions()` on the validator (the
//! validator takes the account as `msg.sender`), answered as `wallet_prepareCalls` answers and
//! then sent with `wallet_sendPreparedCalls` and followed with `wallet_getCallsStatus`. A
//! session key revoking its own session cannot do it by an operation, since the validator
//! refuses any session call to itself (`ForbiddenCall`): `revokeSession` also accepts the session
//! key as `msg.sender`, so the answer is the plain transaction the key sends from its address.

use super::{Context, prepare_calls::prepare_owner};
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::State,
    wire::revoke::{PrepareRevokeAnswer, PrepareRevokeRequest, Revocation, TransactionAnswer},
};
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use jsonrpsee::types::Params;
use leash_bindings::SessionKeyValidator::{revokeAllSessionsCall, revokeSessionCall};
use leash_core::calls::Call;
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
            let call = revokeSessionCall {
                grant: (&session.grant.grant()).into(),
            };
            let data = Bytes::from(call.abi_encode());
            if let Revocation::BySessionKey(_) = revocation {
                let from = session.session_key;
                return Ok(PrepareRevokeAnswer::Transaction(TransactionAnswer::new(
                    from, validator, data, chain_id,
                )));
            }
            (session.account, data)
        }
        Revocation::All(account) => (account, Bytes::from(revokeAllSessionsCall {}.abi_encode())),
    };
    let calls = vec![Call {
        to: validator,
        value: U256::ZERO,
        data,
    }];
    let prepared = prepare_owner(&context, &caller, chain_id, account, calls).await?;
    Ok(PrepareRevokeAnswer::Prepared(prepared))
}
