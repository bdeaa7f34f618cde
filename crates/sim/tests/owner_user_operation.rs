//! One owner-signed UserOperation through the real EntryPoint v0.8 bytecode, with the EOA's
//! EIP-7702 delegation in the same bundle transaction.

use alloy_primitives::{Address, U256, address};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::Deployment;
use leash_sdk::{Call, UserOperationBuilder, sign_owner, user_operation_hash};
use leash_sim::{BundleOutcome, Chain, Execution, walkthrough};

const RECIPIENT: Address = address!("0x000000000000000000000000000000000000beef");
const ONE_ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

fn funded_owner(chain: &mut Chain, seed: u8) -> PrivateKeySigner {
    let owner = PrivateKeySigner::from_bytes(&[seed; 32].into()).expect("valid key");
    chain.set_balance(owner.address(), ONE_ETH * U256::from(10));
    owner
}

#[test]
fn delegation_and_first_user_operation_in_one_bundle() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x11);
    let report = walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;

    let ops = report.outcome.included().expect("bundle included");
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].execution, Execution::Succeeded);
    assert_eq!(ops[0].user_op_hash, report.user_op_hash);
    assert_eq!(
        report.delegate_after,
        Some(Deployment::leash_account().address())
    );
    assert_eq!(report.after.recipient - report.before.recipient, ONE_ETH);
    let deposited = report.after.owner_deposit - report.before.owner_deposit;
    assert_eq!(
        report.before.owner - report.after.owner,
        ONE_ETH + ops[0].gas_cost + deposited
    );
    Ok(())
}

#[test]
fn user_operation_signed_by_another_key_fails_validation_with_aa24() -> eyre::Result<()> {
    let mut chain = Chain::new()?;
    let owner = funded_owner(&mut chain, 0x22);
    walkthrough::owner_transfer(&mut chain, &owner, RECIPIENT, ONE_ETH)?;

    let intruder = PrivateKeySigner::from_bytes(&[0x33; 32].into())?;
    let mut op = UserOperationBuilder::new(owner.address())
        .nonce(chain.entry_point_nonce(owner.address(), U256::ZERO)?)
        .calls(&[Call::transfer(RECIPIENT, ONE_ETH)])?
        .build()?;
    let hash = user_operation_hash(
        &op,
        Deployment::entry_point().address(),
        chain.chain_id(),
        None,
    )?;
    op.signature = sign_owner(&intruder, hash)?;

    match chain.handle_ops(vec![op], vec![])? {
        BundleOutcome::Rejected(rejection) => {
            assert_eq!(rejection.op_index, 0);
            assert_eq!(rejection.code, "AA24");
            assert_eq!(rejection.message, "AA24 signature error");
        }
        other => panic!("expected a validation rejection, got {other:?}"),
    }
    assert_eq!(
        chain.balance(RECIPIENT),
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

    // A batch whose second call asks for more value than the account holds: the whole batch reverts.
    let mut op = UserOperationBuilder::new(owner.address())
        .nonce(chain.entry_point_nonce(owner.address(), U256::ZERO)?)
        .calls(&[
            Call::transfer(RECIPIENT, ONE_ETH),
            Call::transfer(RECIPIENT, ONE_ETH * U256::from(100)),
        ])?
        .build()?;
    let hash = user_operation_hash(
        &op,
        Deployment::entry_point().address(),
        chain.chain_id(),
        None,
    )?;
    op.signature = sign_owner(&owner, hash)?;

    let outcome = chain.handle_ops(vec![op], vec![])?;
    let ops = outcome.included().expect("included");
    assert!(
        matches!(ops[0].execution, Execution::Reverted(_)),
        "{outcome:?}"
    );
    assert_eq!(
        chain.balance(RECIPIENT),
        ONE_ETH,
        "the batch's first call was undone"
    );
    Ok(())
}
