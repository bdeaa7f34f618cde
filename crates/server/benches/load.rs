//! Load: full session flows against `leash serve` on the embedded chain, over HTTP on loopback,
//! from 1, 10 and 50 concurrent clients (docs/benchmarks.md records the figures).
//!
//! Each client is a wallet with its own owner key, funded and delegated through the server's own
//! flows (a dev account's owner call sends it ether; its first owner call is the array form, the
//! authorization signed with it). Then every client runs the same number of flows, one after
//! another: `wallet_createSession` → the owner signs `rawPayload` → `wallet_prepareCalls` → the
//! session key signs the hash → `wallet_sendPreparedCalls` → `wallet_getCallsStatus` until final.
//! Keys sign in-process with alloy's signers, as `cast wallet sign --no-hash` does.
//!
//! Reported per run: confirmed flows per second over the measured phase, p50/p99 latency per
//! method (and from the send's answer to the final status), and calls lost: acknowledged by
//! `wallet_sendPreparedCalls` but not final by the deadline, or final with a status other than 200.
//! The process exits non-zero when a call is lost or a flow fails.
//!
//! ```sh
//! cargo bench -p leash-server --bench load                       # in-memory state
//! cargo bench -p leash-server --bench load -- --state sqlite     # SqliteState in a temp dir
//! cargo bench -p leash-server --bench load -- --clients 50 --flows 40 --timeout 120
//! cargo bench -p leash-server --bench load -- --state postgres --replicas 2
//! cargo bench -p leash-server --bench load -- --clients 50 --rate 200 --poll-ms 50 --calls-per-session 40
//! ```
//!
//! `--rate` has the clients start their flows on a schedule that offers that many flows per
//! second in all (latency at a given load) instead of back to back (latency at saturation, which
//! is the queue). `--poll-ms` is how often a client asks for a sent call's status (5 ms by
//! default; the official client asks every 4 s). `--calls-per-session N` has each client send N
//! calls with one session before creating the next. Each row ends with the CPU time per confirmed
//! flow of this process (servers and clients), anvil and PostgreSQL, read from `/proc`.
//!
//! `--state postgres` serves anvil's chain (`--rpc-url`, each replica sending `handleOps` from a
//! dev key of its own) with the state in a PostgreSQL cluster of the run's own, shared by
//! `--replicas` servers; clients are spread over the replicas in turn, as a load balancer would.

use alloy_node_bindings::AnvilInstance;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::Deployment;
use leash_sdk::{connect, deploy::deploy_missing, submission::ReceiptWait};
use leash_server::{
    DEV_ACCOUNT_KEYS, EmbeddedChain, RemoteChain, RunningServer, ServerConfig, Submitter,
    state::{Claimant, MemoryState, PostgresState},
};
use leash_testkit::Postgres;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    net::Ipv4Addr,
    time::{Duration, Instant},
};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Where the session calls send their wei: an address no client owns.
const RECIPIENT: Address = Address::repeat_byte(0x77);
/// What the funding call sends each client's owner: far more than its flows' gas.
const FUNDING_WEI: u128 = 100_000_000_000_000_000_000;
/// How often a client asks for the status of a call it sent, unless `--poll-ms` says otherwise.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// The methods of a flow, in its order, as reported; `send→final` is the wait for the status,
/// `flow` the whole of it.
const METHODS: [&str; 6] = [
    "wallet_createSession",
    "wallet_prepareCalls",
    "wallet_sendPreparedCalls",
    "wallet_getCallsStatus",
    "send→final",
    "flow",
];

struct Options {
    clients: Vec<usize>,
    flows: usize,
    state: StateKind,
    replicas: usize,
    timeout: Duration,
    poll: Duration,
    calls_per_session: usize,
    /// Flows per second offered by all clients together, each starting its flows on a schedule
    /// (`--rate`); without it every client starts its next flow as soon as one ends.
    rate: Option<f64>,
}

/// Where the servers keep their state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StateKind {
    Memory,
    Sqlite,
    Postgres,
}

impl StateKind {
    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl Options {
    /// The command line after `--`; cargo adds `--bench`, which changes nothing here.
    fn parse() -> eyre::Result<Self> {
        let mut options = Self {
            clients: vec![1, 10, 50],
            flows: 20,
            state: StateKind::Memory,
            replicas: 1,
            timeout: Duration::from_secs(120),
            poll: POLL_INTERVAL,
            calls_per_session: 1,
            rate: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| eyre::eyre!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--bench" => {}
                "--clients" => {
                    options.clients = value()?
                        .split(',')
                        .map(str::parse)
                        .collect::<Result<_, _>>()?;
                }
                "--flows" => options.flows = value()?.parse()?,
                "--timeout" => options.timeout = Duration::from_secs(value()?.parse()?),
                "--state" => {
                    options.state = match value()?.as_str() {
                        "memory" => StateKind::Memory,
                        "sqlite" => StateKind::Sqlite,
                        "postgres" => StateKind::Postgres,
                        other => eyre::bail!("--state is memory, sqlite or postgres, not {other}"),
                    }
                }
                "--replicas" => options.replicas = value()?.parse()?,
                "--poll-ms" => options.poll = Duration::from_millis(value()?.parse()?),
                "--calls-per-session" => options.calls_per_session = value()?.parse()?,
                "--rate" => options.rate = Some(value()?.parse()?),
                other => eyre::bail!(
                    "unknown argument {other} (--clients 1,10,50 --flows N --timeout SECS \
                     --state memory|sqlite|postgres --replicas N --poll-ms MS \
                     --calls-per-session N --rate FLOWS_PER_SECOND)"
                ),
            }
        }
        eyre::ensure!(
            options
                .rate
                .is_none_or(|rate| rate > 0.0 && rate.is_finite()),
            "--rate is a positive number of flows per second"
        );
        eyre::ensure!(
            options.calls_per_session >= 1 && options.calls_per_session <= 1_000,
            "--calls-per-session is 1 to 1000 (a session's allowance is 1000 wei, 1 per call)"
        );
        eyre::ensure!(
            options.replicas >= 1
                && (options.replicas == 1 || options.state == StateKind::Postgres),
            "--replicas above 1 share a database: --state postgres"
        );
        Ok(options)
    }
}

fn main() -> eyre::Result<()> {
    let options = Options::parse()?;
    // Named, so a profile (`perf report --sort comm`) tells the clients' work from the server's.
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .enable_all()
        .build()?;
    let state = format!("{} ×{}", options.state.name(), options.replicas);
    println!(
        "| state | clients | flows | confirmed flows/s | lost | failed | {} | CPU ms per flow: {} |",
        METHODS
            .map(|method| format!("{method} p50 / p99 ms"))
            .join(" | "),
        PROCESSES.join(" / ")
    );
    println!(
        "|---|---:|---:|---:|---:|---:|{}---:|",
        "---:|".repeat(METHODS.len())
    );
    let mut clean = true;
    for &count in &options.clients {
        let mut report = run(&clients, &options, count)?;
        clean &= report.lost == 0 && report.failures.is_empty();
        println!("| {state} | {}", report.row());
        for failure in report.failures.iter().take(5) {
            eprintln!("  {failure}");
        }
    }
    eyre::ensure!(clean, "calls were lost or flows failed");
    Ok(())
}

/// One run: a fresh server, `count` clients set up, then their flows measured.
fn run(clients: &Runtime, options: &Options, count: usize) -> eyre::Result<Report> {
    // The server gets its own runtime, as `leash serve` is its own process: its tasks and the
    // clients' share the machine's cores, not one scheduler.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .enable_all()
        .build()?;
    let servers = server_runtime.block_on(Servers::start(options))?;
    let urls = servers.urls();
    let report = clients.block_on(async {
        let wallets = set_up(&urls, count, options).await?;
        let deadline = Instant::now() + options.timeout;
        let cpu_before = cpu_times()?;
        let started = Instant::now();
        let runs: Vec<_> = wallets
            .into_iter()
            .enumerate()
            .map(|(index, wallet)| {
                let schedule = options
                    .rate
                    .map(|rate| Schedule::of(index, count, rate, started));
                tokio::spawn(wallet.run_flows(options.flows, schedule, deadline))
            })
            .collect();
        let mut report = Report::new(count, options.flows);
        for finished in join_all(runs).await {
            report.add(finished?);
        }
        report.elapsed = started.elapsed();
        let cpu_after = cpu_times()?;
        report.cpu = PROCESSES.map(|name| cpu_after[name].saturating_sub(cpu_before[name]));
        eyre::Ok(report)
    })?;
    for server in servers.running {
        server.stop();
        server_runtime.block_on(server.stopped());
    }
    Ok(report)
}

/// The servers of a run, with what they stand on (kept alive until the run ends).
struct Servers {
    running: Vec<RunningServer>,
    _data_dir: Option<TempDir>,
    _chain: Option<(AnvilInstance, Postgres)>,
}

impl Servers {
    /// What `leash serve` starts: the dev chain with in-memory state or `--data-dir DIR`, or
    /// `--replicas` servers on anvil and one PostgreSQL database.
    async fn start(options: &Options) -> eyre::Result<Self> {
        let config = ServerConfig {
            listen: (Ipv4Addr::LOCALHOST, 0).into(),
            ..ServerConfig::default()
        };
        Ok(match options.state {
            StateKind::Memory => {
                let chain = EmbeddedChain::dev()?;
                let server = leash_server::start(&config, chain, MemoryState::new()).await?;
                Self::one(server, None)
            }
            StateKind::Sqlite => {
                let dir = TempDir::new()?;
                let (chain, state) = leash_server::open_data_dir(dir.path()).await?;
                let server = leash_server::start(&config, chain, state).await?;
                Self::one(server, Some(dir))
            }
            StateKind::Postgres => {
                let anvil = leash_testkit::anvil();
                let deployer = PrivateKeySigner::from_bytes(&DEV_ACCOUNT_KEYS[9])?;
                let node = connect::signing(&anvil.endpoint_url(), deployer.clone());
                deploy_missing(&node, deployer.address(), &Deployment::all()).await?;
                let postgres = Postgres::start();
                let database = postgres.database("leash");
                let mut running = Vec::with_capacity(options.replicas);
                for replica in 0..options.replicas {
                    // Each replica its own key (dev keys 5 onward): one key's handleOps from two
                    // servers would race for its transaction nonce.
                    let key = PrivateKeySigner::from_bytes(&DEV_ACCOUNT_KEYS[5 + replica])?;
                    let chain = RemoteChain::connect(
                        anvil.endpoint_url(),
                        Submitter::Key(key),
                        ReceiptWait::default(),
                    )
                    .await?;
                    let claimant = Claimant {
                        id: format!("replica-{replica}"),
                        lease: Duration::from_secs(30),
                    };
                    let state = PostgresState::open(&database, claimant).await?;
                    running.push(leash_server::start(&config, chain, state).await?);
                }
                Self {
                    running,
                    _data_dir: None,
                    _chain: Some((anvil, postgres)),
                }
            }
        })
    }

    fn one(server: RunningServer, data_dir: Option<TempDir>) -> Self {
        Self {
            running: vec![server],
            _data_dir: data_dir,
            _chain: None,
        }
    }

    fn urls(&self) -> Vec<String> {
        self.running
            .iter()
            .map(|server| format!("http://{}", server.local_addr()))
            .collect()
    }
}

/// Awaits every task (already spawned, so they run at once), in order.
async fn join_all<T>(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await);
    }
    results
}

/// `count` wallets with fresh owner keys, each on one of the servers at `urls` in turn: the
/// first dev account sends each one ether in one owner call (delegating itself on the way), then
/// each delegates itself, all at once.
async fn set_up(urls: &[String], count: usize, options: &Options) -> eyre::Result<Vec<Wallet>> {
    let mut funder = Wallet::new(
        &urls[0],
        PrivateKeySigner::from_bytes(&DEV_ACCOUNT_KEYS[0])?,
        options,
    )?;
    let wallets: Vec<Wallet> = (0..count)
        .map(|index| {
            Wallet::new(
                &urls[index % urls.len()],
                PrivateKeySigner::random(),
                options,
            )
        })
        .collect::<eyre::Result<_>>()?;
    let funding: Vec<Value> = wallets
        .iter()
        .map(|wallet| json!({ "to": wallet.owner.address(), "value": U256::from(FUNDING_WEI) }))
        .collect();
    funder.owner_calls(json!(funding)).await?;
    let delegations: Vec<_> = wallets
        .into_iter()
        .map(|mut wallet| {
            tokio::spawn(async move {
                wallet.owner_calls(json!([])).await?;
                eyre::Ok(wallet)
            })
        })
        .collect();
    let mut ready = Vec::with_capacity(count);
    for delegated in join_all(delegations).await {
        let mut wallet = delegated??;
        // Setup is not measured.
        wallet.latencies.clear();
        ready.push(wallet);
    }
    Ok(ready)
}

/// One client: its owner key, its own HTTP connection, what it measured.
struct Wallet {
    owner: PrivateKeySigner,
    /// How often it asks for the status of a call it sent.
    poll: Duration,
    /// How many calls it sends with one session before creating the next.
    calls_per_session: usize,
    session: Option<Session>,
    http: reqwest::Client,
    url: String,
    latencies: BTreeMap<&'static str, Vec<Duration>>,
}

/// When a client starts its flows at a fixed rate: the clients' flows interleave evenly, so that
/// together they offer `rate` flows per second. A flow that starts late (the previous one ran
/// past its slot) starts at once; the next keeps its own slot.
struct Schedule {
    first: Instant,
    interval: Duration,
}

impl Schedule {
    fn of(index: usize, clients: usize, rate: f64, started: Instant) -> Self {
        let interval = Duration::from_secs_f64(clients as f64 / rate);
        Self {
            first: started + interval.mul_f64(index as f64 / clients as f64),
            interval,
        }
    }

    fn start(&self, flow: usize) -> Instant {
        self.first + self.interval.mul_f64(flow as f64)
    }
}

/// A client's session: its key, the `permissions` capability that names it, the calls sent.
struct Session {
    key: PrivateKeySigner,
    permissions: Value,
    calls: usize,
}

/// How one flow ended.
enum Outcome {
    Confirmed,
    /// Acknowledged by `wallet_sendPreparedCalls`, then not final in time or final but not 200.
    Lost(String),
    /// Refused before it was acknowledged.
    Failed(String),
}

/// What one client's flows came to.
struct ClientReport {
    confirmed: usize,
    lost: Vec<String>,
    failures: Vec<String>,
    latencies: BTreeMap<&'static str, Vec<Duration>>,
}

impl Wallet {
    fn new(url: &str, owner: PrivateKeySigner, options: &Options) -> eyre::Result<Self> {
        Ok(Self {
            owner,
            poll: options.poll,
            calls_per_session: options.calls_per_session,
            session: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            url: url.to_owned(),
            latencies: BTreeMap::new(),
        })
    }

    async fn run_flows(
        mut self,
        flows: usize,
        schedule: Option<Schedule>,
        deadline: Instant,
    ) -> ClientReport {
        let mut report = ClientReport {
            confirmed: 0,
            lost: Vec::new(),
            failures: Vec::new(),
            latencies: BTreeMap::new(),
        };
        for flow in 0..flows {
            if let Some(schedule) = &schedule {
                tokio::time::sleep_until(schedule.start(flow).into()).await;
            }
            if Instant::now() >= deadline {
                report
                    .failures
                    .push("not started before the deadline".to_owned());
                continue;
            }
            let since = Instant::now();
            let outcome = self.flow(deadline).await;
            self.record("flow", since.elapsed());
            match outcome {
                Outcome::Confirmed => report.confirmed += 1,
                Outcome::Lost(reason) => report.lost.push(reason),
                Outcome::Failed(reason) => report.failures.push(reason),
            }
        }
        report.latencies = self.latencies;
        report
    }

    /// One flow: a call of 1 wei, sent with the client's session (a new session key, granted a
    /// native-token allowance, every `calls_per_session` calls), followed until final.
    async fn flow(&mut self, deadline: Instant) -> Outcome {
        let id = match self.send_call().await {
            Ok(id) => id,
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        match self.final_status(&id, deadline).await {
            Ok(status) if status["status"] == 200 => Outcome::Confirmed,
            Ok(status) => Outcome::Lost(format!("{id}: final status {status}")),
            Err(error) => Outcome::Lost(format!("{id}: {error}")),
        }
    }

    /// Prepares, signs and sends the call: returns its id.
    async fn send_call(&mut self) -> eyre::Result<Value> {
        let session = match self.session.take() {
            Some(session) if session.calls < self.calls_per_session => session,
            _ => self.create_session().await?,
        };
        let prepared = self
            .result(
                "wallet_prepareCalls",
                json!([{
                    "calls": [{ "to": RECIPIENT, "value": "0x1" }],
                    "from": self.owner.address(),
                    "chainId": "0x7a69",
                    "capabilities": { "permissions": session.permissions },
                }]),
            )
            .await?;
        let signature = sign_raw(&session.key, &prepared["signatureRequest"]["data"]["raw"])?;
        let sent = self
            .result(
                "wallet_sendPreparedCalls",
                json!([{
                    "type": prepared["type"],
                    "data": prepared["data"],
                    "chainId": prepared["chainId"],
                    "capabilities": { "permissions": session.permissions },
                    "signature": { "type": "secp256k1", "data": signature },
                }]),
            )
            .await?;
        self.session = Some(Session {
            calls: session.calls + 1,
            ..session
        });
        Ok(sent["id"].clone())
    }

    /// A new session key, granted 1000 wei, and the grant signed by the owner.
    async fn create_session(&mut self) -> eyre::Result<Session> {
        let key = PrivateKeySigner::random();
        let created = self
            .result("wallet_createSession", json!([{
                "chainId": "0x7a69",
                "expirySec": 4_102_444_800u64,
                "key": { "type": "secp256k1", "publicKey": key.address() },
                "permissions": [{ "type": "native-token-transfer", "data": { "allowance": "0x3e8" } }],
                "account": self.owner.address(),
            }]))
            .await?;
        let grant = sign_raw(&self.owner, &created["signatureRequest"]["rawPayload"])?;
        Ok(Session {
            key,
            permissions: json!({ "sessionId": created["sessionId"], "signature": grant }),
            calls: 0,
        })
    }

    /// The owner's own calls, prepared, signed (the authorization too in the array form), sent
    /// and followed to 200.
    async fn owner_calls(&mut self, calls: Value) -> eyre::Result<()> {
        let prepared = self
            .result(
                "wallet_prepareCalls",
                json!([{
                    "calls": calls,
                    "from": self.owner.address(),
                    "chainId": "0x7a69",
                }]),
            )
            .await?;
        let signed = |item: &Value| -> eyre::Result<Value> {
            let request = &item["signatureRequest"];
            let payload = match request["type"].as_str() {
                Some("eip7702Auth") => &request["rawPayload"],
                _ => &request["data"]["raw"],
            };
            let mut item = item.clone();
            let fields = item
                .as_object_mut()
                .ok_or_else(|| eyre::eyre!("a prepared item is not an object"))?;
            for field in ["signatureRequest", "feePayment", "details"] {
                fields.remove(field);
            }
            fields.insert(
                "signature".to_owned(),
                json!({ "type": "secp256k1", "data": sign_raw(&self.owner, payload)? }),
            );
            Ok(item)
        };
        let request = match prepared["data"].as_array() {
            Some(items) => {
                let items: Vec<Value> = items.iter().map(signed).collect::<eyre::Result<_>>()?;
                json!({ "type": "array", "data": items })
            }
            None => signed(&prepared)?,
        };
        let sent = self
            .result("wallet_sendPreparedCalls", json!([request]))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = self.final_status(&sent["id"], deadline).await?;
        eyre::ensure!(status["status"] == 200, "owner calls: {status}");
        Ok(())
    }

    /// Polls `wallet_getCallsStatus` until the status is final or `deadline` passes; records
    /// the wait under `send→final`.
    async fn final_status(&mut self, id: &Value, deadline: Instant) -> eyre::Result<Value> {
        let since = Instant::now();
        loop {
            let status = self.result("wallet_getCallsStatus", json!([id])).await?;
            if status["status"] != 100 {
                self.record("send→final", since.elapsed());
                return Ok(status);
            }
            eyre::ensure!(Instant::now() < deadline, "still pending at the deadline");
            tokio::time::sleep(self.poll).await;
        }
    }

    /// The `result` of `method`, its round trip recorded.
    async fn result(&mut self, method: &'static str, params: Value) -> eyre::Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let since = Instant::now();
        let response: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        self.record(method, since.elapsed());
        eyre::ensure!(response.get("error").is_none(), "{method}: {response}");
        Ok(response["result"].clone())
    }

    fn record(&mut self, what: &'static str, took: Duration) {
        self.latencies.entry(what).or_default().push(took);
    }
}

/// `cast wallet sign --no-hash` of a 32-byte payload: `r ‖ s ‖ v` with `v` 27 or 28.
fn sign_raw(key: &PrivateKeySigner, payload: &Value) -> eyre::Result<Bytes> {
    let hash: B256 = serde_json::from_value(payload.clone())?;
    Ok(Bytes::from(key.sign_hash_sync(&hash)?.as_bytes()))
}

/// One run's figures.
struct Report {
    clients: usize,
    flows_per_client: usize,
    confirmed: usize,
    lost: usize,
    failures: Vec<String>,
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    elapsed: Duration,
    /// The CPU time of each of [`PROCESSES`] over the measured phase.
    cpu: [Duration; 3],
}

impl Report {
    fn new(clients: usize, flows_per_client: usize) -> Self {
        Self {
            clients,
            flows_per_client,
            confirmed: 0,
            lost: 0,
            failures: Vec::new(),
            latencies: BTreeMap::new(),
            elapsed: Duration::ZERO,
            cpu: [Duration::ZERO; 3],
        }
    }

    fn add(&mut self, client: ClientReport) {
        self.confirmed += client.confirmed;
        self.lost += client.lost.len();
        self.failures
            .extend(client.lost.into_iter().map(|lost| format!("lost {lost}")));
        self.failures.extend(client.failures);
        for (method, mut taken) in client.latencies {
            self.latencies.entry(method).or_default().append(&mut taken);
        }
    }

    /// The table row after the state column.
    fn row(&mut self) -> String {
        let rate = self.confirmed as f64 / self.elapsed.as_secs_f64();
        let latencies = METHODS.map(|method| {
            let taken = self.latencies.entry(method).or_default();
            taken.sort_unstable();
            format!("{} / {}", percentile(taken, 50), percentile(taken, 99))
        });
        let per_flow = self.cpu.map(|cpu| {
            let ms = cpu.as_secs_f64() * 1000.0 / self.confirmed.max(1) as f64;
            format!("{ms:.1}")
        });
        format!(
            "{} | {} | {rate:.0} | {} | {} | {} | {} |",
            self.clients,
            self.clients * self.flows_per_client,
            self.lost,
            self.failures.len() - self.lost,
            latencies.join(" | "),
            per_flow.join(" / ")
        )
    }
}

/// Whose CPU time a run reports: this process (the servers and the clients), the node, the
/// database (every process of each name: PostgreSQL runs one per connection).
const PROCESSES: [&str; 3] = ["leash", "anvil", "postgres"];
/// The unit of `/proc/PID/stat`'s CPU times (`USER_HZ`, 100 on every Linux architecture).
const CLOCK_TICKS_PER_SECOND: u32 = 100;

/// The CPU time (user and system) used so far by each of [`PROCESSES`].
fn cpu_times() -> eyre::Result<BTreeMap<&'static str, Duration>> {
    let mut times = BTreeMap::from(PROCESSES.map(|name| (name, Duration::ZERO)));
    *times.entry("leash").or_default() =
        process_cpu(&std::fs::read_to_string("/proc/self/stat")?)?.1;
    for entry in std::fs::read_dir("/proc")? {
        let path = entry?.path().join("stat");
        // Processes come and go while the directory is read: one that is gone used no more.
        let Ok(stat) = std::fs::read_to_string(&path) else {
            continue;
        };
        let (name, cpu) = process_cpu(&stat)?;
        // This process is counted above: a `leash` elsewhere on the machine is not part of the run.
        if name != "leash"
            && let Some(total) = times.get_mut(name)
        {
            *total += cpu;
        }
    }
    Ok(times)
}

/// The name and the CPU time of a process from its `/proc/PID/stat`: `PID (NAME) STATE …`, the
/// user and system ticks being the 14th and 15th fields.
fn process_cpu(stat: &str) -> eyre::Result<(&str, Duration)> {
    let (open, close) = stat
        .find('(')
        .zip(stat.rfind(')'))
        .ok_or_else(|| eyre::eyre!("unexpected /proc stat: {stat}"))?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ticks = |field: usize| -> eyre::Result<u64> {
        Ok(fields
            .get(field - 3)
            .ok_or_else(|| eyre::eyre!("short /proc stat: {stat}"))?
            .parse()?)
    };
    let ticks = ticks(14)? + ticks(15)?;
    let cpu = Duration::from_millis(ticks * 1000 / u64::from(CLOCK_TICKS_PER_SECOND));
    Ok((&stat[open + 1..close], cpu))
}

/// The `p`th percentile of sorted `taken` (nearest rank), in milliseconds.
fn percentile(taken: &[Duration], p: usize) -> String {
    if taken.is_empty() {
        return "-".to_owned();
    }
    let rank = (taken.len() * p).div_ceil(100).max(1);
    format!("{:.1}", taken[rank - 1].as_secs_f64() * 1000.0)
}
