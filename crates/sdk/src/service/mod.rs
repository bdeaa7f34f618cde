//! Every use case of leash over a live chain, for any front end: the CLI and the JSON-RPC server
//! only parse their input and present these results. Each function takes the node as an alloy
//! `Provider` (and, for UserOperations, any [`UserOperationSender`]); none prints, reads files
//! other than the session store, or builds a transport.
//!
//! - Sessions ([`sessions`]): [`create_session`] (or [`grant_session`] and [`with_key_type`] for
//!   a key held elsewhere), [`attach_owner_signature`] / [`with_owner_signature`],
//!   [`resolve_session`], [`session_key`] / [`session_signer`] (the stored key, secp256k1 or of
//!   any kind), [`session_state`], [`session_call_limits_left`]; on chain
//!   ([`transactions`]): [`enable_session`], [`revoke_session`], [`revoke_all_sessions`], and
//!   [`send_checked`] beneath them.
//! - Sending ([`send`]): [`SessionSend::open`] chooses the signature form, then
//!   [`SessionSend::prepare`] gives the unsigned operation and its digest and
//!   [`SessionSend::finalize`] attaches the key's signature and submits it; [`wait_included`]
//!   and [`Included`] report the outcome. [`prepare_owner_calls`] does the owner's first step
//!   (completing the account's delegation on the way when it must);
//!   [`verify_operation_signature`] checks a signature made elsewhere (raw or `personal_sign`),
//!   [`verify_key_signature`] one of any signer kind ([`KeySignature`]).
//! - Signing as the account ([`messages`]): [`sign_message`] with the session's key at hand, or
//!   [`prepare_message`] (the grant checked; the digest the key signs, the hash a verifier checks)
//!   then [`PreparedMessage::attach`] / [`PreparedMessage::verify`] of a key signature made
//!   elsewhere: the account's ERC-1271 signature.
//! - Delegation ([`delegate`]): [`Delegation::read`], [`delegate_by_transaction`],
//!   [`delegate_by_user_operation`].
//! - The node ([`chain`]): [`grant_domain`], [`require_deployments`], [`chain_time`], [`fees`],
//!   [`session_domain`], [`check_bundler_chain`], [`p256_verification`] (the precompile or the
//!   Solidity verifier for P-256 keys).
//!
//! Every failure is a [`ServiceError`] with a stable [`ServiceError::code`].
//!
//! [`UserOperationSender`]: leash_core::sender::UserOperationSender

pub mod chain;
pub mod delegate;
mod error;
pub mod messages;
pub mod outcome;
pub mod send;
pub mod sessions;
pub mod signatures;
pub mod transactions;

pub use chain::{
    chain_time, check_bundler_chain, fees, grant_domain, p256_verification, require_deployments,
    session_domain,
};
pub use delegate::{Delegation, delegate_by_transaction, delegate_by_user_operation};
pub use error::ServiceError;
pub use messages::{PreparedMessage, SignedMessage, prepare_message, sign_message};
pub use outcome::{Included, wait_included};
pub use send::{SessionSend, prepare_owner_calls, submit};
pub use sessions::{
    CreatedSession, GrantTerms, OwnerSignature, SessionRequest, StoredSession,
    attach_owner_signature, create_session, grant_session, resolve_session,
    session_call_limits_left, session_key, session_signer, session_state, with_key_type,
    with_owner_signature,
};
pub use signatures::{
    KeySignature, OperationSignature, SignedPayload, verify_key_signature,
    verify_operation_signature,
};
pub use transactions::{enable_session, revoke_all_sessions, revoke_session, send_checked};
