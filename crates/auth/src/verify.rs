//! The verifier: every check a backend makes on a session-signed request, each refusal its own
//! [`AuthError`] naming what failed.

use crate::{
    chain::{EthCall, Reads},
    envelope::{EnvelopeError, SessionRequest},
    grant::{GrantError, SessionCapability},
    nonces::{MemoryNonces, NonceStore},
    owner::{OwnerError, OwnerKind, verify_owner},
    recap::NotaBene,
};
use alloy_primitives::{Address, B128, B256, eip191_hash_message};
use leash_core::{session_state::OnChainStatus, validator_reads::read_session_state};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

/// Capabilities (and on-chain session statuses) kept at once; past it, lapsed ones are dropped
/// first, and a capability that still finds no room is checked afresh every time.
const CACHE_LIMIT: usize = 10_000;

/// Why a request was refused. [`status`](Self::status) is its HTTP status, [`code`](Self::code)
/// a stable name for clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Leash-Session` header.
    #[error("no Leash-Session header: the request is not session-signed")]
    Missing,
    /// The envelope does not parse.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The capability's SIWE message is not a session capability.
    #[error("the capability is not valid: {0}")]
    Capability(#[from] GrantError),
    /// The capability is for another backend.
    #[error("the capability is for domain `{found}`, this backend is `{expected}`")]
    WrongDomain {
        /// This backend's domain.
        expected: String,
        /// The capability's.
        found: String,
    },
    /// The capability is for another chain.
    #[error("the capability is for chain {found}, this backend checks chain {expected}")]
    WrongChain {
        /// This backend's chain.
        expected: u64,
        /// The capability's.
        found: u64,
    },
    /// The capability derives from other delegations, which this verifier does not follow.
    #[error(
        "the capability cites {count} parent delegations (ReCap proofs); only an owner's own capability is accepted"
    )]
    Proofs {
        /// How many.
        count: usize,
    },
    /// The owner's signature of the capability was refused.
    #[error(transparent)]
    Owner(#[from] OwnerError),
    /// Before the capability's `Not Before`.
    #[error("the capability is not valid before {not_before} (now {now})")]
    NotYetValid {
        /// Not Before, unix seconds.
        not_before: u64,
        /// Now, unix seconds.
        now: u64,
    },
    /// At or after the capability's `Expiration Time`.
    #[error("the capability expired at {expired_at} (now {now})")]
    Expired {
        /// Expiration Time, unix seconds.
        expired_at: u64,
        /// Now, unix seconds.
        now: u64,
    },
    /// The signed method or target is not the request's.
    #[error("the request was signed for {field} `{signed}`, received `{received}`")]
    RequestMismatch {
        /// `method` or `target`.
        field: &'static str,
        /// What was signed.
        signed: String,
        /// What arrived.
        received: String,
    },
    /// The body is not the one signed.
    #[error("the body's keccak256 is {received}, the session key signed {signed}")]
    BodyMismatch {
        /// The signed hash.
        signed: B256,
        /// The received body's hash.
        received: B256,
    },
    /// The session signature is not the capability's session key's.
    #[error(
        "the request is signed by {recovered}; the capability's URI delegates to {session_key}"
    )]
    SessionKeyMismatch {
        /// The capability's session key.
        session_key: Address,
        /// Who signed the request.
        recovered: Address,
    },
    /// The session signature does not recover.
    #[error("the session signature does not recover to any key")]
    SessionSignature,
    /// The request's timestamp is outside the window.
    #[error(
        "the request was signed at {timestamp}, now is {now}: outside the {window}-second window"
    )]
    Stale {
        /// The request's timestamp.
        timestamp: u64,
        /// Now.
        now: u64,
        /// The window, seconds either side.
        window: u64,
    },
    /// The nonce was used already.
    #[error("nonce {nonce} of session key {session_key} was used already (replay)")]
    Replayed {
        /// The session key.
        session_key: Address,
        /// The nonce.
        nonce: B128,
    },
    /// The nonce store could not say whether the nonce was used: the request is refused, since
    /// accepting it could accept a replay.
    #[error("nonce {nonce} of session key {session_key} could not be checked for replay: {reason}")]
    NonceStore {
        /// The session key.
        session_key: Address,
        /// The nonce.
        nonce: B128,
        /// Why.
        reason: String,
    },
    /// The request's resource is not in the capability.
    #[error("resource `{resource}` is outside the capability, which grants {granted:?}")]
    ResourceOutside {
        /// The request's resource.
        resource: String,
        /// The granted resources.
        granted: Vec<String>,
    },
    /// The request's ability is not granted over its resource.
    #[error(
        "ability `{ability}` on `{resource}` is outside the capability, which grants {granted:?} there"
    )]
    AbilityOutside {
        /// The request's ability.
        ability: String,
        /// The request's resource.
        resource: String,
        /// The abilities granted over resources that match.
        granted: Vec<String>,
    },
    /// The on-chain session is revoked (or its account uninstalled the validator).
    #[error("on-chain session {session_id} is {status}")]
    SessionNotLive {
        /// The session id.
        session_id: B256,
        /// `revoked`, or `validator uninstalled`.
        status: String,
    },
    /// The target has `.` or `..` path segments, which would let a wildcard resource reach
    /// outside its prefix once the server resolves them.
    #[error("target `{target}` has dot segments (`.` or `..`)")]
    DotSegments {
        /// The target.
        target: String,
    },
    /// The body is larger than the layer reads.
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the body could not be read: {reason}")]
    BodyUnreadable {
        /// Why.
        reason: String,
    },
    /// The on-chain session's status could not be read.
    #[error("the on-chain session {session_id} could not be checked: {reason}")]
    SessionCheck {
        /// The session id.
        session_id: B256,
        /// Why.
        reason: String,
    },
}

impl AuthError {
    /// The HTTP status: 403 when the session is authenticated but the request is outside its
    /// capability, 503 when the chain or the nonce store could not answer, 401 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::ResourceOutside { .. } | Self::AbilityOutside { .. } => 403,
            Self::DotSegments { .. } | Self::BodyUnreadable { .. } => 400,
            Self::BodyTooLarge { .. } => 413,
            Self::SessionCheck { .. }
            | Self::NonceStore { .. }
            | Self::Owner(OwnerError::Chain { .. }) => 503,
            _ => 401,
        }
    }

    /// A stable, machine-readable name.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing-session",
            Self::Envelope(_) => "malformed-session",
            Self::Capability(_) => "invalid-capability",
            Self::WrongDomain { .. } => "wrong-domain",
            Self::WrongChain { .. } => "wrong-chain",
            Self::Proofs { .. } => "delegated-capability",
            Self::Owner(_) => "owner-signature",
            Self::NotYetValid { .. } => "not-yet-valid",
            Self::Expired { .. } => "expired",
            Self::RequestMismatch { .. } => "request-mismatch",
            Self::BodyMismatch { .. } => "body-mismatch",
            Self::SessionKeyMismatch { .. } => "wrong-session-key",
            Self::SessionSignature => "session-signature",
            Self::Stale { .. } => "stale-request",
            Self::Replayed { .. } => "replayed-nonce",
            Self::NonceStore { .. } => "nonce-check-failed",
            Self::ResourceOutside { .. } => "resource-outside-capability",
            Self::AbilityOutside { .. } => "ability-outside-capability",
            Self::SessionNotLive { .. } => "session-not-live",
            Self::DotSegments { .. } => "dot-segments",
            Self::BodyTooLarge { .. } => "body-too-large",
            Self::BodyUnreadable { .. } => "body-unreadable",
            Self::SessionCheck { .. } => "session-check-failed",
        }
    }

    /// The JSON body a refusal is answered with: `{"error": {"status", "code", "message"}}`,
    /// plus `missing` naming the resource and ability a 403 lacked.
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "status": self.status(),
            "code": self.code(),
            "message": self.to_string(),
        });
        match self {
            Self::ResourceOutside { resource, granted } => {
                error["missing"] = serde_json::json!({ "resource": resource });
                error["granted"] = serde_json::json!(granted);
            }
            Self::AbilityOutside {
                ability,
                resource,
                granted,
            } => {
                error["missing"] = serde_json::json!({ "resource": resource, "ability": ability });
                error["granted"] = serde_json::json!(granted);
            }
            _ => {}
        }
        serde_json::json!({ "error": error })
    }
}

/// What a verifier accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// This backend's domain: capabilities for any other are refused.
    pub domain: String,
    /// The chain capabilities must name. Set it whenever the verifier has a chain: contract
    /// owners and on-chain sessions are read on the verifier's chain, whatever the capability
    /// names; `None` accepts any chain id.
    pub chain_id: Option<u64>,
    /// How far, in seconds, a request's timestamp may be from now either way; nonces are
    /// remembered this long after their timestamp, so a replay within it is caught and one after
    /// it is stale.
    pub request_window: u64,
    /// Check that the capability's on-chain session is live, reusing an answer for this many
    /// seconds; `None` checks nothing on chain.
    pub session_check_ttl: Option<u64>,
}

impl VerifierConfig {
    /// For `domain`: a 60-second window, no chain id pinned, no on-chain check.
    pub fn new(domain: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            chain_id: None,
            request_window: 60,
            session_check_ttl: None,
        }
    }
}

/// What the request asks for: its resource URI and ability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The resource URI (`https://api.example.com/orders/42`, `litAction://Qm…`).
    pub resource: String,
    /// The ability, `namespace/name` (`http/POST`).
    pub ability: String,
}

/// The request as it arrived, to compare with what was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// The method.
    pub method: &'a str,
    /// The path and query.
    pub target: &'a str,
    /// keccak256 of the body.
    pub body_hash: B256,
}

/// An accepted request: who it acts for and under what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// The owner (the account the session acts for).
    pub owner: Address,
    /// How the owner's signature was accepted.
    pub owner_kind: OwnerKind,
    /// The session key that signed.
    pub session_key: Address,
    /// The on-chain session the capability extends, if any.
    pub session_id: Option<B256>,
    /// The capability's expiry, unix seconds.
    pub expires_at: u64,
    /// The granted resource the request matched.
    pub resource: String,
    /// The granted ability the request matched.
    pub ability: String,
    /// Conditions the capability attaches to that ability (ReCap nota-bene), for the
    /// application to enforce; empty objects mean none.
    pub conditions: NotaBene,
}

/// A capability whose owner signature checked out.
#[derive(Debug)]
struct Checked {
    capability: SessionCapability,
    owner_kind: OwnerKind,
    session_id: Option<B256>,
}

/// A chain a verifier without one is typed with; it has no values.
#[derive(Clone, Copy, Debug)]
pub enum NoChain {}

impl EthCall for NoChain {
    async fn eth_call(
        &self,
        _: Option<Address>,
        _: alloy_primitives::Bytes,
    ) -> Result<alloy_primitives::Bytes, crate::chain::CallError> {
        match *self {}
    }
}

/// The verifier. Share one per backend: it caches checked capabilities (so a request costs one
/// signature recovery) and on-chain session statuses, and spends nonces in its [`NonceStore`]
/// (this process's memory unless [`with_nonces`](Self::with_nonces) gives it another).
#[derive(Debug)]
pub struct Verifier<C = NoChain, N = MemoryNonces> {
    config: VerifierConfig,
    chain: Option<C>,
    capabilities: Mutex<HashMap<B256, Arc<Checked>>>,
    nonces: N,
    sessions: Mutex<HashMap<B256, (u64, Option<String>)>>,
}

impl Verifier<NoChain> {
    /// A verifier without a chain: EOA and 7702 owners only, no on-chain session check.
    pub fn new(mut config: VerifierConfig) -> Self {
        config.session_check_ttl = None;
        Self::build(config, None)
    }
}

impl<C: EthCall> Verifier<C> {
    /// A verifier that asks `chain` about smart-account owners (ERC-1271, ERC-6492) and, with
    /// `session_check_ttl`, about on-chain sessions.
    pub fn with_chain(config: VerifierConfig, chain: C) -> Self {
        Self::build(config, Some(chain))
    }

    fn build(config: VerifierConfig, chain: Option<C>) -> Self {
        Self {
            config,
            chain,
            capabilities: Mutex::default(),
            nonces: MemoryNonces::default(),
            sessions: Mutex::default(),
        }
    }

    /// This verifier spending nonces in `nonces` instead: a store the backend's replicas share,
    /// so a request replayed to another replica within the window is refused there too.
    pub fn with_nonces<N: NonceStore>(self, nonces: N) -> Verifier<C, N> {
        Verifier {
            config: self.config,
            chain: self.chain,
            capabilities: self.capabilities,
            nonces,
            sessions: self.sessions,
        }
    }
}

impl<C: EthCall, N: NonceStore> Verifier<C, N> {
    /// Its configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Where it spends nonces.
    pub fn nonces(&self) -> &N {
        &self.nonces
    }

    /// Verifies `request` as it arrived (`received`) for `scope`, now.
    pub async fn verify(
        &self,
        request: &SessionRequest,
        received: Received<'_>,
        scope: &Scope,
    ) -> Result<Verified, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.verify_at(request, received, scope, now).await
    }

    /// [`verify`](Self::verify) at `now` (unix seconds). The checks run cheapest first; the nonce
    /// is spent only by a request that passed every other check.
    pub async fn verify_at(
        &self,
        request: &SessionRequest,
        received: Received<'_>,
        scope: &Scope,
        now: u64,
    ) -> Result<Verified, AuthError> {
        let capability_hash = request.capability.cache_key();
        let checked = self
            .checked_capability(request, capability_hash, now)
            .await?;
        let capability = &checked.capability;
        if let Some(not_before) = capability.not_before
            && now < not_before
        {
            return Err(AuthError::NotYetValid { not_before, now });
        }
        if now >= capability.expiration {
            return Err(AuthError::Expired {
                expired_at: capability.expiration,
                now,
            });
        }
        check_received(request, received)?;
        let signing_hash = eip191_hash_message(request.signing_text_with(capability_hash));
        let recovered = request
            .session_signature()?
            .recover_address_from_prehash(&signing_hash)
            .map_err(|_| AuthError::SessionSignature)?;
        if recovered != capability.session_key {
            return Err(AuthError::SessionKeyMismatch {
                session_key: capability.session_key,
                recovered,
            });
        }
        let window = self.config.request_window;
        if request.timestamp.abs_diff(now) > window {
            return Err(AuthError::Stale {
                timestamp: request.timestamp,
                now,
                window,
            });
        }
        let (resource, ability, conditions) = match_scope(capability, scope)?;
        if let (Some(session_id), Some(ttl)) = (checked.session_id, self.config.session_check_ttl) {
            self.check_session(capability, session_id, ttl, now).await?;
        }
        self.spend_nonce(recovered, request.nonce, request.timestamp + window, now)
            .await?;
        Ok(Verified {
            owner: capability.owner,
            owner_kind: checked.owner_kind,
            session_key: capability.session_key,
            session_id: checked.session_id,
            expires_at: capability.expiration,
            resource,
            ability,
            conditions,
        })
    }

    /// The capability parsed, its domain, chain and owner signature checked: once per capability,
    /// then from the cache.
    async fn checked_capability(
        &self,
        request: &SessionRequest,
        key: B256,
        now: u64,
    ) -> Result<Arc<Checked>, AuthError> {
        if let Some(checked) = lock(&self.capabilities).get(&key) {
            return Ok(checked.clone());
        }
        let signed = &request.capability;
        let capability = SessionCapability::parse(&signed.message)?;
        if capability.domain != self.config.domain {
            return Err(AuthError::WrongDomain {
                expected: self.config.domain.clone(),
                found: capability.domain,
            });
        }
        if let Some(expected) = self.config.chain_id
            && capability.chain_id != expected
        {
            return Err(AuthError::WrongChain {
                expected,
                found: capability.chain_id,
            });
        }
        let proofs = capability.off_chain.proofs().len();
        if proofs > 0 {
            return Err(AuthError::Proofs { count: proofs });
        }
        let hash = eip191_hash_message(&signed.message);
        let owner_kind = verify_owner(
            self.chain.as_ref(),
            capability.owner,
            hash,
            &signed.signature,
        )
        .await?;
        let session_id = capability.on_chain_record().map(|(_, id)| id);
        let checked = Arc::new(Checked {
            capability,
            owner_kind,
            session_id,
        });
        let mut cache = lock(&self.capabilities);
        if cache.len() >= CACHE_LIMIT {
            cache.retain(|_, c| c.capability.expiration > now);
        }
        if cache.len() < CACHE_LIMIT {
            cache.insert(key, checked.clone());
        }
        Ok(checked)
    }

    /// The on-chain session is live: not revoked, its account's validator installed. A session
    /// not enabled yet is live (it is enabled lazily by its first UserOperation).
    async fn check_session(
        &self,
        capability: &SessionCapability,
        session_id: B256,
        ttl: u64,
        now: u64,
    ) -> Result<(), AuthError> {
        let cached = lock(&self.sessions)
            .get(&session_id)
            .filter(|(checked_at, _)| now.saturating_sub(*checked_at) < ttl)
            .map(|(_, refusal)| refusal.clone());
        let refusal = match cached {
            Some(refusal) => refusal,
            None => {
                let refusal = self.read_session(capability, session_id).await?;
                let mut sessions = lock(&self.sessions);
                if sessions.len() >= CACHE_LIMIT {
                    sessions.retain(|_, (checked_at, _)| now.saturating_sub(*checked_at) < ttl);
                }
                sessions.insert(session_id, (now, refusal.clone()));
                refusal
            }
        };
        match refusal {
            None => Ok(()),
            Some(status) => Err(AuthError::SessionNotLive { session_id, status }),
        }
    }

    /// `None` when live, else what the session is.
    async fn read_session(
        &self,
        capability: &SessionCapability,
        session_id: B256,
    ) -> Result<Option<String>, AuthError> {
        let failed = |reason: String| AuthError::SessionCheck { session_id, reason };
        let (Some(chain), Some((record, _)), Some(domain)) = (
            self.chain.as_ref(),
            capability.on_chain_record(),
            capability.grant_domain(),
        ) else {
            return Err(failed("no chain to read it from".into()));
        };
        let state = read_session_state(&mut Reads(chain), &domain, &record)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(if state.status == OnChainStatus::Revoked {
            Some(state.status.to_string())
        } else if !state.validator_installed {
            Some("not usable: its account has not installed the validator".into())
        } else {
            None
        })
    }

    async fn spend_nonce(
        &self,
        session_key: Address,
        nonce: B128,
        remember_until: u64,
        now: u64,
    ) -> Result<(), AuthError> {
        match self
            .nonces
            .spend(session_key, nonce, remember_until, now)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthError::Replayed { session_key, nonce }),
            Err(error) => Err(AuthError::NonceStore {
                session_key,
                nonce,
                reason: error.to_string(),
            }),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a map lookup or insert: a panic cannot leave one half done.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn check_received(request: &SessionRequest, received: Received<'_>) -> Result<(), AuthError> {
    for (field, signed, got) in [
        ("method", request.method.as_str(), received.method),
        ("target", request.target.as_str(), received.target),
    ] {
        if signed != got {
            return Err(AuthError::RequestMismatch {
                field,
                signed: signed.to_owned(),
                received: got.to_owned(),
            });
        }
    }
    if request.body_hash != received.body_hash {
        return Err(AuthError::BodyMismatch {
            signed: request.body_hash,
            received: received.body_hash,
        });
    }
    Ok(())
}

/// `granted` covers `requested`: equal, or `granted` ends in `*` and `requested` starts with what
/// precedes it (`litAction://*`, `https://api.example.com/orders/*`).
pub fn resource_covers(granted: &str, requested: &str) -> bool {
    match granted.strip_suffix('*') {
        Some(prefix) => requested.starts_with(prefix),
        None => granted == requested,
    }
}

/// `granted` covers `requested`: equal, `*/*`, or `namespace/*` of the same namespace.
pub fn ability_covers(granted: &str, requested: &str) -> bool {
    if granted == requested || granted == "*/*" {
        return true;
    }
    match (granted.split_once('/'), requested.split_once('/')) {
        (Some((namespace, "*")), Some((requested_namespace, _))) => {
            namespace == requested_namespace
        }
        _ => false,
    }
}

/// The granted resource and ability that cover `scope`, and their conditions.
fn match_scope(
    capability: &SessionCapability,
    scope: &Scope,
) -> Result<(String, String, NotaBene), AuthError> {
    let attenuations = capability.off_chain.attenuations();
    let mut matching = attenuations
        .iter()
        .filter(|(resource, _)| resource_covers(resource, &scope.resource))
        .peekable();
    if matching.peek().is_none() {
        return Err(AuthError::ResourceOutside {
            resource: scope.resource.clone(),
            granted: attenuations.keys().cloned().collect(),
        });
    }
    let mut granted = Vec::new();
    for (resource, abilities) in matching {
        for (ability, conditions) in abilities {
            if ability_covers(ability, &scope.ability) {
                return Ok((resource.clone(), ability.clone(), conditions.clone()));
            }
            granted.push(ability.clone());
        }
    }
    Err(AuthError::AbilityOutside {
        ability: scope.ability.clone(),
        resource: scope.resource.clone(),
        granted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_what_they_name_and_no_more() {
        assert!(resource_covers("litAction://*", "litAction://QmHash"));
        assert!(resource_covers("https://a/orders/*", "https://a/orders/42"));
        assert!(!resource_covers("https://a/orders/*", "https://a/order"));
        assert!(!resource_covers("https://a/orders", "https://a/orders/42"));
        assert!(ability_covers("http/*", "http/POST"));
        assert!(ability_covers("*/*", "http/POST"));
        assert!(!ability_covers("http/GET", "http/POST"));
        assert!(!ability_covers("lit/*", "http/POST"));
        assert!(!ability_covers("http/*", "httpx/POST"));
    }
}
