//! Owner-signed UserOperations through the real EntryPoint v0.8 bytecode, with the EOA's
//! EIP-7702 delegation in the same bundle transaction.

use alloy_primitives::{Address, I256, U256, address};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::{Deployment, PackedUserOperation};
use leash_core::{
    calls::Call,
    signing::sign_owner,
    user_operation::{UserOperationBuilder, user_operation_hash},
};
use leash_sim::{AaCode, BundleOutcome, Chain, Execution, walkthrough};

const RECIPIENT: Address = address!("0x000000000000000000000000000000000000beef");
const ONE_ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

fn funded_owner(chain: &mut Chain, seed: u8) -> PrivateKeySigner {
    let owner = PrivateKeySigner::from_bytes(&[seed; 32].into()).expect("valid key");
    chain
        .set_balance(owner.address(), ONE_ETH * U256::from(10))
        .expect("chain state");
    owner
}

/// A UserOperation from the already delegated `owner` account, signed by `signer`.
fn signed_op(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
    signer: &PrivateKeySigner,
    calls: &[Call],
) -> eyre::Result<PackedUserOperation> {
    let mut op = UserOperationBuilder::new(owner.address())
        .nonce(chain.entry_point_nonce(owner.address(), U256::ZERO)?)
        .calls(calls)?
        .build()?;
    let entry_point = Deployment::entry_point().address();
    let hash = user_operation_hash(&op, entry_point, chain.chain_id(), None)?;
    op.signature = sign_owner(signer, hash)?;
    Ok(op)
}

#[test]
fn delegation_and_first_user_operation_in_one_bundle() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x11);
    let report = walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;

    let BundleOutcome::Included {
        ops,
        native_balance_changes,
        ..
    } = &report.outcome
    else {
        panic!("bundle not included: {:?}", report.outcome);
    };
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].execution, Execution::Succeeded);
    assert_eq!(ops[0].user_op_hash, report.user_op_hash);
    assert_eq!(
        report.delegate_after,
        Some(Deployment::leash_account().address())
    );
    assert_eq!(report.after.recipient - report.before.recipient, ONE_ETH);
    let deposited = report.after.owner_deposit - report.before.owner_deposit;
    let spent = report.before.owner - report.after.owner;
    assert_eq!(spent, ONE_ETH + ops[0].gas_cost + deposited);

    let moved = &ops[0].balance_changes;
    assert_eq!(moved.native_of(RECIPIENT), I256::from_raw(ONE_ETH));
    assert_eq!(moved.native_of(owner.address()), -I256::from_raw(ONE_ETH));
    assert!(moved.erc20.is_empty());
    assert_eq!(
        native_balance_changes[&owner.address()],
        -I256::from_raw(spent)
    );
    Ok(())
}

#[test]
fn user_operation_signed_by_another_key_fails_validation_with_aa24() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x22);
    walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;

    let intruder = PrivateKeySigner::from_bytes(&[0x33; 32].into())?;
    let op = signed_op(
        &mut chain,
        &owner,
        &intruder,
        &[Call::transfer(RECIPIENT, ONE_ETH)],
    )?;
    let rejection = chain.handle_ops(vec![op], vec![])?;
    let rejection = rejection.rejection().expect("rejected in validation");
    assert_eq!(rejection.op_index, 0);
    assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);
    assert_eq!(rejection.reason, "AA24 signature error");
    assert_eq!(
        chain.balance(RECIPIENT).expect("chain state"),
        ONE_ETH,
        "only the first transfer happened"
    );
    Ok(())
}

#[test]
fn failing_call_is_an_included_reverted_user_operation() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x44);
    walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;

    // The second call asks for more value than the account holds: the whole batch reverts.
    let calls = [
        Call::transfer(RECIPIENT, ONE_ETH),
        Call::transfer(RECIPIENT, ONE_ETH * U256::from(100)),
    ];
    let op = signed_op(&mut chain, &owner, &owner, &calls)?;
    let outcome = chain.handle_ops(vec![op], vec![])?;
    let ops = outcome.ops().expect("included");
    assert!(
        matches!(ops[0].execution, Execution::Reverted(_)),
        "{outcome:?}"
    );
    assert!(
        ops[0].balance_changes.native.is_empty(),
        "reverted calls move nothing"
    );
    assert_eq!(
        chain.balance(RECIPIENT).expect("chain state"),
        ONE_ETH,
        "the batch's first call was undone"
    );
    Ok(())
}

#[test]
fn simulate_reports_what_handle_ops_then_does_and_changes_nothing() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x55);
    walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;
    let op = signed_op(
        &mut chain,
        &owner,
        &owner,
        &[Call::transfer(RECIPIENT, ONE_ETH)],
    )?;

    let balance = chain.balance(owner.address()).expect("chain state");
    let preflight = chain.simulate(vec![op.clone()], vec![])?;
    assert_eq!(
        chain.balance(owner.address()).expect("chain state"),
        balance,
        "simulate commits nothing"
    );
    let sent = chain.handle_ops(vec![op], vec![])?;
    assert_eq!(preflight, sent);
    assert_ne!(
        chain.balance(owner.address()).expect("chain state"),
        balance
    );
    Ok(())
}

#[test]
fn snapshot_restores_state_and_clock() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x66);
    let snapshot = chain.snapshot();
    let (time, block) = (chain.timestamp(), chain.block_number());
    walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;
    chain.advance_time(3600);
    assert_eq!(chain.timestamp(), time + 3600);
    assert_eq!(chain.block_number(), block + 300);

    chain.restore(snapshot);
    assert_eq!(chain.balance(RECIPIENT).expect("chain state"), U256::ZERO);
    assert!(chain.code(owner.address()).expect("chain state").is_empty());
    assert_eq!((chain.timestamp(), chain.block_number()), (time, block));
    Ok(())
}
