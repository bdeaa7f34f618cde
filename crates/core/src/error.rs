//! Errors of building, hashing and signing leash operations.

use alloy_primitives::Address;

/// Why a leash operation could not be built, hashed or signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// An execution needs at least one call.
    #[error("no calls to execute")]
    NoCalls,
    /// A balance-checked operation lists at most 255 tokens.
    #[error("the grant limits {count} tokens; a balance-checked operation lists at most 255")]
    TooManyTokens {
        /// How many tokens the grant limits.
        count: usize,
    },
    /// The UserOperation's initCode carries the EIP-7702 marker, so its hash binds the account's
    /// delegate, which the caller did not supply.
    #[error("initCode is the EIP-7702 marker but no delegate address was given for {sender}")]
    MissingEip7702Delegate {
        /// The UserOperation's sender.
        sender: Address,
    },
    /// A required UserOperation field was not set.
    #[error("UserOperation field `{0}` is not set")]
    MissingField(&'static str),
    /// The signer failed.
    #[error("signing failed: {0}")]
    Signer(#[from] alloy_signer::Error),
}
