//! EIP-7702: delegating an EOA to `LeashAccount`.

use crate::error::OperationError;
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{Address, Bytes, U256};
use alloy_signer::SignerSync;

/// The code prefix of a delegated EOA: `0xef0100 || delegate`.
pub const DELEGATION_DESIGNATOR_PREFIX: [u8; 3] = [0xef, 0x01, 0x00];

/// A UserOperation `initCode` that says "the sender is an EIP-7702 account": the EntryPoint then
/// binds the UserOperation hash to the sender's current delegate. Padded to 20 bytes, as the
/// EntryPoint compares it as an address.
pub const EIP7702_INIT_CODE_MARKER: [u8; 20] = {
    let mut marker = [0u8; 20];
    marker[0] = 0x77;
    marker[1] = 0x02;
    marker
};

/// The code an EOA carries once delegated to `delegate`.
pub fn delegation_designator(delegate: Address) -> Bytes {
    [DELEGATION_DESIGNATOR_PREFIX.as_slice(), delegate.as_slice()]
        .concat()
        .into()
}

/// The delegate of an account whose code is `code`, if it is an EIP-7702 delegation.
pub fn delegate_of(code: &[u8]) -> Option<Address> {
    match code {
        [0xef, 0x01, 0x00, rest @ ..] if rest.len() == 20 => Some(Address::from_slice(rest)),
        _ => None,
    }
}

/// Signs an EIP-7702 authorization delegating the signer's EOA to `delegate`.
///
/// `nonce` is the EOA's account nonce at the time the authorization is applied: its current nonce
/// when someone else sends the transaction, one more than that when the EOA sends it itself.
/// `chain_id` zero makes the authorization valid on every chain.
pub fn sign_authorization(
    signer: &impl SignerSync,
    chain_id: u64,
    delegate: Address,
    nonce: u64,
) -> Result<SignedAuthorization, OperationError> {
    let authorization = Authorization {
        chain_id: U256::from(chain_id),
        address: delegate,
        nonce,
    };
    let signature = signer.sign_hash_sync(&authorization.signature_hash())?;
    Ok(authorization.into_signed(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn designator_round_trips() {
        let delegate = address!("0x1111111111111111111111111111111111111111");
        assert_eq!(
            delegate_of(&delegation_designator(delegate)),
            Some(delegate)
        );
        assert_eq!(delegate_of(&[0xef, 0x01, 0x00]), None);
        assert_eq!(delegate_of(&[0x60; 23]), None);
    }
}
