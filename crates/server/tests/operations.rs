//! Operations beside JSON-RPC on the same port: `/health`, `/health/ready` (the state, the chain
//! and the node behind `--rpc-url`), `/metrics`, and CORS for browser pages.

// Each test binary uses part of the shared support.
#[allow(dead_code)]
mod support;

use leash_server::{
    CorsOrigins, EmbeddedChain, ServerConfig, Submitter,
    state::{Claimant, MemoryState, PostgresState},
};
use leash_testkit::{Postgres, anvil};
use reqwest::{Method, header::HeaderMap};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{
    Harness, Signing, loopback,
    node::{BUNDLER_KEY, deploy_leash, dev_key, remote},
    sample,
};

const ALLOWED: &str = "https://app.example";

/// A server on the dev chain with `cors_origins`.
async fn serve_with_cors(cors_origins: CorsOrigins) -> eyre::Result<Harness> {
    let config = ServerConfig {
        cors_origins,
        ..loopback()
    };
    let chain = EmbeddedChain::dev()?;
    let server = leash_server::start(&config, chain.clone(), MemoryState::new()).await?;
    Harness::connect(server, Some(chain))
}

fn body(text: &str) -> eyre::Result<Value> {
    Ok(serde_json::from_str(text)?)
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness_answer_beside_json_rpc() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let (status, live) = harness.get("/health").await?;
    assert_eq!((status, body(&live)?), (200, json!({"status": "ok"})));

    let (status, ready) = harness.get("/health/ready").await?;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        body(&ready)?,
        json!({"status": "ready", "checks": {"state": {"status": "ok"}, "chain": {"status": "ok"}}})
    );

    // Other paths and methods are JSON-RPC's, which answers them as before.
    let (status, _) = harness.get("/healthz").await?;
    assert_ne!(status, 200);
    assert_eq!(harness.result("eth_chainId", json!([])).await?, "0x7a69");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_fails_naming_the_node_once_it_is_gone() -> eyre::Result<()> {
    let node = anvil();
    deploy_leash(&node).await?;
    let chain = remote(&node, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let server = leash_server::start(&loopback(), chain, MemoryState::new()).await?;
    let harness = Harness::connect(server, None)?;
    let (status, ready) = harness.get("/health/ready").await?;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(body(&ready)?["checks"]["chain"]["status"], "ok");

    drop(node);
    let (status, unready) = harness.get("/health/ready").await?;
    assert_eq!(status, 503, "{unready}");
    let unready = body(&unready)?;
    assert_eq!(unready["status"], "unready");
    assert_eq!(unready["checks"]["state"]["status"], "ok");
    assert_eq!(unready["checks"]["chain"]["status"], "fail");
    let error = unready["checks"]["chain"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("eth_chainId"), "{unready}");
    // The node's URL may hold a key: readiness never repeats it.
    assert!(!error.contains("127.0.0.1"), "{unready}");
    // Liveness is the process's own: still alive.
    assert_eq!(harness.get("/health").await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_calls_by_method_and_code_and_the_pending_calls() -> eyre::Result<()> {
    // Nothing is ever submitted: a call sent stays pending.
    let chain = EmbeddedChain::dev()?;
    let server =
        leash_server::start_without_submitting(&loopback(), chain.clone(), MemoryState::new())
            .await?;
    let harness = Harness::connect(server, Some(chain))?;

    harness.result("eth_chainId", json!([])).await?;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        // An id this server never issued: 5730.
        {"jsonrpc": "2.0", "id": 2, "method": "wallet_getCallsStatus", "params": ["0x12"]},
    ]);
    harness.raw(batch).await?;
    for made_up in ["leash_made_up_1", "leash_made_up_2"] {
        harness.call(made_up, json!([])).await?;
    }
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [], "from": support::OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    harness.send_owner(&prepared, Signing::Raw).await?;

    let (status, metrics) = harness.get("/metrics").await?;
    assert_eq!(status, 200);
    let count = |labels: &str| sample(&metrics, &format!("leash_rpc_requests_total{labels}"));
    // A batch's calls are counted one by one.
    assert_eq!(
        count(r#"{method="eth_chainId",code="ok"}"#),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        count(r#"{method="wallet_getCallsStatus",code="5730"}"#),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        count(r#"{method="wallet_sendPreparedCalls",code="ok"}"#),
        Some(1.0)
    );
    // Made-up names share one series rather than making one each.
    assert_eq!(
        count(r#"{method="unknown",code="-32601"}"#),
        Some(2.0),
        "{metrics}"
    );
    assert!(!metrics.contains("leash_made_up"), "{metrics}");

    let latency = "leash_rpc_request_duration_seconds";
    let histogram =
        |suffix: &str, labels: &str| sample(&metrics, &format!("{latency}{suffix}{labels}"));
    assert_eq!(
        histogram("_count", r#"{method="eth_chainId"}"#),
        Some(2.0),
        "{metrics}"
    );
    assert!(histogram("_sum", r#"{method="eth_chainId"}"#).is_some_and(|sum| sum > 0.0));
    assert_eq!(
        histogram("_bucket", r#"{le="+Inf",method="eth_chainId"}"#),
        Some(2.0),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("# TYPE {latency} histogram")));

    assert_eq!(
        sample(&metrics, "leash_calls_pending"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "leash_submission_failures_total"),
        Some(0.0),
        "{metrics}"
    );
    Ok(())
}

/// The answer to a browser's preflight of a JSON-RPC POST from `origin`.
async fn preflight(harness: &Harness, origin: &str) -> eyre::Result<(u16, HeaderMap)> {
    let response = reqwest::Client::new()
        .request(Method::OPTIONS, &harness.url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    Ok((response.status().as_u16(), response.headers().clone()))
}

fn allowed_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("access-control-allow-origin")
        .and_then(|value| value.to_str().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_answers_the_listed_origins_only() -> eyre::Result<()> {
    let harness =
        serve_with_cors(CorsOrigins::parse(&[ALLOWED]).map_err(eyre::Report::msg)?).await?;

    let (status, headers) = preflight(&harness, ALLOWED).await?;
    assert_eq!(status, 200);
    assert_eq!(allowed_origin(&headers), Some(ALLOWED), "{headers:?}");
    let methods = headers["access-control-allow-methods"].to_str()?;
    assert!(methods.contains("POST"), "{methods}");
    let allowed_headers = headers["access-control-allow-headers"].to_str()?;
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );

    // The POST itself carries the header too, so the page may read the answer.
    let response = reqwest::Client::new()
        .post(&harness.url)
        .header("Origin", ALLOWED)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    assert_eq!(allowed_origin(response.headers()), Some(ALLOWED));
    assert_eq!(response.json::<Value>().await?["result"], "0x7a69");

    // Another origin gets no permission: the browser refuses it the answer.
    let (_, headers) = preflight(&harness, "https://elsewhere.example").await?;
    assert_eq!(allowed_origin(&headers), None, "{headers:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_headers_are_sent_only_when_asked_for() -> eyre::Result<()> {
    // By default, none at all.
    let harness = serve_with_cors(CorsOrigins::None).await?;
    let (status, headers) = preflight(&harness, ALLOWED).await?;
    assert_ne!(status, 200);
    assert!(
        !headers
            .keys()
            .any(|name| name.as_str().starts_with("access-control-")),
        "{headers:?}"
    );

    // `*`: any origin.
    let harness = serve_with_cors(CorsOrigins::Any).await?;
    let (status, headers) = preflight(&harness, "https://anywhere.example").await?;
    assert_eq!(status, 200);
    assert_eq!(allowed_origin(&headers), Some("*"), "{headers:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_on_a_shared_store_does_not_wait_out_its_grace() -> eyre::Result<()> {
    let node = anvil();
    deploy_leash(&node).await?;
    let postgres = Postgres::start();
    let claimant = Claimant {
        id: "only".to_owned(),
        lease: Duration::from_secs(3),
    };
    let state = PostgresState::open(&postgres.database("leash"), claimant).await?;
    let chain = remote(&node, Submitter::Key(dev_key(BUNDLER_KEY)?)).await?;
    let server = leash_server::start(&loopback(), chain, state).await?;
    // The claims task renews this server's claims beside the submission task; it must not keep
    // the submission queue open once the server has stopped.
    let started = Instant::now();
    assert_eq!(server.shutdown(Duration::from_secs(30)).await, 0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}
