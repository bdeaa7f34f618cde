//! UserOperations through `DirectSender` on a real anvil: an EOA delegates to `LeashAccount` in
//! the same type-4 transaction that runs its first UserOperation.

mod common;

use alloy_primitives::{Address, B256, Bytes, U256, utils::parse_ether};
use alloy_provider::Provider;
use alloy_signer_local::PrivateKeySigner;
use common::{anvil, deploy, dev_key, wallet_provider};
use leash_bindings::Deployment;
use leash_core::{
    calls::Call,
    rejection::AaCode,
    sender::{SenderError, SignedUserOperation, UserOperationSender},
    signing::sign_owner,
    user_operation::{GasSettings, UserOperationBuilder, user_operation_hash},
};
use leash_sdk::{
    delegation::{authorization_if_not_delegated, delegate_at},
    transport::DirectSender,
};

const RECIPIENT: Address = Address::repeat_byte(0xbe);

/// A transfer of `value` from `owner`'s EOA, signed by `signer`, carrying the EOA's authorization
/// when it is not delegated yet.
async fn transfer_operation(
    sender: &DirectSender<impl Provider>,
    owner: &PrivateKeySigner,
    signer: &PrivateKeySigner,
    value: U256,
    gas: GasSettings,
) -> (SignedUserOperation, B256) {
    let leash_account = Deployment::leash_account().address();
    let eoa = owner.address();
    let authorization = authorization_if_not_delegated(sender.provider(), owner, leash_account)
        .await
        .expect("authorization");
    let nonce = sender.nonce(eoa, U256::ZERO).await.expect("nonce");
    let mut builder = UserOperationBuilder::new(eoa)
        .nonce(nonce)
        .calls(&[Call::transfer(RECIPIENT, value)])
        .expect("one call")
        .gas(gas);
    if authorization.is_some() {
        builder = builder.eip7702();
    }
    let mut operation = builder.build().expect("complete");
    let chain_id = sender.chain_id().await.expect("chain id");
    let hash = user_operation_hash(
        &operation,
        sender.entry_point(),
        chain_id,
        Some(leash_account),
    )
    .expect("hash");
    operation.signature = sign_owner(signer, hash).expect("signs");
    let op = SignedUserOperation {
        operation,
        authorization,
    };
    (op, hash)
}

fn gas_from(estimate: &leash_core::rpc_types::UserOperationGasEstimate) -> GasSettings {
    GasSettings {
        verification_gas_limit: estimate.verification_gas_limit.to(),
        call_gas_limit: estimate.call_gas_limit.to(),
        pre_verification_gas: estimate.pre_verification_gas.to(),
        ..GasSettings::default()
    }
}

#[tokio::test]
async fn eoa_delegates_and_transfers_in_one_type_4_bundle() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let provider = wallet_provider(&anvil, bundler.clone());

    let deployed = leash_sdk::deploy::deploy_missing(
        &provider,
        bundler.address(),
        &leash_bindings::Deployment::all(),
    )
    .await
    .expect("deploys");
    assert_eq!(deployed, Deployment::all());
    let again = leash_sdk::deploy::deploy_missing(
        &provider,
        bundler.address(),
        &leash_bindings::Deployment::all(),
    )
    .await
    .expect("idempotent");
    assert!(again.is_empty(), "everything is already deployed");

    let sender = DirectSender::new(provider.clone(), bundler.address());
    let eoa = owner.address();
    assert_eq!(delegate_at(&provider, eoa).await.expect("code"), None);

    // Estimate with a dummy signature of the right length, then sign the estimated operation.
    let (mut draft, _) = transfer_operation(
        &sender,
        &owner,
        &owner,
        parse_ether("1").expect("ether"),
        GasSettings::default(),
    )
    .await;
    draft.operation.signature = Bytes::from(vec![0xff; 65]);
    let estimate = sender.estimate(&draft).await.expect("estimates");
    assert!(estimate.verification_gas_limit > U256::ZERO);
    assert!(estimate.call_gas_limit > U256::ZERO);
    let (op, expected_hash) = transfer_operation(
        &sender,
        &owner,
        &owner,
        parse_ether("1").expect("ether"),
        gas_from(&estimate),
    )
    .await;
    assert!(op.authorization.is_some(), "the first operation delegates");

    let eoa_before = provider.get_balance(eoa).await.expect("balance");
    let recipient_before = provider.get_balance(RECIPIENT).await.expect("balance");
    let user_op_hash = sender.send(&op).await.expect("included");
    assert_eq!(user_op_hash, expected_hash);

    assert_eq!(
        delegate_at(&provider, eoa).await.expect("code"),
        Some(Deployment::leash_account().address())
    );
    let recipient_after = provider.get_balance(RECIPIENT).await.expect("balance");
    assert_eq!(
        recipient_after - recipient_before,
        parse_ether("1").expect("ether")
    );

    let receipt = sender
        .receipt(user_op_hash)
        .await
        .expect("lookup")
        .expect("included");
    assert!(receipt.success);
    assert_eq!(receipt.sender, eoa);
    assert_eq!(receipt.nonce, U256::ZERO);
    assert_eq!(receipt.entry_point, sender.entry_point());
    assert!(receipt.reason.is_empty());
    assert!(receipt.receipt.status());
    assert_eq!(receipt.receipt.from, bundler.address());
    // The EOA paid the transfer and at least the operation's gas (unused prefund stays deposited
    // in the EntryPoint).
    let eoa_after = provider.get_balance(eoa).await.expect("balance");
    assert!(eoa_before - eoa_after >= parse_ether("1").expect("ether") + receipt.actual_gas_cost);

    // Delegated now: the next operation needs no authorization and uses the next nonce.
    let (second, _) = transfer_operation(
        &sender,
        &owner,
        &owner,
        U256::from(1),
        GasSettings::default(),
    )
    .await;
    assert_eq!(second.authorization, None);
    assert_eq!(second.operation.nonce, U256::from(1));
    let second_hash = sender.send(&second).await.expect("included");
    assert!(sender.receipt(second_hash).await.expect("lookup").is_some());

    assert_eq!(
        sender.receipt(B256::repeat_byte(1)).await.expect("lookup"),
        None
    );
}

#[tokio::test]
async fn wrong_signer_is_rejected_with_aa24() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let stranger = dev_key(&anvil, 2);
    let provider = wallet_provider(&anvil, bundler.clone());
    deploy(&provider, bundler.address()).await;
    let sender = DirectSender::new(provider.clone(), bundler.address());

    let (op, _) = transfer_operation(
        &sender,
        &owner,
        &stranger,
        U256::from(1),
        GasSettings::default(),
    )
    .await;
    let error = sender.send(&op).await.expect_err("wrong signer");
    let SenderError::Rejected(rejection) = error else {
        panic!("expected an EntryPoint rejection, got {error:?}");
    };
    assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);
    assert_eq!(rejection.op_index, 0);
    assert_eq!(rejection.reason, "AA24 signature error");
    // Nothing was sent: the EOA is still undelegated.
    assert_eq!(
        delegate_at(&provider, owner.address()).await.expect("code"),
        None
    );
}

#[tokio::test]
async fn nonce_keys_wider_than_192_bits_are_refused() {
    let anvil = anvil();
    let provider = wallet_provider(&anvil, dev_key(&anvil, 0));
    let sender = DirectSender::new(provider, Address::ZERO);
    let error = sender
        .nonce(Address::ZERO, U256::MAX)
        .await
        .expect_err("too wide");
    assert!(matches!(error, SenderError::NonceKeyTooWide(_)));
}

/// `owner`'s transfer of 1 wei signed by `signer`, its gas estimated with a placeholder signature.
async fn estimated_transfer(
    sender: &DirectSender<impl Provider>,
    owner: &PrivateKeySigner,
    signer: &PrivateKeySigner,
) -> (SignedUserOperation, B256) {
    let (mut draft, _) =
        transfer_operation(sender, owner, owner, U256::from(1), GasSettings::default()).await;
    draft.operation.signature = Bytes::from(vec![0xff; 65]);
    let estimate = sender.estimate(&draft).await.expect("estimates");
    transfer_operation(sender, owner, signer, U256::from(1), gas_from(&estimate)).await
}

#[tokio::test]
async fn a_bundle_carries_several_operations_and_a_refused_one_is_named_by_index() {
    let anvil = anvil();
    let bundler = dev_key(&anvil, 0);
    let (first, second, third) = (dev_key(&anvil, 1), dev_key(&anvil, 2), dev_key(&anvil, 3));
    let stranger = dev_key(&anvil, 4);
    let provider = wallet_provider(&anvil, bundler.clone());
    deploy(&provider, bundler.address()).await;
    let sender = DirectSender::new(provider.clone(), bundler.address());
    let (op_first, hash_first) = estimated_transfer(&sender, &first, &first).await;
    let (op_refused, _) = estimated_transfer(&sender, &second, &stranger).await;
    let (op_third, hash_third) = estimated_transfer(&sender, &third, &third).await;

    let bundle = [op_first.clone(), op_refused, op_third.clone()];
    let error = sender
        .send_bundle(&bundle, tokio::time::sleep)
        .await
        .expect_err("one is signed by another key");
    let SenderError::Rejected(rejection) = error else {
        panic!("expected an EntryPoint rejection, got {error:?}");
    };
    assert_eq!(
        (rejection.op_index, rejection.reason.as_str()),
        (1, "AA24 signature error")
    );
    // Refused before anything was sent.
    assert_eq!(
        delegate_at(&provider, first.address()).await.expect("code"),
        None
    );

    let receipts = sender
        .send_bundle(&[op_first, op_third], tokio::time::sleep)
        .await
        .expect("included");
    assert_eq!(receipts.len(), 2);
    let (a, b) = (&receipts[&hash_first], &receipts[&hash_third]);
    assert!(a.success && b.success);
    assert_eq!((a.sender, b.sender), (first.address(), third.address()));
    assert_eq!(
        a.receipt.transaction_hash, b.receipt.transaction_hash,
        "one handleOps"
    );
    // Both authorizations applied in that one type-4 transaction.
    for owner in [&first, &third] {
        assert_eq!(
            delegate_at(&provider, owner.address()).await.expect("code"),
            Some(Deployment::leash_account().address())
        );
    }
    let found = sender
        .receipts(&[hash_first, B256::repeat_byte(7), hash_third])
        .await
        .expect("lookup");
    assert_eq!(found.len(), 2, "the unknown hash is not found");
    assert_eq!(
        found[&hash_first].receipt.transaction_hash,
        a.receipt.transaction_hash
    );
}
