//! Owner signatures, the placeholders, and the EIP-191 form of a `personal_sign` signature.

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

/// The placeholder in the EIP-191 form (v = 31): for a signer that answers with `personal_sign`
/// (the Wallet API's signer, `cast wallet sign <hash>`). It takes the EIP-191 path, which costs
/// more than the raw one (one more keccak), so it covers a `personal_sign` signature's cost in
/// every form; [`PLACEHOLDER_SIGNATURE`] covers it in the use forms only.
pub const EIP191_PLACEHOLDER_SIGNATURE: [u8; 65] = {
    let mut signature = PLACEHOLDER_SIGNATURE;
    signature[64] += EIP191_V_OFFSET;
    signature
};

/// What a signature's v is raised by to say "EIP-191 form" (Safe's convention for `eth_sign`):
/// `LeashAccount` and `SessionKeyValidator` read v ∈ {31, 32} as a signature over
/// [`eip191_hash`] of the UserOperation hash and recover it with v − 4.
pub const EIP191_V_OFFSET: u8 = 4;

/// The EIP-191 hash of a UserOperation hash, `keccak256("\x19Ethereum Signed Message:\n32" ‖
/// user_op_hash)`: what `personal_sign` of the 32-byte hash signs.
pub fn eip191_hash(user_op_hash: B256) -> B256 {
    alloy_primitives::eip191_hash_message(user_op_hash)
}

/// A `personal_sign` signature of a UserOperation hash that cannot be put in the EIP-191 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Eip191FormError {
    /// Not `r ‖ s ‖ v`.
    #[error("a personal_sign signature is 65 bytes (r ‖ s ‖ v), not {0}")]
    Length(usize),
    /// A v that is neither 27/28 nor 0/1 (v ∈ {31, 32} is already the EIP-191 form).
    #[error("a personal_sign signature's v is 27 or 28 (or 0 or 1), not {0}")]
    V(u8),
}

/// Puts a `personal_sign` signature of a UserOperation hash (65 bytes `r ‖ s ‖ v`, v in {27, 28}
/// or {0, 1}) in the form the account and the validator read as EIP-191: v + 4, so v ∈ {31, 32}.
/// The raw form (v in {27, 28}) is a signature of the hash itself; the contracts tell the two apart
/// by v alone, so one signature is recovered once.
pub fn to_eip191_form(personal_signature: &[u8]) -> Result<[u8; 65], Eip191FormError> {
    let mut signature: [u8; 65] = personal_signature
        .try_into()
        .map_err(|_| Eip191FormError::Length(personal_signature.len()))?;
    signature[64] = match signature[64] {
        v @ (27 | 28) => v + EIP191_V_OFFSET,
        v @ (0 | 1) => v + 27 + EIP191_V_OFFSET,
        v => return Err(Eip191FormError::V(v)),
    };
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Signature, b256, hex, keccak256};
    use alloy_signer_local::PrivateKeySigner;

    /// `cast wallet sign --private-key 0x…a11ce keccak256("userOpHash")` (cast 1.7.1), and the same
    /// in the EIP-191 form: tests/sol/unit/Eip191Signatures.t.sol checks that `LeashAccount`
    /// accepts it for that hash from the account of key 0xa11ce.
    const CAST_SIGNATURE: [u8; 65] = hex!(
        "9848204da701e12229e9d8d7a5c9fa71441a87d74f18b36183d4dd6110e5f48f3b7e5550a6b6c1f156e1265690443dd7bbe0fe27bccc76871de04ea2b9d20c871b"
    );
    const CAST_SIGNATURE_EIP191: [u8; 65] = hex!(
        "9848204da701e12229e9d8d7a5c9fa71441a87d74f18b36183d4dd6110e5f48f3b7e5550a6b6c1f156e1265690443dd7bbe0fe27bccc76871de04ea2b9d20c871f"
    );

    #[test]
    fn eip191_hash_prefixes_the_32_bytes() {
        let hash = keccak256("userOpHash");
        let mut preimage = b"\x19Ethereum Signed Message:\n32".to_vec();
        preimage.extend_from_slice(hash.as_slice());
        assert_eq!(eip191_hash(hash), keccak256(&preimage));
        assert_eq!(
            hash,
            b256!("00b917632b69261f21d20e0cabdf9f3fa1255c6e500021997a16cf3a46d80297")
        );
    }

    #[test]
    fn personal_sign_in_the_eip191_form_recovers_over_the_eip191_hash() {
        let signer = PrivateKeySigner::random();
        let hash = keccak256("a userOpHash");
        let personal = signer
            .sign_message_sync(hash.as_slice())
            .expect("personal_sign")
            .as_bytes();
        let form = to_eip191_form(&personal).expect("a 65-byte signature, v 27 or 28");
        assert_eq!(form[..64], personal[..64]);
        assert_eq!(form[64], personal[64] + 4);
        assert!(matches!(form[64], 31 | 32));
        // What the contracts do: v − 4, over the EIP-191 hash.
        let mut recovered = form;
        recovered[64] -= EIP191_V_OFFSET;
        let signature = Signature::try_from(recovered.as_slice()).expect("r ‖ s ‖ v");
        assert_eq!(
            signature
                .recover_address_from_prehash(&eip191_hash(hash))
                .expect("recovers"),
            signer.address()
        );
        // The raw hash does not recover to the signer from these bytes.
        assert_ne!(
            signature.recover_address_from_prehash(&hash).ok(),
            Some(signer.address())
        );
    }

    #[test]
    fn the_cast_vector() {
        let signer: PrivateKeySigner =
            "0x00000000000000000000000000000000000000000000000000000000000a11ce"
                .parse()
                .expect("a private key");
        let hash = keccak256("userOpHash");
        assert_eq!(
            signer
                .sign_message_sync(hash.as_slice())
                .expect("personal_sign")
                .as_bytes(),
            CAST_SIGNATURE
        );
        assert_eq!(
            to_eip191_form(&CAST_SIGNATURE).expect("cast's signature has v 27 or 28"),
            CAST_SIGNATURE_EIP191
        );
    }

    #[test]
    fn v_as_0_or_1_is_accepted_and_anything_else_refused() {
        let mut signature = CAST_SIGNATURE;
        signature[64] = 0;
        assert_eq!(to_eip191_form(&signature).expect("v 0 is accepted")[64], 31);
        signature[64] = 1;
        assert_eq!(to_eip191_form(&signature).expect("v 1 is accepted")[64], 32);
        for v in [2, 26, 29, 30, 31, 32, 33, 255] {
            signature[64] = v;
            assert_eq!(to_eip191_form(&signature), Err(Eip191FormError::V(v)));
        }
        assert_eq!(
            to_eip191_form(&CAST_SIGNATURE[..64]),
            Err(Eip191FormError::Length(64))
        );
        assert_eq!(to_eip191_form(&[0; 66]), Err(Eip191FormError::Length(66)));
    }

    #[test]
    fn the_eip191_placeholder_is_the_placeholder_in_that_form() {
        assert_eq!(
            to_eip191_form(&PLACEHOLDER_SIGNATURE).expect("the placeholder has v 27"),
            EIP191_PLACEHOLDER_SIGNATURE
        );
        assert_eq!(EIP191_PLACEHOLDER_SIGNATURE[64], 31);
    }
}
