//! A session signer of each kind beyond secp256k1, for the tests that run every kind.

use super::{Setup, key};
use alloy_primitives::Bytes;
use alloy_signer::SignerSync;
use alloy_sol_types::{SolValue, sol};
use leash_core::{
    session_signer::{P256Verification, SessionSigner},
    signing::PLACEHOLDER_SIGNATURE,
    webauthn::RpId,
};
use leash_sdk::signers::{ContractSigner, P256Key, P256SessionKey, SoftwareAuthenticator};

sol!(
    /// contracts/test/TestSmartOwner.sol: an ERC-1271 contract that accepts its owner's ECDSA
    /// signature of a hash.
    #[allow(missing_docs)]
    TestSmartOwner,
    "../bindings/artifacts/TestSmartOwner.json"
);

/// A signer of each kind beyond secp256k1, named for the failure messages (the contract deployed
/// on `s`'s chain, once per chain).
pub fn signers(s: &mut Setup) -> Vec<(&'static str, Box<dyn SessionSigner>)> {
    let rp_id = RpId::new("wallet.example").expect("a host name");
    let passkey =
        |verification| SoftwareAuthenticator::new(P256Key::random(), rp_id.clone(), verification);
    vec![
        (
            "P-256 by the precompile",
            Box::new(P256SessionKey::new(
                P256Key::random(),
                P256Verification::Precompile,
            )),
        ),
        (
            "P-256 by the Solidity verifier",
            Box::new(P256SessionKey::new(
                P256Key::random(),
                P256Verification::Fallback,
            )),
        ),
        (
            "WebAuthn by the precompile",
            Box::new(passkey(P256Verification::Precompile)),
        ),
        (
            "WebAuthn by the Solidity verifier",
            Box::new(passkey(P256Verification::Fallback)),
        ),
        ("an ERC-1271 contract", Box::new(contract_signer(s))),
    ]
}

/// A `TestSmartOwner` of a fresh ECDSA key, deployed, as a [`ContractSigner`] whose signatures its
/// owner makes; the placeholder is an ECDSA signature that recovers to no key.
fn contract_signer(s: &mut Setup) -> ContractSigner {
    let owner = key(0x5c);
    let init_code: Bytes = [
        TestSmartOwner::BYTECODE.as_ref(),
        &owner.address().abi_encode(),
    ]
    .concat()
    .into();
    let address = s.deploy(&init_code);
    ContractSigner::new(address, PLACEHOLDER_SIGNATURE.into(), move |hash| {
        Ok(owner.sign_hash_sync(&hash)?.as_bytes().into())
    })
}
