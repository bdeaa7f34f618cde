//! Session-key UserOperation signatures and nonce keys for `SessionKeyValidator`.

use crate::{
    SdkError,
    signing::{PLACEHOLDER_SIGNATURE, sign_hash_raw},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolValue;
use leash_bindings::SessionGrant;

/// Signature mode: a scoped session's key signs.
pub const SIG_MODE_USE: u8 = 0x00;
/// Signature mode: a root session's key signs.
pub const SIG_MODE_USE_ROOT: u8 = 0x01;
/// Signature mode: the grant and the owner's signature travel along, enabling the session in the
/// same validation (lazy enable).
pub const SIG_MODE_ENABLE: u8 = 0x02;

/// Length of a use-mode signature: mode, session id, `r ‖ s ‖ v`.
pub const USE_SIGNATURE_LEN: usize = 1 + 32 + 65;

/// The nonce key that routes a UserOperation to `validator` on the session's own nonce lane:
/// `validator << 32 | uint32(bytes4(sessionId))`. Sessions on different lanes never contend for
/// one nonce sequence.
pub fn session_nonce_key(validator: Address, session_id: B256) -> U256 {
    let lane = u32::from_be_bytes([session_id[0], session_id[1], session_id[2], session_id[3]]);
    crate::nonce_key_for_validator(validator, lane)
}

/// How a session-key UserOperation proves itself.
#[derive(Clone, Debug)]
pub enum SessionAuth<'a> {
    /// The session is enabled: only its id travels.
    Enabled {
        /// The session id.
        session_id: B256,
        /// Whether the session holds `root`.
        root: bool,
    },
    /// First use (or not yet confirmed enabled): the grant and the owner's signature travel along.
    Lazy {
        /// The grant.
        grant: &'a SessionGrant,
        /// The owner's signature of the session id.
        owner_signature: &'a [u8],
    },
}

impl SessionAuth<'_> {
    /// Signs `user_op_hash` with the session key and encodes the validator's signature.
    pub fn sign(
        &self,
        session_key: &impl SignerSync,
        user_op_hash: B256,
    ) -> Result<Bytes, SdkError> {
        Ok(self.encode(&sign_hash_raw(session_key, user_op_hash)?))
    }

    /// The signature to estimate with: this form around [`PLACEHOLDER_SIGNATURE`] (in the lazy
    /// form, beside the owner's real grant signature). Validation does all the work of the signed
    /// operation, reverts with the rule on a scope violation, and otherwise returns
    /// `SIG_VALIDATION_FAILED`.
    pub fn dummy(&self) -> Bytes {
        self.encode(&PLACEHOLDER_SIGNATURE)
    }

    /// The encoding around a session key's `r ‖ s ‖ v` signature.
    pub fn encode(&self, key_signature: &[u8]) -> Bytes {
        match self {
            Self::Enabled { session_id, root } => {
                let mode = if *root {
                    SIG_MODE_USE_ROOT
                } else {
                    SIG_MODE_USE
                };
                [&[mode], session_id.as_slice(), key_signature]
                    .concat()
                    .into()
            }
            Self::Lazy {
                grant,
                owner_signature,
            } => {
                let envelope = (
                    (*grant).clone(),
                    Bytes::copy_from_slice(owner_signature),
                    Bytes::copy_from_slice(key_signature),
                )
                    .abi_encode_params();
                [&[SIG_MODE_ENABLE], envelope.as_slice()].concat().into()
            }
        }
    }
}

impl SessionAuth<'_> {
    /// The session id this authorization speaks for.
    pub fn session_id(&self, domain: &crate::GrantDomain) -> B256 {
        match self {
            Self::Enabled { session_id, .. } => *session_id,
            Self::Lazy { grant, .. } => domain.session_id(grant),
        }
    }
}
