//! Structure-aware fuzzing of every method's request parsing, through the server as clients
//! reach it: valid requests of each method (a session signed, an operation prepared, a call
//! sent) are mutated at one random place (a field replaced by any JSON value, removed, or wrapped
//! in an array), and wholly random params are sent too. Whatever arrives, the answer is a
//! JSON-RPC result or error, never -32603 (an internal failure, which clients retry) and never a
//! broken server: it still answers afterwards.
//!
//! Seeded (ChaCha, fixed seed), so a run is reproducible; the case count is
//! [`CASES_PER_METHOD`] per method (docs/benchmarks.md has the figures of a run).

mod support;

use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Map, Value, json};
use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};
use support::{
    Harness, OWNER, cast_sign, create_session_params, owner_key, send_params, session_key,
    transfer_call, transfer_params,
};

/// Mutated requests per method template.
const CASES_PER_METHOD: u32 = 200;

/// Any JSON value, nested a few levels, with the strings a request holds (hex of every width,
/// numbers as hex, the permission types) weighted in so mutations reach past the first check.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|float| json!(float)),
        "[ -~]{0,40}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..80)
            .prop_map(|bytes| Value::String(format!("0x{}", hex(&bytes)))),
        any::<u64>().prop_map(|number| Value::String(format!("{number:#x}"))),
        prop_oneof![
            Just("root"),
            Just("erc20-token-transfer"),
            Just("native-token-transfer"),
            Just("secp256k1"),
            Just("array"),
            Just("user-operation-v070"),
            Just("latest"),
        ]
        .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every place in `value` (JSON pointers), the root included.
fn places(value: &Value, at: String, into: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                places(item, format!("{at}/{index}"), into);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields {
                places(
                    field,
                    format!("{at}/{}", name.replace('~', "~0").replace('/', "~1")),
                    into,
                );
            }
        }
        _ => {}
    }
    into.push(at);
}

/// How one place of a request is mutated.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Value),
    Remove,
    WrapInArray,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => any_json().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => Just(Mutation::WrapInArray),
    ]
}

/// `params` with the place `pick` selects (modulo their number) mutated.
fn mutate(params: &Value, pick: usize, mutation: &Mutation) -> Value {
    let mut all = Vec::new();
    places(params, String::new(), &mut all);
    let place = &all[pick % all.len()];
    let mut mutated = params.clone();
    if place.is_empty() {
        return match mutation {
            Mutation::Replace(value) => value.clone(),
            Mutation::Remove => Value::Null,
            Mutation::WrapInArray => json!([params]),
        };
    }
    let (parent, last) = place.rsplit_once('/').unwrap_or(("", place));
    let Some(target) = mutated.pointer_mut(place) else {
        return mutated;
    };
    match mutation {
        Mutation::Replace(value) => *target = value.clone(),
        Mutation::WrapInArray => *target = json!([target.take()]),
        Mutation::Remove => match mutated.pointer_mut(parent) {
            Some(Value::Object(fields)) => {
                fields.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
            Some(Value::Array(items)) => {
                if let Ok(index) = last.parse::<usize>() {
                    items.remove(index);
                }
            }
            _ => {}
        },
    }
    mutated
}

/// A valid request of every method, on a harness where they are meaningful: the owner
/// delegated, a session signed, an operation prepared and one sent.
async fn templates(harness: &Harness) -> eyre::Result<Vec<(&'static str, Value)>> {
    let (key, key_hex) = session_key();
    let (id, permissions) = harness.signed_session(key.address(), 100).await?;
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(&permissions, OWNER, 1),
        )
        .await?;
    let signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
    let send = send_params(&prepared, &signature);
    let sent = harness
        .result("wallet_sendPreparedCalls", send.clone())
        .await?;
    let owner_prepared = harness
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [transfer_call(OWNER, 1)], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    let owner_signature = cast_sign(
        &owner_key(),
        &owner_prepared["signatureRequest"]["data"]["raw"],
        true,
    )?;
    let call = json!({ "to": OWNER, "data": "0x70a08231", "from": OWNER });
    Ok(vec![
        (
            "wallet_createSession",
            create_session_params(key.address(), 5),
        ),
        (
            "wallet_prepareCalls",
            transfer_params(&permissions, OWNER, 1),
        ),
        ("wallet_sendPreparedCalls", send),
        (
            "wallet_sendPreparedCalls",
            send_params(&owner_prepared, &owner_signature),
        ),
        ("wallet_getCallsStatus", json!([sent["id"]])),
        ("wallet_getCapabilities", json!([OWNER, ["0x7a69"]])),
        ("wallet_requestAccount", json!([{ "signerAddress": OWNER }])),
        ("leash_getSession", json!([{ "sessionId": id }])),
        ("leash_listSessions", json!([{ "account": OWNER }])),
        (
            "leash_explainCalls",
            transfer_params(&permissions, OWNER, 1),
        ),
        ("leash_prepareRevoke", json!([{ "sessionId": id }])),
        ("eth_call", json!([call, "latest"])),
        ("eth_estimateGas", json!([call])),
        ("eth_getBalance", json!([OWNER, "latest"])),
        ("eth_getBlockByNumber", json!(["latest", false])),
        ("eth_feeHistory", json!(["0x4", "latest", [25, 75]])),
        ("eth_sendRawTransaction", json!(["0x02f86b827a69"])),
    ])
}

/// How many answers were results (key 0) and errors of each code, for the run's report.
type Tally = Mutex<BTreeMap<i64, u32>>;

/// The server's answer to `method` with `params` is a well-formed JSON-RPC answer, not -32603.
async fn answered_well(
    harness: &Harness,
    method: &str,
    params: &Value,
    tally: &Tally,
) -> Result<(), String> {
    let response = harness
        .call(method, params.clone())
        .await
        .map_err(|error| format!("{method} {params}: no JSON-RPC answer: {error}"))?;
    let code = response["error"]["code"].as_i64().unwrap_or_default();
    *tally
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(code)
        .or_default() += 1;
    match (response.get("result"), response.get("error")) {
        (Some(_), None) => Ok(()),
        (None, Some(error)) if error["code"] == -32603 => {
            Err(format!("{method} {params}: internal error {error}"))
        }
        (None, Some(error)) if error["code"].is_i64() && error["message"].is_string() => Ok(()),
        _ => Err(format!("{method} {params}: malformed answer {response}")),
    }
}

#[test]
fn mutated_requests_get_well_formed_answers() -> eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let harness = runtime.block_on(Harness::start())?;
    let templates = runtime.block_on(templates(&harness))?;
    let config = Config {
        cases: CASES_PER_METHOD,
        failure_persistence: None,
        ..Config::default()
    };
    let tally = Tally::default();
    // A runner counts its cases over its whole life: one per run, each seeded by its place.
    let mut seed = 0u8;
    let mut runner = || {
        seed += 1;
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
        TestRunner::new_with_rng(config.clone(), rng)
    };
    for (method, params) in &templates {
        runner()
            .run(&(any::<usize>(), mutation()), |(pick, mutation)| {
                let mutated = mutate(params, pick, &mutation);
                runtime
                    .block_on(answered_well(&harness, method, &mutated, &tally))
                    .map_err(TestCaseError::fail)
            })
            .map_err(|error| eyre::eyre!("{method}: {error}"))?;
        // Wholly random params, for the parsers' first checks.
        runner()
            .run(&any_json(), |params| {
                runtime
                    .block_on(answered_well(&harness, method, &params, &tally))
                    .map_err(TestCaseError::fail)
            })
            .map_err(|error| eyre::eyre!("{method}: {error}"))?;
    }
    // Still serving.
    runtime
        .block_on(answered_well(&harness, "eth_chainId", &json!([]), &tally))
        .map_err(|error| eyre::eyre!(error))?;
    // `cargo test -p leash-server --test fuzz_requests -- --nocapture` shows it.
    let tally = tally.into_inner().unwrap_or_else(PoisonError::into_inner);
    println!(
        "{} requests; results (0) and errors by code: {tally:?}",
        tally.values().sum::<u32>()
    );
    Ok(())
}
