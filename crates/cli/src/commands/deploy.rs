//! `leash deploy`: every contract through the CREATE2 deployer, at the addresses the bindings
//! know; the same result as `forge script script/Deploy.s.sol`.

use crate::{args::GlobalArgs, failure::Failure, node, output::Output};
use leash_sdk::deploy::Deployment;
use leash_sdk::deploy::{deploy_missing, missing_deployments};
use serde_json::json;

/// The chain id of local development chains (anvil, the embedded chain), which also get the test
/// contracts, as the forge script does.
const LOCAL_CHAIN_ID: u64 = 31337;

#[derive(Debug, clap::Args)]
pub(crate) struct DeployArgs {
    /// Key of the account that sends the deployment transactions (hex). Without it, only check
    /// which contracts are there.
    #[arg(
        long,
        env = "LEASH_DEPLOYER_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    private_key: Option<String>,
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: DeployArgs) -> eyre::Result<()> {
    if global.rpc_url.is_none() {
        out.line("Deterministic addresses (the same on every chain):");
        print_addresses(out, &all_with_tests(LOCAL_CHAIN_ID));
        out.line("The embedded chain has them all (see `leash demo`); pass --rpc-url to deploy.");
        out.document(addresses_json(&all_with_tests(LOCAL_CHAIN_ID), &[]));
        return Ok(());
    }
    let url = global.rpc_url("deploy")?;
    let reader = node::reader(&url);
    let chain_id = node::chain_id(&reader, &url).await?;
    let wanted = all_with_tests(chain_id);
    let deployed = match &args.private_key {
        Some(hex) => {
            let key = crate::args::parse_private_key(hex, "--private-key")?;
            let from = key.address();
            deploy_missing(&node::signing(&url, key), from, &wanted).await?
        }
        None => Vec::new(),
    };
    let missing = missing_deployments(&reader, &wanted).await?;
    out.line(format!("Chain {chain_id} at {url}"));
    for deployment in &wanted {
        let state = if deployed.contains(deployment) {
            "deployed now"
        } else if missing.contains(deployment) {
            "MISSING"
        } else {
            "present"
        };
        out.line(format!(
            "  {:<20} {}  {state}",
            deployment.name,
            deployment.address()
        ));
    }
    out.document(addresses_json(&wanted, &missing));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{} contract(s) missing: pass --private-key to deploy them",
            missing.len()
        )))
    }
}

fn all_with_tests(chain_id: u64) -> Vec<Deployment> {
    let mut all = Deployment::all();
    if chain_id == LOCAL_CHAIN_ID {
        all.extend(Deployment::test_contracts());
    }
    all
}

fn print_addresses(out: &Output, deployments: &[Deployment]) {
    for deployment in deployments {
        out.line(format!(
            "  {:<20} {}",
            deployment.name,
            deployment.address()
        ));
    }
}

fn addresses_json(deployments: &[Deployment], missing: &[Deployment]) -> serde_json::Value {
    let contracts: serde_json::Map<String, serde_json::Value> = deployments
        .iter()
        .map(|d| {
            let entry = json!({"address": d.address(), "present": !missing.contains(d)});
            (d.name.to_owned(), entry)
        })
        .collect();
    json!({ "contracts": contracts })
}
