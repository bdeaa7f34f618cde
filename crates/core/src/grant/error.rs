//! Why a grant cannot be built.

use super::MAX_VALID_UNTIL;
use crate::{recurring::PeriodError, rules::RuleError};
use alloy_primitives::{Address, Selector, U256};

/// Why a grant cannot be built. Each names the offending permission by its index in the order
/// they were added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// A grant needs at least one permission.
    #[error("a session needs at least one permission")]
    NoPermissions,
    /// `root` must be the only permission.
    #[error("permission {index}: root cannot be combined with other permissions")]
    RootNotExclusive {
        /// Index of the root permission.
        index: usize,
    },
    /// The session key is the zero address.
    #[error("the session key is the zero address")]
    ZeroSessionKey,
    /// No expiry was set; every session must end.
    #[error("the session has no expiry (validUntil)")]
    MissingExpiry,
    /// The expiry is not in the future.
    #[error("validUntil {valid_until} is not after now ({now})")]
    ExpiryInPast {
        /// The requested expiry.
        valid_until: u64,
        /// The clock the grant was checked against.
        now: u64,
    },
    /// The expiry or start does not fit in `uint48`.
    #[error("{field} {value} does not fit in uint48 (max {MAX_VALID_UNTIL})")]
    TimeOutOfRange {
        /// `validAfter` or `validUntil`.
        field: &'static str,
        /// The requested value.
        value: u64,
    },
    /// The window is empty.
    #[error("validAfter {valid_after} is not before validUntil {valid_until}")]
    EmptyWindow {
        /// The requested start.
        valid_after: u64,
        /// The requested end.
        valid_until: u64,
    },
    /// An allowance or limit of zero allows nothing.
    #[error("permission {index} ({kind}): an allowance of zero allows nothing")]
    ZeroAllowance {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// An allowance above 2^128 - 1, which the validator cannot store.
    #[error("permission {index} ({kind}): allowance {amount} exceeds 2^128 - 1")]
    AllowanceTooLarge {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The requested amount.
        amount: U256,
    },
    /// A function permission without functions.
    #[error("permission {index} ({kind}): the function list is empty")]
    EmptyFunctions {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A target that is the zero address.
    #[error("permission {index} ({kind}): the address is zero")]
    ZeroTarget {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A target that is the account itself or the validator, which the validator refuses
    /// (`account-functions` is the way to call the account).
    #[error("permission {index} ({kind}): {target} is the {what}, which no session may target")]
    ForbiddenTarget {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The target.
        target: Address,
        /// "account" or "validator".
        what: &'static str,
    },
    /// A selector no session may call on the account (`execute`, module management, …).
    #[error("permission {index} (account-functions): selector {selector} can never be granted")]
    ForbiddenSelector {
        /// Index of the permission.
        index: usize,
        /// The selector.
        selector: Selector,
    },
    /// An ERC-20 spend selector in a function list: only `erc20-token-transfer` governs those.
    #[error(
        "permission {index} ({kind}): selector {selector} moves or approves tokens; \
         use an erc20-token-transfer permission instead"
    )]
    SpendSelectorInFunctions {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The selector.
        selector: Selector,
    },
    /// The same limit (per token for ERC-20) or contract target twice.
    #[error("permission {index} ({kind}) repeats permission {first}")]
    Duplicate {
        /// Index of the repeat.
        index: usize,
        /// The index it repeats.
        first: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A selector listed twice in one function list.
    #[error("permission {index} ({kind}): selector {selector} is listed twice")]
    DuplicateSelector {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The selector.
        selector: Selector,
    },
    /// A recurring period the validator's `uint48` fields cannot hold.
    #[error("permission {index} ({kind}): {source}")]
    InvalidPeriod {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// What is wrong with its period.
        source: PeriodError,
    },
    /// A recurring allowance or a rate limit whose first period opens only when the session has
    /// ended: it could never be used.
    #[error(
        "permission {index} ({kind}): its period starts at {start}, not before the session ends \
         (validUntil {valid_until}), so it could never be used"
    )]
    PeriodAfterExpiry {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The period's start.
        start: u64,
        /// The session's end.
        valid_until: u64,
    },
    /// Argument rules the validator would refuse (`InvalidRules`).
    #[error("permission {index} ({kind}): {source}")]
    InvalidRules {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// What is wrong with its rules.
        source: RuleError,
    },
}
