//! Session grants: validated building, the EIP-712 session id, typed data for wallets, and the
//! owner's signature.

mod builder;
mod domain;
mod error;

pub use builder::SessionGrantBuilder;
pub use domain::GrantDomain;
pub use error::GrantError;

/// Largest `validUntil` a grant can carry (`uint48`).
pub const MAX_VALID_UNTIL: u64 = (1 << 48) - 1;
