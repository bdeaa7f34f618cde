//! Why the chain said no to a UserOperation, in a sentence.

use crate::{
    permission::Permission,
    rejection::{AaCode, EntryPointRejection},
    revert_reason::RevertReason,
    rules::AttachmentError,
    sender::SenderError,
    session_state::{OnChainStatus, SessionState},
};
use std::fmt;

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
        Self::from_session_error(error, state, &[])
    }

    /// [`Self::from_sender_error`] for a session whose grant's `permissions` are known: a broken
    /// argument rule is explained with its condition (see [`RevertReason::explain`]).
    pub fn from_session_error(
        error: &SenderError,
        state: Option<&SessionState>,
        permissions: &[Permission],
    ) -> Option<Self> {
        match error {
            SenderError::Rejected(rejection) => Some(Self::Validation(explain_session_rejection(
                rejection,
                state,
                permissions,
            ))),
            SenderError::Reverted(data) => Some(Self::from_session_revert(data, permissions)),
            SenderError::Rules(AttachmentError::Denied(denial)) => {
                Some(Self::Validation(denial.to_string()))
            }
            SenderError::Recurring(denial) => Some(Self::Validation(denial.to_string())),
            _ => None,
        }
    }

    /// A revert seen while simulating the account directly: a validator or account error is
    /// validation refusing the operation; anything else is its calls reverting.
    pub fn from_revert_data(data: &[u8]) -> Self {
        Self::from_session_revert(data, &[])
    }

    fn from_session_revert(data: &[u8], permissions: &[Permission]) -> Self {
        let reason = RevertReason::decode(data);
        let sentence = reason.explain(permissions);
        match reason {
            RevertReason::Validator(_) | RevertReason::Account(_) => Self::Validation(sentence),
            _ => Self::Execution(sentence),
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
    explain_session_rejection(rejection, state, &[])
}

fn explain_session_rejection(
    rejection: &EntryPointRejection,
    state: Option<&SessionState>,
    permissions: &[Permission],
) -> String {
    if let Some(inner) = rejection.inner_reason()
        && !matches!(inner, RevertReason::Unknown(ref data) if data.is_empty())
    {
        return format!("{} ({})", rejection.reason, inner.explain(permissions));
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, B256, U256, address};
    use alloy_sol_types::SolError;
    use leash_bindings::SessionKeyValidator::Erc20AllowanceExceeded;

    const TOKEN: Address = address!("0x00000000000000000000000000000000000000cc");

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
}
