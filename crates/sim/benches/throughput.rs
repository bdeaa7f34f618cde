//! Session-key UserOperations per second: an ERC-20 transfer under a scoped session, built,
//! signed and executed through `handleOps`, on one thread.
//!
//! - On the embedded chain, with 1, 10 and 100 operations per bundle.
//! - The same flow against `anvil` over HTTP (started here, from the npm toolchain), one
//!   operation per `handleOps` transaction, waiting for each receipt: the ratio says how much
//!   faster the embedded simulator is per operation.
//!
//! Run: `cargo bench -p leash-sim --bench throughput` (needs `scripts/toolchain` for anvil).

use alloy_network::{EthereumWallet, TransactionBuilder, TransactionBuilder7702};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{
    Deployment, EntryPoint, IERC20, LeashAccount, PackedUserOperation, SessionGrant,
    SessionKeyValidator, TestToken,
};
use leash_core::{
    calls::{Call, execute_calldata},
    eip7702::sign_authorization,
    grant::{GrantDomain, SessionGrantBuilder},
    permission::{MAX_ALLOWANCE, Permission},
    session_signature::{SessionAuth, session_nonce_key},
    user_operation::UserOperationBuilder,
};
use leash_sim::{BundleOutcome, Chain, Execution, SimSender, walkthrough};
use std::time::{Duration, Instant};

const EMBEDDED_OPS: usize = 2_000;
const BUNDLE_SIZES: [usize; 3] = [1, 10, 100];
const ANVIL_OPS: usize = 200;
const OWNER_SEED: [u8; 32] = [0x11; 32];
const SESSION_SEED: [u8; 32] = [0x22; 32];

fn main() -> eyre::Result<()> {
    let mut embedded = Vec::new();
    let (mut chain, session) = prepare_embedded()?;
    for size in BUNDLE_SIZES {
        embedded.push((size, run_embedded(&mut chain, &session, size)?));
    }
    let anvil = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run_anvil())?;

    println!("| chain | operations per bundle | operations | wall time | operations per second |");
    println!("|---|---|---|---|---|");
    let rate = |ops: usize, time: Duration| ops as f64 / time.as_secs_f64();
    for (size, time) in &embedded {
        let ops_per_second = rate(EMBEDDED_OPS, *time);
        let seconds = time.as_secs_f64();
        println!(
            "| embedded (revm) | {size} | {EMBEDDED_OPS} | {seconds:.3} s | {ops_per_second:.0} |"
        );
    }
    let seconds = anvil.as_secs_f64();
    println!(
        "| anvil over HTTP | 1 | {ANVIL_OPS} | {seconds:.3} s | {:.0} |",
        rate(ANVIL_OPS, anvil)
    );
    let ratio = rate(EMBEDDED_OPS, embedded[0].1) / rate(ANVIL_OPS, anvil);
    println!("\nembedded / anvil, one operation per bundle: {ratio:.1}x");
    Ok(())
}

/// A session allowed to transfer the test token without limit.
struct Session {
    account: Address,
    key: PrivateKeySigner,
    session_id: B256,
    token: Address,
}

impl Session {
    fn grant(
        account: Address,
        key: &PrivateKeySigner,
        domain: &GrantDomain,
        now: u64,
    ) -> eyre::Result<SessionGrant> {
        Ok(
            SessionGrantBuilder::new(account, key.address(), domain.validator)
                .valid_until(now + 86_400)
                .permission(Permission::Erc20TokenTransfer {
                    address: Deployment::test_token().address(),
                    allowance: MAX_ALLOWANCE,
                    period: None,
                })
                .build(now)?,
        )
    }

    /// The signed transfer with `nonce`.
    fn transfer_op(&self, nonce: U256, chain_id: u64) -> eyre::Result<PackedUserOperation> {
        let transfer = IERC20::transferCall {
            to: Address::repeat_byte(0xbe),
            amount: U256::from(1),
        };
        let call = Call {
            to: self.token,
            value: U256::ZERO,
            data: transfer.abi_encode().into(),
        };
        let auth = SessionAuth::Enabled {
            session_id: self.session_id,
            root: false,
        };
        let (op, _) = UserOperationBuilder::new(self.account)
            .nonce(nonce)
            .calls(&[call])?
            .sign_as_session(&self.key, &auth, chain_id)?;
        Ok(op)
    }

    fn nonce_key(&self) -> U256 {
        session_nonce_key(
            Deployment::session_key_validator().address(),
            self.session_id,
        )
    }
}

fn mint_call(account: Address) -> Bytes {
    TestToken::mintCall {
        to: account,
        amount: U256::from(10).pow(U256::from(30)),
    }
    .abi_encode()
    .into()
}

fn enable_call(grant: &SessionGrant) -> Call {
    let enable = SessionKeyValidator::enableSessionCall {
        grant: grant.into(),
    };
    Call {
        to: Deployment::session_key_validator().address(),
        value: U256::ZERO,
        data: enable.abi_encode().into(),
    }
}

// ------------------------------------------------------------------ embedded

fn prepare_embedded() -> eyre::Result<(Chain, Session)> {
    let mut chain = Chain::new()?;
    let owner = PrivateKeySigner::from_bytes(&OWNER_SEED.into())?;
    let account = owner.address();
    chain.set_balance(account, U256::from(10).pow(U256::from(24)))?;
    walkthrough::delegate_and_install_validator(&mut chain, &owner)?;
    let token = Deployment::test_token().address();
    chain.transact(chain.bundler(), token, mint_call(account), U256::ZERO)?;

    let key = PrivateKeySigner::from_bytes(&SESSION_SEED.into())?;
    let domain = chain.grant_domain();
    let grant = Session::grant(account, &key, &domain, chain.timestamp())?;
    let enable = execute_calldata(&[enable_call(&grant)])?;
    expect_all_executed(
        &SimSender::new(&mut chain).owner_operation(&owner, enable, None)?,
        1,
    )?;
    Ok((
        chain,
        Session {
            account,
            key,
            session_id: domain.session_id(&grant),
            token,
        },
    ))
}

/// Builds, signs and executes `EMBEDDED_OPS` session operations in bundles of `size`.
fn run_embedded(chain: &mut Chain, session: &Session, size: usize) -> eyre::Result<Duration> {
    let chain_id = chain.chain_id();
    let start = Instant::now();
    let mut nonce = chain.entry_point_nonce(session.account, session.nonce_key())?;
    for _ in 0..EMBEDDED_OPS / size {
        let mut bundle = Vec::with_capacity(size);
        for _ in 0..size {
            bundle.push(session.transfer_op(nonce, chain_id)?);
            nonce += U256::from(1);
        }
        expect_all_executed(&chain.handle_ops(bundle, vec![])?, size)?;
    }
    Ok(start.elapsed())
}

fn expect_all_executed(outcome: &BundleOutcome, count: usize) -> eyre::Result<()> {
    let ops = outcome
        .ops()
        .ok_or_else(|| eyre::eyre!("bundle not included: {outcome:?}"))?;
    let all_succeeded = ops.iter().all(|op| op.execution == Execution::Succeeded);
    eyre::ensure!(ops.len() == count && all_succeeded, "{outcome:?}");
    Ok(())
}

// ------------------------------------------------------------------ anvil

async fn run_anvil() -> eyre::Result<Duration> {
    let anvil = leash_testkit::anvil();
    let bundler = PrivateKeySigner::from(anvil.keys()[0].clone());
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(bundler.clone()))
        .connect_http(anvil.endpoint_url());
    let chain_id = provider.get_chain_id().await?;
    let deployments: Vec<_> = Deployment::all()
        .into_iter()
        .chain(Deployment::test_contracts())
        .collect();
    leash_sdk::deploy::deploy_missing(&provider, bundler.address(), &deployments).await?;
    let bundle = |ops: Vec<PackedUserOperation>, authorization| {
        let call = EntryPoint::handleOpsCall {
            ops,
            beneficiary: bundler.address(),
        };
        let request = TransactionRequest::default()
            .with_to(Deployment::entry_point().address())
            .with_input(call.abi_encode());
        match authorization {
            Some(authorization) => request.with_authorization_list(vec![authorization]),
            None => request,
        }
    };
    let send = async |request: TransactionRequest| -> eyre::Result<()> {
        let receipt = provider
            .send_transaction(request)
            .await?
            .get_receipt()
            .await?;
        eyre::ensure!(
            receipt.status(),
            "transaction {} reverted",
            receipt.transaction_hash
        );
        Ok(())
    };

    // The owner delegates and installs the validator in one bundle, then gets tokens and enables
    // the session.
    let owner = PrivateKeySigner::from_bytes(&OWNER_SEED.into())?;
    let account = owner.address();
    let funding = TransactionRequest::default()
        .with_to(account)
        .with_value(U256::from(10).pow(U256::from(21)));
    send(funding).await?;
    let authorization =
        sign_authorization(&owner, chain_id, Deployment::leash_account().address(), 0)?;
    let install = LeashAccount::installModuleCall {
        moduleTypeId: U256::from(1),
        module: Deployment::session_key_validator().address(),
        initData: Bytes::new(),
    };
    let owner_op = async |builder: UserOperationBuilder| -> eyre::Result<PackedUserOperation> {
        let entry_point = Deployment::entry_point().address();
        let nonce =
            leash_sdk::transport::entry_point_nonce(&provider, entry_point, account, U256::ZERO);
        Ok(builder
            .nonce(nonce.await?)
            .sign_as_owner(&owner, chain_id)?
            .0)
    };
    let builder = UserOperationBuilder::new(account).call_data(install.abi_encode().into());
    let op = owner_op(builder.eip7702()).await?;
    send(bundle(vec![op], Some(authorization))).await?;
    let token = Deployment::test_token().address();
    send(
        TransactionRequest::default()
            .with_to(token)
            .with_input(mint_call(account)),
    )
    .await?;

    let key = PrivateKeySigner::from_bytes(&SESSION_SEED.into())?;
    let domain = GrantDomain {
        chain_id,
        validator: Deployment::session_key_validator().address(),
    };
    let now = provider
        .get_block_by_number(Default::default())
        .await?
        .map(|b| b.header.timestamp)
        .unwrap_or_default();
    let grant = Session::grant(account, &key, &domain, now)?;
    let builder = UserOperationBuilder::new(account).calls(&[enable_call(&grant)])?;
    send(bundle(vec![owner_op(builder).await?], None)).await?;

    let session = Session {
        account,
        key,
        session_id: domain.session_id(&grant),
        token,
    };
    let start = Instant::now();
    let mut nonce = leash_sdk::transport::entry_point_nonce(
        &provider,
        Deployment::entry_point().address(),
        account,
        session.nonce_key(),
    )
    .await?;
    for _ in 0..ANVIL_OPS {
        send(bundle(vec![session.transfer_op(nonce, chain_id)?], None)).await?;
        nonce += U256::from(1);
    }
    let elapsed = start.elapsed();
    let transferred = provider
        .call(
            TransactionRequest::default().with_to(token).with_input(
                IERC20::balanceOfCall {
                    owner: Address::repeat_byte(0xbe),
                }
                .abi_encode(),
            ),
        )
        .await?;
    eyre::ensure!(
        U256::from_be_slice(&transferred) == U256::from(ANVIL_OPS),
        "every transfer landed"
    );
    Ok(elapsed)
}
