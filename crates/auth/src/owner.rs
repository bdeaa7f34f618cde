//! The owner's signature of the capability: an EOA or an EIP-7702 account (whose key is the
//! EOA's own) by ecrecover, a deployed smart account by ERC-1271, and an account not deployed yet
//! by ERC-6492.

use crate::chain::{CallError, EthCall};
use alloy_primitives::{Address, B256, Bytes, Signature, b256, bytes, hex};
use alloy_sol_types::{SolValue, sol};

sol! {
    function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
}

/// ERC-1271's magic value: `isValidSignature.selector`.
const ERC1271_MAGIC: [u8; 4] = hex!("1626ba7e");

/// ERC-6492's suffix of a wrapped signature.
pub const ERC6492_MAGIC: B256 =
    b256!("0x6492649264926492649264926492649264926492649264926492649264926492");

/// ERC-6492's `ValidateSigOffchain` creation code: deployed by an `eth_call` with no `to`, its
/// constructor deploys the account through the wrapped factory call, asks it `isValidSignature`,
/// and returns one byte, `0x01` when valid. The bytes are the EIP's reference build, as viem
/// ships them (`erc6492SignatureValidatorByteCode`); nothing is deployed on any chain.
const ERC6492_VALIDATOR: Bytes = bytes!(
    "608060405234801561001057600080fd5b506040516106ad3803806106ad83398101604081905261002f91610537565b600061003c848484610048565b9050806000526001601ff35b60007f649264926492649264926492649264926492649264926492649264926492649261007483610425565b036101e7576000606080848060200190518101906100929190610590565b60405192955090935091506000906001600160a01b038516906100b69085906105f6565b6000604051808303816000865af19150503d80600081146100f3576040519150601f19603f3d011682016040523d82523d6000602084013e6100f8565b606091505b50509050876001600160a01b03163b60000361016057806101605760405162461bcd60e51b815260206004820152601e60248201527f5369676e617475726556616c696461746f723a206465706c6f796d656e74000060448201526064015b60405180910390fd5b604051630b135d3f60e11b808252906001600160a01b038a1690631626ba7e90610190908b908790600401610612565b602060405180830381865afa1580156101ad573d6000803e3d6000fd5b505050506040513d601f19601f820116820180604052508101906101d1919061064c565b6001600160e01b0319161494505050505061041e565b6001600160a01b0384163b1561027a57604051630b135d3f60e11b808252906001600160a01b03861690631626ba7e906102279087908790600401610612565b602060405180830381865afa158015610244573d6000803e3d6000fd5b505050506040513d601f19601f82011682018060405250810190610268919061064c565b6001600160e01b03191614905061041e565b81516041146102df5760405162461bcd60e51b815260206004820152603a602482015260008051602061068d83398151915260448201527f3a20696e76616c6964207369676e6174757265206c656e6774680000000000006064820152608401610157565b6102e761043e565b5060208201516040808401518451859392600091859190811061030c5761030c610676565b016020015160f81c9050601b811480159061032b57508060ff16601c14155b1561038c5760405162461bcd60e51b815260206004820152603b602482015260008051602061068d83398151915260448201527f3a20696e76616c6964207369676e617475726520762076616c756500000000006064820152608401610157565b604080516000808252602082018084528a905260ff841692820192909252606081018590526080810184905260019060a0016020604051602081039080840390855afa1580156103e0573d6000803e3d6000fd5b5050604051601f1901519150506001600160a01b038116158015906104165750886001600160a01b0316816001600160a01b0316145b955050505050505b9392505050565b600060208251101561043657600080fd5b508051015190565b60405180606001604052806003906020820280368337509192915050565b6001600160a01b038116811461047157600080fd5b50565b634e487b7160e01b600052604160045260246000fd5b60005b838110156104a557818101518382015260200161048d565b50506000910152565b600082601f8301126104bf57600080fd5b81516001600160401b038111156104d8576104d8610474565b604051601f8201601f19908116603f011681016001600160401b038111828210171561050657610506610474565b60405281815283820160200185101561051e57600080fd5b61052f82602083016020870161048a565b949350505050565b60008060006060848603121561054c57600080fd5b83516105578161045c565b6020850151604086015191945092506001600160401b0381111561057a57600080fd5b610586868287016104ae565b9150509250925092565b6000806000606084860312156105a557600080fd5b83516105b08161045c565b60208501519093506001600160401b038111156105cc57600080fd5b6105d8868287016104ae565b604086015190935090506001600160401b0381111561057a57600080fd5b6000825161060881846020870161048a565b9190910192915050565b828152604060208201526000825180604084015261063781606085016020870161048a565b601f01601f1916919091016060019392505050565b60006020828403121561065e57600080fd5b81516001600160e01b03198116811461041e57600080fd5b634e487b7160e01b600052603260045260246000fdfe5369676e617475726556616c696461746f72237265636f7665725369676e6572"
);

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
    /// The ERC-6492 check deployed nothing that accepts it.
    #[error("the counterfactual owner {owner} refused the signature (ERC-6492: {answer})")]
    Erc6492Refused {
        /// The owner.
        owner: Address,
        /// The validator's answer.
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
    let mut input = ERC6492_VALIDATOR.to_vec();
    input.extend((owner, hash, Bytes::copy_from_slice(signature)).abi_encode_params());
    match chain.eth_call(None, input.into()).await {
        Ok(output) if output.as_ref() == [1] => Ok(OwnerKind::Erc6492),
        Ok(output) => Err(OwnerError::Erc6492Refused {
            owner,
            answer: format!("returned {output}"),
        }),
        Err(CallError::Reverted(data)) => Err(OwnerError::Erc6492Refused {
            owner,
            answer: format!("reverted {data}"),
        }),
        Err(CallError::Unavailable(reason)) => Err(OwnerError::Chain { owner, reason }),
    }
}
