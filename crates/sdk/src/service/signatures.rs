//! Signatures of a UserOperation hash made outside this process: which key made them, and the
//! form the account's contracts take them in.

use super::ServiceError;
use alloy_primitives::{Address, B256, Bytes, Signature, eip191_hash_message};

/// What a key signed: the UserOperation hash itself, or the hash as an EIP-191 message
/// (`personal_sign`, `cast wallet sign` without `--no-hash`), which is what most wallets can
/// sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedPayload {
    /// The 32-byte hash, with no prefix.
    RawHash,
    /// `"\x19Ethereum Signed Message:\n32" ‖ hash`.
    PersonalSign,
}

/// A key's signature of a UserOperation hash, checked, in the form the contracts verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationSignature {
    /// What the key signed.
    pub payload: SignedPayload,
    /// `r ‖ s ‖ v`: `v` in {27, 28} over the raw hash, and `v + 4` (31 or 32) over the EIP-191
    /// message, which tells the account and the validator to recover over the prefixed hash.
    pub contract_form: Bytes,
}

/// The amount added to `v` to mark a signature of the EIP-191 message of the hash.
const PERSONAL_SIGN_V_OFFSET: u8 = 4;

/// Checks that `signature` of `user_op_hash` recovers to `expected`, over the hash itself or
/// over its EIP-191 message, and gives it in the contracts' form; any other signer fails as
/// [`ServiceError::OperationSignatureMismatch`].
pub fn verify_operation_signature(
    user_op_hash: B256,
    signature: &Signature,
    expected: Address,
) -> Result<OperationSignature, ServiceError> {
    let recovers_over =
        |digest: B256| signature.recover_address_from_prehash(&digest).ok() == Some(expected);
    let raw: [u8; 65] = signature.as_bytes();
    if recovers_over(user_op_hash) {
        return Ok(OperationSignature {
            payload: SignedPayload::RawHash,
            contract_form: raw.into(),
        });
    }
    if recovers_over(eip191_hash_message(user_op_hash)) {
        let mut marked = raw;
        marked[64] += PERSONAL_SIGN_V_OFFSET;
        return Ok(OperationSignature {
            payload: SignedPayload::PersonalSign,
            contract_form: marked.into(),
        });
    }
    Err(ServiceError::OperationSignatureMismatch {
        user_op_hash,
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    const HASH: B256 = B256::repeat_byte(0x42);

    #[test]
    fn a_raw_signature_keeps_its_v() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = key.sign_hash_sync(&HASH)?;
        let checked = verify_operation_signature(HASH, &signature, key.address())?;
        assert_eq!(checked.payload, SignedPayload::RawHash);
        assert_eq!(
            checked.contract_form.as_ref(),
            signature.as_bytes().as_slice()
        );
        Ok(())
    }

    #[test]
    fn a_personal_sign_signature_gets_v_plus_four() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = key.sign_message_sync(HASH.as_slice())?;
        let checked = verify_operation_signature(HASH, &signature, key.address())?;
        assert_eq!(checked.payload, SignedPayload::PersonalSign);
        assert_eq!(checked.contract_form[..64], signature.as_bytes()[..64]);
        assert!([31, 32].contains(&checked.contract_form[64]));
        Ok(())
    }

    #[test]
    fn another_key_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let signature = PrivateKeySigner::random().sign_hash_sync(&HASH)?;
        let error = verify_operation_signature(HASH, &signature, key.address())
            .err()
            .map(|e| e.code());
        assert_eq!(error, Some(1014));
        Ok(())
    }
}
