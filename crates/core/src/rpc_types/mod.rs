//! The ERC-4337 v0.8 bundler JSON-RPC shapes (ERC-7769): the unpacked UserOperation with its
//! `eip7702Auth`, gas estimates and receipts.
//!
//! Defined here rather than taken from `alloy-rpc-types-eth::erc4337`, whose UserOperation has no
//! `eip7702Auth` and whose estimate uses the v0.6 field name `verificationGas`.

use crate::sender::SignedUserOperation;
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::{Log, TransactionReceipt};
use leash_bindings::PackedUserOperation;
use serde::{Deserialize, Serialize};

/// A UserOperation as bundlers take it over JSON-RPC: gas fields unpacked, `initCode` split into
/// `factory` and `factoryData`, `paymasterAndData` split into its four parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcUserOperation {
    /// The account.
    pub sender: Address,
    /// `key << 64 | sequence`.
    pub nonce: U256,
    /// The first 20 bytes of `initCode`. For an EIP-7702 account it is the marker
    /// [`EIP7702_INIT_CODE_MARKER`](crate::eip7702::EIP7702_INIT_CODE_MARKER), which the JSON spells `"0x7702"` as bundlers expect.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "factory_json"
    )]
    pub factory: Option<Address>,
    /// The rest of `initCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factory_data: Option<Bytes>,
    /// The account calldata.
    pub call_data: Bytes,
    /// The low half of `accountGasLimits`.
    pub call_gas_limit: U256,
    /// The high half of `accountGasLimits`.
    pub verification_gas_limit: U256,
    /// Gas paid to the bundler for what the EntryPoint does not meter.
    pub pre_verification_gas: U256,
    /// The low half of `gasFees`.
    pub max_fee_per_gas: U256,
    /// The high half of `gasFees`.
    pub max_priority_fee_per_gas: U256,
    /// The first 20 bytes of `paymasterAndData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster: Option<Address>,
    /// Bytes 20..36 of `paymasterAndData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// Bytes 36..52 of `paymasterAndData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_post_op_gas_limit: Option<U256>,
    /// The rest of `paymasterAndData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_data: Option<Bytes>,
    /// The account's signature.
    pub signature: Bytes,
    /// The sender's EIP-7702 authorization, applied before validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip7702_auth: Option<SignedAuthorization>,
}

/// `factory` in JSON: an address, or `"0x7702"` for the EIP-7702 marker.
mod factory_json {
    use crate::eip7702::EIP7702_INIT_CODE_MARKER;
    use alloy_primitives::Address;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const MARKER_JSON: &str = "0x7702";

    pub(super) fn serialize<S: Serializer>(
        factory: &Option<Address>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match factory {
            Some(address) if address.0 == EIP7702_INIT_CODE_MARKER => {
                serializer.serialize_str(MARKER_JSON)
            }
            factory => factory.serialize(serializer),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Address>, D::Error> {
        Ok(match Option::<String>::deserialize(deserializer)? {
            None => None,
            Some(marker) if marker == MARKER_JSON => Some(Address::new(EIP7702_INIT_CODE_MARKER)),
            Some(address) => Some(address.parse().map_err(serde::de::Error::custom)?),
        })
    }
}

/// Why a UserOperation cannot be converted between its packed and JSON-RPC shapes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserOperationConversionError {
    /// `initCode` is neither empty nor at least a 20-byte factory address.
    #[error("initCode of {0} bytes is shorter than a factory address")]
    InitCodeTooShort(usize),
    /// `paymasterAndData` is neither empty nor at least address and two 16-byte gas limits.
    #[error("paymasterAndData of {0} bytes is shorter than its 52-byte header")]
    PaymasterAndDataTooShort(usize),
    /// A gas field does not fit the 128 bits it is packed into.
    #[error("{0} does not fit in 128 bits")]
    GasFieldTooLarge(&'static str),
    /// Paymaster data or gas limits without a paymaster address.
    #[error("paymaster fields are set but `paymaster` is not")]
    PaymasterFieldsWithoutPaymaster,
}

const ADDRESS_LEN: usize = 20;
const PAYMASTER_HEADER_LEN: usize = ADDRESS_LEN + 16 + 16;

impl TryFrom<&SignedUserOperation> for RpcUserOperation {
    type Error = UserOperationConversionError;

    fn try_from(signed: &SignedUserOperation) -> Result<Self, Self::Error> {
        let op = &signed.operation;
        let (factory, factory_data) = match op.initCode.len() {
            0 => (None, None),
            len if len < ADDRESS_LEN => {
                return Err(UserOperationConversionError::InitCodeTooShort(len));
            }
            _ => (
                Some(Address::from_slice(&op.initCode[..ADDRESS_LEN])),
                Some(op.initCode.slice(ADDRESS_LEN..)),
            ),
        };
        let paymaster = &op.paymasterAndData;
        let (paymaster, paymaster_verification_gas_limit, paymaster_post_op_gas_limit, data) =
            match paymaster.len() {
                0 => (None, None, None, None),
                len if len < PAYMASTER_HEADER_LEN => {
                    return Err(UserOperationConversionError::PaymasterAndDataTooShort(len));
                }
                _ => (
                    Some(Address::from_slice(&paymaster[..ADDRESS_LEN])),
                    Some(U256::from_be_slice(
                        &paymaster[ADDRESS_LEN..ADDRESS_LEN + 16],
                    )),
                    Some(U256::from_be_slice(
                        &paymaster[ADDRESS_LEN + 16..PAYMASTER_HEADER_LEN],
                    )),
                    Some(paymaster.slice(PAYMASTER_HEADER_LEN..)),
                ),
            };
        let (verification_gas_limit, call_gas_limit) = unpack_u128_pair(op.accountGasLimits);
        let (max_priority_fee_per_gas, max_fee_per_gas) = unpack_u128_pair(op.gasFees);
        Ok(Self {
            sender: op.sender,
            nonce: op.nonce,
            factory,
            factory_data,
            call_data: op.callData.clone(),
            call_gas_limit,
            verification_gas_limit,
            pre_verification_gas: op.preVerificationGas,
            max_fee_per_gas,
            max_priority_fee_per_gas,
            paymaster,
            paymaster_verification_gas_limit,
            paymaster_post_op_gas_limit,
            paymaster_data: data,
            signature: op.signature.clone(),
            eip7702_auth: signed.authorization.clone(),
        })
    }
}

impl TryFrom<RpcUserOperation> for SignedUserOperation {
    type Error = UserOperationConversionError;

    fn try_from(rpc: RpcUserOperation) -> Result<Self, Self::Error> {
        let init_code = match rpc.factory {
            Some(factory) => [factory.as_slice(), &rpc.factory_data.unwrap_or_default()]
                .concat()
                .into(),
            None => Bytes::new(),
        };
        let paymaster_and_data = match rpc.paymaster {
            Some(paymaster) => [
                paymaster.as_slice(),
                &u128_bytes(
                    "paymasterVerificationGasLimit",
                    rpc.paymaster_verification_gas_limit.unwrap_or_default(),
                )?,
                &u128_bytes(
                    "paymasterPostOpGasLimit",
                    rpc.paymaster_post_op_gas_limit.unwrap_or_default(),
                )?,
                &rpc.paymaster_data.unwrap_or_default(),
            ]
            .concat()
            .into(),
            None if rpc.paymaster_verification_gas_limit.is_some()
                || rpc.paymaster_post_op_gas_limit.is_some()
                || rpc.paymaster_data.as_ref().is_some_and(|d| !d.is_empty()) =>
            {
                return Err(UserOperationConversionError::PaymasterFieldsWithoutPaymaster);
            }
            None => Bytes::new(),
        };
        Ok(Self {
            operation: PackedUserOperation {
                sender: rpc.sender,
                nonce: rpc.nonce,
                initCode: init_code,
                callData: rpc.call_data,
                accountGasLimits: pack_u128_pair(
                    ("verificationGasLimit", rpc.verification_gas_limit),
                    ("callGasLimit", rpc.call_gas_limit),
                )?,
                preVerificationGas: rpc.pre_verification_gas,
                gasFees: pack_u128_pair(
                    ("maxPriorityFeePerGas", rpc.max_priority_fee_per_gas),
                    ("maxFeePerGas", rpc.max_fee_per_gas),
                )?,
                paymasterAndData: paymaster_and_data,
                signature: rpc.signature,
            },
            authorization: rpc.eip7702_auth,
        })
    }
}

fn unpack_u128_pair(word: B256) -> (U256, U256) {
    (
        U256::from_be_slice(&word[..16]),
        U256::from_be_slice(&word[16..]),
    )
}

fn u128_bytes(field: &'static str, value: U256) -> Result<[u8; 16], UserOperationConversionError> {
    let value: u128 = value
        .try_into()
        .map_err(|_| UserOperationConversionError::GasFieldTooLarge(field))?;
    Ok(value.to_be_bytes())
}

fn pack_u128_pair(
    (high_name, high): (&'static str, U256),
    (low_name, low): (&'static str, U256),
) -> Result<B256, UserOperationConversionError> {
    let mut word = B256::ZERO;
    word[..16].copy_from_slice(&u128_bytes(high_name, high)?);
    word[16..].copy_from_slice(&u128_bytes(low_name, low)?);
    Ok(word)
}

/// Gas limits a bundler (or a self-bundling sender) estimated for a UserOperation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationGasEstimate {
    /// Gas for what the EntryPoint does not meter.
    pub pre_verification_gas: U256,
    /// Gas for the account's validation.
    pub verification_gas_limit: U256,
    /// Gas for the account's execution.
    pub call_gas_limit: U256,
    /// Gas for the paymaster's validation, when there is a paymaster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// Gas for the paymaster's `postOp`, when there is a paymaster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_post_op_gas_limit: Option<U256>,
}

/// The receipt of an included UserOperation (`eth_getUserOperationReceipt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationReceipt {
    /// The UserOperation hash.
    pub user_op_hash: B256,
    /// The EntryPoint that ran it.
    pub entry_point: Address,
    /// The account.
    pub sender: Address,
    /// The nonce it used.
    pub nonce: U256,
    /// Its paymaster, or the zero address.
    #[serde(default)]
    pub paymaster: Address,
    /// Wei charged for it.
    pub actual_gas_cost: U256,
    /// Gas charged for it.
    pub actual_gas_used: U256,
    /// Whether its execution succeeded.
    pub success: bool,
    /// The execution's revert data, when it reverted.
    #[serde(default)]
    pub reason: Bytes,
    /// The logs the operation emitted.
    pub logs: Vec<Log>,
    /// The receipt of the bundle transaction.
    pub receipt: TransactionReceipt,
}

#[cfg(test)]
mod tests;
