//! Every use case of leash over a live chain, for any front end: the CLI and the JSON-RPC server
//! only parse their input and present these results. Each function takes the node as an alloy
//! `Provider` (and, for UserOperations, any [`UserOperationSender`]); none prints, reads files
//! other than the session store, or builds a transport.
//!
//! - Sessions ([`sessions`]): [`create_session`], [`attach_owner_signature`],
//!   [`resolve_session`], [`session_state`]; on chain ([`transactions`]): [`enable_session`],
//!   [`revoke_session`], [`revoke_all_sessions`], and [`send_checked`] beneath them.
//! - Sending ([`send`]): [`SessionSend::open`] chooses the signature form, then
//!   [`SessionSend::prepare`] gives the unsigned operation and its digest and
//!   [`SessionSend::finalize`] attaches the key's signature and submits it; [`wait_included`]
//!   and [`Included`] report the outcome.
//! - Delegation ([`delegate`]): [`Delegation::read`], [`delegate_by_transaction`],
//!   [`delegate_by_user_operation`].
//! - The node ([`chain`]): [`grant_domain`], [`require_deployments`], [`chain_time`], [`fees`],
//!   [`session_domain`], [`check_bundler_chain`].
//!
//! Every failure is a [`ServiceError`] with a stable [`ServiceError::code`].
//!
//! [`UserOperationSender`]: leash_core::sender::UserOperationSender

pub mod chain;
pub mod delegate;
mod error;
pub mod outcome;
pub mod send;
pub mod sessions;
pub mod transactions;

pub use chain::{
    chain_time, check_bundler_chain, fees, grant_domain, require_deployments, session_domain,
};
pub use delegate::{Delegation, delegate_by_transaction, delegate_by_user_operation};
pub use error::ServiceError;
pub use outcome::{Included, wait_included};
pub use send::{SessionSend, submit};
pub use sessions::{
    CreatedSession, OwnerSignature, SessionRequest, StoredSession, attach_owner_signature,
    create_session, resolve_session, session_key, session_state,
};
pub use transactions::{enable_session, revoke_all_sessions, revoke_session, send_checked};
