//! A session over a live chain, from grant to denial: the grant as it is kept with its key, the
//! session's on-chain state and remaining budgets, signed UserOperations estimated against the
//! chain, and a sentence for every way the chain can say no.

use crate::{
    AaCode, Call, EntryPointRejection, GasSettings, GrantDomain, PLACEHOLDER_SIGNATURE, Permission,
    RevertReason, SenderError, SessionAuth, SignedUserOperation, UserOperationBuilder,
    UserOperationGasEstimate, UserOperationSender, session_nonce_key, sign_owner,
    user_operation_hash,
};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes, Log, U256, aliases::U48};
use alloy_provider::{Provider, transport::TransportError};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolEvent};
use leash_bindings::{IERC20, PermissionType, SessionGrant, SessionKeyValidator, SessionStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A grant as it is kept next to its session key: every field the owner signed, in the Wallet API
/// permission shape, and the owner's signature once there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRecord {
    /// The account the session acts for.
    pub account: Address,
    /// The session key's address.
    pub session_key: Address,
    /// Start of the window, unix seconds (0 = at once).
    pub valid_after: u64,
    /// End of the window, unix seconds.
    pub valid_until: u64,
    /// The grant's salt.
    pub salt: U256,
    /// The permissions.
    pub permissions: Vec<Permission>,
    /// The owner's signature of the session id; `None` while it is being signed elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_signature: Option<Bytes>,
}

impl GrantRecord {
    /// The record of `grant`, with the owner's signature if it is known; `None` if a permission's
    /// type is out of range (a grant no builder makes).
    pub fn new(grant: &SessionGrant, owner_signature: Option<Bytes>) -> Option<Self> {
        Some(Self {
            account: grant.account,
            session_key: grant.sessionKey,
            valid_after: grant.validAfter.to(),
            valid_until: grant.validUntil.to(),
            salt: grant.salt,
            permissions: grant
                .permissions
                .iter()
                .map(Permission::from_sol)
                .collect::<Option<_>>()?,
            owner_signature,
        })
    }

    /// The grant itself, as the owner signed it.
    pub fn grant(&self) -> SessionGrant {
        SessionGrant {
            account: self.account,
            sessionKey: self.session_key,
            validAfter: U48::saturating_from(self.valid_after),
            validUntil: U48::saturating_from(self.valid_until),
            salt: self.salt,
            permissions: self.permissions.iter().map(Permission::to_sol).collect(),
        }
    }

    /// Whether the session holds `root`.
    pub fn is_root(&self) -> bool {
        self.permissions.contains(&Permission::Root)
    }

    /// The limits of the grant, with their full allowance: what [`SessionState::budgets`] reports
    /// the remainder of.
    pub fn limits(&self) -> Vec<Limit> {
        self.permissions
            .iter()
            .filter_map(|permission| match permission {
                Permission::NativeTokenTransfer { allowance } => Some(Limit {
                    kind: LimitKind::Native,
                    allowance: *allowance,
                }),
                Permission::Erc20TokenTransfer { address, allowance } => Some(Limit {
                    kind: LimitKind::Erc20(*address),
                    allowance: *allowance,
                }),
                Permission::GasLimit { limit } => Some(Limit {
                    kind: LimitKind::Gas,
                    allowance: *limit,
                }),
                _ => None,
            })
            .collect()
    }
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "token")]
pub enum LimitKind {
    /// Native value, in wei.
    Native,
    /// One ERC-20, in its base units.
    Erc20(Address),
    /// Maximum cost of self-paid UserOperations, in wei.
    Gas,
}

impl LimitKind {
    fn query(self) -> (PermissionType, Address) {
        match self {
            Self::Native => (PermissionType::NativeTokenTransfer, Address::ZERO),
            Self::Erc20(token) => (PermissionType::Erc20TokenTransfer, token),
            Self::Gas => (PermissionType::GasLimit, Address::ZERO),
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native => f.write_str("native-token-transfer (wei)"),
            Self::Erc20(token) => write!(f, "erc20-token-transfer {token}"),
            Self::Gas => f.write_str("gas-limit (wei)"),
        }
    }
}

/// One limit of a grant and its full allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// What it counts.
    pub kind: LimitKind,
    /// The full allowance.
    pub allowance: U256,
}

/// A limit and what is left of it on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The limit.
    #[serde(flatten)]
    pub limit: Limit,
    /// What the validator says is left (`getRemaining`); for a session that is not enabled yet,
    /// the grant's full allowance.
    pub remaining: U256,
    /// The session is not enabled on chain yet (a lazy grant never used): the validator holds no
    /// record of the limit, and `remaining` is the full allowance the first operation enables.
    #[serde(rename = "notEnabledYet", default)]
    pub not_enabled_yet: bool,
}

impl Budget {
    /// A limit of an enabled (or revoked) session, with what `getRemaining` says is left.
    pub fn on_chain(limit: Limit, remaining: U256) -> Self {
        Self {
            limit,
            remaining,
            not_enabled_yet: false,
        }
    }

    /// A limit of a session that is not enabled yet: the validator reports nothing left (it has
    /// no record), but the whole allowance is there for the first operation, which enables it.
    pub fn not_enabled_yet(limit: Limit) -> Self {
        Self {
            limit,
            remaining: limit.allowance,
            not_enabled_yet: true,
        }
    }
}

impl fmt::Display for Budget {
    /// `"3 of 10 left"`, in base units; `"10 of 10 left (not enabled yet)"` before first use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} left", self.remaining, self.limit.allowance)?;
        if self.not_enabled_yet {
            f.write_str(" (not enabled yet)")?;
        }
        Ok(())
    }
}

/// A session's status on chain, as `getSession` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnChainStatus {
    /// Never enabled: the first UserOperation will enable it (lazy), or the owner may.
    Unused,
    /// Enabled and live.
    Enabled,
    /// Revoked (explicitly, or by a revoke-all after it was enabled): it can never be used.
    Revoked,
}

/// From the validator's `SessionStatus` (its `uint8` in the ABI); the unknown value back as the
/// error. The match follows the Solidity enum, so a new status there fails the build here.
impl TryFrom<u8> for OnChainStatus {
    type Error = u8;

    fn try_from(value: u8) -> Result<Self, u8> {
        match SessionStatus::try_from(value).map_err(|_| value)? {
            SessionStatus::Unused => Ok(Self::Unused),
            SessionStatus::Enabled => Ok(Self::Enabled),
            SessionStatus::Revoked => Ok(Self::Revoked),
            SessionStatus::__Invalid => Err(value),
        }
    }
}

impl fmt::Display for OnChainStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unused => "unused (not enabled yet)",
            Self::Enabled => "enabled",
            Self::Revoked => "revoked",
        })
    }
}

/// A session as the chain sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The session's status.
    pub status: OnChainStatus,
    /// Whether the account has installed the validator (without it every session fails).
    pub validator_installed: bool,
    /// What is left of each limit: zero for a revoked session, the full allowance (marked
    /// [`Budget::not_enabled_yet`]) for one that is not enabled yet.
    pub budgets: Vec<Budget>,
}

/// Why a session's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SessionQueryError {
    /// The node could not be reached or the call failed.
    #[error("reading {what} from the validator: {source}")]
    Transport {
        /// The function.
        what: &'static str,
        /// The cause.
        source: TransportError,
    },
    /// The validator's answer did not decode (no validator at that address?).
    #[error("cannot decode {what} from the validator: {source}")]
    Decode {
        /// The function.
        what: &'static str,
        /// The cause.
        source: alloy_sol_types::Error,
    },
    /// `getSession` returned a status this SDK does not know.
    #[error("getSession returned unknown status {0}")]
    UnknownStatus(u8),
}

/// Reads `record`'s session from the validator of `domain`: its status, whether the account has
/// installed the validator, and what is left of each limit. A session that is not enabled yet
/// has its grant's full allowances (the validator's `getRemaining` says 0 until the enable).
pub async fn read_session_state<P: Provider>(
    provider: &P,
    domain: &GrantDomain,
    record: &GrantRecord,
) -> Result<SessionState, SessionQueryError> {
    let account = record.account;
    let session_id = domain.session_id(&record.grant());
    let session = view(
        provider,
        domain.validator,
        SessionKeyValidator::getSessionCall {
            account,
            sessionId: session_id,
        },
        "getSession",
    )
    .await?;
    let status =
        OnChainStatus::try_from(session.status).map_err(SessionQueryError::UnknownStatus)?;
    let validator_installed = validator_installed(provider, domain.validator, account).await?;
    if status == OnChainStatus::Unused {
        return Ok(SessionState {
            status,
            validator_installed,
            budgets: record
                .limits()
                .into_iter()
                .map(Budget::not_enabled_yet)
                .collect(),
        });
    }
    let mut budgets = Vec::new();
    for limit in record.limits() {
        let (permission_type, token) = limit.kind.query();
        let remaining = view(
            provider,
            domain.validator,
            SessionKeyValidator::getRemainingCall {
                account,
                sessionId: session_id,
                permissionType: permission_type.into(),
                token,
            },
            "getRemaining",
        )
        .await?;
        budgets.push(Budget::on_chain(limit, remaining));
    }
    Ok(SessionState {
        status,
        validator_installed,
        budgets,
    })
}

/// Whether `account` has installed the `SessionKeyValidator` at `validator` (`isInitialized`).
pub async fn validator_installed<P: Provider>(
    provider: &P,
    validator: Address,
    account: Address,
) -> Result<bool, SessionQueryError> {
    let call = SessionKeyValidator::isInitializedCall { account };
    view(provider, validator, call, "isInitialized").await
}

async fn view<P: Provider, C: SolCall>(
    provider: &P,
    to: Address,
    call: C,
    what: &'static str,
) -> Result<C::Return, SessionQueryError> {
    let request = TransactionRequest::default()
        .with_to(to)
        .with_input(call.abi_encode());
    let output = provider
        .call(request)
        .await
        .map_err(|source| SessionQueryError::Transport { what, source })?;
    C::abi_decode_returns(&output).map_err(|source| SessionQueryError::Decode { what, source })
}

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

/// A UserOperation of `account` making `calls`, signed by `session_key` under `auth`, on the
/// session's nonce lane, with gas limits estimated by `sender` (plus [`GAS_MARGIN_PERCENT`]).
///
/// The estimate runs with [`SessionAuth::dummy`], so nothing is signed before the gas is known
/// and any bundler can estimate it: the validator does the work of the signed operation, and a
/// call out of scope fails here already, as [`SenderError::Rejected`] or [`SenderError::Reverted`]
/// carrying the validator's error (see [`Denial::from_sender_error`]).
pub async fn prepare_session_operation<S: UserOperationSender>(
    sender: &S,
    domain: &GrantDomain,
    account: Address,
    session_key: &impl SignerSync,
    auth: &SessionAuth<'_>,
    calls: &[Call],
    fees: Fees,
) -> Result<PreparedOperation, SenderError> {
    let nonce_key = session_nonce_key(domain.validator, auth.session_id(domain));
    let nonce = sender.nonce(account, nonce_key).await?;
    let unsigned = UserOperationBuilder::new(account)
        .nonce(nonce)
        .calls(calls)?;
    let mut probe = SignedUserOperation::new(unsigned.clone().gas(fees.for_estimation()).build()?);
    probe.operation.signature = auth.dummy();
    let estimate = sender.estimate(&probe).await?;
    let mut op = SignedUserOperation::new(unsigned.gas(fees.with_limits(&estimate)).build()?);
    let user_op_hash =
        user_operation_hash(&op.operation, sender.entry_point(), domain.chain_id, None)?;
    op.operation.signature = auth.sign(session_key, user_op_hash)?;
    Ok(PreparedOperation { op, user_op_hash })
}

/// An owner-signed UserOperation of `owner`'s account with raw account calldata (such as
/// `installModule`), carrying `authorization` (and the EIP-7702 `initCode` marker) when the EOA
/// still has to be delegated to `delegate`; gas limits estimated by `sender`.
pub async fn prepare_owner_operation<S: UserOperationSender>(
    sender: &S,
    owner: &(impl SignerSync + alloy_signer::Signer),
    call_data: Bytes,
    authorization: Option<SignedAuthorization>,
    delegate: Address,
    fees: Fees,
) -> Result<PreparedOperation, SenderError> {
    let account = alloy_signer::Signer::address(owner);
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
    probe.operation.signature = PLACEHOLDER_SIGNATURE.into();
    let estimate = sender.estimate(&probe).await?;
    let mut op = SignedUserOperation {
        operation: unsigned.gas(fees.with_limits(&estimate)).build()?,
        authorization,
    };
    let user_op_hash = user_operation_hash(
        &op.operation,
        sender.entry_point(),
        chain_id,
        Some(delegate),
    )?;
    op.operation.signature = sign_owner(owner, user_op_hash)?;
    Ok(PreparedOperation { op, user_op_hash })
}

/// Why the chain said no to a UserOperation, in a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Validation refused it: a policy rule, a signature, the window, the nonce or the prefund.
    Validation(String),
    /// Validation passed but the calls revert.
    Execution(String),
}

impl Denial {
    /// The denial an estimate or a send failed with, or `None` when the error is not the chain
    /// refusing the operation (an unreachable node, say). `state` sharpens the explanation of a
    /// signature failure (a revoked or never-enabled session fails as a signature).
    pub fn from_sender_error(error: &SenderError, state: Option<&SessionState>) -> Option<Self> {
        match error {
            SenderError::Rejected(rejection) => {
                Some(Self::Validation(explain_rejection(rejection, state)))
            }
            SenderError::Reverted(data) => Some(Self::from_revert_data(data)),
            _ => None,
        }
    }

    /// A revert seen while simulating the account directly: a validator or account error is
    /// validation refusing the operation; anything else is its calls reverting.
    pub fn from_revert_data(data: &[u8]) -> Self {
        let reason = RevertReason::decode(data);
        match reason {
            RevertReason::Validator(_) | RevertReason::Account(_) => {
                Self::Validation(reason.to_string())
            }
            _ => Self::Execution(reason.to_string()),
        }
    }

    /// The sentence.
    pub fn message(&self) -> &str {
        match self {
            Self::Validation(message) | Self::Execution(message) => message,
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Validation(message) => write!(f, "denied: {message}"),
            Self::Execution(message) => write!(f, "execution reverted: {message}"),
        }
    }
}

/// The EntryPoint's rejection in a sentence: the validator's own error when it passed one on,
/// otherwise what the `AAxx` code means for a session, sharpened by the session's `state`.
pub fn explain_rejection(rejection: &EntryPointRejection, state: Option<&SessionState>) -> String {
    if let Some(inner) = rejection.inner_reason()
        && !matches!(inner, RevertReason::Unknown(ref data) if data.is_empty())
    {
        return format!("{} ({inner})", rejection.reason);
    }
    let why = match (rejection.code, state) {
        (AaCode::SIGNATURE_ERROR, Some(state)) if !state.validator_installed => {
            "the account has not installed SessionKeyValidator (run `leash delegate`)"
        }
        (AaCode::SIGNATURE_ERROR, Some(state)) if state.status == OnChainStatus::Revoked => {
            "the session is revoked"
        }
        (AaCode::SIGNATURE_ERROR, _) => {
            "the session key's signature is not accepted: the session is unknown, revoked, or \
             its grant's owner signature is wrong"
        }
        (AaCode::EXPIRED_OR_NOT_DUE, _) => "the session is outside its validity window",
        (AaCode::PREFUND_NOT_PAID, _) => "the account cannot pay the operation's maximum gas cost",
        (AaCode::INVALID_NONCE, _) => "the nonce is stale: another operation used it first",
        _ => return rejection.reason.clone(),
    };
    format!("{}: {why}", rejection.reason)
}

/// An ERC-20 `Transfer` a UserOperation emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTransfer {
    /// The token.
    pub token: Address,
    /// The sender.
    pub from: Address,
    /// The receiver.
    pub to: Address,
    /// The amount, in base units.
    pub value: U256,
}

/// The ERC-20 transfers among `logs` (those that decode as `Transfer(address,address,uint256)`).
pub fn token_transfers<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Vec<TokenTransfer> {
    logs.into_iter()
        .filter_map(|log| {
            let transfer = IERC20::Transfer::decode_log(log).ok()?;
            Some(TokenTransfer {
                token: log.address,
                from: transfer.from,
                to: transfer.to,
                value: transfer.value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionGrantBuilder;
    use alloy_primitives::{LogData, address};
    use alloy_sol_types::SolError;
    use leash_bindings::SessionKeyValidator::Erc20AllowanceExceeded;

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
    const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
    const TOKEN: Address = address!("0x00000000000000000000000000000000000000cc");

    fn grant() -> SessionGrant {
        SessionGrantBuilder::new(ACCOUNT, KEY, Address::repeat_byte(0x55))
            .valid_until(2_000)
            .permission(Permission::Erc20TokenTransfer {
                address: TOKEN,
                allowance: U256::from(10),
            })
            .permission(Permission::GasLimit {
                limit: U256::from(7),
            })
            .permission(Permission::ContractAccess { address: TOKEN })
            .build(1_000)
            .expect("valid grant")
    }

    #[test]
    fn records_round_trip_the_signed_grant() -> serde_json::Result<()> {
        let record = GrantRecord::new(&grant(), Some(Bytes::from_static(&[1, 2]))).expect("types");
        assert_eq!(record.grant(), grant());
        let json = serde_json::to_value(&record)?;
        assert_eq!(json["ownerSignature"], "0x0102");
        assert_eq!(json["permissions"][0]["type"], "erc20-token-transfer");
        assert_eq!(serde_json::from_value::<GrantRecord>(json)?, record);
        assert!(!record.is_root());
        assert_eq!(
            record.limits(),
            vec![
                Limit {
                    kind: LimitKind::Erc20(TOKEN),
                    allowance: U256::from(10)
                },
                Limit {
                    kind: LimitKind::Gas,
                    allowance: U256::from(7)
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn budgets_read_as_remaining_of_allowance() -> serde_json::Result<()> {
        let limit = Limit {
            kind: LimitKind::Native,
            allowance: U256::from(10),
        };
        let budget = Budget::on_chain(limit, U256::from(3));
        assert_eq!(budget.to_string(), "3 of 10 left");
        let json = serde_json::to_value(budget)?;
        assert_eq!(json["notEnabledYet"], false);
        assert_eq!(serde_json::from_value::<Budget>(json)?, budget);
        Ok(())
    }

    #[test]
    fn a_session_not_enabled_yet_has_its_full_allowances() -> serde_json::Result<()> {
        let record = GrantRecord::new(&grant(), None).expect("types");
        let budgets: Vec<Budget> = record
            .limits()
            .into_iter()
            .map(Budget::not_enabled_yet)
            .collect();
        assert_eq!(budgets.len(), 2);
        assert_eq!(budgets[0].remaining, U256::from(10));
        assert_eq!(budgets[1].remaining, U256::from(7));
        assert_eq!(budgets[0].to_string(), "10 of 10 left (not enabled yet)");
        assert_eq!(serde_json::to_value(budgets[1])?["notEnabledYet"], true);
        Ok(())
    }

    #[test]
    fn denials_explain_the_rule() {
        let error = Erc20AllowanceExceeded {
            sessionId: B256::repeat_byte(1),
            token: TOKEN,
            requested: U256::from(5),
            remaining: U256::from(4),
        }
        .abi_encode();
        let from_account = Denial::from_revert_data(&error);
        assert!(matches!(from_account, Denial::Validation(_)));
        assert!(from_account.message().contains("requested 5, remaining 4"));
        let rejection = EntryPointRejection {
            op_index: 0,
            code: AaCode::ACCOUNT_REVERTED,
            reason: "AA23 reverted".into(),
            inner: Some(error.into()),
        };
        let text = explain_rejection(&rejection, None);
        assert!(text.starts_with("AA23 reverted (session"), "{text}");
        let revoked = SessionState {
            status: OnChainStatus::Revoked,
            validator_installed: true,
            budgets: vec![],
        };
        let signature = EntryPointRejection {
            op_index: 0,
            code: AaCode::SIGNATURE_ERROR,
            reason: "AA24 signature error".into(),
            inner: None,
        };
        assert_eq!(
            explain_rejection(&signature, Some(&revoked)),
            "AA24 signature error: the session is revoked"
        );
        let execution = Denial::from_revert_data(&[]);
        assert_eq!(
            execution.to_string(),
            "execution reverted: reverted without data"
        );
    }

    #[test]
    fn finds_erc20_transfers_in_logs() {
        let event = IERC20::Transfer {
            from: ACCOUNT,
            to: KEY,
            value: U256::from(3),
        };
        let transfer = Log {
            address: TOKEN,
            data: event.encode_log_data(),
        };
        let other = Log {
            address: TOKEN,
            data: LogData::new_unchecked(vec![B256::ZERO], Bytes::new()),
        };
        assert_eq!(
            token_transfers([&other, &transfer]),
            vec![TokenTransfer {
                token: TOKEN,
                from: ACCOUNT,
                to: KEY,
                value: U256::from(3)
            }]
        );
    }
}
