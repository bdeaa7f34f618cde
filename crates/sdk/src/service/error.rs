//! The one error of every use case, with a stable code per variant for callers that are not Rust
//! (the JSON-RPC server returns the code; the CLI maps it to its exit codes).

use crate::{delegation::DelegationError, deploy::Deployment, session_reads::SessionQueryError};
use alloy_primitives::{Address, B256};
use alloy_provider::{PendingTransactionError, transport::TransportError};
use leash_core::{
    account_message::MessageError, denial::Denial, error::OperationError, expiry::ExpiryError,
    grant::GrantError, permission::Permission, prepare::FinalizeError,
    rpc_types::UserOperationConversionError, sender::SenderError, session_signer::SignerKind,
    webauthn::challenge,
};
use leash_store::session_store::SessionStoreError;
use std::{fmt, time::Duration};

/// Why a use case failed. Variants in `1xxx` are the caller's input, `2xxx` the chain refusing
/// or reverting what was asked, `3xxx` infrastructure; [`ServiceError::code`] numbers each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Not `0x` and hex digits.
    #[error("{text:?} is not a session id (0x and hex digits, or a unique prefix)")]
    InvalidSessionId {
        /// What was given.
        text: String,
    },
    /// No stored session id starts with the prefix.
    #[error("no stored session matches {prefix:?} (see `leash session list`)")]
    SessionNotFound {
        /// What was given.
        prefix: String,
    },
    /// More than one stored session id starts with the prefix.
    #[error("{prefix:?} matches {} sessions; give more of the id", matches.len())]
    AmbiguousSession {
        /// What was given.
        prefix: String,
        /// Every session id it matches.
        matches: Vec<B256>,
    },
    /// The session was granted on another chain than the node serves.
    #[error("session {session} is for chain {expected}, but the node serves chain {actual}")]
    WrongChain {
        /// The session id.
        session: B256,
        /// The session's chain.
        expected: u64,
        /// The node's chain.
        actual: u64,
    },
    /// Contracts every use case needs have no code on the chain.
    #[error(
        "not deployed on this chain: {}; run `leash deploy --private-key …` or \
         `forge script script/Deploy.s.sol --rpc-url … --broadcast --slow`",
        Missing(missing)
    )]
    NotDeployed {
        /// The contracts without code.
        missing: Vec<Deployment>,
    },
    /// The session has no owner signature yet, and the chain has not enabled it either.
    #[error(
        "session {session} is not signed by the owner yet: finish it with \
         `leash session create --session {session} --signature 0x…`"
    )]
    Unsigned {
        /// The session id.
        session: B256,
    },
    /// A key acts for an account that is not its own.
    #[error("the key's address {actual} is not the account {expected}")]
    OwnerMismatch {
        /// The account.
        expected: Address,
        /// The key's address.
        actual: Address,
    },
    /// An owner signature of the session id that does not recover to the account.
    #[error(
        "the signature does not recover to the account {account} for session {session}: sign \
         the session's typed data with the owner's key"
    )]
    SignatureMismatch {
        /// The session id.
        session: B256,
        /// The account that must have signed.
        account: Address,
        /// Who did sign, when the signature recovers at all.
        recovered: Option<Address>,
    },
    /// The grant breaks a rule of the validator.
    #[error("invalid session: {0}")]
    InvalidGrant(GrantError),
    /// The expiry does not parse.
    #[error("expiry: {0}")]
    InvalidExpiry(ExpiryError),
    /// A signature that cannot finalize an operation.
    #[error("signature: {0}")]
    MalformedSignature(FinalizeError),
    /// The bundler serves another chain than the node.
    #[error("the bundler serves chain {bundler}, the node chain {node}")]
    BundlerWrongChain {
        /// The bundler's chain.
        bundler: u64,
        /// The node's chain.
        node: u64,
    },
    /// Installing the validator was asked for, but it is installed.
    #[error("the validator is installed; re-delegating alone needs no UserOperation: use --via tx")]
    ValidatorInstalled,
    /// A signature of a UserOperation hash that recovers to another key than the one that must
    /// sign it, raw or as an EIP-191 message.
    #[error(
        "the signature of UserOperation {user_op_hash} does not recover to {expected} (neither \
         over the hash nor over its EIP-191 message)"
    )]
    OperationSignatureMismatch {
        /// The UserOperation hash.
        user_op_hash: B256,
        /// The key that must sign it.
        expected: Address,
    },
    /// A session's signer kind cannot do what was asked.
    #[error("session {session} has a {kind} signer: {what}")]
    UnsupportedSigner {
        /// The session id.
        session: B256,
        /// Its signer's kind.
        kind: SignerKind,
        /// Why that kind cannot.
        what: &'static str,
    },
    /// A key (given, derived from a public key, or stored) that is not the session's signer.
    #[error("session {session}'s signer is {expected}, not {actual}")]
    SignerMismatch {
        /// The session id.
        session: B256,
        /// The session's signer id (its grant's `sessionKey`).
        expected: Address,
        /// The signer id of the key at hand.
        actual: Address,
    },
    /// A key signature of a UserOperation hash, made elsewhere, that does not verify under the
    /// session's key (P-256, WebAuthn), or that the session's contract refuses.
    #[error(
        "the {kind} signature of UserOperation {user_op_hash} is not by the session's signer \
         {expected}"
    )]
    KeySignatureMismatch {
        /// The UserOperation hash.
        user_op_hash: B256,
        /// The session's signer kind.
        kind: SignerKind,
        /// The session's signer id.
        expected: Address,
    },
    /// A WebAuthn assertion whose challenge, where the validator reads it, is not the
    /// UserOperation hash: an assertion of another operation or ceremony.
    #[error(
        "the WebAuthn assertion's challenge is not UserOperation {user_op_hash}'s \
         (\"challenge\":\"{}\" first in its client data)",
        challenge(*user_op_hash)
    )]
    ChallengeMismatch {
        /// The UserOperation hash.
        user_op_hash: B256,
    },
    /// A message the session's grant does not let it sign as its account.
    #[error(
        "session {session} may not sign this as its account: its grant has no {}",
        Needed(permission)
    )]
    MessageNotAllowed {
        /// The session id.
        session: B256,
        /// The permission it would need.
        permission: Permission,
    },
    /// A message that cannot be signed as the account in a form the contracts read.
    #[error("message: {0}")]
    InvalidMessage(MessageError),
    /// A key signature of a message's digest, made elsewhere, that is not the session signer's
    /// signature of that digest (another key's, another message's, another challenge's).
    #[error(
        "the {kind} signature is not session signer {expected}'s signature of message digest \
         {digest}"
    )]
    MessageSignatureMismatch {
        /// The digest the session key signs.
        digest: B256,
        /// The session's signer kind.
        kind: SignerKind,
        /// The session's signer id.
        expected: Address,
    },
    /// A chain is asked for that this service does not serve.
    #[error("chain {requested} is not served here (this serves chain {served})")]
    UnservedChain {
        /// The chain asked for.
        requested: u64,
        /// The chain served.
        served: u64,
    },
    /// Validation refused the UserOperation, or its calls revert in the estimate.
    #[error("{0}")]
    Denied(Denial),
    /// A transaction's estimate fails, so it is not sent.
    #[error("denied: {what} would fail: {reason}")]
    TransactionDenied {
        /// The transaction.
        what: String,
        /// The decoded revert, or the node's error.
        reason: String,
    },
    /// Executed (included, or in a dry run), but reverted.
    #[error("reverted: {what} {hash} reverted{}", Reason(reason))]
    Reverted {
        /// The transaction or operation.
        what: String,
        /// Its hash.
        hash: B256,
        /// The decoded reason, when the chain gives one.
        reason: Option<String>,
    },
    /// The node could not be reached or failed.
    #[error("node request failed: {0}")]
    Node(TransportError),
    /// Sending failed for another reason than a refusal.
    #[error(transparent)]
    Sender(SenderError),
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] SessionStoreError),
    /// A session's state could not be read.
    #[error(transparent)]
    SessionQuery(#[from] SessionQueryError),
    /// An EOA's delegation could not be read or authorized.
    #[error(transparent)]
    Delegation(#[from] DelegationError),
    /// Something could not be signed.
    #[error(transparent)]
    Operation(#[from] OperationError),
    /// A transaction was sent but its receipt did not come.
    #[error("sending {what}: {cause}")]
    Transaction {
        /// The transaction.
        what: String,
        /// The cause.
        cause: PendingTransactionError,
    },
    /// A sent UserOperation was not included in time (it may still be).
    #[error(
        "UserOperation {user_op_hash} was sent but not included within {}s; it may still be \
         (ask the bundler: eth_getUserOperationReceipt)",
        waited.as_secs()
    )]
    NotIncluded {
        /// The operation.
        user_op_hash: B256,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The sender acknowledged another operation than the one signed.
    #[error(
        "the bundler returned UserOperation hash {returned} for the operation signed as {signed}"
    )]
    HashMismatch {
        /// The signed operation's hash.
        signed: B256,
        /// The sender's answer.
        returned: B256,
    },
    /// The node has no latest block.
    #[error("the node has no latest block")]
    NoLatestBlock,
    /// A grant whose permission types the record cannot hold.
    #[error("the grant has a permission type out of range")]
    UnencodableGrant,
    /// An operation that does not fit the bundler's JSON shape.
    #[error(transparent)]
    Conversion(#[from] UserOperationConversionError),
    /// The delegation was sent but the chain does not show it.
    #[error("{account} is still not delegated with the validator installed")]
    NotDelegated {
        /// The EOA.
        account: Address,
    },
    /// The store's P-256 key of a session is not a valid key.
    #[error("the P-256 key stored for session {session} is not a valid key")]
    InvalidStoredKey {
        /// The session id.
        session: B256,
    },
}

impl ServiceError {
    /// The variant's stable number (docs/architecture.md, "Errors"): never reused or changed.
    pub fn code(&self) -> u32 {
        match self {
            Self::InvalidSessionId { .. } => 1001,
            Self::SessionNotFound { .. } => 1002,
            Self::AmbiguousSession { .. } => 1003,
            Self::WrongChain { .. } => 1004,
            Self::NotDeployed { .. } => 1005,
            Self::Unsigned { .. } => 1006,
            Self::OwnerMismatch { .. } => 1007,
            Self::SignatureMismatch { .. } => 1008,
            Self::InvalidGrant(_) => 1009,
            Self::InvalidExpiry(_) => 1010,
            Self::MalformedSignature(_) => 1011,
            Self::BundlerWrongChain { .. } => 1012,
            Self::ValidatorInstalled => 1013,
            Self::OperationSignatureMismatch { .. } => 1014,
            Self::UnservedChain { .. } => 1015,
            Self::UnsupportedSigner { .. } => 1016,
            Self::SignerMismatch { .. } => 1017,
            Self::KeySignatureMismatch { .. } => 1018,
            Self::ChallengeMismatch { .. } => 1019,
            Self::MessageNotAllowed { .. } => 1020,
            Self::InvalidMessage(_) => 1021,
            Self::MessageSignatureMismatch { .. } => 1022,
            Self::Denied(_) => 2001,
            Self::TransactionDenied { .. } => 2002,
            Self::Reverted { .. } => 2003,
            Self::Node(_) => 3001,
            Self::Sender(_) => 3002,
            Self::Store(_) => 3003,
            Self::SessionQuery(_) => 3004,
            Self::Delegation(_) => 3005,
            Self::Operation(_) => 3006,
            Self::Transaction { .. } => 3007,
            Self::NotIncluded { .. } => 3008,
            Self::HashMismatch { .. } => 3009,
            Self::NoLatestBlock => 3010,
            Self::UnencodableGrant => 3011,
            Self::Conversion(_) => 3012,
            Self::NotDelegated { .. } => 3013,
            Self::InvalidStoredKey { .. } => 3014,
        }
    }

    /// Whether the caller's input is at fault (codes `1xxx`).
    pub fn is_input(&self) -> bool {
        (1000..2000).contains(&self.code())
    }

    /// Whether the node or the bundler was not reached rather than answering: the use case may
    /// succeed when tried again later.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Node(error) => error.is_transport_error(),
            Self::Sender(error) => error.is_unreachable(),
            _ => false,
        }
    }

    /// A sender's error: the chain's refusal (explained, sharpened by the session's `state`) as
    /// [`Self::Denied`], anything else as [`Self::Sender`].
    pub fn from_sender(
        error: SenderError,
        state: Option<&leash_core::session_state::SessionState>,
    ) -> Self {
        Self::from_session_sender(error, state, &[])
    }

    /// [`Self::from_sender`] for a session whose grant's `permissions` are known: a broken
    /// argument rule is explained with its condition.
    pub fn from_session_sender(
        error: SenderError,
        state: Option<&leash_core::session_state::SessionState>,
        permissions: &[leash_core::permission::Permission],
    ) -> Self {
        match Denial::from_session_error(&error, state, permissions) {
            Some(denial) => Self::Denied(denial),
            None => Self::Sender(error),
        }
    }
}

impl From<TransportError> for ServiceError {
    fn from(error: TransportError) -> Self {
        Self::Node(error)
    }
}

/// The missing contracts, by name and address.
struct Missing<'a>(&'a [Deployment]);

impl fmt::Display for Missing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, deployment) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} ({})", deployment.name, deployment.address())?;
        }
        Ok(())
    }
}

/// The permission a message needs, in words.
struct Needed<'a>(&'a Permission);

impl fmt::Display for Needed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Permission::TypedDataSigning { address } => {
                write!(f, "typed-data-signing permission for {address}")
            }
            other => write!(f, "{} permission", other.type_name()),
        }
    }
}

/// `: reason` when there is one.
struct Reason<'a>(&'a Option<String>);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(reason) => write!(f, ": {reason}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use alloy_provider::transport::TransportErrorKind;
    use std::collections::BTreeSet;

    fn transport() -> TransportError {
        TransportErrorKind::custom_str("unreachable")
    }

    /// One of every variant: the match in `code` makes a new variant fail to compile until it
    /// has a code, and this list makes it fail here until it is checked for uniqueness.
    fn every_variant() -> Vec<ServiceError> {
        vec![
            ServiceError::InvalidSessionId { text: "zz".into() },
            ServiceError::SessionNotFound {
                prefix: "0x1".into(),
            },
            ServiceError::AmbiguousSession {
                prefix: "0x1".into(),
                matches: vec![B256::ZERO, B256::repeat_byte(1)],
            },
            ServiceError::WrongChain {
                session: B256::ZERO,
                expected: 1,
                actual: 2,
            },
            ServiceError::NotDeployed {
                missing: vec![Deployment::entry_point()],
            },
            ServiceError::Unsigned {
                session: B256::ZERO,
            },
            ServiceError::OwnerMismatch {
                expected: Address::ZERO,
                actual: Address::repeat_byte(1),
            },
            ServiceError::SignatureMismatch {
                session: B256::ZERO,
                account: Address::ZERO,
                recovered: None,
            },
            ServiceError::InvalidGrant(GrantError::NoPermissions),
            ServiceError::InvalidExpiry(ExpiryError::Unrecognized { input: "1x".into() }),
            ServiceError::MalformedSignature(FinalizeError::SignatureLength { len: 64 }),
            ServiceError::BundlerWrongChain {
                bundler: 1,
                node: 2,
            },
            ServiceError::ValidatorInstalled,
            ServiceError::OperationSignatureMismatch {
                user_op_hash: B256::ZERO,
                expected: Address::ZERO,
            },
            ServiceError::UnservedChain {
                requested: 1,
                served: 31337,
            },
            ServiceError::UnsupportedSigner {
                session: B256::ZERO,
                kind: SignerKind::Contract,
                what: "no",
            },
            ServiceError::SignerMismatch {
                session: B256::ZERO,
                expected: Address::ZERO,
                actual: Address::repeat_byte(1),
            },
            ServiceError::KeySignatureMismatch {
                user_op_hash: B256::ZERO,
                kind: SignerKind::Contract,
                expected: Address::ZERO,
            },
            ServiceError::ChallengeMismatch {
                user_op_hash: B256::ZERO,
            },
            ServiceError::MessageNotAllowed {
                session: B256::ZERO,
                permission: Permission::PersonalSign,
            },
            ServiceError::InvalidMessage(MessageError::NoVerifyingContract),
            ServiceError::MessageSignatureMismatch {
                digest: B256::ZERO,
                kind: SignerKind::Secp256k1,
                expected: Address::ZERO,
            },
            ServiceError::Denied(Denial::Validation("rule".into())),
            ServiceError::TransactionDenied {
                what: "revokeSession".into(),
                reason: "no".into(),
            },
            ServiceError::Reverted {
                what: "UserOperation".into(),
                hash: B256::ZERO,
                reason: None,
            },
            ServiceError::Node(transport()),
            ServiceError::Sender(SenderError::NonceKeyTooWide(U256::MAX)),
            ServiceError::Store(SessionStoreError::NoHomeDirectory),
            ServiceError::SessionQuery(SessionQueryError::UnknownStatus(9)),
            ServiceError::Delegation(DelegationError::Transport(transport())),
            ServiceError::Operation(OperationError::NoCalls),
            ServiceError::Transaction {
                what: "enableSession".into(),
                cause: PendingTransactionError::FailedToRegister,
            },
            ServiceError::NotIncluded {
                user_op_hash: B256::ZERO,
                waited: Duration::from_secs(60),
            },
            ServiceError::HashMismatch {
                signed: B256::ZERO,
                returned: B256::repeat_byte(1),
            },
            ServiceError::NoLatestBlock,
            ServiceError::UnencodableGrant,
            ServiceError::Conversion(UserOperationConversionError::InitCodeTooShort(3)),
            ServiceError::NotDelegated {
                account: Address::ZERO,
            },
            ServiceError::InvalidStoredKey {
                session: B256::ZERO,
            },
        ]
    }

    #[test]
    fn every_variant_has_its_own_code_in_its_range() {
        let errors = every_variant();
        let codes: BTreeSet<u32> = errors.iter().map(ServiceError::code).collect();
        assert_eq!(codes.len(), errors.len(), "a code is shared: {codes:?}");
        for error in &errors {
            let range = error.code() / 1000;
            assert!((1..=3).contains(&range), "{error:?}");
            assert_eq!(error.is_input(), range == 1, "{error:?}");
        }
    }

    #[test]
    fn messages_carry_their_structure() {
        let ambiguous = ServiceError::AmbiguousSession {
            prefix: "0xab".into(),
            matches: vec![B256::ZERO, B256::repeat_byte(1)],
        };
        assert_eq!(
            ambiguous.to_string(),
            "\"0xab\" matches 2 sessions; give more of the id"
        );
        let missing = ServiceError::NotDeployed {
            missing: vec![Deployment::entry_point(), Deployment::leash_account()],
        };
        let text = missing.to_string();
        assert!(
            text.starts_with("not deployed on this chain: EntryPoint (0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108), "),
            "{text}"
        );
        let reverted = ServiceError::Reverted {
            what: "enableSession".into(),
            hash: B256::ZERO,
            reason: Some("why".into()),
        };
        assert_eq!(
            reverted.to_string(),
            format!("reverted: enableSession {} reverted: why", B256::ZERO)
        );
    }
}
