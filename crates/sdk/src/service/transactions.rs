//! Transactions an EOA sends itself (the owner enabling or revoking sessions, a session key
//! revoking its own), estimated before they are sent so a refusal costs nothing.

use super::{ServiceError, StoredSession, chain::session_domain};
use crate::deploy::Deployment;
use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes};
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use leash_bindings::SessionKeyValidator;
use leash_core::revert_reason::RevertReason;

/// Sends `request` (from an account `provider` signs for) and waits for its receipt. It is
/// estimated first, so a call that would revert fails as [`ServiceError::TransactionDenied`] with
/// the decoded reason and spends no gas; one that reverts anyway once included fails as
/// [`ServiceError::Reverted`].
pub async fn send_checked<P: Provider>(
    provider: &P,
    request: TransactionRequest,
    what: &str,
) -> Result<B256, ServiceError> {
    if let Err(error) = provider.estimate_gas(request.clone()).await {
        let reason = error
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data())
            .map(|data| RevertReason::decode(&data).to_string())
            .unwrap_or_else(|| error.to_string());
        return Err(ServiceError::TransactionDenied {
            what: what.to_owned(),
            reason,
        });
    }
    let failed = |cause| ServiceError::Transaction {
        what: what.to_owned(),
        cause,
    };
    let receipt = provider
        .send_transaction(request)
        .await
        .map_err(|error| failed(error.into()))?
        .get_receipt()
        .await
        .map_err(failed)?;
    if !receipt.status() {
        return Err(ServiceError::Reverted {
            what: what.to_owned(),
            hash: receipt.transaction_hash,
            reason: None,
        });
    }
    Ok(receipt.transaction_hash)
}

/// `enableSession(grant)` from the owner EOA `from` (which `provider` signs for): the session is
/// live before its first operation, instead of enabled lazily by it.
pub async fn enable_session<P: Provider>(
    provider: &P,
    from: Address,
    session: &StoredSession,
) -> Result<B256, ServiceError> {
    let domain = session_domain(provider, session).await?;
    require_account(session, from)?;
    let call = SessionKeyValidator::enableSessionCall {
        grant: (&session.grant.grant()).into(),
    };
    validator_call(provider, from, domain.validator, call, "enableSession").await
}

/// `revokeSession(grant)` from `from`, the owner EOA or the session key itself (which needs gas
/// money of its own).
pub async fn revoke_session<P: Provider>(
    provider: &P,
    from: Address,
    session: &StoredSession,
) -> Result<B256, ServiceError> {
    let domain = session_domain(provider, session).await?;
    if from != session.session_key {
        require_account(session, from)?;
    }
    let call = SessionKeyValidator::revokeSessionCall {
        grant: (&session.grant.grant()).into(),
    };
    validator_call(provider, from, domain.validator, call, "revokeSession").await
}

/// `revokeAllSessions()` from the owner EOA `from`: every session of its account, at once.
pub async fn revoke_all_sessions<P: Provider>(
    provider: &P,
    from: Address,
) -> Result<B256, ServiceError> {
    let validator = Deployment::session_key_validator().address();
    let call = SessionKeyValidator::revokeAllSessionsCall {};
    validator_call(provider, from, validator, call, "revokeAllSessions").await
}

fn require_account(session: &StoredSession, from: Address) -> Result<(), ServiceError> {
    if from == session.account {
        Ok(())
    } else {
        Err(ServiceError::OwnerMismatch {
            expected: session.account,
            actual: from,
        })
    }
}

async fn validator_call<P: Provider, C: SolCall>(
    provider: &P,
    from: Address,
    validator: Address,
    call: C,
    what: &str,
) -> Result<B256, ServiceError> {
    let request = TransactionRequest::default()
        .with_from(from)
        .with_to(validator)
        .with_input(Bytes::from(call.abi_encode()));
    send_checked(provider, request, what).await
}
