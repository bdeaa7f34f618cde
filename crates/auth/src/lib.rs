#![doc = include_str!("../README.md")]

pub mod chain;
pub mod envelope;
pub mod grant;
pub mod layer;
pub mod nonces;
pub mod owner;
pub mod recap;
pub mod verify;

pub use chain::{CallError, EthCall, NodeCalls};
pub use envelope::{SESSION_HEADER, SessionRequest, SignedCapability, UnsignedRequest};
pub use grant::{GrantError, OnChainGrant, SessionCapability};
pub use layer::{SessionAuth, SessionAuthLayer};
pub use nonces::{MemoryNonces, NonceStore};
pub use owner::{OwnerError, OwnerKind};
pub use recap::{Recap, RecapError};
pub use verify::{AuthError, NoChain, Received, Scope, Verified, Verifier, VerifierConfig};
