//! Session-key UserOperations per second: an ERC-20 transfer under a scoped session, built,
//! signed and executed through `handleOps` on the embedded chain, with 1, 10 and 100 operations
//! per bundle. One thread. Run: `cargo bench -p leash-sim --bench throughput`.

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, IERC20, PackedUserOperation, SessionKeyValidator, TestToken};
use leash_sdk::{
    Call, MAX_ALLOWANCE, Permission, SessionAuth, SessionGrantBuilder, UserOperationBuilder,
    session_nonce_key,
};
use leash_sim::{BundleOutcome, Chain, Execution, walkthrough};
use std::time::{Duration, Instant};

const OPS_PER_SIZE: usize = 2_000;
const BUNDLE_SIZES: [usize; 3] = [1, 10, 100];

struct Session {
    account: Address,
    key: PrivateKeySigner,
    session_id: alloy_primitives::B256,
    token: Address,
}

fn main() -> eyre::Result<()> {
    let (mut chain, session) = prepare()?;
    println!("| operations per bundle | operations | wall time | operations per second |");
    println!("|---|---|---|---|");
    for size in BUNDLE_SIZES {
        let elapsed = run(&mut chain, &session, size, OPS_PER_SIZE)?;
        println!(
            "| {size} | {OPS_PER_SIZE} | {:.3} s | {:.0} |",
            elapsed.as_secs_f64(),
            OPS_PER_SIZE as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// A delegated account with the validator installed, a million test tokens, and an enabled
/// session allowed to transfer them.
fn prepare() -> eyre::Result<(Chain, Session)> {
    let mut chain = Chain::new()?;
    let owner = PrivateKeySigner::from_bytes(&[0x11; 32].into())?;
    let account = owner.address();
    chain.set_balance(account, U256::from(10).pow(U256::from(24)));
    walkthrough::delegate_and_install_validator(&mut chain, &owner)?;
    let token = Deployment::test_token().address();
    let mint = TestToken::mintCall {
        to: account,
        amount: U256::from(10).pow(U256::from(30)),
    };
    chain.transact(chain.bundler(), token, mint.abi_encode().into(), U256::ZERO)?;

    let key = PrivateKeySigner::from_bytes(&[0x22; 32].into())?;
    let domain = chain.grant_domain();
    let now = chain.timestamp();
    let grant = SessionGrantBuilder::new(account, key.address(), domain.validator)
        .valid_until(now + 86_400)
        .permission(Permission::Erc20TokenTransfer {
            address: token,
            allowance: MAX_ALLOWANCE,
        })
        .build(now)?;
    let enable = SessionKeyValidator::enableSessionCall {
        grant: (&grant).into(),
    };
    let op = chain.owner_user_op(
        &owner,
        &[Call {
            to: domain.validator,
            value: U256::ZERO,
            data: enable.abi_encode().into(),
        }],
    )?;
    expect_all_executed(&chain.handle_ops(vec![op], vec![])?, 1)?;
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

/// Builds, signs and executes `total` session operations in bundles of `size`.
fn run(chain: &mut Chain, session: &Session, size: usize, total: usize) -> eyre::Result<Duration> {
    let domain = chain.grant_domain();
    let chain_id = chain.chain_id();
    let auth = SessionAuth::Enabled {
        session_id: session.session_id,
        root: false,
    };
    let nonce_key = session_nonce_key(domain.validator, session.session_id);
    let recipient = Address::repeat_byte(0xbe);
    let transfer = IERC20::transferCall {
        to: recipient,
        amount: U256::from(1),
    };
    let calls = [Call {
        to: session.token,
        value: U256::ZERO,
        data: transfer.abi_encode().into(),
    }];

    let start = Instant::now();
    let mut nonce = chain.entry_point_nonce(session.account, nonce_key)?;
    for _ in 0..total / size {
        let mut bundle: Vec<PackedUserOperation> = Vec::with_capacity(size);
        for _ in 0..size {
            let (op, _) = UserOperationBuilder::new(session.account)
                .nonce(nonce)
                .calls(&calls)?
                .sign_as_session(&session.key, &auth, chain_id)?;
            bundle.push(op);
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
    eyre::ensure!(
        ops.len() == count && ops.iter().all(|op| op.execution == Execution::Succeeded),
        "{outcome:?}"
    );
    Ok(())
}
