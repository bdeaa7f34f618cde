//! Scripted flows on a [`Chain`], shared by `leash demo` and the tests, so that what the demo shows
//! is exactly what the tests check.

use crate::{BundleOutcome, Chain, SimError};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, LeashAccount};
use leash_sdk::{Call, delegate_of, execute_calldata};

/// ERC-7579 module type of validators.
const MODULE_TYPE_VALIDATOR: u64 = 1;

/// Native balances of the parties of a flow at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    /// The delegated EOA.
    pub owner: U256,
    /// The receiver of the transfer.
    pub recipient: U256,
    /// The bundler, who pays the transaction and is paid by the EntryPoint.
    pub bundler: U256,
    /// The owner's deposit in the EntryPoint, where the unused part of a prefund stays.
    pub owner_deposit: U256,
}

/// What happened when an EOA delegated to `LeashAccount` and sent its first UserOperation, both in
/// one bundle transaction.
#[derive(Debug)]
pub struct OwnerTransfer {
    /// The EOA.
    pub owner: Address,
    /// The receiver of the native transfer.
    pub recipient: Address,
    /// The amount sent, in wei.
    pub amount: U256,
    /// The EIP-7702 authorization the owner signed.
    pub authorization: SignedAuthorization,
    /// The EntryPoint's hash of the UserOperation.
    pub user_op_hash: B256,
    /// The bundle's outcome.
    pub outcome: BundleOutcome,
    /// The owner's delegate after the bundle (`LeashAccount` on success).
    pub delegate_after: Option<Address>,
    /// Balances before the bundle.
    pub before: Balances,
    /// Balances after the bundle.
    pub after: Balances,
}

/// Delegates `owner`'s EOA to `LeashAccount` with an EIP-7702 authorization carried in the bundle
/// transaction, and in the same bundle sends `amount` to `recipient` with an owner-signed
/// UserOperation (its `initCode` is the EIP-7702 marker, so its hash commits to the delegate).
pub fn owner_transfer(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
    recipient: Address,
    amount: U256,
) -> Result<OwnerTransfer, SimError> {
    let account = owner.address();
    let (op, authorization) = chain.first_owner_user_op(
        owner,
        execute_calldata(&[Call::transfer(recipient, amount)])?,
    )?;
    let delegate = Deployment::leash_account().address();
    let user_op_hash = chain.user_op_hash(&op, Some(delegate))?;

    let balances = |chain: &mut Chain| -> Result<Balances, SimError> {
        Ok(Balances {
            owner: chain.balance(account),
            recipient: chain.balance(recipient),
            bundler: chain.balance(chain.bundler()),
            owner_deposit: chain.entry_point_deposit(account)?,
        })
    };
    let before = balances(chain)?;
    let outcome = chain.handle_ops(vec![op], vec![authorization.clone()])?;
    Ok(OwnerTransfer {
        owner: account,
        recipient,
        amount,
        authorization,
        user_op_hash,
        outcome,
        delegate_after: delegate_of(&chain.code(account)),
        before,
        after: balances(chain)?,
    })
}

/// Delegates `owner`'s EOA to `LeashAccount` and installs `SessionKeyValidator` in one
/// UserOperation (the authorization travels in the same bundle transaction).
pub fn delegate_and_install_validator(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
) -> Result<BundleOutcome, SimError> {
    let install = LeashAccount::installModuleCall {
        moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
        module: Deployment::session_key_validator().address(),
        initData: Bytes::new(),
    };
    let (op, authorization) = chain.first_owner_user_op(owner, install.abi_encode().into())?;
    chain.handle_ops(vec![op], vec![authorization])
}
