//! Owner signatures.

use crate::SdkError;
use alloy_primitives::{B256, Bytes};
use alloy_signer::SignerSync;

/// The owner's signature of a UserOperation hash: the EOA's key signs the 32-byte hash as it is
/// (it is already EIP-712), encoded `r || s || v` with `v` in {27, 28}, as `LeashAccount` expects.
pub fn sign_owner(signer: &impl SignerSync, user_op_hash: B256) -> Result<Bytes, SdkError> {
    sign_hash_raw(signer, user_op_hash)
}

/// `r ‖ s ‖ v` (v in {27, 28}) of `hash` signed as it is, without an EIP-191 prefix: what the
/// account and the validator recover against.
pub(crate) fn sign_hash_raw(signer: &impl SignerSync, hash: B256) -> Result<Bytes, SdkError> {
    Ok(signer.sign_hash_sync(&hash)?.as_bytes().into())
}
