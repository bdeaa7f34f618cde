//! Sessions at rest: granting a new one, finishing an externally signed one, finding one by a
//! prefix of its id, and reading its state on chain.

use super::{
    ServiceError,
    chain::{chain_time, grant_domain, require_deployments, session_domain},
};
use crate::{
    session_reads::{read_call_limits_left, read_session_state},
    signers::{NewSessionKey, P256Key, P256SessionKey, SoftwareAuthenticator, StoredKey},
};
use alloy_primitives::{Address, B256, Bytes, Signature};
use alloy_provider::Provider;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_core::{
    expiry::parse_expiry,
    grant::GrantDomain,
    grant::SessionGrantBuilder,
    permission::Permission,
    session_signer::{SessionKeyType, SessionSigner, SignerKind},
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::CallLimitsLeft,
};
use leash_store::session_store::{SessionMetadata, SessionStore};
use std::time::{SystemTime, UNIX_EPOCH};

/// A stored session, with its grant and its key type typed.
pub type StoredSession = SessionMetadata<GrantRecord, SessionKeyType>;

/// The owner's part in a new session.
#[derive(Debug)]
pub enum OwnerSignature<'a, S> {
    /// The owner's key is here: the grant is signed at once.
    Key(&'a S),
    /// The owner signs elsewhere: the session is stored unsigned, its typed data handed out.
    External(Address),
}

/// What a new session may do, for how long.
#[derive(Clone, Debug)]
pub struct SessionRequest {
    /// The Wallet API permissions.
    pub permissions: Vec<Permission>,
    /// When it ends: a duration counted from the chain's latest block (`30m`, `7d`) or a UTC
    /// time (`2026-12-01T00:00Z`).
    pub expires: String,
    /// A name for people.
    pub label: String,
    /// The kind of key to generate.
    pub key: NewSessionKey,
}

/// A session just granted and stored.
#[derive(Debug)]
pub struct CreatedSession {
    /// What the store holds (the key is encrypted beside it).
    pub session: StoredSession,
    /// The EIP-712 typed data for the owner to sign, when the owner signs elsewhere.
    pub typed_data: Option<serde_json::Value>,
}

/// Grants a new session key (random, of `request.key`'s kind, generated here) for `owner`'s
/// account on the node's chain and stores it in `store` under `password`. The expiry counts from
/// the chain's clock; the grant is checked against every rule of the validator before anything is
/// stored.
pub async fn create_session<P: Provider, S: SignerSync + alloy_signer::Signer>(
    provider: &P,
    store: &SessionStore,
    password: &str,
    owner: OwnerSignature<'_, S>,
    request: SessionRequest,
) -> Result<CreatedSession, ServiceError> {
    let account = match &owner {
        OwnerSignature::Key(key) => alloy_signer::Signer::address(*key),
        OwnerSignature::External(account) => *account,
    };
    let domain = grant_domain(provider.get_chain_id().await?);
    require_deployments(provider).await?;
    let now = chain_time(provider).await?;
    let valid_until = parse_expiry(&request.expires, now).map_err(ServiceError::InvalidExpiry)?;
    let session_key = StoredKey::generate(&request.key);
    let signer = session_key.public_signer();
    let session = grant_session(
        domain,
        now,
        GrantTerms {
            account,
            session_key: signer.id,
            permissions: request.permissions,
            valid_after: 0,
            valid_until,
            label: request.label,
        },
    )?;
    let mut session = with_key_type(session, signer.key_type)?;
    if let OwnerSignature::Key(key) = &owner {
        session.grant.owner_signature = Some(domain.sign(*key, &session.grant.grant())?);
    }
    let typed_data = session
        .grant
        .owner_signature
        .is_none()
        .then(|| domain.typed_data(&session.grant.grant()));
    match &session_key {
        StoredKey::Secp256k1(key) => store.create(key, &session, password)?,
        StoredKey::P256(key) => store.create_p256(&key.key().secret(), &session, password)?,
        StoredKey::WebAuthn(key) => store.create_p256(&key.key().secret(), &session, password)?,
    }
    Ok(CreatedSession {
        session,
        typed_data,
    })
}

/// What a grant gives, to whom.
#[derive(Clone, Debug)]
pub struct GrantTerms {
    /// The account granting.
    pub account: Address,
    /// The session key's address (its private key may live anywhere).
    pub session_key: Address,
    /// The Wallet API permissions.
    pub permissions: Vec<Permission>,
    /// When it starts, in unix seconds (0: at once).
    pub valid_after: u64,
    /// When it ends, in unix seconds.
    pub valid_until: u64,
    /// A name for people.
    pub label: String,
}

/// A new session of `terms` in `domain`, unsigned and not stored: the grant checked against every
/// rule of the validator at the chain time `now`, with a random salt so that equal terms still
/// give distinct sessions (a revoked one must not block its successor). Its key is secp256k1;
/// [`with_key_type`] makes it another signer's (whose id is `terms.session_key`).
pub fn grant_session(
    domain: GrantDomain,
    now: u64,
    terms: GrantTerms,
) -> Result<StoredSession, ServiceError> {
    let grant = SessionGrantBuilder::new(terms.account, terms.session_key, domain.validator)
        .valid_after(terms.valid_after)
        .valid_until(terms.valid_until)
        .salt(B256::random().into())
        .permissions(terms.permissions)
        .build(now)
        .map_err(ServiceError::InvalidGrant)?;
    let record = GrantRecord::new(&grant, None).ok_or(ServiceError::UnencodableGrant)?;
    Ok(StoredSession {
        session_id: domain.session_id(&grant),
        session_key: terms.session_key,
        key_type: SessionKeyType::Secp256k1,
        account: terms.account,
        chain_id: domain.chain_id,
        validator: domain.validator,
        grant: record,
        created_at: unix_now(),
        expires_at: terms.valid_until,
        label: terms.label,
    })
}

/// `session` signed by a key of `key_type`, after checking that a key determining its signer id
/// (P-256, WebAuthn) has the session's ([`ServiceError::SignerMismatch`]).
pub fn with_key_type(
    mut session: StoredSession,
    key_type: SessionKeyType,
) -> Result<StoredSession, ServiceError> {
    if let Some(derived) = key_type.derived_id() {
        check_signer(&session, derived)?;
    }
    session.key_type = key_type;
    Ok(session)
}

/// Fails unless `signer` is `session`'s signer id.
pub(super) fn check_signer(session: &StoredSession, signer: Address) -> Result<(), ServiceError> {
    if signer == session.session_key {
        Ok(())
    } else {
        Err(ServiceError::SignerMismatch {
            session: session.session_id,
            expected: session.session_key,
            actual: signer,
        })
    }
}

/// `session` with the owner's `signature` of its id, after checking that it recovers to the
/// account: a wrong one would only show up as an `AA24` at first use.
pub fn with_owner_signature(
    mut session: StoredSession,
    signature: Bytes,
) -> Result<StoredSession, ServiceError> {
    let recovered = Signature::try_from(signature.as_ref())
        .ok()
        .and_then(|sig| sig.recover_address_from_prehash(&session.session_id).ok());
    if recovered != Some(session.account) {
        return Err(ServiceError::SignatureMismatch {
            session: session.session_id,
            account: session.account,
            recovered,
        });
    }
    session.grant.owner_signature = Some(signature);
    Ok(session)
}

/// Attaches the owner's signature of the session id to a session stored unsigned (checked as
/// [`with_owner_signature`] does) and stores it.
pub fn attach_owner_signature(
    store: &SessionStore,
    session: StoredSession,
    signature: Bytes,
) -> Result<StoredSession, ServiceError> {
    let session = with_owner_signature(session, signature)?;
    store.update_metadata(&session)?;
    Ok(session)
}

/// The stored session whose id is `text` or starts with it (case-insensitive, `0x` optional).
pub fn resolve_session(store: &SessionStore, text: &str) -> Result<StoredSession, ServiceError> {
    let prefix = text.trim().to_ascii_lowercase();
    let hex_digits = prefix.strip_prefix("0x").unwrap_or(&prefix);
    if hex_digits.is_empty() || !hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::InvalidSessionId {
            text: text.to_owned(),
        });
    }
    let matches: Vec<StoredSession> = store
        .list::<GrantRecord, SessionKeyType>()?
        .into_iter()
        .filter(|s| format!("{:x}", s.session_id).starts_with(hex_digits))
        .collect();
    match <[StoredSession; 1]>::try_from(matches) {
        Ok([session]) => Ok(session),
        Err(matches) if matches.is_empty() => Err(ServiceError::SessionNotFound {
            prefix: text.to_owned(),
        }),
        Err(matches) => Err(ServiceError::AmbiguousSession {
            prefix: text.to_owned(),
            matches: matches.iter().map(|s| s.session_id).collect(),
        }),
    }
}

/// The secp256k1 session key of `session`, decrypted with `password`: what sends a transaction
/// from the key's address or signs as it. Another kind of key is
/// [`ServiceError::UnsupportedSigner`]; [`session_signer`] loads any.
pub fn session_key(
    store: &SessionStore,
    session: &StoredSession,
    password: &str,
) -> Result<PrivateKeySigner, ServiceError> {
    match session.key_type.kind() {
        SignerKind::Secp256k1 => Ok(store
            .load::<GrantRecord, SessionKeyType>(session.session_id, password)?
            .0),
        kind => Err(ServiceError::UnsupportedSigner {
            session: session.session_id,
            kind,
            what: "only a secp256k1 key sends transactions and signs as an address",
        }),
    }
}

/// The key of `session` that signs its operations, decrypted with `password`, of whichever kind
/// it is; checked to be the session's signer ([`ServiceError::SignerMismatch`]).
pub fn session_signer(
    store: &SessionStore,
    session: &StoredSession,
    password: &str,
) -> Result<StoredKey, ServiceError> {
    let id = session.session_id;
    let p256 = || {
        let secret = store
            .load_p256::<GrantRecord, SessionKeyType>(id, password)?
            .0;
        P256Key::from_secret(&secret).map_err(|_| ServiceError::InvalidStoredKey { session: id })
    };
    let key = match &session.key_type {
        SessionKeyType::Secp256k1 => StoredKey::Secp256k1(session_key(store, session, password)?),
        SessionKeyType::P256 { verification, .. } => {
            StoredKey::P256(P256SessionKey::new(p256()?, *verification))
        }
        SessionKeyType::WebAuthn {
            rp_id,
            verification,
            ..
        } => StoredKey::WebAuthn(SoftwareAuthenticator::new(
            p256()?,
            rp_id.clone(),
            *verification,
        )),
        SessionKeyType::Contract { .. } => {
            return Err(ServiceError::UnsupportedSigner {
                session: id,
                kind: SignerKind::Contract,
                what: "its signatures come from the contract, not from the session store \
                       (leash-sdk's ContractSigner)",
            });
        }
    };
    check_signer(session, key.public_signer().id)?;
    Ok(key)
}

/// `session`'s state on the node's chain (checked to be the session's): status, whether the
/// account installed the validator, what is left of each limit.
pub async fn session_state<P: Provider>(
    provider: &P,
    session: &StoredSession,
) -> Result<SessionState, ServiceError> {
    let domain = session_domain(provider, session).await?;
    Ok(read_session_state(provider, &domain, &session.grant).await?)
}

/// The calls left to each of `session`'s permissions with a usage limit (`getUsesLeft`) or a rate
/// limit (`getRateLeft`: in the current period, and when it ends), the session being in `status`
/// (from [`session_state`]).
pub async fn session_call_limits_left<P: Provider>(
    provider: &P,
    session: &StoredSession,
    status: OnChainStatus,
) -> Result<CallLimitsLeft, ServiceError> {
    let domain = session_domain(provider, session).await?;
    Ok(read_call_limits_left(provider, &domain, &session.grant, status).await?)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
