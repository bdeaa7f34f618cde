//! Bad input gets a clear message and the usage exit code, never a panic; no chain needed.

use std::process::{Command, Output};

const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const TOKEN: &str = "0xdb5a33d92E74564096564C7F2c1E3eA71EaD9bD0";

fn leash(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_HOME", home.path())
        .env("LEASH_PASSWORD", "pw")
        .env_remove("LEASH_RPC_URL")
        .env_remove("LEASH_PRIVATE_KEY")
        .env_remove("LEASH_BUNDLER_KEY")
        .env_remove("LEASH_BUNDLER_URL")
        .env_remove("LEASH_DATABASE_URL")
        .output()
        .expect("leash runs")
}

/// Runs `args`, expects exit code 2 and `needle` in stderr.
fn usage_error(args: &[&str], needle: &str) -> String {
    let output = leash(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} lacks {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

#[test]
fn clap_rejects_unknown_and_missing_arguments() {
    usage_error(&[], "Usage");
    usage_error(&["frobnicate"], "unrecognized subcommand");
    usage_error(&["send"], "--session");
    usage_error(&["session", "create", "--root"], "--expires");
    usage_error(&["delegate", "--via", "carrier-pigeon"], "invalid value");
    usage_error(
        &["session", "create", "--signature", "0x01", "--root"],
        "--session",
    );
}

#[test]
fn permission_flags_explain_their_format() {
    let create = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["session", "create", "--expires", "1h", "--private-key", KEY];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect()
    };
    let ruled_call = format!("{TOKEN}:pay(address,uint256);arg0:approx:1");
    let cases: [(&[&str], &str); 16] = [
        (&[], "at least one permission"),
        (&["--paymaster", "0x12"], "is not an address"),
        (
            &["--unbounded-gas", "--gas-limit", "1ether"],
            "cannot be used with",
        ),
        (&["--unbounded-gas", "--root"], "cannot be used with"),
        (&["--erc20", "nonsense"], "expected TOKEN:AMOUNT"),
        (&["--erc20", "0x12:5"], "is not an address"),
        (&["--erc20", &format!("{TOKEN}:lots")], "is not an amount"),
        (&["--native=-1"], "negative"),
        (&["--call", TOKEN], "expected ADDRESS:SIG_OR_SELECTOR"),
        (
            &["--functions", "transfer"],
            "neither a selector (0x and 8 hex digits) nor a function signature",
        ),
        (&["--account-functions", "f(uint7)"], "not an ABI type"),
        (&["--gas-limit", "1.5"], "is not an amount"),
        (&["--call", &ruled_call], "is not a rule operator"),
        (
            &["--functions", "ping();value:gte:1"],
            "a value limit is value:lte:AMOUNT",
        ),
        (&["--functions", "ping();arg0"], "expected argI:OP:VALUE"),
        (
            &["--typed-data-signing", "0x12"],
            "--typed-data-signing: \"0x12\" is not an address",
        ),
    ];
    for (extra, needle) in cases {
        let args = create(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usage_error(&args, needle);
    }
}

#[test]
fn session_sign_needs_one_message_that_the_contracts_can_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let typed = |name: &str, json: serde_json::Value| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, json.to_string()).expect("writes");
        path.display().to_string()
    };
    let pull = |domain: serde_json::Value, primary: &str| {
        serde_json::json!({
            "types": {primary: [{"name": "amount", "type": "uint256"}]},
            "primaryType": primary,
            "domain": domain,
            "message": {"amount": "1"}
        })
    };
    let no_contract = typed(
        "no_contract.json",
        pull(serde_json::json!({"name": "App"}), "Pull"),
    );
    let lowercase = typed(
        "lowercase.json",
        pull(serde_json::json!({"verifyingContract": TOKEN}), "pull"),
    );
    let not_json = typed("not_json.json", serde_json::json!("{"));
    let cases: [(&[&str], &str); 7] = [
        (&["session", "sign", "0xab"], "what to sign: --message TEXT"),
        (
            &[
                "session",
                "sign",
                "0xab",
                "--message",
                "a",
                "--typed-data",
                "f",
            ],
            "cannot be used with",
        ),
        (
            &["session", "sign", "0xab", "--message-hex", "0xz"],
            "--message-hex",
        ),
        (
            &["session", "sign", "0xab", "--typed-data", &no_contract],
            "the typed data's domain names no verifyingContract",
        ),
        (
            &["session", "sign", "0xab", "--typed-data", &lowercase],
            "the primary type \"pull\" cannot be nested",
        ),
        (
            &["session", "sign", "0xab", "--typed-data", &not_json],
            "--typed-data",
        ),
        (
            &["session", "sign", "0xab", "--message", "hi"],
            "no stored session matches \"0xab\"",
        ),
    ];
    for (args, needle) in cases {
        usage_error(args, needle);
    }
}

#[test]
fn expiries_and_urls_are_checked_before_connecting() {
    let base = ["session", "create", "--root", "--private-key", KEY];
    usage_error(
        &[&base[..], &["--expires", "1x"]].concat(),
        "is not an expiry",
    );
    usage_error(
        &[&base[..], &["--expires", "2026-02-30T00:00Z"]].concat(),
        "not a valid UTC date",
    );
    usage_error(&[&base[..], &["--expires", "1h"]].concat(), "needs a chain");
    usage_error(
        &[&base[..], &["--expires", "1h", "--rpc-url", "ftp://x"]].concat(),
        "only http:// and https:// endpoints",
    );
    usage_error(
        &[&base[..], &["--expires", "1h", "--rpc-url", "not a url"]].concat(),
        "is not a URL",
    );
}

#[test]
fn bundler_flags_are_checked_before_anything_is_read() {
    let send = ["send", "--session", "0x01", "--to", TOKEN];
    usage_error(
        &[&send[..], &["--bundler-url", "not a url"]].concat(),
        "--bundler-url \"not a url\" is not a URL",
    );
    usage_error(
        &[&send[..], &["--bundler-url", "ws://127.0.0.1:4337"]].concat(),
        "only http:// and https:// endpoints",
    );
    usage_error(
        &[&send[..], &["--print-op", "--dry-run"]].concat(),
        "cannot be used with",
    );
    usage_error(
        &[&send[..], &["--receipt-timeout", "0"]].concat(),
        "invalid value",
    );
    usage_error(
        &[&send[..], &["--receipt-timeout", "1m"]].concat(),
        "invalid value",
    );
    // The bundler's URL from the environment is checked as the flag is.
    let home = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(send)
        .env("LEASH_HOME", home.path())
        .env("LEASH_BUNDLER_URL", "bundler")
        .env_remove("LEASH_RPC_URL")
        .output()
        .expect("leash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--bundler-url \"bundler\""), "{stderr}");
    usage_error(
        &[
            "delegate",
            "--via",
            "user-op",
            "--private-key",
            KEY,
            "--rpc-url",
            "http://127.0.0.1:1",
            "--bundler-url",
            "file:///tmp/x",
        ],
        "only http:// and https:// endpoints",
    );
}

#[test]
fn secrets_are_never_echoed() {
    let secret = "0xdeadbeefcafe";
    let stderr = usage_error(
        &[
            "session",
            "create",
            "--root",
            "--expires",
            "1h",
            "--private-key",
            secret,
        ],
        "not a private key",
    );
    assert!(!stderr.contains("deadbeef"), "{stderr}");
    let stderr = usage_error(
        &[
            "send",
            "--session",
            "0x01",
            "--to",
            TOKEN,
            "--bundler-key",
            secret,
        ],
        "no stored session",
    );
    assert!(!stderr.contains("deadbeef"), "{stderr}");
}

#[test]
fn calls_and_sessions_explain_bad_input() {
    usage_error(
        &[
            "send",
            "--session",
            "0x01",
            "--to",
            TOKEN,
            "--sig",
            "transfer(address,uint256)",
            "1",
        ],
        "takes 2 argument(s), 1 given",
    );
    usage_error(
        &[
            "send",
            "--session",
            "0x01",
            "--to",
            TOKEN,
            "--value",
            "much",
        ],
        "is not an amount",
    );
    usage_error(&["session", "show", "0xzz"], "not a session id");
    usage_error(&["session", "clear", "0xabc"], "no stored session matches");
    usage_error(
        &[
            "send",
            "--session",
            "0x01",
            "--calls",
            "/nonexistent/calls.json",
        ],
        "--calls /nonexistent/calls.json",
    );
}

#[test]
fn key_types_are_checked_before_connecting() {
    let create = |extra: &[&str]| {
        let mut args = vec![
            "session",
            "create",
            "--root",
            "--expires",
            "1h",
            "--private-key",
            KEY,
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cases: [(&[&str], &str); 4] = [
        (
            &["--key-type", "contract"],
            "--key-type contract: a contract signer's signatures come from the contract's owners",
        ),
        (
            &["--key-type", "p256", "--rp-id", "wallet.example"],
            "--rp-id is for --key-type webauthn",
        ),
        (
            &[
                "--key-type",
                "webauthn",
                "--rp-id",
                "https://wallet.example",
            ],
            "--rp-id: \"https://wallet.example\" is not a relying party id",
        ),
        (&["--key-type", "ed25519"], "invalid value 'ed25519'"),
    ];
    for (extra, needle) in cases {
        let args = create(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usage_error(&args, needle);
    }
}

#[test]
fn json_errors_carry_the_exit_code() {
    let output = leash(&["session", "show", "0xzz", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON document on stdout");
    assert_eq!(document["error"]["kind"], "usage");
    assert_eq!(document["error"]["exitCode"], 2);
}

#[test]
fn deploy_without_a_chain_lists_the_deterministic_addresses() {
    let output = leash(&["deploy"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108"),
        "{stdout}"
    );
}

#[test]
fn demo_tells_the_whole_story() {
    let output = leash(&["demo"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("remaining            40 of 100 tokens"),
        "{stdout}"
    );
    assert!(
        stdout.contains("requested 50000000000000000000, remaining 40000000000000000000"),
        "{stdout}"
    );
    assert!(stdout.contains("AA24 signature error"), "{stdout}");
    assert!(stdout.contains("The recipient holds 60 tokens"), "{stdout}");
    assert!(
        stdout.contains("gas-limit: 0.010000000000000000 ETH (added by default"),
        "the grant shows its default gas bound: {stdout}"
    );
    // The daily allowance: refused beyond the day's rest by the estimate (which runs the execution
    // phase), with the numbers and the reset, then whole again once the clock passes midnight.
    assert!(
        stdout.contains("remaining today      40 of 100 tokens, until 2026-01-02T00:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("   refused              session 0x")
            && stdout.contains("the operation's calls moved 50000000000000000000 of token 0x")
            && stdout.contains(
                "more than the 40000000000000000000 its recurring allowance has left in this \
                 period, which ends at 2026-01-02T00:00:00Z (unix 1767312000)"
            ),
        "{stdout}"
    );
    assert!(
        stdout.contains("11. The embedded chain's clock moves to 2026-01-02T00:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("remaining today      50 of 100 tokens\n"),
        "{stdout}"
    );
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leash"))
        .arg("demo")
        .env("LEASH_HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leash runs");
    // Close the read end before leash writes, as `leash demo | head -1` eventually does.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("leash exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_needs_exactly_one_submitter_for_a_node() {
    let node = ["serve", "--rpc-url", "http://127.0.0.1:1"];
    usage_error(&node, "--bundler-key HEX");
    usage_error(
        &[
            &node[..],
            &["--bundler-key", KEY, "--bundler-url", "http://127.0.0.1:2"],
        ]
        .concat(),
        "one of --bundler-key and --bundler-url",
    );
    usage_error(
        &["serve", "--bundler-key", KEY],
        "submit to the chain behind --rpc-url",
    );
}

#[test]
fn serve_shares_a_database_only_with_a_node() {
    usage_error(
        &["serve", "--database-url", "postgres://127.0.0.1:1/leash"],
        "pass --rpc-url as well",
    );
    usage_error(&["serve", "--replica-id", "a"], "--database-url");
    usage_error(
        &[
            "serve",
            "--database-url",
            "postgres://127.0.0.1:1/leash",
            "--data-dir",
            "/tmp/x",
        ],
        "cannot be used with",
    );
}

#[test]
fn serve_checks_its_operations_flags_before_listening() {
    let https = "https://app.example";
    usage_error(
        &["serve", "--cors-origin", "*", "--cors-origin", https],
        "give it alone",
    );
    usage_error(&["serve", "--cors-origin", "app.example"], "not an origin");
    usage_error(
        &["serve", "--cors-origin", "https://app.example/wallet"],
        "no path",
    );
    usage_error(&["serve", "--log-format", "xml"], "invalid value");
    usage_error(&["serve", "--log-level", "loud"], "invalid value");
    usage_error(&["serve", "--shutdown-grace", "601"], "601");
    let home = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LEASH_HOME", home.path())
        .env("RUST_LOG", "leash_server=loud")
        .output()
        .expect("leash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("RUST_LOG=leash_server=loud"), "{stderr}");
}

#[test]
fn access_flags_and_key_commands_are_checked() {
    usage_error(
        &["serve", "keys", "list"],
        "--data-dir DIR or --database-url URL",
    );
    usage_error(&["serve", "keys", "add"], "<NAME>");
    usage_error(&["serve", "keys", "revoke"], "<NAME>");
    usage_error(&["serve", "keys", "rotate"], "unrecognized subcommand");
    usage_error(&["serve", "--rate-limit", "10/h"], "a rate is N/s or N/min");
    usage_error(&["serve", "--rate-limit", "0/s"], "a rate is N/s or N/min");
    usage_error(&["serve", "--rate-burst", "0"], "--rate-burst");
    usage_error(
        &["serve", "--max-pending-calls", "0"],
        "--max-pending-calls",
    );
    usage_error(&["serve", "--daily-quota", "lots"], "--daily-quota");
    usage_error(
        &[
            "serve",
            "keys",
            "add",
            "web",
            "--data-dir",
            "d",
            "--rate-limit",
            "fast",
        ],
        "a rate is N/s or N/min",
    );
}
