//! A session key signing a message as its account (ERC-1271, nested as ERC-7739 nests it;
//! docs/permissions.md, "Signing as the account"): the digest the key signs, the hash a verifier
//! passes to `isValidSignature`, and the account's signature around the key's.
//!
//! The key never signs the app's hash itself: it signs ERC-7739's `TypedDataSign` (the app's
//! contents nested with the account's EIP-712 domain, in the app's domain) or `PersonalSign` (the
//! message's EIP-191 hash in the account's domain), so a signature made for one account verifies
//! on no other.

use crate::{permission::Permission, session_signer::SignerKind};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolValue};

pub use alloy_dyn_abi::TypedData;

/// `LeashAccount.eip712Domain()`'s name: the account's domain every nested digest names.
pub const ACCOUNT_DOMAIN_NAME: &str = "LeashAccount";
/// `LeashAccount.eip712Domain()`'s version.
pub const ACCOUNT_DOMAIN_VERSION: &str = "1";

/// The signature's form (the mode byte's low bits) of typed data.
pub const FORM_TYPED_DATA: u8 = 0;
/// The signature's form of a personal message.
pub const FORM_PERSONAL: u8 = 1;

/// ERC-7739's `PersonalSign(bytes prefixed)` type string.
const PERSONAL_SIGN_TYPE: &str = "PersonalSign(bytes prefixed)";

/// Why a message cannot be signed as the account in a form `SessionMessages` reads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The typed data's types, primary type or message do not make an EIP-712 struct.
    #[error("the typed data does not hash: {0}")]
    TypedData(#[source] alloy_dyn_abi::Error),
    /// The scope names the app by its domain's `verifyingContract`, which must be there.
    #[error("the typed data's domain names no verifyingContract")]
    NoVerifyingContract,
    /// ERC-7739's implicit contents name (the primary type) must not start with a lowercase letter
    /// nor hold `, )` or a zero byte.
    #[error(
        "the primary type {0:?} cannot be nested (ERC-7739: not empty, not starting with a \
         lowercase letter, none of \", )\" or a zero byte)"
    )]
    ContentsName(String),
    /// The signature holds a length as `uint16`.
    #[error("the {what} is {len} bytes; at most 65,535")]
    TooLong {
        /// The key signature or the contents type.
        what: &'static str,
        /// Its length.
        len: usize,
    },
}

/// A message a session signs as its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountMessage {
    /// A personal message (EIP-191, e.g. a SIWE login), by its EIP-191 hash.
    Personal {
        /// `keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message)`.
        hash: B256,
    },
    /// EIP-712 typed data of an app.
    TypedData(AppTypedData),
}

/// Typed data reduced to what the key's digest and the account's signature carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppTypedData {
    /// The app's domain.
    pub domain: Eip712Domain,
    /// Its `verifyingContract`: what a `typed-data-signing` permission names.
    pub verifying_contract: Address,
    /// `hashStruct` of the message.
    pub contents: B256,
    /// `encodeType` of the primary type (its name first, then its dependencies).
    pub contents_type: String,
}

impl AccountMessage {
    /// The personal message `message` (its bytes, as `personal_sign` takes them).
    pub fn personal(message: impl AsRef<[u8]>) -> Self {
        Self::Personal {
            hash: alloy_primitives::eip191_hash_message(message),
        }
    }

    /// Typed data as `eth_signTypedData_v4` takes it, refused when `SessionMessages` could not
    /// read it: a domain without `verifyingContract`, or a primary type that ERC-7739 cannot name.
    pub fn typed_data(data: &TypedData) -> Result<Self, MessageError> {
        let verifying_contract = data
            .domain
            .verifying_contract
            .ok_or(MessageError::NoVerifyingContract)?;
        let contents_type = data.encode_type().map_err(MessageError::TypedData)?;
        if !nestable(&data.primary_type) {
            return Err(MessageError::ContentsName(data.primary_type.clone()));
        }
        check_len("contents type", contents_type.len())?;
        Ok(Self::TypedData(AppTypedData {
            domain: data.domain.clone(),
            verifying_contract,
            contents: data.hash_struct().map_err(MessageError::TypedData)?,
            contents_type,
        }))
    }

    /// The hash a verifier passes to the account's `isValidSignature`: the EIP-191 hash, or the
    /// app's EIP-712 hash `keccak256(0x1901 ‖ appSeparator ‖ contents)`.
    pub fn hash(&self) -> B256 {
        match self {
            Self::Personal { hash } => *hash,
            Self::TypedData(data) => hash_typed_data(data.domain.separator(), data.contents),
        }
    }

    /// What the session key signs for `account` on chain `chain_id`: ERC-7739's `PersonalSign`
    /// in the account's domain, or `TypedDataSign` (the contents and the account's domain fields)
    /// in the app's domain.
    pub fn digest(&self, account: Address, chain_id: u64) -> B256 {
        let account_domain = account_domain(account, chain_id);
        match self {
            Self::Personal { hash } => {
                let struct_hash = keccak256((keccak256(PERSONAL_SIGN_TYPE), *hash).abi_encode());
                hash_typed_data(account_domain.separator(), struct_hash)
            }
            Self::TypedData(data) => {
                let type_hash = keccak256(format!(
                    "TypedDataSign({} contents,string name,string version,uint256 chainId,\
                     address verifyingContract,bytes32 salt){}",
                    data.contents_name(),
                    data.contents_type
                ));
                let nested = (
                    type_hash,
                    data.contents,
                    keccak256(ACCOUNT_DOMAIN_NAME),
                    keccak256(ACCOUNT_DOMAIN_VERSION),
                    U256::from(chain_id),
                    account,
                    B256::ZERO,
                );
                hash_typed_data(data.domain.separator(), keccak256(nested.abi_encode()))
            }
        }
    }

    /// The permission a session needs to sign this: `personal-sign`, or `typed-data-signing` of
    /// the app's `verifyingContract`.
    pub fn permission(&self) -> Permission {
        match self {
            Self::Personal { .. } => Permission::PersonalSign,
            Self::TypedData(data) => Permission::TypedDataSigning {
                address: data.verifying_contract,
            },
        }
    }

    /// The account's ERC-1271 signature: `validator (20) ‖ mode ‖ sessionId ‖ uint16
    /// keySignatureLength ‖ keySignature ‖ tail`, `mode = kind << 2 | form`; the tail, for typed
    /// data, `fields ‖ the app domain's present fields ‖ contents ‖ contentsType ‖ uint16
    /// contentsType.length`.
    pub fn account_signature(
        &self,
        validator: Address,
        session_id: B256,
        kind: SignerKind,
        key_signature: &[u8],
    ) -> Result<Bytes, MessageError> {
        let key_len = check_len("key signature", key_signature.len())?;
        let form = match self {
            Self::Personal { .. } => FORM_PERSONAL,
            Self::TypedData(_) => FORM_TYPED_DATA,
        };
        let mut signature = Vec::with_capacity(20 + 35 + key_signature.len());
        signature.extend_from_slice(validator.as_slice());
        signature.push(kind.mode_bits() | form);
        signature.extend_from_slice(session_id.as_slice());
        signature.extend_from_slice(&key_len.to_be_bytes());
        signature.extend_from_slice(key_signature);
        if let Self::TypedData(data) = self {
            signature.push(domain_fields(&data.domain));
            signature.extend_from_slice(&data.domain.encode_data());
            signature.extend_from_slice(data.contents.as_slice());
            signature.extend_from_slice(data.contents_type.as_bytes());
            // Checked when the message was made.
            let type_len = u16::try_from(data.contents_type.len()).unwrap_or(u16::MAX);
            signature.extend_from_slice(&type_len.to_be_bytes());
        }
        Ok(signature.into())
    }
}

impl AppTypedData {
    /// ERC-7739's implicit contents name: the contents type up to its first `(`.
    pub fn contents_name(&self) -> &str {
        self.contents_type
            .split_once('(')
            .map_or(self.contents_type.as_str(), |(name, _)| name)
    }
}

/// The account's EIP-712 domain, as `LeashAccount.eip712Domain()` answers it (fields `0x0f`:
/// name, version, chain id, the account; no salt).
pub fn account_domain(account: Address, chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some(ACCOUNT_DOMAIN_NAME.into()),
        Some(ACCOUNT_DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(account),
        None,
    )
}

/// ERC-5267's fields byte of `domain`: bit i for each present field, in EIP-712 order.
pub fn domain_fields(domain: &Eip712Domain) -> u8 {
    [
        domain.name.is_some(),
        domain.version.is_some(),
        domain.chain_id.is_some(),
        domain.verifying_contract.is_some(),
        domain.salt.is_some(),
    ]
    .iter()
    .enumerate()
    .fold(0, |fields, (bit, present)| {
        fields | (u8::from(*present) << bit)
    })
}

/// Whether `SessionMessages._contentsName` accepts `name`: not empty, not starting with a
/// lowercase letter, none of `, )` or a zero byte (a `(` ends the name, so it cannot be in it).
fn nestable(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.contains([',', ' ', ')', '(', '\0'])
}

fn check_len(what: &'static str, len: usize) -> Result<u16, MessageError> {
    u16::try_from(len).map_err(|_| MessageError::TooLong { what, len })
}

fn hash_typed_data(separator: B256, struct_hash: B256) -> B256 {
    keccak256(
        [
            &[0x19, 0x01][..],
            separator.as_slice(),
            struct_hash.as_slice(),
        ]
        .concat(),
    )
}

#[cfg(test)]
mod tests;
