//! The owner's signature of the capability: an EOA or an EIP-7702 account (whose key is the
//! EOA's own) by ecrecover, a deployed smart account by ERC-1271, and an account not deployed yet
//! by ERC-6492.

use crate::chain::{CallError, EthCall};
use alloy_primitives::{Address, B256, Bytes, Signature, b256, hex};
use alloy_sol_types::{SolInterface, SolValue, sol};
use leash_bindings::Erc6492Verifier::{self, Erc6492VerifierErrors};

sol! {
    function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
}

/// ERC-1271's magic value: `isValidSignature.selector`.
const ERC1271_MAGIC: [u8; 4] = hex!("1626ba7e");

/// ERC-6492's suffix of a wrapped signature.
pub const ERC6492_MAGIC: B256 =
    b256!("0x6492649264926492649264926492649264926492649264926492649264926492");

/// How the owner's signature was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerKind {
    /// ecrecover: an EOA, or an EIP-7702 account signing with its own key.
    Eoa,
    /// The deployed account's `isValidSignature`.
    Erc1271,
    /// ERC-6492: the account's factory, then its `isValidSignature`, in one deployless call.
    Erc6492,
}

/// Why the owner's signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnerError {
    /// 65 bytes that recover to another address, and the owner has no code to ask.
    #[error(
        "the owner signature recovers to {recovered}, not to the owner {owner}, which has no code for ERC-1271"
    )]
    Recovered {
        /// The owner.
        owner: Address,
        /// Who signed.
        recovered: Address,
    },
    /// Not an ECDSA signature, and the owner has no code to ask.
    #[error(
        "the owner signature ({length} bytes) is not an ECDSA signature, and the owner {owner} has no code for ERC-1271"
    )]
    Malformed {
        /// The owner.
        owner: Address,
        /// The signature's length.
        length: usize,
    },
    /// The account's `isValidSignature` did not return the magic value.
    #[error(
        "the owner {owner} refused the signature (ERC-1271 isValidSignature answered {answer})"
    )]
    Erc1271Refused {
        /// The owner.
        owner: Address,
        /// What it returned, or `revert …`.
        answer: String,
    },
    /// The ERC-6492 check (leash-bindings' `Erc6492Verifier`, run by a deployless call) did not
    /// accept it: the account refused, or the wrapped factory call failed.
    #[error("the counterfactual owner {owner} refused the signature (ERC-6492: {answer})")]
    Erc6492Refused {
        /// The owner.
        owner: Address,
        /// The verifier's answer: its returned byte, or why it reverted.
        answer: String,
    },
    /// A smart-account signature, and no chain to ask.
    #[error(
        "the owner {owner} signs as a contract ({what}), and this verifier has no chain to ask"
    )]
    NoChain {
        /// The owner.
        owner: Address,
        /// `ERC-1271` or `ERC-6492`.
        what: &'static str,
    },
    /// The chain could not answer.
    #[error("checking the owner {owner}'s signature: {reason}")]
    Chain {
        /// The owner.
        owner: Address,
        /// Why.
        reason: String,
    },
}

/// Checks that `owner` signed `hash` (the SIWE message's EIP-191 digest) with `signature`.
pub async fn verify_owner<C: EthCall>(
    chain: Option<&C>,
    owner: Address,
    hash: B256,
    signature: &[u8],
) -> Result<OwnerKind, OwnerError> {
    if signature.len() >= 32 && signature[signature.len() - 32..] == ERC6492_MAGIC[..] {
        let chain = chain.ok_or(OwnerError::NoChain {
            owner,
            what: "ERC-6492",
        })?;
        return erc6492(chain, owner, hash, signature).await;
    }
    // ecrecover first: no chain round trip for the common case, and a 7702 account's code
    // would answer the same for its own key.
    let recovered = Signature::try_from(signature)
        .ok()
        .and_then(|sig| sig.recover_address_from_prehash(&hash).ok());
    if recovered == Some(owner) {
        return Ok(OwnerKind::Eoa);
    }
    let refusal = match recovered {
        Some(recovered) => OwnerError::Recovered { owner, recovered },
        None => OwnerError::Malformed {
            owner,
            length: signature.len(),
        },
    };
    let Some(chain) = chain else {
        return Err(match refusal {
            OwnerError::Malformed { .. } => OwnerError::NoChain {
                owner,
                what: "ERC-1271",
            },
            recovered => recovered,
        });
    };
    let input = isValidSignatureCall {
        hash,
        signature: Bytes::copy_from_slice(signature),
    };
    let answer = chain
        .eth_call(
            Some(owner),
            alloy_sol_types::SolCall::abi_encode(&input).into(),
        )
        .await;
    match answer {
        // No code answers with no bytes: an EOA whose key did not sign.
        Ok(output) if output.is_empty() => Err(refusal),
        Ok(output) if output.len() >= 4 && output[..4] == ERC1271_MAGIC => Ok(OwnerKind::Erc1271),
        Ok(output) => Err(OwnerError::Erc1271Refused {
            owner,
            answer: output.to_string(),
        }),
        Err(CallError::Reverted(data)) => Err(OwnerError::Erc1271Refused {
            owner,
            answer: format!("revert {data}"),
        }),
        Err(CallError::Unavailable(reason)) => Err(OwnerError::Chain { owner, reason }),
    }
}

async fn erc6492<C: EthCall>(
    chain: &C,
    owner: Address,
    hash: B256,
    signature: &[u8],
) -> Result<OwnerKind, OwnerError> {
    // Our `Erc6492Verifier` (contracts/offchain), run as creation code: nothing is deployed, and
    // its constructor answers with one byte, `0x01` when valid.
    let mut input = Erc6492Verifier::BYTECODE.to_vec();
    input.extend((owner, hash, Bytes::copy_from_slice(signature)).abi_encode_params());
    match chain.eth_call(None, input.into()).await {
        Ok(output) if output.as_ref() == [1] => Ok(OwnerKind::Erc6492),
        Ok(output) => Err(OwnerError::Erc6492Refused {
            owner,
            answer: format!("returned {output}"),
        }),
        Err(CallError::Reverted(data)) => Err(OwnerError::Erc6492Refused {
            owner,
            answer: erc6492_revert(&data),
        }),
        Err(CallError::Unavailable(reason)) => Err(OwnerError::Chain { owner, reason }),
    }
}

/// The verifier's revert in words when it is one of its errors (the wrapped factory call failed,
/// or deployed something else), else its data.
fn erc6492_revert(data: &Bytes) -> String {
    match Erc6492VerifierErrors::abi_decode(data) {
        Ok(Erc6492VerifierErrors::FactoryCallFailed(failed)) => format!(
            "the factory {} reverted with {}",
            failed.factory, failed.reason
        ),
        Ok(Erc6492VerifierErrors::SignerNotDeployed(missing)) => {
            format!("the factory {} did not deploy the owner", missing.factory)
        }
        Err(_) => format!("reverted {data}"),
    }
}
