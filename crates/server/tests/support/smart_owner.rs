//! `TestSmartOwner` (contracts/test): an ERC-1271 contract that accepts its owner's ECDSA
//! signature of a hash, deployed on the served embedded chain as a contract session signer.

use super::Harness;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolValue, sol};
use leash_bindings::{CREATE2_DEPLOYER, create2_address};
use serde_json::{Value, json};

sol!(TestSmartOwner, "../bindings/artifacts/TestSmartOwner.json");

/// A `TestSmartOwner` of `owner`, deployed through the CREATE2 deployer: its address.
pub(crate) fn deploy(harness: &Harness, owner: Address) -> eyre::Result<Address> {
    let init_code = [TestSmartOwner::BYTECODE.as_ref(), &owner.abi_encode()].concat();
    let address = create2_address(B256::ZERO, &init_code);
    let input: Bytes = [B256::ZERO.as_slice(), &init_code].concat().into();
    harness
        .chain()?
        .with_chain(|chain| chain.transact(chain.bundler(), CREATE2_DEPLOYER, input, U256::ZERO))?;
    Ok(address)
}

/// A `contract` signature of `hash` by `owner`'s `TestSmartOwner`: its owner's ECDSA signature.
pub(crate) fn signature(owner: &PrivateKeySigner, hash: B256) -> eyre::Result<Value> {
    let signature = owner.sign_hash_sync(&hash)?;
    Ok(json!({ "type": "contract", "data": Bytes::from(signature.as_bytes()) }))
}
