//! A server on loopback over the embedded chain (or a node's), a JSON-RPC client for it, and
//! `cast` to sign as a wallet script would.

#[allow(
    dead_code,
    reason = "every test binary compiles this module; only some serve a node's chain"
)]
pub(crate) mod node;
#[allow(
    dead_code,
    reason = "every test binary compiles this module; only some hold P-256 keys"
)]
pub(crate) mod p256_keys;
#[allow(
    dead_code,
    reason = "every test binary compiles this module; only some have contract signers"
)]
pub(crate) mod smart_owner;

use alloy_primitives::{Address, U256, address};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, TestToken};
use leash_server::{
    DEV_ACCOUNT_KEYS, EmbeddedChain, RunningServer, ServerConfig,
    state::{MemoryState, State},
};
use leash_testkit::toolchain_binary;
use serde_json::{Value, json};
use std::{net::Ipv4Addr, process::Command, time::Duration};

/// anvil's first dev account, the owner in every test.
pub(crate) const OWNER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// Test tokens minted to the owner.
pub(crate) const MINTED: u64 = 1_000_000;

pub(crate) struct Harness {
    /// Taken by [`Harness::shutdown`].
    server: Option<RunningServer>,
    /// The embedded chain served; `None` when the server serves a node's.
    chain: Option<EmbeddedChain>,
    client: reqwest::Client,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
}

#[allow(
    dead_code,
    reason = "every test binary compiles this module; the --rpc-url tests serve anvil instead"
)]
impl Harness {
    /// The dev chain with test tokens minted to [`OWNER`], served on a free loopback port, and
    /// [`OWNER`] delegated through the server (its first owner call, the array form).
    pub(crate) async fn start() -> eyre::Result<Self> {
        let harness = Self::undelegated().await?;
        let (_, status) = harness.owner_calls(json!([]), Signing::Raw).await?;
        eyre::ensure!(status["status"] == 200, "delegating the owner: {status}");
        Ok(harness)
    }

    /// As [`Harness::start`], with every dev account still undelegated.
    pub(crate) async fn undelegated() -> eyre::Result<Self> {
        Self::undelegated_on(&loopback(), MemoryState::new()).await
    }

    /// As [`Harness::undelegated`], the server configured by `config` with `state`.
    pub(crate) async fn undelegated_on(
        config: &ServerConfig,
        state: impl State,
    ) -> eyre::Result<Self> {
        let chain = EmbeddedChain::dev()?;
        let token = Deployment::test_token().address();
        let mint = TestToken::mintCall {
            to: OWNER,
            amount: U256::from(MINTED),
        };
        chain.with_chain(|chain| {
            chain.transact(chain.bundler(), token, mint.abi_encode().into(), U256::ZERO)
        })?;
        let server = leash_server::start(config, chain.clone(), state).await?;
        Self::connect(server, Some(chain))
    }

    /// A client of `server`, which serves `chain` (`None`: a node's); the server stops when the
    /// harness drops.
    pub(crate) fn connect(
        server: RunningServer,
        chain: Option<EmbeddedChain>,
    ) -> eyre::Result<Self> {
        let url = format!("http://{}", server.local_addr());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            server: Some(server),
            chain,
            client,
            url,
        })
    }

    /// [`OWNER`] makes `calls` itself (no permissions): prepared, signed with `cast` as
    /// `signing` says, the authorization too when the server answers with the array form, sent,
    /// and followed to its final status. Returns the prepared answer and that status.
    pub(crate) async fn owner_calls(
        &self,
        calls: Value,
        signing: Signing,
    ) -> eyre::Result<(Value, Value)> {
        let prepared = self
            .result(
                "wallet_prepareCalls",
                json!([{ "calls": calls, "from": OWNER, "chainId": "0x7a69" }]),
            )
            .await?;
        let status = self.send_owner_signed(&prepared, signing).await?;
        Ok((prepared, status))
    }

    /// `prepared` (a `wallet_prepareCalls`-shaped answer for [`OWNER`]) signed with `cast` as
    /// `signing` says, the authorization too in the array form, sent, and followed to its final
    /// status.
    pub(crate) async fn send_owner_signed(
        &self,
        prepared: &Value,
        signing: Signing,
    ) -> eyre::Result<Value> {
        let id = self.send_owner(prepared, signing).await?;
        self.final_status(&id).await
    }

    /// [`Harness::send_owner_signed`] without waiting: the id the call was acknowledged with.
    pub(crate) async fn send_owner(
        &self,
        prepared: &Value,
        signing: Signing,
    ) -> eyre::Result<Value> {
        let owner = owner_key();
        let signed = |item: &Value| -> eyre::Result<Value> {
            let request = &item["signatureRequest"];
            let signature = match request["type"].as_str() {
                Some("eip7702Auth") => cast_sign(&owner, &request["rawPayload"], true)?,
                _ => cast_sign(&owner, &request["data"]["raw"], signing == Signing::Raw)?,
            };
            let mut item = item.clone();
            if let Some(fields) = item.as_object_mut() {
                for field in ["signatureRequest", "feePayment", "details"] {
                    fields.remove(field);
                }
                fields.insert(
                    "signature".to_owned(),
                    json!({ "type": "secp256k1", "data": signature }),
                );
            }
            Ok(item)
        };
        let request = match prepared["data"].as_array() {
            Some(items) => {
                let items: Vec<Value> = items.iter().map(signed).collect::<eyre::Result<_>>()?;
                json!({ "type": "array", "data": items })
            }
            None => signed(prepared)?,
        };
        let sent = self
            .result("wallet_sendPreparedCalls", json!([request]))
            .await?;
        Ok(sent["id"].clone())
    }

    /// Stops the server gracefully ([`RunningServer::shutdown`]): how many calls it left pending.
    pub(crate) async fn shutdown(mut self, grace: Duration) -> eyre::Result<usize> {
        let server = self
            .server
            .take()
            .ok_or_else(|| eyre::eyre!("stopped already"))?;
        Ok(server.shutdown(grace).await)
    }

    /// The answer to a plain HTTP GET of `path`: its status and body.
    pub(crate) async fn get(&self, path: &str) -> eyre::Result<(u16, String)> {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    /// The value of `series` in this server's `/metrics`, if it is there ([`sample`]).
    pub(crate) async fn metric(&self, series: &str) -> eyre::Result<Option<f64>> {
        let (status, metrics) = self.get("/metrics").await?;
        eyre::ensure!(status == 200, "/metrics: HTTP {status}");
        Ok(sample(&metrics, series))
    }

    /// A session for `key` with an ERC-20 allowance of `allowance`, its grant signed by the
    /// owner: its wire id and the `{sessionId, signature}` permissions that name it.
    pub(crate) async fn signed_session(
        &self,
        key: Address,
        allowance: u64,
    ) -> eyre::Result<(Value, Value)> {
        self.signed_session_of(create_session_params(key, allowance))
            .await
    }

    /// The session `wallet_createSession` creates from `params`, signed by the owner: its id and
    /// the `permissions` capability that names it.
    pub(crate) async fn signed_session_of(&self, params: Value) -> eyre::Result<(Value, Value)> {
        let created = self.result("wallet_createSession", params).await?;
        let signature = cast_sign(
            &owner_key(),
            &created["signatureRequest"]["rawPayload"],
            true,
        )?;
        let id = created["sessionId"].clone();
        Ok((
            id.clone(),
            json!({ "sessionId": id, "signature": signature }),
        ))
    }

    /// The whole JSON-RPC response to `method` with `params`, sent with id 0 as the official
    /// client's first request is.
    pub(crate) async fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        self.raw(json!({ "jsonrpc": "2.0", "id": 0, "method": method, "params": params }))
            .await
    }

    /// The response to a request body as given.
    pub(crate) async fn raw(&self, body: Value) -> eyre::Result<Value> {
        let response = self.client.post(&self.url).json(&body).send().await?;
        eyre::ensure!(response.status().is_success(), "HTTP {}", response.status());
        Ok(response.json().await?)
    }

    /// The `result` of `method`, failing on an error.
    pub(crate) async fn result(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let response = self.call(method, params).await?;
        eyre::ensure!(response.get("error").is_none(), "{method}: {response}");
        Ok(response["result"].clone())
    }

    /// A transfer of `amount` test tokens to `to` by the session `permissions` names: prepared,
    /// its hash signed raw by `key_hex`, and sent. Returns the call id.
    pub(crate) async fn send_session_transfer(
        &self,
        permissions: &Value,
        key_hex: &str,
        to: Address,
        amount: u64,
    ) -> eyre::Result<Value> {
        let prepared = self
            .result(
                "wallet_prepareCalls",
                transfer_params(permissions, to, amount),
            )
            .await?;
        let signature = cast_sign(key_hex, &prepared["signatureRequest"]["data"]["raw"], true)?;
        let sent = self
            .result(
                "wallet_sendPreparedCalls",
                send_params(&prepared, &signature),
            )
            .await?;
        Ok(sent["id"].clone())
    }

    /// Polls `wallet_getCallsStatus` until the status is final (bounded).
    pub(crate) async fn final_status(&self, id: &Value) -> eyre::Result<Value> {
        for _ in 0..300 {
            let status = self.result("wallet_getCallsStatus", json!([id])).await?;
            if status["status"] != 100 {
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eyre::bail!("calls {id} still pending after 15 s")
    }

    /// The embedded chain served.
    pub(crate) fn chain(&self) -> eyre::Result<&EmbeddedChain> {
        self.chain
            .as_ref()
            .ok_or_else(|| eyre::eyre!("the server serves a node's chain"))
    }

    /// `holder`'s test-token balance, read with `eth_call` through the server (answered by the
    /// embedded chain, or forwarded to the node).
    pub(crate) async fn token_balance(&self, holder: Address) -> eyre::Result<U256> {
        let call = TestToken::balanceOfCall { owner: holder };
        let request = json!({
            "to": Deployment::test_token().address(),
            "data": alloy_primitives::Bytes::from(call.abi_encode()),
        });
        let answer = self.result("eth_call", json!([request, "latest"])).await?;
        let bytes: alloy_primitives::Bytes = serde_json::from_value(answer)?;
        Ok(TestToken::balanceOfCall::abi_decode_returns(&bytes)?)
    }
}

/// The value of `series` in the metrics text `metrics`: a name and its labels as rendered
/// (`leash_rpc_requests_total{method="eth_chainId",code="ok"}`), if it is there.
pub(crate) fn sample(metrics: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.parse().ok())
}

/// A server config listening on a free loopback port.
pub(crate) fn loopback() -> ServerConfig {
    ServerConfig {
        listen: (Ipv4Addr::LOCALHOST, 0).into(),
        ..ServerConfig::default()
    }
}

/// How an operation's hash is signed: raw (`cast wallet sign --no-hash`) or as an EIP-191
/// message (`cast wallet sign`, what `personal_sign` gives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signing {
    Raw,
    #[allow(
        dead_code,
        reason = "every test binary compiles this module; some sign only raw hashes"
    )]
    PersonalSign,
}

/// The owner's private key, as hex.
pub(crate) fn owner_key() -> String {
    DEV_ACCOUNT_KEYS[0].to_string()
}

/// A fresh session key and its private key as hex.
pub(crate) fn session_key() -> (PrivateKeySigner, String) {
    let key = PrivateKeySigner::random();
    let hex = key.to_bytes().to_string();
    (key, hex)
}

/// `cast wallet sign` of `payload` with `private_key`: raw (`--no-hash`) or as an EIP-191
/// message of its bytes.
pub(crate) fn cast_sign(private_key: &str, payload: &Value, raw: bool) -> eyre::Result<String> {
    let payload = payload
        .as_str()
        .ok_or_else(|| eyre::eyre!("{payload} is not hex"))?;
    let mut command = Command::new(toolchain_binary("cast"));
    command.args(["wallet", "sign", "--private-key", private_key]);
    if raw {
        command.arg("--no-hash");
    }
    let output = command.arg(payload).output()?;
    eyre::ensure!(
        output.status.success(),
        "cast: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// `wallet_sendPreparedCalls` params: the prepared answer with `signature`.
#[allow(
    dead_code,
    reason = "every test binary compiles this module; the seed flow spells the send out"
)]
pub(crate) fn send_params(prepared: &Value, signature: &str) -> Value {
    json!([{
        "type": prepared["type"], "data": prepared["data"], "chainId": prepared["chainId"],
        "signature": { "type": "secp256k1", "data": signature },
    }])
}

/// `wallet_prepareCalls` params: [`OWNER`] transfers `amount` test tokens to `to` under
/// `permissions`.
pub(crate) fn transfer_params(permissions: &Value, to: Address, amount: u64) -> Value {
    json!([{
        "calls": [transfer_call(to, amount)],
        "from": OWNER, "chainId": "0x7a69",
        "capabilities": { "permissions": permissions },
    }])
}

/// A `transfer(to, amount)` call of the test token.
pub(crate) fn transfer_call(to: Address, amount: u64) -> Value {
    let data = leash_bindings::IERC20::transferCall {
        to,
        amount: U256::from(amount),
    }
    .abi_encode();
    json!({ "to": Deployment::test_token().address(), "data": alloy_primitives::Bytes::from(data) })
}

/// A `wallet_createSession` request for `key` with an ERC-20 allowance of `allowance`.
/// A JSON-RPC hex quantity (`"0x64"`) as a number.
#[allow(
    dead_code,
    reason = "every test binary compiles this module; only some read quantities"
)]
pub(crate) fn hex_u64(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.trim_start_matches("0x"), 16).ok()
}

pub(crate) fn create_session_params(key: Address, allowance: u64) -> Value {
    json!([{
        "chainId": "0x7a69",
        "expirySec": 4_102_444_800u64,
        "key": { "type": "secp256k1", "publicKey": key },
        "permissions": [{
            "type": "erc20-token-transfer",
            "data": { "address": Deployment::test_token().address(), "allowance": format!("{allowance:#x}") }
        }],
        "account": OWNER,
    }])
}

impl Drop for Harness {
    /// Each test's server stops with it rather than with the test binary.
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.stop();
        }
    }
}
