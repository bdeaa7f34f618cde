//! `leash demo`: the walkthrough on the embedded chain, printed step by step.

use alloy_primitives::{Address, U256, address, utils::format_ether};
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;
use leash_bindings::Deployment;
use leash_sim::{BundleOutcome, Chain, Execution, walkthrough};

/// anvil's second dev key: a well-known throwaway key, so the demo is the same on every run.
const DEMO_OWNER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DEMO_RECIPIENT: Address = address!("0x000000000000000000000000000000000000bEEF");
const ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

pub(crate) fn run() -> eyre::Result<()> {
    println!("1. Embedded chain (revm, Prague rules)");
    let mut chain = Chain::new().wrap_err("starting the embedded chain")?;
    println!("   chain id           {}", chain.chain_id());
    for deployment in Deployment::all() {
        println!("   {:<18} {}", deployment.name, deployment.address());
    }

    let owner: PrivateKeySigner = DEMO_OWNER_KEY.parse()?;
    chain.set_balance(owner.address(), ETH * U256::from(10));
    println!(
        "\n2. Owner EOA {} funded with 10 ETH, no code yet",
        owner.address()
    );

    let report = walkthrough::owner_transfer(&mut chain, &owner, DEMO_RECIPIENT, ETH)?;
    let auth = report.authorization.inner();
    println!("\n3. EIP-7702 authorization signed by the owner");
    println!("   delegate           {}", auth.address);
    println!("   chain id, nonce    {}, {}", auth.chain_id, auth.nonce);

    println!(
        "\n4. Owner-signed UserOperation: send {} ETH to {}",
        format_ether(report.amount),
        report.recipient
    );
    println!("   userOpHash         {}", report.user_op_hash);
    println!("   sent as handleOps in one type-4 transaction carrying the authorization");

    println!("\n5. Outcome");
    match &report.outcome {
        BundleOutcome::Included {
            ops, tx_gas_used, ..
        } => {
            for op in ops {
                match &op.execution {
                    Execution::Succeeded => println!("   executed           yes"),
                    Execution::Reverted(reason) => println!("   execution reverted {reason}"),
                }
                println!(
                    "   gas charged        {} (EntryPoint actualGasUsed)",
                    op.gas_used
                );
                println!("   gas cost           {} ETH", format_ether(op.gas_cost));
            }
            println!("   bundle tx gas      {tx_gas_used}");
        }
        BundleOutcome::Rejected(rejection) => {
            let inner = rejection
                .inner_reason()
                .map(|r| r.to_string())
                .unwrap_or_default();
            eyre::bail!("{rejection} {inner}");
        }
        BundleOutcome::Failed(reason) => eyre::bail!("handleOps failed: {reason}"),
    }
    match report.delegate_after {
        Some(delegate) => println!("   owner code         0xef0100 || {delegate} (delegated)"),
        None => eyre::bail!("the owner is not delegated after the bundle"),
    }

    println!("\n6. Balances            before                 after");
    let row = |label: &str, before: U256, after: U256| {
        println!(
            "   {label:<18} {:<22} {}",
            format_ether(before),
            format_ether(after)
        );
    };
    row("owner", report.before.owner, report.after.owner);
    row(
        "owner deposit (EP)",
        report.before.owner_deposit,
        report.after.owner_deposit,
    );
    row("recipient", report.before.recipient, report.after.recipient);
    row("bundler", report.before.bundler, report.after.bundler);
    Ok(())
}
