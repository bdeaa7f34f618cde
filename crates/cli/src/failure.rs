//! Failures that scripts tell apart by exit code.

use leash_core::denial::Denial;
use leash_sdk::service::ServiceError;
use std::fmt;

/// Why a command failed, when it is not a plain error (exit code 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// Bad or missing input: exit code 2, as clap uses for its own usage errors.
    Usage,
    /// The session's policy or the EntryPoint's validation refused the operation: exit code 3.
    Denied,
    /// Validation passed but the calls revert: exit code 4.
    Reverted,
}

impl FailureKind {
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Self::Usage => 2,
            Self::Denied => 3,
            Self::Reverted => 4,
        }
    }

    /// A service error's kind by its variant: the caller's input is a usage error, the chain's
    /// refusal a denial (or a revert when the calls revert), anything else a plain error.
    pub(crate) fn of_service(error: &ServiceError) -> Option<Self> {
        match error {
            ServiceError::Denied(Denial::Validation(_))
            | ServiceError::TransactionDenied { .. } => Some(Self::Denied),
            ServiceError::Denied(Denial::Execution(_)) | ServiceError::Reverted { .. } => {
                Some(Self::Reverted)
            }
            error if error.is_input() => Some(Self::Usage),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::Denied => "denied",
            Self::Reverted => "reverted",
        }
    }
}

/// A failure with its kind; any other error exits with code 1.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> eyre::Report {
        Self::report(FailureKind::Usage, message)
    }

    /// A refusal by a verifier or a policy: exit code 3.
    pub(crate) fn denied(message: impl Into<String>) -> eyre::Report {
        Self::report(FailureKind::Denied, message)
    }

    fn report(kind: FailureKind, message: impl Into<String>) -> eyre::Report {
        eyre::Report::new(Self {
            kind,
            message: message.into(),
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Turns a `Result` whose error is bad user input into a usage failure.
pub(crate) trait UsageContext<T> {
    /// Fails with exit code 2 and `context: error`.
    fn usage(self, context: impl fmt::Display) -> eyre::Result<T>;
}

impl<T, E: fmt::Display> UsageContext<T> for Result<T, E> {
    fn usage(self, context: impl fmt::Display) -> eyre::Result<T> {
        self.map_err(|error| Failure::usage(format!("{context}: {error}")))
    }
}
