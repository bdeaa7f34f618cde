//! Two `leash serve` processes as replicas on one PostgreSQL database and one anvil: calls are
//! sent to the first, which is killed (SIGKILL) with them in flight; the second finishes every
//! one. Each call ends confirmed and its operation runs exactly once, whether the killed replica
//! had submitted it or not. Loopback only; every wait is bounded.

mod support;

use alloy_node_bindings::AnvilInstance;
use alloy_primitives::{Address, B256, U256, address};
use alloy_provider::{DynProvider, Provider};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::Deployment;
use leash_sdk::{connect, deploy::deploy_missing};
use leash_testkit::{Postgres, anvil};
use serde_json::{Value, json};
use std::{
    process::{Child, Stdio},
    time::Duration,
};

/// anvil's first dev account: the owner of the account under test.
const OWNER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const RECIPIENT: Address = Address::repeat_byte(0x77);
/// Calls in flight when the first replica is killed, one per session (each its own nonce lane).
const CALLS: usize = 6;

/// A `leash serve` replica, killed when dropped.
struct Replica {
    child: Child,
    client: DynProvider,
}

impl Replica {
    /// Starts replica `id` on `database`'s state and `anvil`'s chain, sending `handleOps` from
    /// anvil's dev key `key`, with a 3 s claim lease.
    fn start(anvil: &AnvilInstance, database: &str, id: &str, key: usize) -> Self {
        let key = format!("0x{}", hex(&anvil.keys()[key].to_bytes()));
        let mut child = support::leash_serve()
            .args(["--rpc-url", &anvil.endpoint(), "--bundler-key", &key])
            .args([
                "--database-url",
                database,
                "--replica-id",
                id,
                "--claim-lease",
                "3",
            ])
            .args(["--log-level", "warn"])
            .stderr(Stdio::null())
            .spawn()
            .expect("leash serve starts");
        let url = format!("http://{}", support::listening(&mut child));
        let client = connect::reader(&url.parse().expect("a URL"));
        Self { child, client }
    }

    async fn call(&self, method: &'static str, params: Value) -> Value {
        self.client
            .raw_request(method.into(), params)
            .await
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// Polls `wallet_getCallsStatus` until `id` is final (bounded).
    async fn final_status(&self, id: &Value) -> Value {
        for _ in 0..600 {
            let status = self.call("wallet_getCallsStatus", json!([id])).await;
            if status["status"] != 100 {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("calls {id} still pending after 30 s")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `key`'s signature of the 32-byte hash `payload` (a hex string), as `cast wallet sign
/// --no-hash` makes it.
fn sign(key: &PrivateKeySigner, payload: &Value) -> String {
    let hash: B256 = serde_json::from_value(payload.clone()).expect("a 32-byte hash");
    let signature = key.sign_hash_sync(&hash).expect("signs");
    format!("0x{}", hex(&signature.as_bytes()))
}

/// `prepared` (a `wallet_prepareCalls` answer) with `signature` (and the owner's signature of
/// the authorization in the array form), as `wallet_sendPreparedCalls` takes it.
fn signed(prepared: &Value, signer: &PrivateKeySigner) -> Value {
    let with_signature = |item: &Value| {
        let request = &item["signatureRequest"];
        let payload = match request["type"].as_str() {
            Some("eip7702Auth") => &request["rawPayload"],
            _ => &request["data"]["raw"],
        };
        json!({
            "type": item["type"], "data": item["data"], "chainId": item["chainId"],
            "signature": { "type": "secp256k1", "data": sign(signer, payload) },
        })
    };
    match prepared["data"].as_array() {
        Some(items) => {
            json!({ "type": "array", "data": items.iter().map(with_signature).collect::<Vec<_>>() })
        }
        None => with_signature(prepared),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_killed_with_calls_in_flight_leaves_them_to_another() {
    let anvil = anvil();
    let deployer = PrivateKeySigner::from(anvil.keys()[9].clone());
    let node = connect::signing(&anvil.endpoint_url(), deployer.clone());
    deploy_missing(&node, deployer.address(), &Deployment::all())
        .await
        .expect("leash deploys");
    let postgres = Postgres::start();
    let database = postgres.database("leash");
    let taken_over = || {
        postgres.query(
            "leash",
            "SELECT count(*) FROM calls WHERE claimed_by = 'survivor'",
        )
    };
    let doomed = Replica::start(&anvil, &database, "doomed", 5);
    let survivor = Replica::start(&anvil, &database, "survivor", 6);
    let owner = PrivateKeySigner::from(anvil.keys()[0].clone());

    // The owner's first call delegates the account.
    let prepared = doomed
        .call(
            "wallet_prepareCalls",
            json!([{ "calls": [], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await;
    let sent = doomed
        .call(
            "wallet_sendPreparedCalls",
            json!([signed(&prepared, &owner)]),
        )
        .await;
    assert_eq!(doomed.final_status(&sent["id"]).await["status"], 200);

    // A root session per call, each signed by the owner, then one transfer of 1 wei each.
    let mut requests = Vec::new();
    for _ in 0..CALLS {
        let key = PrivateKeySigner::random();
        let created = doomed
            .call(
                "wallet_createSession",
                json!([{
                    "account": OWNER, "chainId": "0x7a69", "expirySec": 4_102_444_800u64,
                    "key": { "type": "secp256k1", "publicKey": key.address() },
                    "permissions": [{ "type": "root" }],
                }]),
            )
            .await;
        let permissions = json!({
            "sessionId": created["sessionId"],
            "signature": sign(&owner, &created["signatureRequest"]["rawPayload"]),
        });
        let prepared = doomed
            .call(
                "wallet_prepareCalls",
                json!([{
                    "calls": [{ "to": RECIPIENT, "value": "0x1" }], "from": OWNER,
                    "chainId": "0x7a69", "capabilities": { "permissions": permissions },
                }]),
            )
            .await;
        requests.push(signed(&prepared, &key));
    }
    // Sent at once, so the kill finds most of them not yet submitted.
    let sends: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let client = doomed.client.clone();
            tokio::spawn(async move {
                let params = json!([request]);
                client
                    .raw_request::<_, Value>("wallet_sendPreparedCalls".into(), params)
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for send in sends {
        let sent = send.await.expect("the send task").expect("acknowledged");
        ids.push(sent["id"].clone());
    }
    drop(doomed);

    for id in &ids {
        let status = survivor.final_status(id).await;
        assert_eq!(status["status"], 200, "{status}");
    }
    let reader = connect::reader(&anvil.endpoint_url());
    assert_eq!(
        reader.get_balance(RECIPIENT).await.expect("a balance"),
        U256::from(CALLS),
        "every transfer ran exactly once"
    );
    // The kill came with calls in flight: the survivor claimed some of them.
    let taken_over: usize = taken_over().parse().expect("a count");
    assert!(taken_over >= 1, "no call was taken over");
    println!("{taken_over} of {CALLS} calls taken over by the survivor");
}
