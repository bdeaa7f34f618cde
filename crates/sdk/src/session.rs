//! Session-key UserOperation signatures and nonce keys for `SessionKeyValidator`.

use crate::{SdkError, signing::sign_hash_raw};
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

/// A well-formed ECDSA signature that recovers to no session key: for gas estimation, where the
/// validator must do its full work and return `SIG_VALIDATION_FAILED` instead of reverting.
const DUMMY_ECDSA: [u8; 65] = {
    let mut signature = [0xff; 65];
    signature[32] = 0x7f; // keep s in the lower half-order, as a real signature would be
    signature[64] = 27;
    signature
};

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

    /// A signature of the right length and shape for gas estimation; it fails validation with
    /// `SIG_VALIDATION_FAILED` (never a revert).
    pub fn dummy(&self) -> Bytes {
        self.encode(&DUMMY_ECDSA)
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
