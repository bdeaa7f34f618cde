//! The Wallet API's JSON shapes (docs/server.md; captured from the official client): hex strings
//! for quantities, JSON numbers only where the client requires them, unknown request fields
//! ignored (clients echo fields back).

pub(crate) mod calls;
pub(crate) mod delegation;
pub(crate) mod execution_permissions;
pub(crate) mod explain;
pub(crate) mod prepare;
pub(crate) mod revoke;
pub(crate) mod send;
pub(crate) mod session;
pub(crate) mod session_key;
pub(crate) mod sessions;
pub(crate) mod sign;
pub(crate) mod signature;
pub(crate) mod signature_request;
pub(crate) mod status;
pub(crate) mod user_operation;
