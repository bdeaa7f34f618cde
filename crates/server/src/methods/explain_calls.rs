//! `leash_explainCalls`: a dry run of a session's calls, committing nothing. The operation is
//! prepared exactly as `wallet_prepareCalls` prepares it, so the estimate runs the validator on
//! the placeholder signature and a refusal is the same denial, with the rule and the numbers.
//! Once validation passes, the operation's `callData` runs on the account as the EntryPoint runs
//! it, uncommitted: its logs give the movements (the names an included call reports) and the
//! simulator's state gives the native balance changes. The signed operation itself cannot be
//! simulated here, since the server never holds the session key.

use super::{Context, prepare_calls::prepare_session_calls};
use crate::{
    access::Caller,
    error::RpcError,
    params::positional,
    state::State,
    wire::{explain::Explanation, prepare::PrepareCallsRequest},
};
use jsonrpsee::types::Params;
use leash_core::{
    calls::Call, denial::Denial, gas_estimate::execution_call, token_transfers::Movements,
};
use leash_sdk::service::ServiceError;
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<Explanation, RpcError> {
    let request: PrepareCallsRequest = positional(&params, 0)?;
    context.served_chain(request.chain_id)?;
    let Some(permissions) = request.capabilities.permissions else {
        return Err(RpcError::invalid(
            "params[0].capabilities.permissions",
            "leash_explainCalls explains a session's calls: name the session",
        ));
    };
    let calls: Vec<Call> = request.calls.into_iter().map(Call::from).collect();
    let prepared =
        match prepare_session_calls(&context, &caller, permissions, request.from, &calls).await {
            Ok(prepared) => prepared,
            Err(RpcError::Service(ServiceError::Denied(denial))) => return Ok(denied(denial)),
            Err(error) => return Err(error),
        };
    let op = &prepared.unsigned.op.operation;
    let execution = execution_call(op, prepared.unsigned.user_op_hash);
    let (outcome, native) = context.chain.dry_run(op.sender, execution).await?;
    if outcome.result.is_success() {
        let movements = Movements::executed(&calls, outcome.result.logs());
        Ok(Explanation::accepted(movements, &native))
    } else {
        // The estimate ran the same calls a moment ago; a revert now is the chain having moved.
        let output = outcome.result.output().cloned().unwrap_or_default();
        Ok(denied(Denial::from_revert_data(&output)))
    }
}

/// The explanation of `denial`, with the error `wallet_prepareCalls` answers for it.
fn denied(denial: Denial) -> Explanation {
    let error = RpcError::Service(ServiceError::Denied(denial.clone()));
    Explanation::denied(&denial, &error)
}
