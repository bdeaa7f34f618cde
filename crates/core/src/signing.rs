//! Owner signatures.

use crate::error::OperationError;
use alloy_primitives::{B256, Bytes};
use alloy_signer::SignerSync;

/// The owner's signature of a UserOperation hash: the EOA's key signs the 32-byte hash as it is
/// (it is already EIP-712), encoded `r || s || v` with `v` in {27, 28}, as `LeashAccount` expects.
pub fn sign_owner(signer: &impl SignerSync, user_op_hash: B256) -> Result<Bytes, OperationError> {
    sign_hash_raw(signer, user_op_hash)
}

/// A well-formed `r ‖ s ‖ v` that recovers to no key (`r` is above the curve order): the signature
/// a UserOperation carries while its gas is estimated. `LeashAccount` and the validator do all the
/// work of a real signature before they return `SIG_VALIDATION_FAILED` for it, so a bundler's
/// estimate covers the signed operation.
pub const PLACEHOLDER_SIGNATURE: [u8; 65] = {
    let mut signature = [0xff; 65];
    signature[32] = 0x7f; // s in the lower half-order, as a real signature's
    signature[64] = 27;
    signature
};

/// `r ‖ s ‖ v` (v in {27, 28}) of `hash` signed as it is, without an EIP-191 prefix: what the
/// account and the validator recover against.
pub(crate) fn sign_hash_raw(signer: &impl SignerSync, hash: B256) -> Result<Bytes, OperationError> {
    Ok(signer.sign_hash_sync(&hash)?.as_bytes().into())
}
