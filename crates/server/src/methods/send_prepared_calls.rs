//! `wallet_sendPreparedCalls`: the operation recomputed from `data` (nothing the client returns
//! is trusted: a changed field changes the hash, which then names nothing prepared here), the
//! signature checked against the key that must sign, then handed to the bundling task. It answers
//! at once and is idempotent by hash: clients retry, and a retry must not send twice. The array
//! form adds the sender's EIP-7702 authorization (checked to be signed by the sender), which
//! travels with the operation and delegates the account in the same bundle.

use super::Context;
use crate::{
    access::{self, Caller},
    bundler::QueuedCall,
    error::RpcError,
    params::{parse, positional},
    served_chain::ServedChain,
    state::{CallStatus, PreparedCall, PreparedSigner, SentCall, State},
    wire::{
        calls::Details,
        delegation::ARRAY_TYPE,
        prepare::USER_OPERATION_TYPE,
        send::{SendArrayRequest, SendPreparedCallsRequest, SendPreparedCallsResponse, call_id},
        session_key::KeyType,
        signature::TypedSignature,
        user_operation::from_wire,
    },
};
use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::SolCall;
use jsonrpsee::types::Params;
use leash_auth::{CallError, EthCall};
use leash_bindings::{Deployment, ISessionSigners};
use leash_core::{
    prepare::UnsignedOperation,
    session_signer::{PublicSigner, SignerKind},
    user_operation::user_operation_hash,
};
use leash_sdk::service::{
    KeySignature, ServiceError, SessionSend, verify_key_signature, verify_operation_signature,
};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
    caller: Caller,
) -> Result<SendPreparedCallsResponse, RpcError> {
    let request: Value = positional(&params, 0)?;
    let (authorization, request) = if request.get("type") == Some(&json!(ARRAY_TYPE)) {
        let array: SendArrayRequest = parse(request, "params[0]")?;
        let (authorization, operation) = array.data;
        (Some(authorization), operation)
    } else {
        (
            None,
            parse::<SendPreparedCallsRequest>(request, "params[0]")?,
        )
    };
    let field = if authorization.is_some() {
        "params[0].data[1]"
    } else {
        "params[0]"
    };
    if request.kind != USER_OPERATION_TYPE {
        return Err(RpcError::invalid(
            format!("{field}.type"),
            format!(
                "only {USER_OPERATION_TYPE} is served, not {:?}",
                request.kind
            ),
        ));
    }
    let chain_id = context.served_chain(request.chain_id)?;
    let signature_field = format!("{field}.signature");
    let signature = request.signature.parse(&signature_field)?;
    let op = from_wire(request.data, &format!("{field}.data"))?;
    let authorization = authorization
        .map(|item| {
            item.verify(
                "params[0].data[0]",
                chain_id,
                Deployment::leash_account().address(),
                op.operation.sender,
            )
        })
        .transpose()?;
    let user_op_hash = user_operation_hash(
        &op.operation,
        Deployment::entry_point().address(),
        chain_id,
        Some(Deployment::leash_account().address()),
    )
    .map_err(ServiceError::from)?;
    let prepared = context
        .state
        .prepared(user_op_hash, caller.key())
        .await?
        .ok_or(RpcError::NotPrepared { user_op_hash })?;
    let mut submission = signed(&context, &caller, &prepared, signature, &signature_field).await?;
    submission.operation.op.authorization = authorization;
    let id = call_id(chain_id, user_op_hash);
    let response = SendPreparedCallsResponse {
        id: id.clone(),
        prepared_call_ids: vec![id],
        details: Details::user_operation(user_op_hash, Some(&prepared.calls)),
    };
    access::admit_send(
        context.state.as_ref(),
        &caller,
        op.operation.sender,
        user_op_hash,
        context.max_pending_calls,
    )
    .await?;
    // Stored before the answer, signed operation included: an acknowledged call survives a
    // restart.
    if context.state.start_call(&submission, caller.key()).await? {
        context.calls.acknowledged(user_op_hash);
        if context
            .submissions
            .send(QueuedCall::sent(submission))
            .is_err()
        {
            let stopped = CallStatus::Failed("the server is stopping".to_owned());
            context.state.set_status(user_op_hash, stopped).await?;
        }
    }
    Ok(response)
}

/// `prepared` with `signature` (at `field`), checked to be by the key that must sign it (the
/// account's owner over the hash or its EIP-191 message; a session's key as its type signs), in
/// the form the contracts verify.
async fn signed<S: State>(
    context: &Context<S>,
    caller: &Caller,
    prepared: &PreparedCall,
    signature: TypedSignature,
    field: &str,
) -> Result<SentCall, RpcError> {
    let hash: B256 = prepared.user_op_hash;
    let unsigned = UnsignedOperation {
        op: prepared.operation.clone(),
        user_op_hash: hash,
    };
    match prepared.signer {
        PreparedSigner::Session(id) => {
            let session = context.session(id, caller).await?;
            // The form its gas was estimated with; the chain is read only for an operation
            // prepared before servers kept the state.
            let state = match &prepared.session_state {
                Some(state) => state.clone(),
                None => context.chain.session_state(&session.grant).await?,
            };
            let send = SessionSend::with_state(session, context.chain.domain(), state.clone())?;
            let signer = send.signer();
            let signature = signature.of_key(KeyType::of(&signer.key_type), field)?;
            if let KeySignature::Contract(contract_signature) = &signature {
                ask_contract(&context.chain, &signer, hash, contract_signature).await?;
            }
            let key_signature = verify_key_signature(hash, &signer, &signature)?;
            Ok(SentCall {
                operation: send.attach(unsigned, &key_signature)?,
                session_state: Some(state),
            })
        }
        PreparedSigner::Owner(account) => {
            let signature = signature.secp256k1(field)?;
            let checked = verify_operation_signature(hash, &signature, account)?;
            Ok(SentCall {
                operation: unsigned.with_signature(checked.contract_form),
                session_state: None,
            })
        }
    }
}

/// Refuses a contract signer's `signature` of `hash` that validation would refuse now
/// ([`ServiceError::KeySignatureMismatch`]), rather than acknowledge a call that fails with `AA24`:
/// it asks `SessionSigners.check` itself, which gives the contract's `isValidSignature`
/// `SIGNER_GAS` (100,000) as validation does, so a signer that needs more is refused here too.
/// Validation asks again on the state of then: when the chain cannot answer here, it alone
/// decides. (`wallet_formatSign` asks the same of a message's digest.)
pub(super) async fn ask_contract(
    chain: &ServedChain,
    signer: &PublicSigner,
    hash: B256,
    signature: &Bytes,
) -> Result<(), RpcError> {
    let check = ISessionSigners::checkCall {
        kind: U256::from(SignerKind::Contract.code()),
        hash,
        keySignature: [signer.id.as_slice(), signature].concat().into(),
    };
    let answer = chain
        .eth_call(
            Some(Deployment::session_signers_address()),
            check.abi_encode().into(),
        )
        .await;
    let valid = match answer {
        Ok(output) => ISessionSigners::checkCall::abi_decode_returns(&output)
            .is_ok_and(|checked| checked.valid && checked.signer == signer.id),
        Err(CallError::Unavailable(reason)) => {
            tracing::warn!(contract = %signer.id, %reason, "a contract signer could not be asked");
            true
        }
        Err(_) => false,
    };
    if valid {
        return Ok(());
    }
    Err(ServiceError::KeySignatureMismatch {
        user_op_hash: hash,
        kind: signer.kind(),
        expected: signer.id,
    }
    .into())
}
