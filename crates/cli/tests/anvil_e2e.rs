//! The `leash` binary against a real anvil, deployed with `forge script`: delegate, create a
//! scoped session, spend within it, get denied beyond it, revoke, get denied again; and the same
//! through Pimlico's alto bundler (`--bundler-url`), with a printed operation submitted by hand.

use alloy_node_bindings::AnvilInstance;
use leash_testkit::{Alto, anvil, toolchain_binary};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    thread::sleep,
    time::{Duration, Instant},
};

const RECIPIENT: &str = "0x000000000000000000000000000000000000bEEF";
/// TestToken's deterministic address (leash-bindings' `Deployment::test_token`).
const TOKEN: &str = "0xdb5a33d92E74564096564C7F2c1E3eA71EaD9bD0";

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
    /// A fresh anvil, and a LEASH_HOME of its own.
    fn new() -> Self {
        Self {
            anvil: anvil(),
            home: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn leash(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_leash"));
        command
            .args(args)
            .env("LEASH_HOME", self.home.path())
            .env("LEASH_PASSWORD", "correct horse")
            .env("LEASH_RPC_URL", self.anvil.endpoint())
            .env_remove("LEASH_PRIVATE_KEY")
            .env_remove("LEASH_BUNDLER_KEY")
            .env_remove("LEASH_BUNDLER_URL");
        command
    }

    fn cast(&self, args: &[&str]) -> String {
        self.cast_at(&self.anvil.endpoint(), args)
    }

    /// `cast` against `url` (the node or a bundler).
    fn cast_at(&self, url: &str, args: &[&str]) -> String {
        let mut command = Command::new(toolchain_binary("cast"));
        command.args(args).arg("--rpc-url").arg(url);
        succeed(&mut command).trim().to_owned()
    }

    /// `leash send` of `amount` test tokens to `RECIPIENT` by `session`, handleOps sent by the
    /// bundler key, with `extra` flags.
    fn send_tokens(
        &self,
        session: &str,
        bundler_key: &str,
        amount: &str,
        extra: &[&str],
    ) -> Output {
        let mut args = token_transfer_args(session, amount);
        args.extend(["--bundler-key", bundler_key]);
        args.extend_from_slice(extra);
        run(&mut self.leash(&args))
    }

    fn token_balance(&self, holder: &str) -> String {
        let out = self.cast(&["call", TOKEN, "balanceOf(address)(uint256)", holder]);
        out.split_whitespace().next().unwrap_or_default().to_owned()
    }
}

/// `leash send` of `amount` test tokens to `RECIPIENT` by `session`.
fn token_transfer_args<'a>(session: &'a str, amount: &'a str) -> Vec<&'a str> {
    vec![
        "send",
        "--session",
        session,
        "--to",
        TOKEN,
        "--sig",
        "transfer(address,uint256)",
        RECIPIENT,
        amount,
    ]
}

fn forge_deploy(env: &Env, deployer_key: &str, scratch: &Path) {
    let mut forge = Command::new(toolchain_binary("forge"));
    forge
        .current_dir(workspace_root())
        // --slow: each transaction after the previous one's receipt. Sent together, one could be
        // dropped while the next waited in anvil's queue behind the gap, and forge waited forever.
        .args([
            "script",
            "script/Deploy.s.sol",
            "--broadcast",
            "--slow",
            "--rpc-url",
        ])
        .arg(env.anvil.endpoint())
        .args(["--private-key", deployer_key])
        // Keep the broadcast logs out of the repository.
        .env("FOUNDRY_BROADCAST", scratch.join("broadcast"));
    succeed(&mut forge);
}

/// Mints 1000 test tokens to `owner` (sent by `minter_key`) and creates, lazily, a session of
/// `owner` with a 100-token ERC-20 allowance; returns its id.
fn mint_and_create_session(env: &Env, minter_key: &str, owner: &str, owner_key: &str) -> String {
    mint_and_create_limited_session(env, minter_key, owner, owner_key, "100", "1h")
}

/// [`mint_and_create_session`] with the allowance `limit` (`AMOUNT[/PERIOD]`, as `--erc20` takes
/// it after the token) for `expires`.
fn mint_and_create_limited_session(
    env: &Env,
    minter_key: &str,
    owner: &str,
    owner_key: &str,
    limit: &str,
    expires: &str,
) -> String {
    env.cast(&[
        "send",
        "--private-key",
        minter_key,
        TOKEN,
        "mint(address,uint256)",
        owner,
        "1000",
    ]);
    let created = succeed(&mut env.leash(&[
        "session",
        "create",
        "--private-key",
        owner_key,
        "--erc20",
        &format!("{TOKEN}:{limit}"),
        "--expires",
        expires,
        "--light-kdf",
        "--json",
    ]));
    let created: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    created["sessionId"]
        .as_str()
        .expect("session id")
        .to_owned()
}

#[test]
fn session_lifecycle_through_the_cli_on_anvil() {
    let env = Env::new();
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
    let session = mint_and_create_session(&env, &bundler_key, &owner, &owner_key);

    let transfer =
        |amount: &str, extra: &[&str]| env.send_tokens(&session, &bundler_key, amount, extra);

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
    // What it would move reads under the names a real send reports it with.
    let preview = transfer("60", &["--dry-run", "--json"]);
    let preview: serde_json::Value = serde_json::from_slice(&preview.stdout).expect("JSON");
    assert_eq!(preview["tokenTransfers"][0]["value"], "0x3c");
    assert_eq!(preview["nativeTransfers"], serde_json::json!([]));

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

#[test]
fn a_daily_allowance_through_the_cli_on_anvil() {
    let env = Env::new();
    let bundler_key = hex_key(&env.anvil, 0);
    let owner_key = hex_key(&env.anvil, 1);
    let owner = format!("{:?}", env.anvil.addresses()[1]);
    succeed(&mut env.leash(&["deploy", "--private-key", &bundler_key]));
    succeed(&mut env.leash(&["delegate", "--private-key", &owner_key]));
    let session =
        mint_and_create_limited_session(&env, &bundler_key, &owner, &owner_key, "100/day", "3d");
    let transfer = |amount: &str| env.send_tokens(&session, &bundler_key, amount, &[]);
    let sent = |amount: &str| {
        let output = transfer(amount);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    sent("60");
    let shown = succeed(&mut env.leash(&["session", "show", &session]));
    assert!(
        shown.contains("permission   erc20-token-transfer 100 of"),
        "{shown}"
    );
    assert!(
        shown.contains("40 of 100 left this period (every day), resets at "),
        "{shown}"
    );
    let shown = succeed(&mut env.leash(&["session", "show", &session, "--json"]));
    let shown: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
    let budget = &shown["state"]["budgets"][0];
    assert_eq!(
        budget["period"],
        serde_json::json!({"seconds": 86400, "start": 0})
    );
    let resets_at = budget["resetsAt"].as_u64().expect("resetsAt");
    assert_eq!(resets_at % 86_400, 0, "a day ends at midnight UTC");

    // Within the day's amount, beyond its rest: the estimate runs the execution phase, which reads
    // the clock, and the spend is denied before it is signed (exit 3); nothing is sent.
    let beyond = transfer("50");
    let stderr = String::from_utf8_lossy(&beyond.stderr);
    assert_eq!(beyond.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("error: denied: session "), "{stderr}");
    assert!(
        stderr.contains("more than the 40 its recurring allowance has left in this period"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("(unix {resets_at})")), "{stderr}");
    assert_eq!(env.token_balance(RECIPIENT), "60");

    // The next day the amount is whole again.
    env.cast(&["rpc", "evm_setNextBlockTimestamp", &resets_at.to_string()]);
    env.cast(&["rpc", "evm_mine"]);
    sent("50");
    assert_eq!(env.token_balance(RECIPIENT), "110");
}

/// `cast rpc` against `url` until `done` accepts the answer, for at most `timeout`.
fn poll_rpc(
    url: &str,
    args: &[&str],
    timeout: Duration,
    done: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let output = Command::new(toolchain_binary("cast"))
            .arg("rpc")
            .args(args)
            .arg("--rpc-url")
            .arg(url)
            .output()
            .expect("cast runs");
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if output.status.success() && done(&stdout) {
            return Some(stdout);
        }
        if Instant::now() >= deadline {
            return None;
        }
        sleep(Duration::from_millis(250));
    }
}

#[test]
fn sends_through_a_bundler_and_prints_operations_for_other_tools() {
    let env = Env::new();
    let deployer_key = hex_key(&env.anvil, 0);
    let owner_key = hex_key(&env.anvil, 1);
    let owner = format!("{:?}", env.anvil.addresses()[1]);
    forge_deploy(&env, &deployer_key, env.home.path());
    let alto = Alto::start(&env.anvil);
    let bundler = alto.url();
    poll_rpc(
        &bundler,
        &["eth_supportedEntryPoints"],
        Duration::from_secs(60),
        |answer| {
            answer
                .to_lowercase()
                .contains("0x4337084d9e255ff0702461cf8895ce9e3b5ff108")
        },
    )
    .expect("alto answers within 60 s");
    // No bundler key anywhere below: the bundler estimates, sends and pays.
    let with_bundler = |args: &[&str]| {
        let mut command = env.leash(args);
        command.env("LEASH_BUNDLER_URL", &bundler);
        command
    };

    // The EOA's first UserOperation carries its EIP-7702 authorization and installs the validator.
    let delegated = succeed(&mut with_bundler(&[
        "delegate",
        "--via",
        "user-op",
        "--private-key",
        &owner_key,
    ]));
    assert!(
        delegated.contains("LeashAccount") && delegated.contains("SessionKeyValidator installed"),
        "{delegated}"
    );
    let session = mint_and_create_session(&env, &deployer_key, &owner, &owner_key);

    // Lazily enabled and never used: the whole allowance, marked as such.
    let shown = succeed(&mut env.leash(&["session", "show", &session]));
    assert!(shown.contains("status       unused"), "{shown}");
    assert!(
        shown.contains("100 of 100 left (not enabled yet)"),
        "{shown}"
    );
    let shown = succeed(&mut env.leash(&["session", "show", &session, "--json"]));
    let shown: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
    let budget = &shown["state"]["budgets"][0];
    assert_eq!(budget["remaining"], "0x64", "{shown:#}");
    assert_eq!(budget["notEnabledYet"], true, "{shown:#}");

    let transfer = |amount: &str, extra: &[&str]| {
        let mut args = token_transfer_args(&session, amount);
        args.extend_from_slice(extra);
        run(&mut with_bundler(&args))
    };

    // Printed, not sent: the bundler's shape, estimated by the bundler; and without a bundler,
    // estimated on the node (no bundler key needed either way).
    let printed = transfer("60", &["--print-op"]);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    assert_eq!(
        printed["entryPoint"],
        "0x4337084d9e255ff0702461cf8895ce9e3b5ff108"
    );
    assert_eq!(printed["chainId"], 31337);
    assert!(
        printed["userOpHash"]
            .as_str()
            .is_some_and(|h| h.len() == 66)
    );
    let op = &printed["userOperation"];
    assert_eq!(op["sender"], owner.to_lowercase());
    for field in [
        "nonce",
        "callData",
        "callGasLimit",
        "verificationGasLimit",
        "preVerificationGas",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "signature",
    ] {
        assert!(
            op[field].as_str().is_some_and(|v| v.starts_with("0x")),
            "{field}: {op:#}"
        );
    }
    assert!(op.get("eip7702Auth").is_none(), "already delegated: {op:#}");
    assert!(op.get("factory").is_none(), "{op:#}");
    let mut on_node = env.leash(&[
        "send",
        "--session",
        &session,
        "--to",
        TOKEN,
        "--sig",
        "transfer(address,uint256)",
        RECIPIENT,
        "60",
        "--print-op",
    ]);
    let on_node: serde_json::Value = serde_json::from_str(&succeed(&mut on_node)).expect("JSON");
    assert_eq!(on_node["userOperation"]["sender"], op["sender"]);
    assert_eq!(env.token_balance(RECIPIENT), "0", "nothing was sent");

    // A dry run estimates through the bundler, then runs on the node and a fork of it.
    let preview = transfer("60", &["--dry-run"]);
    let stdout = String::from_utf8_lossy(&preview.stdout);
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    assert!(stdout.contains("would be accepted"), "{stdout}");
    assert!(stdout.contains(&format!("{RECIPIENT} 60")), "{stdout}");

    // Sent through the bundler: the lazy enable and the transfer in the session's first operation.
    let sent = transfer("60", &["--json"]);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&sent.stdout).expect("JSON");
    assert_eq!(sent["success"], true, "{sent:#}");
    assert_eq!(sent["tokenTransfers"][0]["value"], "0x3c");
    assert_eq!(env.token_balance(RECIPIENT), "60");
    let shown = succeed(&mut env.leash(&["session", "show", &session]));
    assert!(shown.contains("status       enabled"), "{shown}");
    assert!(shown.contains("40 of 100 left"), "{shown}");
    assert!(!shown.contains("not enabled yet"), "{shown}");

    // Beyond the allowance: the bundler's estimate refuses it, with the rule and the numbers.
    for extra in [&[][..], &["--print-op"]] {
        let denied = transfer("50", extra);
        let stderr = String::from_utf8_lossy(&denied.stderr);
        assert_eq!(denied.status.code(), Some(3), "{extra:?}: {stderr}");
        assert!(stderr.contains("allowance"), "{stderr}");
        assert!(stderr.contains("requested 50, remaining 40"), "{stderr}");
    }

    // A printed operation is what eth_sendUserOperation takes: submit it by hand.
    let printed = transfer("10", &["--print-op"]);
    assert!(printed.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    let params = serde_json::json!([printed["userOperation"], printed["entryPoint"]]).to_string();
    let hash = env.cast_at(
        &bundler,
        &["rpc", "--raw", "eth_sendUserOperation", &params],
    );
    assert_eq!(
        hash.trim_matches('"'),
        printed["userOpHash"].as_str().expect("hash")
    );
    let receipt = poll_rpc(
        &bundler,
        &["eth_getUserOperationReceipt", hash.trim_matches('"')],
        Duration::from_secs(60),
        |answer| answer != "null",
    )
    .expect("included within 60 s");
    let receipt: serde_json::Value = serde_json::from_str(&receipt).expect("JSON");
    assert_eq!(receipt["success"], true, "{receipt:#}");
    assert_eq!(env.token_balance(RECIPIENT), "70");
}

#[test]
fn p256_and_passkey_sessions_through_the_cli_on_anvil() {
    let env = Env::new();
    let bundler_key = hex_key(&env.anvil, 0);
    let owner_key = hex_key(&env.anvil, 1);
    let owner = format!("{:?}", env.anvil.addresses()[1]);
    forge_deploy(&env, &bundler_key, env.home.path());
    succeed(&mut env.leash(&["delegate", "--private-key", &owner_key]));
    env.cast(&[
        "send",
        "--private-key",
        &bundler_key,
        TOKEN,
        "mint(address,uint256)",
        &owner,
        "1000",
    ]);
    let limit = format!("{TOKEN}:100");
    let mut sent = 0;
    for (key_type, kind) in [
        (&["--key-type", "p256"][..], "P-256 (precompile)"),
        (
            &["--key-type", "webauthn", "--rp-id", "wallet.example"][..],
            "WebAuthn (precompile)",
        ),
    ] {
        let mut args = vec![
            "session",
            "create",
            "--private-key",
            &owner_key,
            "--erc20",
            &limit,
            "--expires",
            "1h",
            "--light-kdf",
            "--json",
        ];
        args.extend_from_slice(key_type);
        let created: serde_json::Value =
            serde_json::from_str(&succeed(&mut env.leash(&args))).expect("JSON");
        assert_eq!(
            created["keyType"]["verification"], "precompile",
            "anvil runs Osaka: {created}"
        );
        let session = created["sessionId"].as_str().expect("session id");
        let shown = succeed(&mut env.leash(&["session", "show", session]));
        assert!(shown.contains(&format!("key type     {kind}")), "{shown}");

        let transfer = env.send_tokens(session, &bundler_key, "10", &[]);
        assert!(
            transfer.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&transfer.stderr)
        );
        sent += 10;
        assert_eq!(env.token_balance(RECIPIENT), sent.to_string());

        let by_key = run(&mut env.leash(&["session", "revoke", session, "--by-session-key"]));
        let stderr = String::from_utf8_lossy(&by_key.stderr);
        assert_eq!(by_key.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "has a {kind} signer: only a secp256k1 key sends transactions and signs as an \
                 address"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn sessions_of_every_stored_kind_sign_a_login_as_the_account_on_anvil() {
    let env = Env::new();
    let deployer_key = hex_key(&env.anvil, 0);
    let owner_key = hex_key(&env.anvil, 1);
    let owner = format!("{:?}", env.anvil.addresses()[1]);
    forge_deploy(&env, &deployer_key, env.home.path());
    succeed(&mut env.leash(&["delegate", "--private-key", &owner_key]));
    let login = "leash.example wants you to sign in with your Ethereum account.\n\nNonce: 8817";
    let is_valid = |hash: &str, signature: &str| {
        env.cast(&[
            "call",
            &owner,
            "isValidSignature(bytes32,bytes)(bytes4)",
            hash,
            signature,
        ])
    };
    for key_type in [
        &["--key-type", "secp256k1"][..],
        &["--key-type", "p256"],
        &["--key-type", "webauthn", "--rp-id", "wallet.example"],
    ] {
        let mut args = vec![
            "session",
            "create",
            "--private-key",
            &owner_key,
            "--personal-sign",
            "--typed-data-signing",
            TOKEN,
            "--expires",
            "1h",
            "--enable-now",
            "--light-kdf",
            "--json",
        ];
        args.extend_from_slice(key_type);
        let created: serde_json::Value =
            serde_json::from_str(&succeed(&mut env.leash(&args))).expect("JSON");
        let permissions = created["permissions"].as_array().expect("permissions");
        assert!(permissions.contains(&serde_json::json!({"type": "personal-sign"})));
        assert!(permissions.contains(&serde_json::json!({
            "type": "typed-data-signing",
            "data": {"address": TOKEN.to_lowercase()}
        })));
        let session = created["sessionId"].as_str().expect("session id");

        let signed =
            succeed(&mut env.leash(&["session", "sign", session, "--message", login, "--json"]));
        let signed: serde_json::Value = serde_json::from_str(&signed).expect("JSON");
        let (hash, signature) = (
            signed["hash"].as_str().expect("hash"),
            signed["signature"].as_str().expect("signature"),
        );
        assert_eq!(is_valid(hash, signature), "0x1626ba7e", "{key_type:?}");
        let other = format!("0x{}", "11".repeat(32));
        assert_eq!(is_valid(&other, signature), "0xffffffff", "{key_type:?}");
        let plain = succeed(&mut env.leash(&["session", "sign", session, "--message", login]));
        assert_eq!(is_valid(hash, plain.trim()), "0x1626ba7e", "{key_type:?}");
    }

    let created = succeed(&mut env.leash(&[
        "session",
        "create",
        "--private-key",
        &owner_key,
        "--erc20",
        &format!("{TOKEN}:1"),
        "--expires",
        "1h",
        "--light-kdf",
        "--json",
    ]));
    let created: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let session = created["sessionId"].as_str().expect("session id");
    let refused = run(&mut env.leash(&["session", "sign", session, "--message", login]));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "session {session} may not sign this as its account: its grant has no personal-sign \
             permission"
        )),
        "{stderr}"
    );
}
