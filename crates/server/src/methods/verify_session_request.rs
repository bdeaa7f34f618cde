//! `leash_verifySessionRequest`: verifies a session-signed request (leash-auth's envelope) for a
//! backend that does not link the Rust verifier: the owner's capability (ecrecover, ERC-1271,
//! ERC-6492 on the served chain), its window, the scope, the session signature, replay, and,
//! when asked, that the on-chain session is live. A refusal is an answer (`valid: false` with the
//! status, code and what was missing), not a JSON-RPC error.
//!
//! Nonces are spent in the server's state, so servers sharing one (replicas on one PostgreSQL
//! database) refuse a request any of them accepted within its window; a state that cannot answer
//! refuses the request (503, `nonce-check-failed`) rather than risk accepting a replay.

use super::Context;
use crate::{
    error::RpcError,
    params::positional,
    served_chain::ServedChain,
    state::{State, StateError},
};
use alloy_primitives::{Address, B128, B256, Bytes, keccak256};
use jsonrpsee::types::Params;
use leash_auth::{NonceStore, Received, Scope, SessionRequest, Verified, Verifier, VerifierConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

/// Seconds an on-chain session's status is reused when `checkSession` is set.
const SESSION_CHECK_TTL: u64 = 10;

/// Expired nonces are deleted once every this many spends, up to [`PRUNE_LIMIT`] at a time:
/// more than the spends since the last pruning, so the table stays about one window's nonces
/// however long the servers run.
const PRUNE_EVERY: u64 = 256;
const PRUNE_LIMIT: u64 = 4 * PRUNE_EVERY;

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

/// The server's state as the verifiers' nonce store: every server on one store shares the
/// nonces, whichever verifier (domain, on-chain check) spent them.
#[derive(Debug)]
pub(crate) struct StateNonces<S> {
    state: Arc<S>,
    /// Spends on this server, to prune every [`PRUNE_EVERY`]th.
    spends: Arc<AtomicU64>,
}

impl<S> Clone for StateNonces<S> {
    // A derive would require `S: Clone`; only the `Arc`s are cloned.
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            spends: Arc::clone(&self.spends),
        }
    }
}

impl<S: State> NonceStore for StateNonces<S> {
    type Error = StateError;

    async fn spend(
        &self,
        session_key: Address,
        nonce: B128,
        remember_until: u64,
        now: u64,
    ) -> Result<bool, StateError> {
        if self.spends.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // In the background: the request that happens to count to it does not wait on it.
            let state = Arc::clone(&self.state);
            tokio::spawn(async move {
                if let Err(error) = state.prune_nonces(now, PRUNE_LIMIT).await {
                    tracing::warn!(%error, "deleting expired request nonces");
                }
            });
        }
        self.state
            .spend_nonce(session_key, nonce, remember_until, now)
            .await
    }
}

/// The most verifiers a server keeps (domain and on-chain check pairs).
const MAX_VERIFIERS: usize = 256;

/// A verifier of this server's, shared by the calls it verifies.
type ServerVerifier<S> = Arc<Verifier<ServedChain, StateNonces<S>>>;

/// A server's verifiers, one per domain and on-chain check, for the life of the server: their
/// caches outlive a call. Each server has its own, on its own chain; their nonces are in its
/// state.
#[derive(Debug)]
pub(crate) struct SessionVerifiers<S> {
    chain: ServedChain,
    nonces: StateNonces<S>,
    by_scope: Mutex<HashMap<(String, bool), ServerVerifier<S>>>,
}

impl<S: State> SessionVerifiers<S> {
    /// Verifiers of capabilities on `chain`, spending nonces in `state`.
    pub(crate) fn new(chain: ServedChain, state: Arc<S>) -> Self {
        Self {
            chain,
            nonces: StateNonces {
                state,
                spends: Arc::default(),
            },
            by_scope: Mutex::default(),
        }
    }

    fn get(&self, domain: &str, check_session: bool) -> ServerVerifier<S> {
        // Each critical section is one lookup or insert: a panic cannot leave the map half done.
        let mut verifiers = self.by_scope.lock().unwrap_or_else(PoisonError::into_inner);
        let scope = (domain.to_owned(), check_session);
        // The domain is the caller's to name: a full map is emptied rather than grown. Verifiers
        // hold only caches (the nonces are in the state), so that costs a refill, not a check.
        if verifiers.len() >= MAX_VERIFIERS && !verifiers.contains_key(&scope) {
            verifiers.clear();
        }
        verifiers
            .entry(scope)
            .or_insert_with(|| {
                let config = VerifierConfig {
                    chain_id: Some(self.chain.chain_id()),
                    session_check_ttl: check_session.then_some(SESSION_CHECK_TTL),
                    ..VerifierConfig::new(domain)
                };
                let verifier = Verifier::with_chain(config, self.chain.clone());
                Arc::new(verifier.with_nonces(self.nonces.clone()))
            })
            .clone()
    }
}

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<VerifyResponse, RpcError> {
    let request: VerifyRequest = positional(&params, 0)?;
    let verifier = context
        .verifiers
        .get(&request.domain, request.check_session);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{chain::EmbeddedChain, state::MemoryState};

    #[test]
    fn a_server_keeps_at_most_max_verifiers_however_many_domains_are_named() {
        let chain = ServedChain::Embedded(EmbeddedChain::dev().expect("the dev chain"));
        let verifiers = SessionVerifiers::new(chain, Arc::new(MemoryState::new()));
        let first = verifiers.get("domain-0.example", false);
        assert!(
            Arc::ptr_eq(&first, &verifiers.get("domain-0.example", false)),
            "reused"
        );
        for index in 1..=MAX_VERIFIERS {
            verifiers.get(&format!("domain-{index}.example"), false);
        }
        let kept = verifiers.by_scope.lock().expect("not poisoned").len();
        assert_eq!(kept, 1, "emptied when full, then the new one kept");
        assert!(!Arc::ptr_eq(
            &first,
            &verifiers.get("domain-0.example", false)
        ));
    }
}
