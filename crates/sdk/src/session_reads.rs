//! Reading a session's state from the validator on a live chain.

use alloy_network::TransactionBuilder;
use alloy_primitives::Address;
use alloy_provider::{Provider, transport::TransportError};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use leash_bindings::SessionKeyValidator;
use leash_core::{
    grant::GrantDomain,
    session_state::{Budget, GrantRecord, OnChainStatus, SessionState},
};

/// Why a session's state could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
