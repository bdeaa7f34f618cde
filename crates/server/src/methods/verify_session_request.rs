//! `leash_verifySessionRequest`: verifies a session-signed request (leash-auth's envelope) for a
//! backend that does not link the Rust verifier: the owner's capability (ecrecover, ERC-1271,
//! ERC-6492 on the served chain), its window, the scope, the session signature, replay, and,
//! when asked, that the on-chain session is live. A refusal is an answer (`valid: false` with the
//! status, code and what was missing), not a JSON-RPC error.

use super::Context;
use crate::{error::RpcError, params::positional, served_chain::ServedChain, state::State};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use jsonrpsee::types::Params;
use leash_auth::{
    CallError, EthCall, NodeCalls, Received, Scope, SessionRequest, Verified, Verifier,
    VerifierConfig, chain::sim_call,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

/// Seconds an on-chain session's status is reused when `checkSession` is set.
const SESSION_CHECK_TTL: u64 = 10;

/// The method's one parameter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct VerifyRequest {
    /// The envelope, as the `Leash-Session` header carries it (decoded).
    request: SessionRequest,
    /// The backend's domain.
    domain: String,
    /// The resource the request asks for.
    resource: String,
    /// The ability it asks for.
    ability: String,
    /// The body as received; without it, the envelope's own hash stands for it.
    #[serde(default)]
    body: Option<Bytes>,
    /// Whether to check that the capability's on-chain session is live.
    #[serde(default)]
    check_session: bool,
}

/// The answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VerifyResponse {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<Verified>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
}

/// The served chain, as the verifier reads it.
#[derive(Clone, Debug)]
struct ServedCalls(ServedChain);

impl EthCall for ServedCalls {
    async fn eth_call(&self, to: Option<Address>, input: Bytes) -> Result<Bytes, CallError> {
        match &self.0 {
            ServedChain::Embedded(chain) => chain.with_chain(|chain| sim_call(chain, to, input)),
            ServedChain::Remote(remote) => {
                NodeCalls(remote.node().clone()).eth_call(to, input).await
            }
        }
    }
}

/// One verifier per domain and on-chain check, for the life of the process: the nonces of its
/// window and its caches outlive a call. (Replicas do not share them: a request replayed to
/// another replica within the window is caught only by one holding its nonce.)
type Verifiers = Mutex<HashMap<(String, bool), Arc<Verifier<ServedCalls>>>>;

fn verifier(chain: &ServedChain, domain: &str, check_session: bool) -> Arc<Verifier<ServedCalls>> {
    static VERIFIERS: OnceLock<Verifiers> = OnceLock::new();
    let mut verifiers = VERIFIERS
        .get_or_init(Verifiers::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    verifiers
        .entry((domain.to_owned(), check_session))
        .or_insert_with(|| {
            let config = VerifierConfig {
                chain_id: Some(chain.chain_id()),
                session_check_ttl: check_session.then_some(SESSION_CHECK_TTL),
                ..VerifierConfig::new(domain)
            };
            Arc::new(Verifier::with_chain(config, ServedCalls(chain.clone())))
        })
        .clone()
}

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<VerifyResponse, RpcError> {
    let request: VerifyRequest = positional(&params, 0)?;
    let verifier = verifier(&context.chain, &request.domain, request.check_session);
    let body_hash: B256 = request
        .body
        .as_ref()
        .map_or(request.request.body_hash, keccak256);
    let received = Received {
        method: &request.request.method,
        target: &request.request.target,
        body_hash,
    };
    let scope = Scope {
        resource: request.resource,
        ability: request.ability,
    };
    Ok(
        match verifier.verify(&request.request, received, &scope).await {
            Ok(verified) => VerifyResponse {
                valid: true,
                verified: Some(verified),
                error: None,
            },
            Err(error) => VerifyResponse {
                valid: false,
                verified: None,
                error: Some(error.to_json()["error"].clone()),
            },
        },
    )
}
