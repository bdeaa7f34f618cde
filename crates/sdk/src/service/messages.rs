//! A session signing a message as its account (ERC-1271, nested as ERC-7739 nests it;
//! docs/permissions.md, "Signing as the account"), in one step with a key at hand
//! ([`sign_message`]) or in two where the key signs elsewhere ([`prepare_message`], then
//! [`PreparedMessage::attach`] or [`PreparedMessage::verify`]).
//!
//! Nothing here reads the chain: the signature holds on chain only while the session is enabled
//! and within its window, and a typed-data signature only while one of the session's own
//! balance-checked operations executes (leash-core's `LimitedAssets` sends every operation of such
//! a session in that form).

use super::{ServiceError, StoredSession, sessions::check_signer, signatures::KeySignature};
use alloy_primitives::{Address, B256, Bytes};
use leash_core::{
    account_message::AccountMessage,
    session_signer::{PublicSigner, SessionSigner},
};

/// A message checked against a session's grant, ready for its key to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedMessage {
    /// The message.
    pub message: AccountMessage,
    /// The session that signs it.
    pub session_id: B256,
    /// Its signer, as the validator sees it.
    pub signer: PublicSigner,
    /// What a verifier passes to the account's `isValidSignature`.
    pub hash: B256,
    /// What the session key signs (for a passkey, the assertion's challenge).
    pub digest: B256,
    validator: Address,
}

/// A message signed as the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedMessage {
    /// What a verifier passes to the account's `isValidSignature`.
    pub hash: B256,
    /// The account's ERC-1271 signature.
    pub signature: Bytes,
}

/// `message` for `session`'s key to sign as its account, after checking that the grant allows
/// it: `personal-sign` for a personal message, `typed-data-signing` of the app's
/// `verifyingContract` for typed data ([`ServiceError::MessageNotAllowed`]).
pub fn prepare_message(
    session: &StoredSession,
    message: AccountMessage,
) -> Result<PreparedMessage, ServiceError> {
    let permission = message.permission();
    if !session.grant.permissions.contains(&permission) {
        return Err(ServiceError::MessageNotAllowed {
            session: session.session_id,
            permission,
        });
    }
    Ok(PreparedMessage {
        hash: message.hash(),
        digest: message.digest(session.account, session.chain_id),
        session_id: session.session_id,
        signer: PublicSigner {
            id: session.session_key,
            key_type: session.key_type.clone(),
        },
        validator: session.validator,
        message,
    })
}

impl PreparedMessage {
    /// The account's signature around `key_signature` of [`Self::digest`], made elsewhere and
    /// checked only for its shape ([`PublicSigner::check`]): a secp256k1 key's 65 bytes, another
    /// kind's naming the session's signer.
    pub fn attach(&self, key_signature: &[u8]) -> Result<SignedMessage, ServiceError> {
        self.signer
            .check(key_signature)
            .map_err(ServiceError::MalformedSignature)?;
        let signature = self
            .message
            .account_signature(
                self.validator,
                self.session_id,
                self.signer.kind(),
                key_signature,
            )
            .map_err(ServiceError::InvalidMessage)?;
        Ok(SignedMessage {
            hash: self.hash,
            signature,
        })
    }

    /// [`Self::attach`] of `signature`, made elsewhere, after checking that the session's key
    /// signed [`Self::digest`] with it, as far as that can be told off chain (leash-sdk's
    /// `verify_key_signature`: a contract's only the contract can tell). Another key's signature,
    /// or another message's, is [`ServiceError::MessageSignatureMismatch`].
    pub fn verify(&self, signature: &KeySignature) -> Result<SignedMessage, ServiceError> {
        let key_signature = super::verify_key_signature(self.digest, &self.signer, signature)
            .map_err(|error| match error {
                ServiceError::OperationSignatureMismatch { .. }
                | ServiceError::KeySignatureMismatch { .. }
                | ServiceError::ChallengeMismatch { .. } => {
                    ServiceError::MessageSignatureMismatch {
                        digest: self.digest,
                        kind: self.signer.kind(),
                        expected: self.signer.id,
                    }
                }
                other => other,
            })?;
        self.attach(&key_signature)
    }
}

/// `message` signed as `session`'s account by `key`, the session's key of any kind (checked:
/// [`ServiceError::SignerMismatch`]), which signs the nested digest.
pub fn sign_message(
    session: &StoredSession,
    key: &(impl SessionSigner + ?Sized),
    message: AccountMessage,
) -> Result<SignedMessage, ServiceError> {
    check_signer(session, key.public_signer().id)?;
    let prepared = prepare_message(session, message)?;
    let key_signature = key.key_signature(prepared.digest)?;
    prepared.attach(&key_signature)
}

#[cfg(test)]
mod tests;
