//! `leash serve` as a process: its logs on stderr (JSON lines here), and SIGTERM stops it
//! gracefully with exit code 0. Loopback only; every wait is bounded.

mod support;

use serde_json::Value;
use std::{
    io::Read,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

#[test]
fn sigterm_stops_serve_gracefully_and_every_request_is_logged() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = support::leash_serve()
        .args(["--log-format", "json"])
        .env("LEASH_HOME", home.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leash serve starts");
    let address = support::listening(&mut child);

    let chain_id = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let answer = support::http(&address, "POST /", chain_id);
    assert!(answer.contains("0x7a69"), "{answer}");
    let health = support::http(&address, "GET /health", "");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("leash serve is waited for") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "leash serve still runs 30 s after SIGTERM"
        );
        thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr is read");
    assert_eq!(status.code(), Some(0), "{stderr}");

    // Every log line is a JSON object (the in-memory warning is the command's own, in text).
    let events: Vec<Value> = stderr
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("a log line is JSON"))
        .collect();
    let message = |event: &Value| event["fields"]["message"].as_str().map(str::to_owned);
    let answered = events
        .iter()
        .find(|event| message(event).as_deref() == Some("answered"))
        .unwrap_or_else(|| panic!("no request logged: {stderr}"));
    assert_eq!(answered["fields"]["method"], "eth_chainId", "{answered}");
    assert!(answered["fields"]["millis"].is_number(), "{answered}");
    assert_eq!(answered["level"], "INFO");
    assert!(
        events
            .iter()
            .any(|event| message(event).as_deref() == Some("shutdown: no call left pending")),
        "{stderr}"
    );
}
