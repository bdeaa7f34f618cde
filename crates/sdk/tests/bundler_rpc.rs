//! Leash UserOperations through a real ERC-4337 bundler: Pimlico's alto (npm `@pimlico/alto`,
//! installed by `scripts/toolchain`) in front of anvil, on loopback only. Every operation's gas
//! comes from the bundler's own `eth_estimateUserOperationGas`, through the SDK's prepare path,
//! as a wallet would get it; none is set by hand.

mod common;

use alloy_network::{TransactionBuilder, TransactionBuilder7702};
use alloy_node_bindings::AnvilInstance;
use alloy_primitives::{Address, U256, utils::parse_ether};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use common::{anvil, deploy, dev_key, wallet_provider};
use leash_bindings::{Deployment, TestToken};
use leash_core::{
    calls::{Call, install_validator_calldata},
    denial::Denial,
    eip7702::sign_authorization,
    grant::{GrantDomain, SessionGrantBuilder},
    outflow::{LimitedAssets, SessionCalls},
    permission::Permission,
    prepare::{Fees, PreparedOperation, prepare_owner_operation, prepare_session_operation},
    rejection::AaCode,
    sender::{SenderError, UserOperationSender},
    session_signature::SessionAuth,
};
use leash_sdk::{
    delegation::{authorization_if_not_delegated, delegate_at},
    transport::BundlerClient,
};
use leash_testkit::{Alto, listening_addresses};
use std::time::{Duration, Instant};

const RECIPIENT: Address = Address::repeat_byte(0xbe);
const ALLOWANCE: u64 = 100;
/// A session key of its own (not a dev account).
const SESSION_KEY: [u8; 32] = [0x5e; 32];

type Client = BundlerClient<alloy_provider::RootProvider, alloy_provider::RootProvider>;

/// alto up and answering for the canonical EntryPoint, listening on loopback only.
async fn bundler(anvil: &AnvilInstance) -> (Alto, Client) {
    let alto = Alto::start(anvil);
    let bundler = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(alto.url().parse().expect("url"));
    let node = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(anvil.endpoint_url());
    let client = BundlerClient::new(bundler, node);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client.supported_entry_points().await {
            Ok(entry_points) => {
                assert_eq!(entry_points, vec![Deployment::entry_point().address()]);
                break;
            }
            // Not listening yet.
            Err(SenderError::Transport(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => panic!("alto did not answer: {error}"),
        }
    }
    let listeners = listening_addresses(alto.port());
    assert!(!listeners.is_empty(), "alto listens on its port");
    assert!(
        listeners.iter().all(|address| address == "0100007F"),
        "alto listens on 127.0.0.1 only, not on {listeners:?}"
    );
    (alto, client)
}

async fn fees(node: &impl Provider) -> Fees {
    let price = node.get_gas_price().await.expect("gas price");
    Fees {
        max_fee_per_gas: price * 2,
        max_priority_fee_per_gas: price,
    }
}

/// Prepares session operations of one key through the bundler, with its estimates.
struct Sessions<'a, N> {
    client: &'a Client,
    domain: GrantDomain,
    key: &'a PrivateKeySigner,
    node: &'a N,
    /// The assets the grant limits: a batch with a value transfer takes the balance-checked form.
    limits: LimitedAssets,
}

impl<N: Provider> Sessions<'_, N> {
    async fn prepare(
        &self,
        account: Address,
        auth: &SessionAuth<'_>,
        calls: &[Call],
    ) -> Result<PreparedOperation, SenderError> {
        prepare_session_operation(
            self.client,
            &self.domain,
            account,
            self.key,
            auth,
            SessionCalls {
                calls,
                limits: &self.limits,
                permissions: &[],
            },
            fees(self.node).await,
        )
        .await
    }
}

/// Sends `prepared` through the bundler and waits (at most 30 s) until it is included.
async fn send_and_wait(client: &Client, prepared: &PreparedOperation) -> bool {
    let user_op_hash = client.send(&prepared.op).await.expect("accepted");
    assert_eq!(user_op_hash, prepared.user_op_hash);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(receipt) = client.receipt(user_op_hash).await.expect("lookup") {
            return receipt.success;
        }
        assert!(Instant::now() < deadline, "not bundled in time");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The EOA delegates to `LeashAccount` and installs the validator in one type-4 transaction to
/// itself, so that its first UserOperation can be a session's.
async fn delegate_and_install(anvil: &AnvilInstance, owner: &PrivateKeySigner) {
    let node = wallet_provider(anvil, owner.clone());
    let nonce = node
        .get_transaction_count(owner.address())
        .await
        .expect("nonce");
    let chain_id = node.get_chain_id().await.expect("chain id");
    // The EOA sends the transaction itself: its authorization is checked at its next nonce.
    let authorization = sign_authorization(
        owner,
        chain_id,
        Deployment::leash_account().address(),
        nonce + 1,
    )
    .expect("authorization");
    let request = TransactionRequest::default()
        .with_to(owner.address())
        .with_input(install_validator_calldata())
        .with_authorization_list(vec![authorization]);
    let receipt = node
        .send_transaction(request)
        .await
        .expect("sent")
        .get_receipt()
        .await
        .expect("mined");
    assert!(receipt.status());
}

fn transfer(amount: u64) -> Call {
    Call {
        to: Deployment::test_token().address(),
        value: U256::ZERO,
        data: TestToken::transferCall {
            to: RECIPIENT,
            amount: U256::from(amount),
        }
        .abi_encode()
        .into(),
    }
}

async fn balance(node: &impl Provider, holder: Address) -> U256 {
    let call = TestToken::balanceOfCall { owner: holder };
    let request = TransactionRequest::default()
        .with_to(Deployment::test_token().address())
        .with_input(call.abi_encode());
    let output = node.call(request).await.expect("call");
    TestToken::balanceOfCall::abi_decode_returns(&output)
        .unwrap_or_else(|error| panic!("balanceOf returned {output}: {error}"))
}

#[tokio::test]
async fn owner_operations_with_and_without_an_authorization_are_included() {
    let anvil = anvil();
    let deployer = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let node = wallet_provider(&anvil, deployer.clone());
    deploy(&node, deployer.address()).await;
    let (_alto, client) = bundler(&anvil).await;
    let leash_account = Deployment::leash_account().address();

    // First operation: it carries the EOA's authorization and installs the validator.
    let authorization = authorization_if_not_delegated(&node, &owner, leash_account)
        .await
        .expect("authorization");
    assert!(authorization.is_some(), "not delegated yet");
    let prepared = prepare_owner_operation(
        &client,
        &owner,
        install_validator_calldata(),
        authorization,
        leash_account,
        fees(&node).await,
    )
    .await
    .expect("prepared with the bundler's estimate");
    assert!(send_and_wait(&client, &prepared).await, "delegating op");
    assert_eq!(
        delegate_at(&node, owner.address()).await.expect("code"),
        Some(leash_account)
    );

    // A later one, without: a native transfer.
    let before = node.get_balance(RECIPIENT).await.expect("balance");
    let value = parse_ether("1").expect("ether");
    let prepared = prepare_owner_operation(
        &client,
        &owner,
        leash_core::calls::execute_calldata(&[Call::transfer(RECIPIENT, value)]).expect("calldata"),
        None,
        leash_account,
        fees(&node).await,
    )
    .await
    .expect("prepared with the bundler's estimate");
    assert!(send_and_wait(&client, &prepared).await, "owner transfer");
    assert_eq!(
        node.get_balance(RECIPIENT).await.expect("balance") - before,
        value
    );
}

#[tokio::test]
async fn session_operations_with_the_bundlers_estimates_are_included() {
    let anvil = anvil();
    let deployer = dev_key(&anvil, 0);
    let owner = dev_key(&anvil, 1);
    let root_owner = dev_key(&anvil, 2);
    let node = wallet_provider(&anvil, deployer.clone());
    deploy(&node, deployer.address()).await;
    leash_sdk::deploy::deploy_missing(&node, deployer.address(), &Deployment::test_contracts())
        .await
        .expect("test contracts deploy");
    let (_alto, client) = bundler(&anvil).await;
    let session_key = PrivateKeySigner::from_bytes(&SESSION_KEY.into()).expect("key");
    let chain_id = node.get_chain_id().await.expect("chain id");
    let domain = GrantDomain {
        chain_id,
        validator: Deployment::session_key_validator().address(),
    };
    let now = node
        .get_block_by_number(Default::default())
        .await
        .expect("block")
        .expect("latest")
        .header
        .timestamp;
    let token = Deployment::test_token().address();
    for holder in [owner.address(), root_owner.address()] {
        let mint = TestToken::mintCall {
            to: holder,
            amount: U256::from(1_000),
        };
        let request = TransactionRequest::default()
            .with_to(token)
            .with_input(mint.abi_encode());
        node.send_transaction(request)
            .await
            .expect("mint")
            .get_receipt()
            .await
            .expect("mined");
    }

    // A scoped session, lazily enabled by the account's very first UserOperation.
    delegate_and_install(&anvil, &owner).await;
    let grant = SessionGrantBuilder::new(owner.address(), session_key.address(), domain.validator)
        .valid_until(now + 3_600)
        .permission(Permission::Erc20TokenTransfer {
            address: token,
            allowance: U256::from(ALLOWANCE),
            period: None,
        })
        .permission(Permission::NativeTokenTransfer {
            allowance: parse_ether("1").expect("ether"),
            period: None,
        })
        .build(now)
        .expect("grant");
    let sessions = Sessions {
        client: &client,
        domain,
        key: &session_key,
        node: &node,
        limits: LimitedAssets::of_grant(&grant),
    };
    let owner_signature = domain.sign(&owner, &grant).expect("owner signs");
    let session_id = domain.session_id(&grant);
    let lazy = SessionAuth::Lazy {
        grant: &grant,
        owner_signature: &owner_signature,
    };
    let prepared = sessions
        .prepare(owner.address(), &lazy, &[transfer(10)])
        .await
        .expect("lazy enable estimated by the bundler");
    assert!(send_and_wait(&client, &prepared).await, "lazy enable");
    assert_eq!(balance(&node, RECIPIENT).await, U256::from(10));

    // Warm: the short form.
    let enabled = SessionAuth::Enabled {
        session_id,
        root: false,
    };
    let prepared = sessions
        .prepare(owner.address(), &enabled, &[transfer(20)])
        .await
        .expect("warm op estimated by the bundler");
    assert!(send_and_wait(&client, &prepared).await, "warm op");
    assert_eq!(balance(&node, RECIPIENT).await, U256::from(30));

    // A batch of three calls: two transfers and some native value.
    let value = parse_ether("0.1").expect("ether");
    let before = node.get_balance(RECIPIENT).await.expect("balance");
    let prepared = sessions
        .prepare(
            owner.address(),
            &enabled,
            &[transfer(1), transfer(2), Call::transfer(RECIPIENT, value)],
        )
        .await
        .expect("batch estimated by the bundler");
    assert!(send_and_wait(&client, &prepared).await, "batch");
    assert_eq!(balance(&node, RECIPIENT).await, U256::from(33));
    assert_eq!(
        node.get_balance(RECIPIENT).await.expect("balance") - before,
        value
    );

    // Over the allowance: refused at estimation, with the rule and the numbers.
    let error = sessions
        .prepare(owner.address(), &enabled, &[transfer(ALLOWANCE)])
        .await
        .expect_err("over the allowance");
    let SenderError::Rejected(rejection) = &error else {
        panic!("expected a validation rejection, got {error:?}");
    };
    assert_eq!(rejection.code, AaCode::ACCOUNT_REVERTED);
    let sentence = Denial::from_sender_error(&error, None)
        .expect("explained")
        .to_string();
    assert!(
        sentence.contains("erc20-token-transfer")
            && sentence.contains("requested 100")
            && sentence.contains("remaining 67"),
        "{sentence}"
    );

    // A root session of another account: lazily enabled, then warm.
    delegate_and_install(&anvil, &root_owner).await;
    let root_grant = SessionGrantBuilder::new(
        root_owner.address(),
        session_key.address(),
        domain.validator,
    )
    .valid_until(now + 3_600)
    .permission(Permission::Root)
    .build(now)
    .expect("grant");
    let root_signature = domain.sign(&root_owner, &root_grant).expect("owner signs");
    for auth in [
        SessionAuth::Lazy {
            grant: &root_grant,
            owner_signature: &root_signature,
        },
        SessionAuth::Enabled {
            session_id: domain.session_id(&root_grant),
            root: true,
        },
    ] {
        let prepared = sessions
            .prepare(root_owner.address(), &auth, &[transfer(5)])
            .await
            .expect("root op estimated by the bundler");
        assert!(send_and_wait(&client, &prepared).await, "root op");
    }
    assert_eq!(balance(&node, RECIPIENT).await, U256::from(43));
}
