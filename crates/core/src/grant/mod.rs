//! Session grants: validated building, the EIP-712 session id, typed data for wallets, and the
//! owner's signature.

use alloy_primitives::U256;

mod builder;
mod domain;
mod error;
mod warnings;

pub use builder::SessionGrantBuilder;
pub use domain::{GRANT_DOMAIN_VERSION, GrantDomain};
pub use error::GrantError;
pub use warnings::{
    GrantWarning, PERMIT2, PERMIT2_SPEND_SELECTORS, grant_warnings, is_permit2_approve,
};

/// The `gas-limit` a grant gets when it gives none and does not opt out (0.01 ETH, in wei): a
/// scoped session pays its own gas only within a limit, so a grant without one could only use
/// paymasters. [`SessionGrantBuilder::unbounded_gas`] and
/// [`SessionGrantBuilder::without_default_gas_limit`] are the explicit alternatives.
pub const DEFAULT_GAS_LIMIT: U256 = U256::from_limbs([10_000_000_000_000_000, 0, 0, 0]);

/// Largest `validUntil` a grant can carry (`uint48`).
pub const MAX_VALID_UNTIL: u64 = (1 << 48) - 1;
