//! Preparing a UserOperation through any [`UserOperationSender`]: nonce, an estimate with a
//! placeholder signature and limits with a margin give an [`UnsignedOperation`] and the digest to
//! sign; the signature, made here or by another holder of the key, finalizes it.

use crate::{
    grant::GrantDomain,
    outflow::SessionCalls,
    rpc_types::UserOperationGasEstimate,
    rules::RuleAttachments,
    sender::{SenderError, SignedUserOperation, UserOperationSender},
    session_signature::{SessionAuth, session_nonce_key},
    session_signer::{PublicSigner, SessionSigner, SignerKind},
    signing::{EIP191_PLACEHOLDER_SIGNATURE, sign_owner},
    user_operation::{GasSettings, UserOperationBuilder, user_operation_hash},
};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;

/// How much the SDK adds to every gas limit a sender estimated. Estimates are made with
/// placeholder signatures, whose validation costs at least what the signed operation's does, so
/// the margin covers only what moves between estimate and inclusion: state touched by other
/// operations (a token balance slot going from zero to non-zero, a nonce lane's first use) and
/// bundlers' own rounding. Unused verification gas is not charged; unused call gas above 40,000
/// is charged 10% by EntryPoint v0.8.
pub const GAS_MARGIN_PERCENT: u64 = 10;

fn with_margin(estimate: U256) -> u128 {
    let limit: u128 = estimate.saturating_to();
    limit.saturating_add(limit * u128::from(GAS_MARGIN_PERCENT) / 100)
}

/// Fees a UserOperation offers, in wei per gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// EIP-1559 max fee per gas.
    pub max_fee_per_gas: u128,
    /// EIP-1559 max priority fee per gas.
    pub max_priority_fee_per_gas: u128,
}

impl Fees {
    /// The gas settings of an operation with `estimate`'s limits, each raised by
    /// [`GAS_MARGIN_PERCENT`], and these fees.
    pub fn with_limits(self, estimate: &UserOperationGasEstimate) -> GasSettings {
        GasSettings {
            verification_gas_limit: with_margin(estimate.verification_gas_limit),
            call_gas_limit: with_margin(estimate.call_gas_limit),
            pre_verification_gas: with_margin(estimate.pre_verification_gas),
            max_fee_per_gas: self.max_fee_per_gas,
            max_priority_fee_per_gas: self.max_priority_fee_per_gas,
        }
    }

    /// Zero gas limits: the operation's maximum cost is zero, so a `gas-limit` permission is not
    /// charged while the real limits are being estimated.
    fn for_estimation(self) -> GasSettings {
        GasSettings {
            verification_gas_limit: 0,
            call_gas_limit: 0,
            pre_verification_gas: 0,
            max_fee_per_gas: self.max_fee_per_gas,
            max_priority_fee_per_gas: self.max_priority_fee_per_gas,
        }
    }
}

/// A signed UserOperation ready to send, with its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedOperation {
    /// The operation (and the EIP-7702 authorization that travels with it, if any).
    pub op: SignedUserOperation,
    /// Its EntryPoint hash.
    pub user_op_hash: B256,
}

/// A UserOperation with its final gas limits and no signature yet: what a signer outside this
/// process (a wallet, an HSM, another service) is handed, with the digest it must sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedOperation {
    /// The operation, its signature empty (and the EIP-7702 authorization, if any).
    pub op: SignedUserOperation,
    /// Its EntryPoint hash: the digest the key signs, as it is (no EIP-191 prefix).
    pub user_op_hash: B256,
}

/// Why a signature cannot be attached to an [`UnsignedOperation`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FinalizeError {
    /// A secp256k1 key's signature is `r ‖ s ‖ v`, 65 bytes; the validator reads nothing else.
    #[error("a key signature is 65 bytes (r, s, v), not {len}")]
    SignatureLength {
        /// The length given.
        len: usize,
    },
    /// A key signature of another kind that the validator cannot read ([`SignerKind::named_signer`]).
    #[error("not a {kind} key signature: it is malformed and names no signer")]
    NamesNoSigner {
        /// The session's signer kind.
        kind: SignerKind,
    },
    /// A key signature by another signer than the session's (another P-256 key, another relying
    /// party, another contract).
    #[error("the key signature is by signer {named}, not the session's {expected}")]
    OtherSigner {
        /// The session's signer id.
        expected: Address,
        /// The signer id the signature names.
        named: Address,
    },
}

impl UnsignedOperation {
    /// The operation signed with `signature`, the account's complete signature field (an owner's
    /// 65 bytes, or a session signature encoded by [`SessionAuth`]).
    pub fn with_signature(self, signature: Bytes) -> PreparedOperation {
        let mut op = self.op;
        op.operation.signature = signature;
        PreparedOperation {
            op,
            user_op_hash: self.user_op_hash,
        }
    }

    /// The operation signed by `signer`: its key signature of [`Self::user_op_hash`] (a
    /// secp256k1 key's raw 65 bytes), checked by [`PublicSigner::check`] and wrapped in `auth`'s
    /// encoding with the calls' `rules` (the same form it was estimated with).
    pub fn with_session_signature(
        self,
        auth: &SessionAuth<'_>,
        signer: &PublicSigner,
        key_signature: &[u8],
        rules: &RuleAttachments,
    ) -> Result<PreparedOperation, FinalizeError> {
        signer.check(key_signature)?;
        Ok(self.with_signature(auth.encode_signed(signer.kind(), key_signature, rules)))
    }
}

/// A UserOperation of `account` making `calls` under `auth`, on the session's nonce lane, with gas
/// limits estimated by `sender` (plus [`GAS_MARGIN_PERCENT`]), unsigned. `calls` carry the assets
/// the session's grant limits: calls its selectors do not meter take the balance-checked form
/// ([`crate::outflow::LimitedAssets::session_calldata`]).
///
/// Each call carries the rules of the permission that allows it ([`SessionCalls::rule_attachments`]),
/// and a call that breaks the rules of every ruled permission that could allow it is refused
/// first, as [`SenderError::Rules`], with the sentence the validator's error decodes to. The
/// estimate runs with [`SessionAuth::dummy_for`] `signer`, so nothing is signed before the gas is
/// known and any bundler can estimate it: the validator does the work of the signed operation,
/// and a call out of scope fails here already, as [`SenderError::Rejected`] or
/// [`SenderError::Reverted`] carrying the validator's error (see
/// [`crate::denial::Denial::from_sender_error`]). The signature must carry the same rules:
/// [`UnsignedOperation::with_session_signature`]. A spend a recurring allowance can never allow
/// is refused first too, as [`SenderError::Recurring`] ([`SessionCalls::check_recurring`]).
pub async fn unsigned_session_operation<S: UserOperationSender>(
    sender: &S,
    domain: &GrantDomain,
    account: Address,
    auth: &SessionAuth<'_>,
    signer: &PublicSigner,
    calls: SessionCalls<'_>,
    fees: Fees,
) -> Result<UnsignedOperation, SenderError> {
    let session_id = auth.session_id(domain);
    let rules = calls.rule_attachments(session_id, account)?;
    calls.check_recurring(session_id)?;
    let nonce_key = session_nonce_key(domain.validator, session_id);
    let nonce = sender.nonce(account, nonce_key).await?;
    let unsigned = UserOperationBuilder::new(account)
        .nonce(nonce)
        .call_data(calls.call_data(&rules)?);
    let mut probe = SignedUserOperation::new(unsigned.clone().gas(fees.for_estimation()).build()?);
    probe.operation.signature = auth.dummy_for(signer, &rules);
    let estimate = sender.estimate(&probe).await?;
    let op = SignedUserOperation::new(unsigned.gas(fees.with_limits(&estimate)).build()?);
    let user_op_hash =
        user_operation_hash(&op.operation, sender.entry_point(), domain.chain_id, None)?;
    Ok(UnsignedOperation { op, user_op_hash })
}

/// [`unsigned_session_operation`], signed by `session_key` in this process.
pub async fn prepare_session_operation<S: UserOperationSender>(
    sender: &S,
    domain: &GrantDomain,
    account: Address,
    session_key: &(impl SessionSigner + ?Sized),
    auth: &SessionAuth<'_>,
    calls: SessionCalls<'_>,
    fees: Fees,
) -> Result<PreparedOperation, SenderError> {
    let signer = session_key.public_signer();
    let unsigned =
        unsigned_session_operation(sender, domain, account, auth, &signer, calls, fees).await?;
    // The choice depends on the calls and the grant only: the same attachments as the estimate.
    let rules = calls.rule_attachments(auth.session_id(domain), account)?;
    let key_signature = session_key.key_signature(unsigned.user_op_hash)?;
    Ok(unsigned.with_signature(auth.encode_signed(signer.kind(), &key_signature, &rules)))
}

/// An owner's UserOperation of `account` with raw account calldata (such as `installModule`),
/// carrying `authorization` (and the EIP-7702 `initCode` marker) when the EOA still has to be
/// delegated to `delegate`; gas limits estimated by `sender`, unsigned.
pub async fn unsigned_owner_operation<S: UserOperationSender>(
    sender: &S,
    account: Address,
    call_data: Bytes,
    authorization: Option<SignedAuthorization>,
    delegate: Address,
    fees: Fees,
) -> Result<UnsignedOperation, SenderError> {
    let chain_id = sender.chain_id().await?;
    let nonce = sender.nonce(account, U256::ZERO).await?;
    let mut unsigned = UserOperationBuilder::new(account)
        .nonce(nonce)
        .call_data(call_data);
    if authorization.is_some() {
        unsigned = unsigned.eip7702();
    }
    let mut probe = SignedUserOperation {
        operation: unsigned.clone().gas(fees.for_estimation()).build()?,
        authorization: authorization.clone(),
    };
    probe.operation.signature = EIP191_PLACEHOLDER_SIGNATURE.into();
    let estimate = sender.estimate(&probe).await?;
    let op = SignedUserOperation {
        operation: unsigned.gas(fees.with_limits(&estimate)).build()?,
        authorization,
    };
    let user_op_hash = user_operation_hash(
        &op.operation,
        sender.entry_point(),
        chain_id,
        Some(delegate),
    )?;
    Ok(UnsignedOperation { op, user_op_hash })
}

/// [`unsigned_owner_operation`] of `owner`'s account, signed by `owner` in this process.
pub async fn prepare_owner_operation<S: UserOperationSender>(
    sender: &S,
    owner: &(impl SignerSync + alloy_signer::Signer),
    call_data: Bytes,
    authorization: Option<SignedAuthorization>,
    delegate: Address,
    fees: Fees,
) -> Result<PreparedOperation, SenderError> {
    let account = alloy_signer::Signer::address(owner);
    let unsigned =
        unsigned_owner_operation(sender, account, call_data, authorization, delegate, fees).await?;
    let signature = sign_owner(owner, unsigned.user_op_hash)?;
    Ok(unsigned.with_signature(signature))
}
