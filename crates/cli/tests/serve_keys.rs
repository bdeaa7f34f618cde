//! `leash serve keys add|list|revoke` on a temporary data directory, and `leash serve` on it
//! requiring the key it printed. Loopback only; every wait is bounded.

mod support;

use serde_json::Value;
use std::{
    path::Path,
    process::{Command, Output, Stdio},
};

/// `leash serve keys …` (`args`) on the store in `dir`.
fn keys(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["serve", "keys"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("LEASH_DATABASE_URL")
        .output()
        .expect("leash runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn keys_are_added_once_listed_without_the_key_and_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = stdout(&keys(dir.path(), &["add", "web"]));
    let key = key.trim();
    assert!(key.starts_with("lsk_") && key.len() == 68, "{key}");
    let other = stdout(&keys(
        dir.path(),
        &[
            "add",
            "cron",
            "--rate-limit",
            "10/min",
            "--daily-quota",
            "5",
        ],
    ));
    assert_ne!(other.trim(), key, "every key is random");
    assert!(
        failure(&keys(dir.path(), &["add", "web"])).contains("a key named \"web\" exists already")
    );

    let listed = stdout(&keys(dir.path(), &["list"]));
    assert!(
        !listed.contains("lsk_"),
        "the keys are never shown again: {listed}"
    );
    assert!(
        listed.contains("cron: added at ")
            && listed.contains("rate 10/min, burst the server's, daily quota 5"),
        "{listed}"
    );

    assert!(stdout(&keys(dir.path(), &["revoke", "web"])).contains("revoked web"));
    assert!(failure(&keys(dir.path(), &["revoke", "web"])).contains("no key named \"web\""));
    let json = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["--json", "serve", "--data-dir"])
        .arg(dir.path())
        .args(["keys", "list"])
        .output()
        .expect("leash runs");
    let listed: Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(listed[0]["name"], "cron");
    assert_eq!(listed[0]["dailyQuota"], 5);
    assert_eq!(listed[1]["name"], "web");
    assert!(listed[1]["revokedAt"].is_u64(), "{listed}");
}

#[test]
fn serve_on_a_store_with_a_key_requires_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = stdout(&keys(dir.path(), &["add", "web"]));
    let key = key.trim();
    let mut child = support::leash_serve()
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .expect("leash serve starts");
    let address = support::listening(&mut child);

    let chain_id = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let refused = support::http(&address, "POST /", chain_id);
    let allowed = support::http(&address, &format!("POST /v2/{key}"), chain_id);
    // Revoked by another process on the same store: refused at once.
    stdout(&keys(dir.path(), &["revoke", "web"]));
    let revoked = support::http(&address, &format!("POST /v2/{key}"), chain_id);
    let _ = child.kill();
    let _ = child.wait();

    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains(r#""leashCode":4007"#), "{refused}");
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(allowed.contains("0x7a69"), "{allowed}");
    assert!(revoked.starts_with("HTTP/1.1 401"), "{revoked}");
    assert!(revoked.contains(r#""leashCode":4009"#), "{revoked}");
}
