//! The `leash` binary against a real anvil, deployed with `forge script`: delegate, create a
//! scoped session, spend within it, get denied beyond it, revoke, get denied again.

use alloy_node_bindings::AnvilInstance;
use leash_testkit::{anvil, toolchain_binary};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

const RECIPIENT: &str = "0x000000000000000000000000000000000000bEEF";
/// TestToken's deterministic address (leash-bindings' `Deployment::test_token`).
const TOKEN: &str = "0xd5CFB4b858309cEe0f78fE06bdCB522D8D3Ec02C";

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hex_key(anvil: &AnvilInstance, index: usize) -> String {
    let bytes = anvil.keys()[index].to_bytes();
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("command runs");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn succeed(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct Env {
    anvil: AnvilInstance,
    home: tempfile::TempDir,
}

impl Env {
    fn leash(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_leash"));
        command
            .args(args)
            .env("LEASH_HOME", self.home.path())
            .env("LEASH_PASSWORD", "correct horse")
            .env("LEASH_RPC_URL", self.anvil.endpoint())
            .env_remove("LEASH_PRIVATE_KEY")
            .env_remove("LEASH_BUNDLER_KEY");
        command
    }

    fn cast(&self, args: &[&str]) -> String {
        let mut command = Command::new(toolchain_binary("cast"));
        command
            .args(args)
            .arg("--rpc-url")
            .arg(self.anvil.endpoint());
        succeed(&mut command).trim().to_owned()
    }

    fn token_balance(&self, holder: &str) -> String {
        let out = self.cast(&["call", TOKEN, "balanceOf(address)(uint256)", holder]);
        out.split_whitespace().next().unwrap_or_default().to_owned()
    }
}

fn forge_deploy(env: &Env, deployer_key: &str, scratch: &Path) {
    let mut forge = Command::new(toolchain_binary("forge"));
    forge
        .current_dir(workspace_root())
        .args(["script", "script/Deploy.s.sol", "--broadcast", "--rpc-url"])
        .arg(env.anvil.endpoint())
        .args(["--private-key", deployer_key])
        // Keep the broadcast logs out of the repository.
        .env("FOUNDRY_BROADCAST", scratch.join("broadcast"));
    succeed(&mut forge);
}

#[test]
fn session_lifecycle_through_the_cli_on_anvil() {
    let anvil = anvil();
    let env = Env {
        anvil,
        home: tempfile::tempdir().expect("tempdir"),
    };
    let bundler_key = hex_key(&env.anvil, 0);
    let owner_key = hex_key(&env.anvil, 1);
    let owner = format!("{:?}", env.anvil.addresses()[1]);
    forge_deploy(&env, &bundler_key, env.home.path());

    // Everything is where the bindings say; delegation and validator installation in one tx.
    succeed(&mut env.leash(&["deploy"]));
    let delegated = succeed(&mut env.leash(&["delegate", "--private-key", &owner_key]));
    assert!(
        delegated.contains("SessionKeyValidator installed"),
        "{delegated}"
    );
    env.cast(&[
        "send",
        "--private-key",
        &bundler_key,
        TOKEN,
        "mint(address,uint256)",
        &owner,
        "1000",
    ]);

    let created = succeed(&mut env.leash(&[
        "session",
        "create",
        "--private-key",
        &owner_key,
        "--erc20",
        &format!("{TOKEN}:100"),
        "--expires",
        "1h",
        "--light-kdf",
        "--json",
    ]));
    let created: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let session = created["sessionId"]
        .as_str()
        .expect("session id")
        .to_owned();

    let transfer = |amount: &str, extra: &[&str]| {
        let mut args = vec![
            "send",
            "--session",
            &session,
            "--bundler-key",
            &bundler_key,
            "--to",
            TOKEN,
            "--sig",
            "transfer(address,uint256)",
            RECIPIENT,
            amount,
        ];
        args.extend_from_slice(extra);
        run(&mut env.leash(&args))
    };

    // A dry run on a fork of the node: the lazy enable and the transfer are simulated, the node
    // is not touched.
    let preview = transfer("60", &["--dry-run"]);
    let stdout = String::from_utf8_lossy(&preview.stdout);
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    assert!(stdout.contains("would be accepted"), "{stdout}");
    let recipient_line = format!("{RECIPIENT} 60");
    assert!(
        stdout.contains(&recipient_line),
        "the fork reports the transfer: {stdout}"
    );
    assert_eq!(env.token_balance(RECIPIENT), "0");

    // Within scope: the first send enables the session lazily.
    let sent = transfer("60", &["--json"]);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&sent.stdout).expect("JSON");
    assert_eq!(sent["success"], true);
    assert_eq!(sent["tokenTransfers"][0]["value"], "0x3c");
    assert_eq!(env.token_balance(RECIPIENT), "60");

    let shown = succeed(&mut env.leash(&["session", "show", &session[..12]]));
    assert!(shown.contains("status       enabled"), "{shown}");
    assert!(shown.contains("40 of 100 left"), "{shown}");

    // Beyond scope: a dry run and a real send are both denied with the rule's numbers.
    for extra in [&["--dry-run"][..], &[]] {
        let denied = transfer("50", extra);
        let stderr = String::from_utf8_lossy(&denied.stderr);
        assert_eq!(denied.status.code(), Some(3), "{extra:?}: {stderr}");
        assert!(stderr.contains("allowance"), "{stderr}");
        assert!(stderr.contains("requested 50, remaining 40"), "{stderr}");
    }
    assert_eq!(env.token_balance(RECIPIENT), "60");

    succeed(&mut env.leash(&["session", "revoke", &session, "--private-key", &owner_key]));
    let after = transfer("10", &[]);
    let stderr = String::from_utf8_lossy(&after.stderr);
    assert_eq!(after.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("revoked"), "{stderr}");
    assert_eq!(env.token_balance(RECIPIENT), "60");

    let listed = succeed(&mut env.leash(&["session", "list"]));
    assert!(listed.contains(&session), "{listed}");
    succeed(&mut env.leash(&["session", "clear", &session]));
    let listed = succeed(&mut env.leash(&["session", "list"]));
    assert!(listed.contains("No sessions"), "{listed}");
}
