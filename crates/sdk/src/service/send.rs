//! Sending as a session key, in two steps that may run on different machines: *prepare* (the
//! operation, its gas estimated with a placeholder signature, and the digest to sign) and
//! *finalize* (the key's signature attached, the operation submitted).

use super::{
    Delegation, ServiceError, StoredSession,
    chain::{require_deployments, session_domain},
    sessions::check_signer,
};
use crate::{deploy::Deployment, session_reads::read_session_state, transport::DirectSender};
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, B256, Signature, U256};
use alloy_provider::Provider;
use leash_bindings::SessionGrant;
use leash_core::{
    calls::{Call, execute_calldata},
    grant::GrantDomain,
    outflow::{LimitedAssets, SessionCalls, calls_of_session_calldata},
    prepare::{
        Fees, PreparedOperation, UnsignedOperation, unsigned_owner_operation,
        unsigned_session_operation,
    },
    rules::RuleAttachments,
    sender::{SenderError, UserOperationSender},
    session_signature::SessionAuth,
    session_signer::{PublicSigner, SessionSigner},
    session_state::{OnChainStatus, SessionState},
};

/// A stored session, checked against the node, ready to send as: its chain's domain, its state,
/// and the signature form its operations take.
#[derive(Debug)]
pub struct SessionSend {
    /// The session.
    pub session: StoredSession,
    /// Its grant domain on the node's chain.
    pub domain: GrantDomain,
    /// Its state on chain when it was opened (explains refusals).
    pub state: SessionState,
    grant: SessionGrant,
    lazy: bool,
}

impl SessionSend {
    /// Opens `session` for sending: the node must serve its chain and have the contracts.
    ///
    /// Until the chain says the session is enabled, every operation carries the grant and the
    /// owner's signature (the validator skips the enable when it is already done), so a first
    /// send never has to wait for an enable; a session with no owner signature cannot be enabled
    /// that way and fails as [`ServiceError::Unsigned`].
    pub async fn open<P: Provider>(
        provider: &P,
        session: StoredSession,
    ) -> Result<Self, ServiceError> {
        let domain = session_domain(provider, &session).await?;
        require_deployments(provider).await?;
        let state = read_session_state(provider, &domain, &session.grant).await?;
        Self::with_state(session, domain, state)
    }

    /// Opens `session` with its `state` on the chain of `domain` already read (a chain without a
    /// node, or a caller that checked the chain itself); the signature form is chosen as in
    /// [`SessionSend::open`].
    pub fn with_state(
        session: StoredSession,
        domain: GrantDomain,
        state: SessionState,
    ) -> Result<Self, ServiceError> {
        let lazy = match (state.status, &session.grant.owner_signature) {
            (OnChainStatus::Unused, Some(_)) => true,
            (OnChainStatus::Unused, None) => {
                return Err(ServiceError::Unsigned {
                    session: session.session_id,
                });
            }
            _ => false,
        };
        Ok(Self {
            grant: session.grant.grant(),
            session,
            domain,
            state,
            lazy,
        })
    }

    /// How the session's operations prove themselves: lazy (grant and owner signature along)
    /// or enabled (the session id only).
    pub fn auth(&self) -> SessionAuth<'_> {
        match (&self.session.grant.owner_signature, self.lazy) {
            (Some(owner_signature), true) => SessionAuth::Lazy {
                grant: &self.grant,
                owner_signature,
            },
            _ => SessionAuth::Enabled {
                session_id: self.session.session_id,
                root: self.session.grant.is_root(),
            },
        }
    }

    /// The session's signer, as the validator sees it: its id and its stored key type.
    pub fn signer(&self) -> PublicSigner {
        PublicSigner {
            id: self.session.session_key,
            key_type: self.session.key_type.clone(),
        }
    }

    /// Step one: the operation making `calls`, its gas estimated through `sender` with the
    /// placeholder signature of the session's key type ([`PublicSigner::dummy_key_signature`]: a
    /// call out of scope is refused here already, as [`ServiceError::Denied`]), and
    /// `user_op_hash`, the digest the session key signs.
    pub async fn prepare<S: UserOperationSender>(
        &self,
        sender: &S,
        calls: &[Call],
        fees: Fees,
    ) -> Result<UnsignedOperation, ServiceError> {
        unsigned_session_operation(
            sender,
            &self.domain,
            self.session.account,
            &self.auth(),
            &self.signer(),
            SessionCalls {
                calls,
                limits: &LimitedAssets::of(&self.session.grant.permissions),
                permissions: &self.session.grant.permissions,
            },
            fees,
        )
        .await
        .map_err(|error| self.refusal(error))
    }

    /// Attaches the session key's signature of `unsigned.user_op_hash` (a secp256k1 key's raw 65
    /// bytes, another kind's key signature, checked by [`PublicSigner::check`]), in the form the
    /// operation was estimated with: the same rule attachments, chosen again from its calls (the
    /// choice depends on the calls and the grant only, so an operation prepared elsewhere, or
    /// stored, needs nothing beside it).
    pub fn attach(
        &self,
        unsigned: UnsignedOperation,
        key_signature: &[u8],
    ) -> Result<PreparedOperation, ServiceError> {
        let calls = calls_of_session_calldata(&unsigned.op.operation.callData).unwrap_or_default();
        let rules = RuleAttachments::choose(
            self.session.session_id,
            self.session.account,
            &self.session.grant.permissions,
            &calls,
        )
        .map_err(|error| self.refusal(error.into()))?;
        unsigned
            .with_session_signature(&self.auth(), &self.signer(), key_signature, &rules)
            .map_err(ServiceError::MalformedSignature)
    }

    /// Step two: attaches `key_signature` and submits through `sender`; returns the operation's
    /// hash. A signature by another key is refused by validation (`AA24`), as
    /// [`ServiceError::Denied`].
    pub async fn finalize<S: UserOperationSender>(
        &self,
        sender: &S,
        unsigned: UnsignedOperation,
        key_signature: &[u8],
    ) -> Result<PreparedOperation, ServiceError> {
        let prepared = self.attach(unsigned, key_signature)?;
        submit(sender, &prepared, Some(&self.state)).await?;
        Ok(prepared)
    }

    /// Both steps' signing at once, for a caller that holds the session key (of any kind; it must
    /// be the session's signer, [`ServiceError::SignerMismatch`]): prepared and signed, not
    /// submitted.
    pub async fn prepare_signed<S: UserOperationSender>(
        &self,
        sender: &S,
        session_key: &(impl SessionSigner + ?Sized),
        calls: &[Call],
        fees: Fees,
    ) -> Result<PreparedOperation, ServiceError> {
        check_signer(&self.session, session_key.public_signer().id)?;
        let unsigned = self.prepare(sender, calls, fees).await?;
        let signature = session_key.key_signature(unsigned.user_op_hash)?;
        self.attach(unsigned, &signature)
    }

    /// Runs `prepared`'s `handleOps` on the node without sending it (`eth_estimateGas`): the same
    /// validation and execution as on chain; returns the bundle's gas.
    pub async fn preflight<P: Provider>(
        &self,
        provider: P,
        prepared: &PreparedOperation,
    ) -> Result<u64, ServiceError> {
        // Nothing is sent, so any sender address will do.
        DirectSender::new(provider, self.session.session_key)
            .preflight(&prepared.op)
            .await
            .map_err(|error| self.refusal(error))
    }

    /// A sender's error explained with this session's state (a revoked session fails as a
    /// signature, say) and its grant (a broken argument rule names its condition).
    pub fn refusal(&self, error: SenderError) -> ServiceError {
        ServiceError::from_session_sender(error, Some(&self.state), &self.session.grant.permissions)
    }
}

/// The owner's operation of `account` making `calls`, its gas estimated through `sender` with the
/// placeholder signature, unsigned, completing the account's delegation as `before` says it must:
/// `installModule` runs first when the validator is missing (a self-call, which `LeashAccount`
/// allows), and `authorization` (from [`Delegation::authorization`]) is the one the owner signs
/// when the EOA is not delegated to `LeashAccount` yet. The operation then carries the EIP-7702
/// `initCode` marker, so its hash binds the delegate, and is estimated with `authorization` under
/// a placeholder signature: `sender` must estimate as if it applied (bundlers do, for a
/// dummy-signed `eip7702Auth`). The result carries no authorization: attach the owner's signed one
/// with [`SignedUserOperation::with_authorization`] before sending. The owner signs
/// [`UnsignedOperation::user_op_hash`] and [`UnsignedOperation::with_signature`] attaches it.
///
/// [`SignedUserOperation::with_authorization`]: leash_core::sender::SignedUserOperation::with_authorization
pub async fn prepare_owner_calls<S: UserOperationSender>(
    sender: &S,
    account: Address,
    before: &Delegation,
    authorization: Option<&Authorization>,
    calls: &[Call],
    fees: Fees,
) -> Result<UnsignedOperation, ServiceError> {
    let install = before.install_calldata().map(|data| Call {
        to: account,
        value: U256::ZERO,
        data,
    });
    let calls: Vec<Call> = install.into_iter().chain(calls.iter().cloned()).collect();
    let call_data = execute_calldata(&calls)?;
    let delegate = Deployment::leash_account().address();
    let placeholder = authorization.map(|authorization| {
        authorization
            .clone()
            .into_signed(Signature::new(U256::ONE, U256::ONE, false))
    });
    let mut unsigned =
        unsigned_owner_operation(sender, account, call_data, placeholder, delegate, fees)
            .await
            .map_err(|error| ServiceError::from_sender(error, None))?;
    unsigned.op.authorization = None;
    Ok(unsigned)
}

/// Submits `prepared` through `sender` and checks that the sender acknowledged this very
/// operation. A refusal is explained with `state` when it is a session's.
pub async fn submit<S: UserOperationSender>(
    sender: &S,
    prepared: &PreparedOperation,
    state: Option<&SessionState>,
) -> Result<B256, ServiceError> {
    let returned = sender
        .send(&prepared.op)
        .await
        .map_err(|error| ServiceError::from_sender(error, state))?;
    if returned != prepared.user_op_hash {
        return Err(ServiceError::HashMismatch {
            signed: prepared.user_op_hash,
            returned,
        });
    }
    Ok(returned)
}
