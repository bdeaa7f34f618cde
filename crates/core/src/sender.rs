//! What gets UserOperations on chain: the [`UserOperationSender`] trait that a direct sender, a
//! bundler client and the simulator implement, and the errors they share.

use crate::{
    error::OperationError,
    recurring::RecurringDenial,
    rejection::EntryPointRejection,
    rpc_types::{UserOperationConversionError, UserOperationGasEstimate, UserOperationReceipt},
    rules::AttachmentError,
};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_transport::TransportError;
use leash_bindings::PackedUserOperation;
use std::future::Future;

/// A UserOperation as it is submitted: the packed operation and, when its sender is an EOA that
/// is not yet delegated, the EIP-7702 authorization that delegates it in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUserOperation {
    /// The operation, with its signature (or a dummy one of the right length, for estimation).
    pub operation: PackedUserOperation,
    /// The sender's EIP-7702 authorization, applied before the operation is validated.
    pub authorization: Option<SignedAuthorization>,
}

impl SignedUserOperation {
    /// An operation whose sender is already a smart account.
    pub fn new(operation: PackedUserOperation) -> Self {
        Self {
            operation,
            authorization: None,
        }
    }

    /// An operation that carries its sender's EIP-7702 authorization.
    pub fn with_authorization(mut self, authorization: SignedAuthorization) -> Self {
        self.authorization = Some(authorization);
        self
    }
}

/// Something that gets UserOperations to an ERC-4337 v0.8 EntryPoint.
pub trait UserOperationSender {
    /// The EntryPoint operations are sent to.
    fn entry_point(&self) -> Address;

    /// The chain's id.
    fn chain_id(&self) -> impl Future<Output = Result<u64, SenderError>> + Send;

    /// The sender's next nonce in lane `key` (`EntryPoint.getNonce`): `key << 64 | sequence`.
    fn nonce(
        &self,
        sender: Address,
        key: U256,
    ) -> impl Future<Output = Result<U256, SenderError>> + Send;

    /// Gas limits for `op`, which may carry a dummy signature of the right length.
    fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> impl Future<Output = Result<UserOperationGasEstimate, SenderError>> + Send;

    /// Submits `op` and returns its UserOperation hash.
    fn send(
        &self,
        op: &SignedUserOperation,
    ) -> impl Future<Output = Result<B256, SenderError>> + Send;

    /// The receipt of an included UserOperation; `None` while it is not (or never was) included.
    fn receipt(
        &self,
        user_op_hash: B256,
    ) -> impl Future<Output = Result<Option<UserOperationReceipt>, SenderError>> + Send;
}

/// Why a UserOperation could not be estimated, sent or looked up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SenderError {
    /// The EntryPoint (or a bundler's simulation of it) refused the operation in validation.
    #[error(transparent)]
    Rejected(#[from] EntryPointRejection),
    /// A bundler answered with a JSON-RPC error that names no EntryPoint code.
    #[error("bundler error {code}: {message}")]
    Bundler {
        /// The JSON-RPC error code (ERC-7769 uses -32500 to -32507 for rejections).
        code: i64,
        /// The bundler's message.
        message: String,
        /// The error's data, if any.
        data: Option<String>,
    },
    /// A call to the EntryPoint reverted with data that is not a `FailedOp`.
    #[error("EntryPoint call reverted with {0}")]
    Reverted(Bytes),
    /// The `handleOps` transaction was included but reverted.
    #[error("handleOps transaction {0} reverted")]
    BundleReverted(B256),
    /// The included `handleOps` transaction emitted no `UserOperationEvent`.
    #[error("handleOps transaction {0} emitted no UserOperationEvent")]
    MissingUserOperationEvent(B256),
    /// The operation cannot be built, hashed or signed (an EIP-7702 operation whose delegate is
    /// unknown, a signer that failed).
    #[error(transparent)]
    Operation(#[from] OperationError),
    /// A call breaks the rules of every ruled permission that could allow it, found before
    /// anything was signed or sent (or its rules cannot be framed in a signature).
    #[error(transparent)]
    Rules(#[from] AttachmentError),
    /// A spend the session's recurring allowance can never allow (an approval of the asset, more
    /// than its amount per period), found before anything was signed or sent.
    #[error(transparent)]
    Recurring(#[from] RecurringDenial),
    /// A nonce key wider than the EntryPoint's 192 bits.
    #[error("nonce key {0} is wider than 192 bits")]
    NonceKeyTooWide(U256),
    /// The operation cannot be put in the bundler's JSON shape, or the bundler's answer cannot
    /// be read.
    #[error(transparent)]
    Conversion(#[from] UserOperationConversionError),
    /// A response could not be ABI-decoded.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The cause.
        source: alloy_sol_types::Error,
    },
    /// The `handleOps` transaction was sent but its receipt could not be obtained.
    #[error("waiting for the handleOps receipt: {0}")]
    Pending(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The node or the bundler could not be reached, or answered something unexpected.
    #[error(transparent)]
    Transport(TransportError),
}

impl SenderError {
    /// Whether the node or bundler was not reached (connection refused, timed out, HTTP 5xx)
    /// rather than answering: the same request may succeed later, or elsewhere.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Transport(error) if error.is_transport_error())
    }

    /// Reads an error of the chain's node, keeping EntryPoint rejections typed: an `eth_call` or
    /// `eth_estimateGas` that reverted with `FailedOp` becomes [`SenderError::Rejected`], other
    /// revert data [`SenderError::Reverted`].
    pub fn from_node(error: TransportError) -> Self {
        match error
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data())
        {
            Some(data) => match EntryPointRejection::from_revert_data(&data) {
                Some(rejection) => Self::Rejected(rejection),
                None => Self::Reverted(data),
            },
            None => Self::Transport(error),
        }
    }
}
