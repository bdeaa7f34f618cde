//! Contract session signers (signer kind 1): an ERC-1271 contract whose signature of a
//! UserOperation hash comes from wherever its owners are.

use alloy_primitives::{Address, B256, Bytes};
use leash_core::{
    error::OperationError,
    session_signer::{PublicSigner, SessionKeyType, SessionSigner},
};
use std::fmt;

/// What produces a contract's signature of a hash (its owners' keys, a remote signer).
type SignHash = dyn Fn(B256) -> Result<Bytes, alloy_signer::Error> + Send + Sync;

/// An ERC-1271 contract as a session's signer: its key signature is `address ‖ its signature`,
/// and the validator asks `address.isValidSignature(userOpHash, its signature)`.
pub struct ContractSigner {
    address: Address,
    placeholder: Bytes,
    sign: Box<SignHash>,
}

impl ContractSigner {
    /// The contract at `address`, whose signature of a hash `sign` produces. `placeholder` is a
    /// signature of the same shape that the contract refuses after doing the work of a real one
    /// (for an ECDSA-owned contract, 65 bytes recovering to no key), carried by estimates.
    pub fn new(
        address: Address,
        placeholder: Bytes,
        sign: impl Fn(B256) -> Result<Bytes, alloy_signer::Error> + Send + Sync + 'static,
    ) -> Self {
        Self {
            address,
            placeholder,
            sign: Box::new(sign),
        }
    }
}

impl fmt::Debug for ContractSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContractSigner")
            .field("address", &self.address)
            .field("placeholder", &self.placeholder)
            .finish_non_exhaustive()
    }
}

impl SessionSigner for ContractSigner {
    fn public_signer(&self) -> PublicSigner {
        PublicSigner {
            id: self.address,
            key_type: SessionKeyType::Contract {
                placeholder: self.placeholder.clone(),
            },
        }
    }

    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError> {
        let signature = (self.sign)(user_op_hash)?;
        Ok([self.address.as_slice(), &signature].concat().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_signature_is_the_address_then_the_contracts_signature() {
        let address = Address::repeat_byte(0xc0);
        let signer = ContractSigner::new(address, Bytes::from_static(&[0xff; 65]), |hash| {
            Ok(Bytes::copy_from_slice(&hash[..4]))
        });
        let signature = signer.key_signature(B256::repeat_byte(7)).expect("signs");
        assert_eq!(&signature[..20], address.as_slice());
        assert_eq!(&signature[20..], &[7; 4]);
        let public = signer.public_signer();
        assert_eq!(public.check(&signature), Ok(()));
        assert_eq!(public.dummy_key_signature().len(), 20 + 65);

        let failing = ContractSigner::new(address, Bytes::new(), |_| {
            Err(alloy_signer::Error::other("the owners said no"))
        });
        assert_eq!(
            failing
                .key_signature(B256::ZERO)
                .map_err(|e| e.to_string())
                .expect_err("fails"),
            "signing failed: the owners said no"
        );
    }
}
