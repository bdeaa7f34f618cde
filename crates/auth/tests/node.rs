//! The verifier over a node's `eth_call` (`NodeCalls`, any alloy provider) on anvil: a deployed
//! ERC-1271 owner accepts its key's capability and refuses a stranger's, and an ERC-6492 owner
//! is checked through its factory with a deployless call of leash-bindings' `Erc6492Verifier`,
//! nothing deployed.

mod support;

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolValue};
use leash_auth::{
    AuthError, NodeCalls, OwnerError, OwnerKind, Verifier, VerifierConfig, owner::ERC6492_MAGIC,
};
use support::*;

/// Sends `input` to `to` from anvil's first dev account (unlocked) and waits for the receipt.
async fn send(provider: &impl Provider, to: Address, input: Bytes) {
    let from = provider.get_accounts().await.expect("accounts")[0];
    let request = TransactionRequest::default()
        .with_from(from)
        .with_to(to)
        .with_input(input);
    let receipt = provider
        .send_transaction(request)
        .await
        .expect("sent")
        .get_receipt()
        .await
        .expect("mined");
    assert!(receipt.status(), "{receipt:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn smart_account_owners_are_asked_through_a_node() {
    let anvil = leash_testkit::anvil();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let code = TestSmartOwnerFactory::BYTECODE.clone();
    let factory = leash_bindings::create2_address(B256::ZERO, &code);
    let mut input = B256::ZERO.to_vec();
    input.extend_from_slice(&code);
    send(&provider, leash_bindings::CREATE2_DEPLOYER, input.into()).await;

    let (owner_key, session, stranger) = (key(1), key(2), key(3));
    let salt = B256::repeat_byte(9);
    let predict = |owner: Address| TestSmartOwnerFactory::predictCall { owner, salt }.abi_encode();
    let call = |input: Vec<u8>| {
        let provider = &provider;
        async move {
            let request = TransactionRequest::default()
                .with_to(factory)
                .with_input(input);
            Address::abi_decode(&provider.call(request).await.expect("answers")).expect("address")
        }
    };
    let deployed = call(predict(owner_key.address())).await;
    let deploy = TestSmartOwnerFactory::deployCall {
        owner: owner_key.address(),
        salt,
    };
    send(&provider, factory, deploy.abi_encode().into()).await;
    let verifier = Verifier::with_chain(VerifierConfig::new(DOMAIN), NodeCalls(provider.clone()));

    let accepted = sign_capability(&capability(deployed, session.address()), &owner_key);
    let first = request(&accepted, &session, "POST", "/orders/1", b"", ISSUED + 1, 1);
    let scope = scope("POST", "/orders/1");
    let verified = check(&verifier, &first, b"", &scope, ISSUED + 1)
        .await
        .expect("its key signed");
    assert_eq!(verified.owner_kind, OwnerKind::Erc1271);

    let refused = sign_capability(&capability(deployed, session.address()), &stranger);
    let second = request(&refused, &session, "POST", "/orders/1", b"", ISSUED + 1, 2);
    let error = check(&verifier, &second, b"", &scope, ISSUED + 1)
        .await
        .expect_err("a stranger signed");
    assert!(
        matches!(&error, AuthError::Owner(OwnerError::Erc1271Refused { owner, .. }) if *owner == deployed),
        "{error}"
    );

    // Another owner key's account, not deployed: ERC-6492 through the factory.
    let (other_owner, counterfactual) = (key(4), call(predict(key(4).address())).await);
    let deploy = TestSmartOwnerFactory::deployCall {
        owner: other_owner.address(),
        salt,
    };
    let capability = capability(counterfactual, session.address());
    let mut signed = sign_capability(&capability, &other_owner);
    let inner = other_owner
        .sign_message_sync(signed.message.as_bytes())
        .expect("signs");
    let mut wrapped = (
        factory,
        Bytes::from(deploy.abi_encode()),
        Bytes::from(inner.as_bytes().to_vec()),
    )
        .abi_encode_params();
    wrapped.extend_from_slice(ERC6492_MAGIC.as_slice());
    signed.signature = wrapped.into();
    let third = request(&signed, &session, "POST", "/orders/1", b"", ISSUED + 1, 3);
    let verified = check(&verifier, &third, b"", &scope, ISSUED + 1)
        .await
        .expect("counterfactual");
    assert_eq!(verified.owner_kind, OwnerKind::Erc6492);
    let code = provider.get_code_at(counterfactual).await.expect("code");
    assert!(code.is_empty(), "the check deployed nothing");

    // A factory call that reverts: the verifier's revert comes back through the node, in words.
    let mut wrapped = (
        factory,
        Bytes::from_static(&[0xde, 0xad]),
        Bytes::from(inner.as_bytes().to_vec()),
    )
        .abi_encode_params();
    wrapped.extend_from_slice(ERC6492_MAGIC.as_slice());
    signed.signature = wrapped.into();
    let fourth = request(&signed, &session, "POST", "/orders/1", b"", ISSUED + 1, 4);
    let error = check(&verifier, &fourth, b"", &scope, ISSUED + 1)
        .await
        .expect_err("the factory reverted");
    let expected = format!("the factory {factory} reverted with 0x");
    assert!(
        matches!(&error, AuthError::Owner(OwnerError::Erc6492Refused { answer, .. }) if *answer == expected),
        "{error}"
    );
}
