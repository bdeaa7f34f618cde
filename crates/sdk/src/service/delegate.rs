//! Delegating an EOA to `LeashAccount` with `SessionKeyValidator` installed: by a type-4
//! transaction the EOA sends itself, or with its first UserOperation.

use super::{ServiceError, chain::fees, send::submit, transactions::send_checked};
use crate::{
    delegation::{authorization_if_not_delegated, delegate_at},
    deploy::Deployment,
    session_reads::validator_installed,
};
use alloy_eips::eip7702::Authorization;
use alloy_network::{TransactionBuilder, TransactionBuilder7702};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::{Signer, SignerSync};
use leash_core::{
    calls::install_validator_calldata, eip7702::sign_authorization,
    prepare::prepare_owner_operation, sender::UserOperationSender,
};

/// An account's delegation as the chain has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delegation {
    /// The EIP-7702 delegate, if the EOA is delegated.
    pub delegate: Option<Address>,
    /// Whether the account installed `SessionKeyValidator`.
    pub validator_installed: bool,
}

impl Delegation {
    /// `account`'s delegation on the provider's chain.
    pub async fn read<P: Provider>(provider: &P, account: Address) -> Result<Self, ServiceError> {
        let validator = Deployment::session_key_validator().address();
        Ok(Self {
            delegate: delegate_at(provider, account).await?,
            validator_installed: validator_installed(provider, validator, account).await?,
        })
    }

    /// Whether the EOA is delegated to `LeashAccount`.
    pub fn is_leash_account(&self) -> bool {
        self.delegate == Some(Deployment::leash_account().address())
    }

    /// Whether sessions can work: delegated to `LeashAccount`, validator installed.
    pub fn is_complete(&self) -> bool {
        self.is_leash_account() && self.validator_installed
    }

    /// The authorization the owner signs to delegate the EOA to `LeashAccount` on chain
    /// `chain_id` at account nonce `nonce` (its nonce when the authorization applies), or `None`
    /// when it already is.
    pub fn authorization(&self, chain_id: u64, nonce: u64) -> Option<Authorization> {
        (!self.is_leash_account()).then(|| Authorization {
            chain_id: U256::from(chain_id),
            address: Deployment::leash_account().address(),
            nonce,
        })
    }

    /// The `installModule` calldata when the validator is missing.
    pub fn install_calldata(&self) -> Option<Bytes> {
        (!self.validator_installed).then(install_validator_calldata)
    }
}

/// The EOA `owner` sends a transaction to itself (through `provider`, which signs for it): type 4
/// carrying its authorization when it is not delegated to `LeashAccount` yet, calling
/// `installModule` when the validator is missing. Returns the transaction.
pub async fn delegate_by_transaction<P: Provider>(
    provider: &P,
    owner: &(impl SignerSync + Signer),
    before: &Delegation,
) -> Result<B256, ServiceError> {
    let account = Signer::address(owner);
    let mut request = TransactionRequest::default()
        .with_from(account)
        .with_to(account)
        .with_input(before.install_calldata().unwrap_or_default());
    if !before.is_leash_account() {
        let chain_id = provider.get_chain_id().await?;
        // The EOA's own transaction bumps its nonce before the authorization is checked.
        let nonce = provider.get_transaction_count(account).await? + 1;
        let delegate = Deployment::leash_account().address();
        let authorization = sign_authorization(owner, chain_id, delegate, nonce)?;
        request = request.with_authorization_list(vec![authorization]);
    }
    send_checked(provider, request, "the delegation transaction").await
}

/// The owner signs a UserOperation calling `installModule`, carrying the EOA's authorization when
/// it is not delegated yet (signed at its current nonce: the bundler sends the transaction);
/// `sender` estimates and submits it. Returns its hash: wait for it with
/// [`super::wait_included`], then [`super::Included::check`] that `installModule` ran. Fails with
/// [`ServiceError::ValidatorInstalled`] when there is nothing to install.
pub async fn delegate_by_user_operation<S: UserOperationSender, P: Provider>(
    sender: &S,
    node: &P,
    owner: &(impl SignerSync + Signer),
    before: &Delegation,
) -> Result<B256, ServiceError> {
    let call_data = before
        .install_calldata()
        .ok_or(ServiceError::ValidatorInstalled)?;
    let leash_account = Deployment::leash_account().address();
    let authorization = authorization_if_not_delegated(node, owner, leash_account).await?;
    let fees = fees(node).await?;
    let prepared =
        prepare_owner_operation(sender, owner, call_data, authorization, leash_account, fees)
            .await
            .map_err(|error| ServiceError::from_sender(error, None))?;
    submit(sender, &prepared, None).await
}
