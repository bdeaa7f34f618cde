//! The official client, npm `@alchemy/wallet-apis` (pinned in package.json), unchanged against
//! the server on loopback: `official_client/flow.mjs` runs with the machine's `node` and drives
//! the owner's EIP-7702 sendCalls, a root session (prepareCalls, signPreparedCalls,
//! sendPreparedCalls, waitForCallsStatus), an ERC-20 session spending within its allowance and
//! one refused beyond it. It prints a JSON summary; the balances are read from the chain here.

// The harness; the request helpers and cast signing are for the hand-written tests.
#[allow(dead_code)]
mod support;

use alloy_primitives::{Address, U256};
use leash_bindings::Deployment;
use serde_json::{Value, json};
use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};
use support::{Harness, MINTED, OWNER, owner_key};

const OWNER_RECIPIENT: Address = Address::repeat_byte(0x71);
const ROOT_RECIPIENT: Address = Address::repeat_byte(0x72);
const ERC20_RECIPIENT: Address = Address::repeat_byte(0x73);
/// Sent by the owner's and the root session's calls.
const OWNER_SENT: u64 = 7;
const ROOT_SENT: u64 = 11;
const ALLOWANCE: u64 = 100;
const WITHIN: u64 = 60;
const BEYOND: u64 = 50;
/// The script's own guard is 45 s; this one catches a node that never starts.
const DEADLINE: Duration = Duration::from_secs(60);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs flow.mjs with `config`, bounded by [`DEADLINE`]: its exit status, stdout and stderr.
fn run_flow(config: &Value) -> eyre::Result<(bool, String, String)> {
    let root = workspace_root();
    let client = root.join("node_modules/@alchemy/wallet-apis/package.json");
    eyre::ensure!(
        client.exists(),
        "{} is missing: run scripts/toolchain to install the npm toolchain",
        client.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/official_client/flow.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(config.to_string())
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| eyre::eyre!("node (Node.js 20+) is required: {error}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            child.kill()?;
            child.wait()?;
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    eyre::ensure!(
        status.is_some(),
        "flow.mjs still running after {DEADLINE:?}: {stdout}\n{stderr}"
    );
    Ok((status.is_some_and(|s| s.success()), stdout, stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_client_runs_the_session_flow() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let config = json!({
        "url": harness.url,
        "chainId": 31337,
        "ownerKey": owner_key(),
        "token": Deployment::test_token().address(),
        "amounts": {
            "owner": OWNER_SENT.to_string(),
            "root": ROOT_SENT.to_string(),
            "allowance": ALLOWANCE.to_string(),
            "within": WITHIN.to_string(),
            "beyond": BEYOND.to_string(),
        },
        "recipients": { "owner": OWNER_RECIPIENT, "root": ROOT_RECIPIENT, "erc20": ERC20_RECIPIENT },
    });
    // node blocks this thread; the server runs on the runtime's other workers.
    let (success, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_flow(&config)).await??;
    let summary: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| eyre::eyre!("no JSON summary:\n{stdout}\n{stderr}"))?;
    println!("{summary:#}");
    assert!(success && summary["ok"] == true, "{summary:#}\n{stderr}");
    let steps = &summary["steps"];
    assert_eq!(summary["clientVersion"], "5.1.0", "the pinned client");

    assert_eq!(
        steps["capabilities"]["permissionTypes"]
            .as_array()
            .map(Vec::len),
        Some(8),
        "{summary:#}"
    );
    for step in ["delegation", "root", "erc20Within"] {
        assert_eq!(steps[step]["status"], "success", "{step}: {summary:#}");
        assert_eq!(steps[step]["statusCode"], 200, "{step}: {summary:#}");
        assert_eq!(steps[step]["receipts"], 1, "{step}: {summary:#}");
    }
    assert_eq!(steps["root"]["type"], "user-operation-v070");

    // Refused at prepare with the validator's rule and the numbers; nothing was sent.
    let refused = &steps["erc20Beyond"];
    assert_eq!(refused["code"], -32003, "{summary:#}");
    let details = refused["details"].as_str().unwrap_or_default();
    assert!(details.contains("erc20-token-transfer"), "{details}");
    assert!(
        details.contains(&format!("requested {BEYOND}")),
        "{details}"
    );
    assert!(
        details.contains(&format!("remaining {}", ALLOWANCE - WITHIN)),
        "{details}"
    );

    assert_eq!(
        harness.token_balance(OWNER_RECIPIENT).await?,
        U256::from(OWNER_SENT)
    );
    assert_eq!(
        harness.token_balance(ROOT_RECIPIENT).await?,
        U256::from(ROOT_SENT)
    );
    assert_eq!(
        harness.token_balance(ERC20_RECIPIENT).await?,
        U256::from(WITHIN)
    );
    assert_eq!(
        harness.token_balance(OWNER).await?,
        U256::from(MINTED - OWNER_SENT - ROOT_SENT - WITHIN)
    );
    Ok(())
}
