//! Every failure the server answers with, as a JSON-RPC error object: a code clients act on
//! (viem retries some codes, so deterministic failures never use -32603), the sentence, and
//! `data` with leash's own stable code.

use crate::state::{StateError, WireSessionId};
use alloy_primitives::{Address, B256};
use jsonrpsee::types::ErrorObjectOwned;
use leash_core::denial::Denial;
use leash_sdk::service::ServiceError;
use leash_sim::SimError;
use serde_json::{Value, json};

/// The JSON-RPC error codes the server answers with.
pub mod codes {
    /// A request that does not match the method's schema; `data.field` names the field.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Input the schema accepts but leash refuses (ServiceError `1xxx`, an operation that was
    /// not prepared here): not retried by clients.
    pub const INVALID_INPUT: i32 = -32000;
    /// Validation refused the UserOperation (ServiceError 2001): `data.reason` says which
    /// session, which rule and the numbers. EIP-1474's "transaction rejected", which clients
    /// name so (viem's `TransactionRejectedRpcError`) and do not retry.
    pub const DENIED: i32 = -32003;
    /// A transaction would revert or did (ServiceError 2002, 2003).
    pub const REVERTED: i32 = -32002;
    /// The chain or the state store failed (ServiceError `3xxx`): transient, worth a retry.
    pub const INTERNAL: i32 = -32603;
    /// EIP-5792: no calls with this id.
    pub const UNKNOWN_BUNDLE_ID: i32 = 5730;
    /// A request without a valid API key (HTTP 401).
    pub const INVALID_REQUEST: i32 = -32600;
    /// EIP-1474's "limit exceeded": a key's rate (HTTP 429) or daily quota, or an account's
    /// pending calls.
    pub const LIMIT_EXCEEDED: i32 = -32005;
}

/// leash codes of the server's own failures, beside ServiceError's `1xxx`–`3xxx`.
pub mod leash_codes {
    /// A malformed request.
    pub const INVALID_PARAMS: u32 = 4001;
    /// `wallet_sendPreparedCalls` with an operation this server did not prepare.
    pub const NOT_PREPARED: u32 = 4002;
    /// An unknown call id.
    pub const UNKNOWN_CALL: u32 = 4003;
    /// The embedded chain failed.
    pub const CHAIN: u32 = 4004;
    /// The state store failed.
    pub const STATE: u32 = 4005;
    /// A session's call from an account not delegated to `LeashAccount` with the validator.
    pub const NOT_DELEGATED: u32 = 4006;
    /// Keys are required and the request has none.
    pub const NO_API_KEY: u32 = 4007;
    /// The request's key is not one the store holds.
    pub const UNKNOWN_API_KEY: u32 = 4008;
    /// The request's key was revoked.
    pub const REVOKED_API_KEY: u32 = 4009;
    /// The key's rate limit is exceeded.
    pub const RATE_LIMITED: u32 = 4010;
    /// The key's daily quota of sends is used up.
    pub const QUOTA_EXCEEDED: u32 = 4011;
    /// The account has as many calls pending as the server accepts.
    pub const TOO_MANY_PENDING: u32 = 4012;
    /// An ERC-7715 permission or rule type leash does not enforce.
    pub const UNSUPPORTED_PERMISSION: u32 = 4013;
    /// `wallet_formatSign` for a session with no message prepared (or none still waiting).
    pub const NO_MESSAGE_PREPARED: u32 = 4014;
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The request does not match the method's schema.
    #[error("invalid params: {field}: {reason}")]
    InvalidParams {
        /// The field, as a path (`calls[0].to`); `params` for the whole.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A use case of the SDK failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The operation sent back was not prepared here (or was changed since: its hash differs).
    #[error(
        "UserOperation {user_op_hash} was not prepared by this server (prepare it with \
         wallet_prepareCalls and send back its data unchanged)"
    )]
    NotPrepared {
        /// The hash of the operation sent back.
        user_op_hash: B256,
    },
    /// `wallet_formatSign` for a session with no message waiting.
    #[error(
        "session {session} of {account} has no message waiting for its signature (messages wait \
         10 minutes: prepare it again with wallet_prepareSign)"
    )]
    NoMessagePrepared {
        /// The account.
        account: Address,
        /// The session's wire id.
        session: WireSessionId,
    },
    /// Sessions need the account delegated with the validator installed.
    #[error(
        "{account} is not delegated to LeashAccount with SessionKeyValidator installed: its \
         owner's first wallet_prepareCalls (without permissions) delegates it"
    )]
    NotDelegated {
        /// The account.
        account: Address,
    },
    /// The key's daily quota of sends is used up.
    #[error(
        "this API key's quota of {quota} calls sent a day is used up; it resets at \
         {resets_at} (Unix time, 00:00 UTC)"
    )]
    QuotaExceeded {
        /// Calls a day.
        quota: u64,
        /// When the next day starts, in Unix seconds.
        resets_at: u64,
    },
    /// The account has as many calls pending as the server accepts.
    #[error(
        "{account} has {pending} calls pending, and this server accepts at most {max}: send \
         again once some are final"
    )]
    TooManyPending {
        /// The account.
        account: Address,
        /// Its calls pending.
        pending: usize,
        /// The most accepted.
        max: usize,
    },
    /// An ERC-7715 permission or rule leash does not enforce: refused, never granted without it.
    #[error("{field}: {kind} is not supported: {reason}")]
    UnsupportedPermission {
        /// Where the type is (`params[0].permission.type`).
        field: String,
        /// The permission or rule type.
        kind: String,
        /// Why leash refuses it.
        reason: &'static str,
    },
    /// No calls have this id.
    #[error("unknown calls id {id}")]
    UnknownCall {
        /// The id asked for.
        id: String,
    },
    /// The embedded chain failed.
    #[error("chain: {0}")]
    Chain(#[from] SimError),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
}

impl RpcError {
    /// A malformed `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParams {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The JSON-RPC code.
    pub fn code(&self) -> i32 {
        match self {
            Self::InvalidParams { .. } => codes::INVALID_PARAMS,
            Self::Service(error) => match error.code() {
                2001 => codes::DENIED,
                2000..3000 => codes::REVERTED,
                3000.. => codes::INTERNAL,
                _ => codes::INVALID_INPUT,
            },
            Self::NotPrepared { .. }
            | Self::NoMessagePrepared { .. }
            | Self::NotDelegated { .. }
            | Self::UnsupportedPermission { .. } => codes::INVALID_INPUT,
            Self::UnknownCall { .. } => codes::UNKNOWN_BUNDLE_ID,
            Self::QuotaExceeded { .. } | Self::TooManyPending { .. } => codes::LIMIT_EXCEEDED,
            Self::Chain(_) | Self::State(_) => codes::INTERNAL,
        }
    }

    /// leash's stable code: ServiceError's, or the server's own `4xxx`.
    pub fn leash_code(&self) -> u32 {
        match self {
            Self::InvalidParams { .. } => leash_codes::INVALID_PARAMS,
            Self::Service(error) => error.code(),
            Self::NotPrepared { .. } => leash_codes::NOT_PREPARED,
            Self::NoMessagePrepared { .. } => leash_codes::NO_MESSAGE_PREPARED,
            Self::NotDelegated { .. } => leash_codes::NOT_DELEGATED,
            Self::UnsupportedPermission { .. } => leash_codes::UNSUPPORTED_PERMISSION,
            Self::UnknownCall { .. } => leash_codes::UNKNOWN_CALL,
            Self::QuotaExceeded { .. } => leash_codes::QUOTA_EXCEEDED,
            Self::TooManyPending { .. } => leash_codes::TOO_MANY_PENDING,
            Self::Chain(_) => leash_codes::CHAIN,
            Self::State(_) => leash_codes::STATE,
        }
    }

    /// `data`: the leash code, and what a program needs without parsing the sentence.
    fn data(&self) -> Value {
        let mut data = json!({ "leashCode": self.leash_code() });
        match self {
            Self::InvalidParams { field, .. } => data["field"] = json!(field),
            Self::Service(ServiceError::Denied(denial)) => {
                let (kind, reason) = match denial {
                    Denial::Validation(reason) => ("validation", reason),
                    Denial::Execution(reason) => ("execution", reason),
                };
                data["denial"] = json!(kind);
                data["reason"] = json!(reason);
            }
            Self::Service(
                ServiceError::OperationSignatureMismatch { expected, .. }
                | ServiceError::KeySignatureMismatch { expected, .. }
                | ServiceError::MessageSignatureMismatch { expected, .. },
            ) => {
                data["expectedSigner"] = json!(expected);
            }
            Self::Service(ServiceError::SignatureMismatch {
                account, recovered, ..
            }) => {
                data["expectedSigner"] = json!(account);
                data["recovered"] = json!(recovered.map(Address::from));
            }
            Self::NotPrepared { user_op_hash } => data["userOpHash"] = json!(user_op_hash),
            Self::UnsupportedPermission {
                field,
                kind,
                reason,
            } => {
                data["field"] = json!(field);
                data["type"] = json!(kind);
                data["reason"] = json!(reason);
            }
            Self::QuotaExceeded { quota, resets_at } => {
                data["quota"] = json!(quota);
                data["resetsAt"] = json!(resets_at);
            }
            Self::TooManyPending { pending, max, .. } => {
                data["pending"] = json!(pending);
                data["max"] = json!(max);
            }
            _ => {}
        }
        data
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(error: RpcError) -> Self {
        ErrorObjectOwned::owned(error.code(), error.to_string(), Some(error.data()))
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The embedded chain could not be built.
    #[error("embedded chain: {0}")]
    Chain(#[from] SimError),
    /// A dev account could not be set up.
    #[error("dev account {}: {reason}", account.map_or_else(|| "key".to_owned(), |a| a.to_string()))]
    DevAccount {
        /// The account, when its key parsed.
        account: Option<Address>,
        /// What failed.
        reason: String,
    },
    /// The listening socket could not be opened.
    #[error("listening: {0}")]
    Listen(#[from] std::io::Error),
    /// The state store could not be opened, or the calls to resume read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The node behind `--rpc-url` did not answer, or lacks leash's contracts.
    #[error("the node at {url}: {reason}")]
    Node {
        /// The node's endpoint.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The bundler at `--bundler-url` did not answer, or serves another chain.
    #[error("the bundler at {url}: {reason}")]
    Bundler {
        /// The bundler's endpoint.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The data directory could not be created.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: String,
        /// What failed.
        reason: String,
    },
}
