//! Scripted flows on a [`Chain`], shared by `leash demo` and the tests, so that what the demo shows
//! is exactly what the tests check.

use crate::{BundleOutcome, Chain, SimError};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::Deployment;
use leash_sdk::{
    Call, UserOperationBuilder, delegate_of, sign_authorization, sign_owner, user_operation_hash,
};

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
    let delegate = Deployment::leash_account().address();
    let entry_point = Deployment::entry_point().address();
    let chain_id = chain.chain_id();
    let authorization = sign_authorization(owner, chain_id, delegate, chain.nonce(account))?;

    let nonce = chain.entry_point_nonce(account, U256::ZERO)?;
    let mut op = UserOperationBuilder::new(account)
        .nonce(nonce)
        .calls(&[Call::transfer(recipient, amount)])?
        .eip7702()
        .build()?;
    let user_op_hash = user_operation_hash(&op, entry_point, chain_id, Some(delegate))?;
    op.signature = sign_owner(owner, user_op_hash)?;

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
