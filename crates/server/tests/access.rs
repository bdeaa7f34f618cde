//! Access over HTTP on loopback (docs/server.md, *Access*): API keys in the path and as bearer
//! tokens, the exact refusals (no key, a wrong key, a revoked key), a key's rate limit and daily
//! quota, an account's pending calls, and one key never seeing another's sessions or calls.

mod support;

use leash_server::{
    ServerConfig,
    access::{AccessConfig, hash_api_key, new_api_key, unix_now},
    state::{ApiKey, Claimant, KeyLimits, PostgresState, SqliteState, State},
};
use serde_json::{Value, json};
use std::{num::NonZeroU32, time::Duration};
use support::{Harness, OWNER, Signing, loopback, session_key};

/// A key named `name` with `limits`, stored in `state`: the key itself.
async fn add_key(state: &impl State, name: &str, limits: KeyLimits) -> eyre::Result<String> {
    let key = new_api_key();
    let stored = ApiKey {
        name: name.to_owned(),
        key_hash: hash_api_key(&key),
        created_at: unix_now(),
        revoked_at: None,
        limits,
    };
    eyre::ensure!(state.add_api_key(&stored).await?, "{name} exists");
    Ok(key)
}

/// A SQLite state in `dir`: the test keeps a handle to it beside the server's.
async fn sqlite(dir: &tempfile::TempDir) -> eyre::Result<SqliteState> {
    Ok(SqliteState::open(&dir.path().join("state.sqlite")).await?)
}

/// The HTTP status and JSON body of `eth_chainId` posted to `url`, with `bearer` if given.
async fn chain_id(url: &str, bearer: Option<&str>) -> eyre::Result<(u16, Value, Option<String>)> {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [] }));
    if let Some(key) = bearer {
        request = request.bearer_auth(key);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((status, response.json().await?, retry_after))
}

/// `harness`'s base URL, without a key.
fn base(harness: &Harness) -> String {
    harness
        .url
        .split("/v2/")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn with_key(harness: &Harness, key: &str) -> String {
    format!("{}/v2/{key}", base(harness))
}

/// The 401 body for `leash_code`, as every refused request gets it.
fn unauthorized(leash_code: u32, message: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": null,
        "error": { "code": -32600, "message": message, "data": { "leashCode": leash_code } },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_lets_in_from_the_path_or_as_bearer_and_nothing_else_does() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = sqlite(&dir).await?;
    let key = add_key(&state, "web", KeyLimits::default()).await?;
    let revoked = add_key(&state, "old", KeyLimits::default()).await?;
    assert!(state.revoke_api_key("old", unix_now()).await?);
    let harness = Harness::undelegated_on(&loopback(), state.clone()).await?;
    let url = base(&harness);

    for (status, body, _) in [
        chain_id(&with_key(&harness, &key), None).await?,
        chain_id(&url, Some(&key)).await?,
    ] {
        assert_eq!((status, &body["result"]), (200, &json!("0x7a69")), "{body}");
    }

    let no_key = unauthorized(
        4007,
        "an API key is required: POST to /v2/KEY or send Authorization: Bearer KEY",
    );
    let unknown = unauthorized(4008, "unknown API key");
    let refused = [
        (chain_id(&url, None).await?, &no_key),
        (chain_id(&format!("{url}/v2/"), None).await?, &no_key),
        (
            chain_id(&with_key(&harness, "lsk_0"), None).await?,
            &unknown,
        ),
        (chain_id(&url, Some(&new_api_key())).await?, &unknown),
        (
            chain_id(&with_key(&harness, &revoked), None).await?,
            &unauthorized(4009, "this API key was revoked"),
        ),
    ];
    for ((status, body, _), expected) in refused {
        assert_eq!((status, &body), (401, expected));
    }

    // Revoking a key shuts it out at once; probes never need one.
    assert!(state.revoke_api_key("web", unix_now()).await?);
    let (status, body, _) = chain_id(&url, Some(&key)).await?;
    assert_eq!(
        (status, body["error"]["data"]["leashCode"].clone()),
        (401, json!(4009))
    );
    assert_eq!(harness.get("/health").await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_over_its_rate_is_refused_with_429() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = sqlite(&dir).await?;
    let limits = KeyLimits {
        rate: Some("1/min".parse().map_err(eyre::Error::msg)?),
        burst: NonZeroU32::new(3),
        daily_quota: None,
    };
    let key = add_key(&state, "slow", limits).await?;
    let other = add_key(&state, "other", KeyLimits::default()).await?;
    let harness = Harness::undelegated_on(&loopback(), state).await?;
    let url = with_key(&harness, &key);

    let mut answered = Vec::new();
    for _ in 0..6 {
        answered.push(chain_id(&url, None).await?);
    }
    let statuses: Vec<u16> = answered.iter().map(|(status, ..)| *status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429], "a burst of 3");
    let (_, body, retry_after) = &answered[3];
    assert_eq!(body["error"]["code"], -32005, "{body}");
    assert_eq!(
        body["error"]["data"],
        json!({ "leashCode": 4010, "rate": "1/min", "burst": 3, "retryAfterMs": body["error"]["data"]["retryAfterMs"] })
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("rate limit exceeded: 1/min with bursts of 3"),
        "{message}"
    );
    let wait = body["error"]["data"]["retryAfterMs"].as_u64().unwrap_or(0);
    assert!((1..=60_000).contains(&wait), "one request a minute: {wait}");
    assert_eq!(
        retry_after.as_deref(),
        Some(wait.div_ceil(1000).to_string().as_str())
    );
    // Each key has its own limiter.
    assert_eq!(chain_id(&with_key(&harness, &other), None).await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_past_its_daily_quota_cannot_send() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = sqlite(&dir).await?;
    let limits = KeyLimits {
        daily_quota: Some(1),
        ..KeyLimits::default()
    };
    let key = add_key(&state, "metered", limits).await?;
    let mut harness = Harness::undelegated_on(&loopback(), state).await?;
    harness.url = with_key(&harness, &key);

    // The owner's first call (its delegation) is the day's one send.
    let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "{status}");
    let refused = harness
        .owner_calls(json!([{ "to": OWNER, "value": "0x1" }]), Signing::Raw)
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    let resets_at = (unix_now() / 86_400 + 1) * 86_400;
    let expected = json!({
        "code": -32005,
        "message": format!(
            "this API key's quota of 1 calls sent a day is used up; it resets at {resets_at} \
             (Unix time, 00:00 UTC)"
        ),
        "data": { "leashCode": 4011, "quota": 1, "resetsAt": resets_at },
    });
    assert!(refused.contains(&expected.to_string()), "{refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_quota_holds_across_replicas_sharing_a_database() -> eyre::Result<()> {
    let cluster = leash_testkit::Postgres::start();
    let url = cluster.database("leash");
    let replica = |id: &str| {
        let claimant = Claimant {
            id: id.to_owned(),
            lease: Duration::from_secs(30),
        };
        PostgresState::open(&url, claimant)
    };
    let (a, b) = (replica("replica-a").await?, replica("replica-b").await?);
    let limits = KeyLimits {
        daily_quota: Some(1),
        ..KeyLimits::default()
    };
    let key = add_key(&a, "metered", limits).await?;
    let mut on_a = Harness::undelegated_on(&loopback(), a).await?;
    let chain = leash_server::EmbeddedChain::dev()?;
    let server = leash_server::start(&loopback(), chain.clone(), b).await?;
    let mut on_b = Harness::connect(server, Some(chain))?;
    on_a.url = with_key(&on_a, &key);
    on_b.url = with_key(&on_b, &key);

    // The day's one send, on a; the next, prepared on a and sent to b, is over the quota there.
    let (_, status) = on_a.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(status["status"], 200, "{status}");
    let prepared = on_a
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [{ "to": OWNER, "value": "0x1" }], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    let refused = on_b
        .send_owner(&prepared, Signing::Raw)
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(refused.contains(r#""leashCode":4011"#), "{refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_with_its_pending_calls_at_the_limit_cannot_send_more() -> eyre::Result<()> {
    let config = ServerConfig {
        access: AccessConfig {
            max_pending_calls: 1,
            ..AccessConfig::default()
        },
        ..loopback()
    };
    let chain = leash_server::EmbeddedChain::dev()?;
    // Nothing is submitted: every call sent stays pending.
    let server = leash_server::start_without_submitting(
        &config,
        chain.clone(),
        leash_server::state::MemoryState::new(),
    )
    .await?;
    let harness = Harness::connect(server, Some(chain))?;
    let prepare = || {
        harness.result(
            "wallet_prepareCalls",
            json!([{ "calls": [], "from": OWNER, "chainId": "0x7a69" }]),
        )
    };
    let first = prepare().await?;
    let id = harness.send_owner(&first, Signing::Raw).await?;
    // A replay of the call is answered as before, whatever the limit.
    assert_eq!(harness.send_owner(&first, Signing::Raw).await?, id);

    let second = prepare().await?;
    let refused = harness
        .send_owner(&second, Signing::Raw)
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    let expected = json!({
        "code": -32005,
        "message": format!(
            "{OWNER} has 1 calls pending, and this server accepts at most 1: send again once \
             some are final"
        ),
        "data": { "leashCode": 4012, "pending": 1, "max": 1 },
    });
    assert!(refused.contains(&expected.to_string()), "{refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_key_never_sees_anothers_sessions_or_calls() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = sqlite(&dir).await?;
    let a = add_key(&state, "a", KeyLimits::default()).await?;
    let b = add_key(&state, "b", KeyLimits::default()).await?;
    let mut harness = Harness::undelegated_on(&loopback(), state).await?;
    let (as_a, as_b) = (with_key(&harness, &a), with_key(&harness, &b));

    harness.url = as_a.clone();
    let (_, delegated) = harness.owner_calls(json!([]), Signing::Raw).await?;
    assert_eq!(delegated["status"], 200, "{delegated}");
    let (key, key_hex) = session_key();
    let (session, permissions) = harness.signed_session(key.address(), 100).await?;
    let call = harness
        .send_session_transfer(&permissions, &key_hex, OWNER, 5)
        .await?;
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            support::transfer_params(&permissions, OWNER, 1),
        )
        .await?;

    // Under b, each of a's ids answers exactly as an id nobody issued.
    harness.url = as_b;
    let unknown_session = json!("0x000102030405060708090a0b0c0d0e0f");
    let unknown_call = json!(format!("0x{:064x}{}", 31337, "ab".repeat(32)));
    let error = |response: Value, id: &Value| {
        let id = id.as_str().unwrap_or_default().to_owned();
        response["error"].to_string().replace(&id, "ID")
    };
    /// A method, its params for an id, a's id and one nobody issued.
    type Lookup<'a> = (&'a str, fn(&Value) -> Value, &'a Value, &'a Value);
    let lookups: [Lookup<'_>; 2] = [
        (
            "leash_getSession",
            |id| json!([{ "sessionId": id }]),
            &session,
            &unknown_session,
        ),
        (
            "wallet_getCallsStatus",
            |id| json!([id]),
            &call,
            &unknown_call,
        ),
    ];
    for (method, params, theirs, made_up) in lookups {
        let theirs = error(harness.call(method, params(theirs)).await?, theirs);
        let unknown = error(harness.call(method, params(made_up)).await?, made_up);
        assert_eq!(theirs, unknown, "{method}");
        assert!(theirs.contains("\"leashCode\""), "{theirs}");
    }
    let listed = harness
        .result("leash_listSessions", json!([{ "account": OWNER }]))
        .await?;
    assert_eq!(listed, json!({ "sessions": [] }));
    let reused = harness
        .call(
            "wallet_prepareCalls",
            support::transfer_params(&permissions, OWNER, 1),
        )
        .await?;
    assert_eq!(reused["error"]["data"]["leashCode"], 1002, "{reused}");
    // a's prepared operation, signed, sent under b: not prepared here, as for any other.
    let signature =
        support::cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
    let sent = harness
        .call(
            "wallet_sendPreparedCalls",
            support::send_params(&prepared, &signature),
        )
        .await?;
    assert_eq!(sent["error"]["data"]["leashCode"], 4002, "{sent}");

    // a still sees all of it.
    harness.url = as_a;
    let status = harness.final_status(&call).await?;
    assert_eq!(status["status"], 200, "{status}");
    let listed = harness
        .result("leash_listSessions", json!([{ "account": OWNER }]))
        .await?;
    assert_eq!(listed["sessions"][0]["sessionId"], session);
    Ok(())
}
