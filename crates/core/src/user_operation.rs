//! ERC-4337 v0.8 UserOperations: building, gas packing and the EntryPoint's EIP-712 hash.

use crate::{
    calls::{Call, execute_calldata},
    eip7702::EIP7702_INIT_CODE_MARKER,
    error::OperationError,
    session_signature::SessionAuth,
    session_signer::SessionSigner,
    signing::sign_owner,
};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolValue, eip712_domain};
use leash_bindings::{Deployment, PackedUserOperation};

/// `keccak256` of the v0.8 EntryPoint's `PackedUserOperation` EIP-712 type.
const PACKED_USEROP_TYPEHASH: B256 =
    alloy_primitives::b256!("0x29a0bca4af4be3421398da00295e58e6d7de38cb492214754cb6a47507dd6f8e");

/// Gas limits and fees of a UserOperation, unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasSettings {
    /// Gas for the account's (and validator's) `validateUserOp`.
    pub verification_gas_limit: u128,
    /// Gas for the account's execution of `callData`.
    pub call_gas_limit: u128,
    /// Gas the bundler is paid for what the EntryPoint cannot meter (calldata, overhead).
    pub pre_verification_gas: u128,
    /// EIP-1559 max fee per gas, in wei.
    pub max_fee_per_gas: u128,
    /// EIP-1559 max priority fee per gas, in wei.
    pub max_priority_fee_per_gas: u128,
}

impl Default for GasSettings {
    /// Generous limits for local chains; production callers estimate.
    fn default() -> Self {
        Self {
            verification_gas_limit: 500_000,
            call_gas_limit: 500_000,
            pre_verification_gas: 60_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
        }
    }
}

impl GasSettings {
    /// `verificationGasLimit << 128 | callGasLimit`.
    pub fn account_gas_limits(&self) -> B256 {
        pack_u128_pair(self.verification_gas_limit, self.call_gas_limit)
    }

    /// `maxPriorityFeePerGas << 128 | maxFeePerGas`.
    pub fn gas_fees(&self) -> B256 {
        pack_u128_pair(self.max_priority_fee_per_gas, self.max_fee_per_gas)
    }

    /// The most the UserOperation can cost its payer, in wei (no paymaster).
    pub fn max_cost(&self) -> U256 {
        let gas = U256::from(self.verification_gas_limit)
            + U256::from(self.call_gas_limit)
            + U256::from(self.pre_verification_gas);
        gas * U256::from(self.max_fee_per_gas)
    }
}

fn pack_u128_pair(high: u128, low: u128) -> B256 {
    B256::from((U256::from(high) << 128) | U256::from(low))
}

/// The 192-bit nonce key that makes `LeashAccount` validate with `validator`: the validator's
/// address in the top 20 bytes, `lane` in the last 4 (independent nonce sequences). The owner's
/// key is zero.
pub fn nonce_key_for_validator(validator: Address, lane: u32) -> U256 {
    (U256::from_be_slice(validator.as_slice()) << 32) | U256::from(lane)
}

/// Builds a `PackedUserOperation` for a `LeashAccount` sender; the signature is left empty.
#[derive(Clone, Debug)]
pub struct UserOperationBuilder {
    sender: Address,
    nonce: Option<U256>,
    init_code: Bytes,
    eip7702_delegate: Option<Address>,
    call_data: Option<Bytes>,
    gas: GasSettings,
    paymaster_and_data: Bytes,
}

impl UserOperationBuilder {
    /// A UserOperation sent by `sender`.
    pub fn new(sender: Address) -> Self {
        Self {
            sender,
            nonce: None,
            init_code: Bytes::new(),
            eip7702_delegate: None,
            call_data: None,
            gas: GasSettings::default(),
            paymaster_and_data: Bytes::new(),
        }
    }

    /// The full 256-bit nonce (`key << 64 | sequence`), as `EntryPoint.getNonce` returns it.
    pub fn nonce(mut self, nonce: U256) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Calls to execute through `LeashAccount.execute`.
    pub fn calls(mut self, calls: &[Call]) -> Result<Self, OperationError> {
        self.call_data = Some(execute_calldata(calls)?);
        Ok(self)
    }

    /// Raw account calldata.
    pub fn call_data(mut self, call_data: Bytes) -> Self {
        self.call_data = Some(call_data);
        self
    }

    /// Gas limits and fees.
    pub fn gas(mut self, gas: GasSettings) -> Self {
        self.gas = gas;
        self
    }

    /// Marks the sender as an EIP-7702 account whose authorization (delegating to `LeashAccount`)
    /// travels with this UserOperation: the hash then commits to the delegate.
    pub fn eip7702(mut self) -> Self {
        self.init_code = Bytes::copy_from_slice(&EIP7702_INIT_CODE_MARKER);
        self.eip7702_delegate = Some(Deployment::leash_account().address());
        self
    }

    /// Builds the UserOperation for the canonical EntryPoint on `chain_id` and signs it with the
    /// account owner's key; returns it with its hash.
    pub fn sign_as_owner(
        self,
        owner: &impl SignerSync,
        chain_id: u64,
    ) -> Result<(PackedUserOperation, B256), OperationError> {
        self.sign_with(chain_id, |hash| sign_owner(owner, hash))
    }

    /// Builds the UserOperation for the canonical EntryPoint on `chain_id` and signs it with a
    /// session key under `auth`; returns it with its hash.
    pub fn sign_as_session(
        self,
        session_key: &(impl SessionSigner + ?Sized),
        auth: &SessionAuth<'_>,
        chain_id: u64,
    ) -> Result<(PackedUserOperation, B256), OperationError> {
        self.sign_with(chain_id, |hash| auth.sign(session_key, hash))
    }

    fn sign_with(
        self,
        chain_id: u64,
        sign: impl FnOnce(B256) -> Result<Bytes, OperationError>,
    ) -> Result<(PackedUserOperation, B256), OperationError> {
        let delegate = self.eip7702_delegate;
        let mut op = self.build()?;
        let hash =
            user_operation_hash(&op, Deployment::entry_point().address(), chain_id, delegate)?;
        op.signature = sign(hash)?;
        Ok((op, hash))
    }

    /// The UserOperation, unsigned.
    pub fn build(self) -> Result<PackedUserOperation, OperationError> {
        Ok(PackedUserOperation {
            sender: self.sender,
            nonce: self.nonce.ok_or(OperationError::MissingField("nonce"))?,
            initCode: self.init_code,
            callData: self
                .call_data
                .ok_or(OperationError::MissingField("callData"))?,
            accountGasLimits: self.gas.account_gas_limits(),
            preVerificationGas: U256::from(self.gas.pre_verification_gas),
            gasFees: self.gas.gas_fees(),
            paymasterAndData: self.paymaster_and_data,
            signature: Bytes::new(),
        })
    }
}

/// The v0.8 UserOperation hash, exactly as `EntryPoint.getUserOpHash` computes it: EIP-712 over the
/// EntryPoint's domain (`ERC4337`, version `1`). When `initCode` carries the EIP-7702 marker the
/// hash commits to the sender's delegate instead of the marker, so `delegate` must be given.
pub fn user_operation_hash(
    op: &PackedUserOperation,
    entry_point: Address,
    chain_id: u64,
    delegate: Option<Address>,
) -> Result<B256, OperationError> {
    let init_code_hash = if op.initCode.len() >= 20 && op.initCode[..20] == EIP7702_INIT_CODE_MARKER
    {
        let delegate =
            delegate.ok_or(OperationError::MissingEip7702Delegate { sender: op.sender })?;
        keccak256([delegate.as_slice(), &op.initCode[20..]].concat())
    } else {
        keccak256(&op.initCode)
    };
    let struct_hash = keccak256(
        (
            PACKED_USEROP_TYPEHASH,
            op.sender,
            op.nonce,
            init_code_hash,
            keccak256(&op.callData),
            op.accountGasLimits,
            op.preVerificationGas,
            op.gasFees,
            keccak256(&op.paymasterAndData),
        )
            .abi_encode(),
    );
    let domain = eip712_domain! {
        name: "ERC4337",
        version: "1",
        chain_id: chain_id,
        verifying_contract: entry_point,
    };
    Ok(keccak256(
        [
            &[0x19, 0x01],
            domain.separator().as_slice(),
            struct_hash.as_slice(),
        ]
        .concat(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typehash_matches_the_entry_point_type_string() {
        let type_string = "PackedUserOperation(address sender,uint256 nonce,bytes initCode,bytes callData,\
            bytes32 accountGasLimits,uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData)";
        assert_eq!(keccak256(type_string), PACKED_USEROP_TYPEHASH);
    }

    #[test]
    fn gas_fields_pack_high_and_low_halves() {
        let gas = GasSettings {
            verification_gas_limit: 1,
            call_gas_limit: 2,
            pre_verification_gas: 3,
            max_fee_per_gas: 5,
            max_priority_fee_per_gas: 4,
        };
        assert_eq!(
            gas.account_gas_limits(),
            B256::from((U256::from(1) << 128) | U256::from(2))
        );
        assert_eq!(
            gas.gas_fees(),
            B256::from((U256::from(4) << 128) | U256::from(5))
        );
        assert_eq!(gas.max_cost(), U256::from(30));
    }

    #[test]
    fn eip7702_marker_requires_a_delegate() {
        let op = UserOperationBuilder::new(Address::repeat_byte(1))
            .nonce(U256::ZERO)
            .call_data(Bytes::new())
            .eip7702()
            .build()
            .expect("complete");
        assert!(matches!(
            user_operation_hash(&op, Address::ZERO, 1, None),
            Err(OperationError::MissingEip7702Delegate { .. })
        ));
    }
}
