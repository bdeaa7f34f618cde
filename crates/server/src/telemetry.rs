//! What the server tells its operators: a span and an event per JSON-RPC call, Prometheus metrics
//! (per-method counts and latencies, pending calls, submission failures), and every submitted
//! call's outcome. Nothing logged here carries a request's parameters, so no key or signature
//! reaches the logs from a request.

use crate::{
    eth::each_call,
    state::{CallStatus, State},
};
use alloy_primitives::B256;
use jsonrpsee::{
    server::middleware::rpc::{Batch, MethodResponse, Notification, Request, RpcServiceT},
    types::ErrorCode,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};
use std::{
    borrow::Cow,
    collections::HashSet,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use tokio::sync::RwLock;
use tracing::Instrument;
use url::Url;

/// Latency buckets, in seconds: from a memory read (under a millisecond) to a node or a database
/// that stalls for seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `method` label of a method that does not exist: names sent by clients would otherwise make
/// a series each.
const UNKNOWN_METHOD: &str = "unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: String,
    /// `ok`, or the JSON-RPC error code.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

/// One server's metrics, in a registry of its own.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<CallLabels, Counter>,
    latencies: Family<MethodLabel, Histogram, fn() -> Histogram>,
    pending: Gauge,
    submission_failures: Counter,
    taken_over: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("leash");
        let requests = Family::<CallLabels, Counter>::default();
        registry.register(
            "rpc_requests",
            "JSON-RPC calls answered, by method and outcome (ok or the error code)",
            requests.clone(),
        );
        let latencies: Family<MethodLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "rpc_request_duration",
            "Time to answer a JSON-RPC call, by method",
            Unit::Seconds,
            latencies.clone(),
        );
        let pending = Gauge::default();
        registry.register(
            "calls_pending",
            "Calls this server acknowledged or resumed that are not final yet",
            pending.clone(),
        );
        let submission_failures = Counter::default();
        registry.register(
            "submission_failures",
            "Calls that were never included (status 400)",
            submission_failures.clone(),
        );
        let taken_over = Counter::default();
        registry.register(
            "calls_taken_over",
            "Calls of a stopped replica whose claims lapsed, taken over by this server",
            taken_over.clone(),
        );
        Self {
            registry,
            requests,
            latencies,
            pending,
            submission_failures,
            taken_over,
        }
    }

    /// The OpenMetrics text of every metric.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// What follows this server's calls from acknowledgement to their final status.
    pub(crate) fn calls(&self) -> CallTracker {
        CallTracker {
            pending: Arc::default(),
            storing: Arc::default(),
            gauge: self.pending.clone(),
            failures: self.submission_failures.clone(),
            taken_over: self.taken_over.clone(),
        }
    }

    fn observe(&self, method: &str, response: &MethodResponse, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        let code = response.as_error_code();
        let method = match code {
            Some(code) if code == ErrorCode::MethodNotFound.code() => UNKNOWN_METHOD,
            _ => method,
        };
        let outcome = code.map_or_else(|| "ok".to_owned(), |code| code.to_string());
        self.requests
            .get_or_create(&CallLabels {
                method: method.to_owned(),
                code: outcome,
            })
            .inc();
        self.latencies
            .get_or_create(&MethodLabel {
                method: method.to_owned(),
            })
            .observe(seconds);
        // Microseconds are precision enough for a log line.
        let millis = (seconds * 1e6).round() / 1e3;
        match code {
            // The chain or the store failed: worth an operator's attention.
            Some(code) if code == ErrorCode::InternalError.code() => {
                tracing::warn!(method, code, millis, "answered")
            }
            Some(code) => tracing::info!(method, code, millis, "answered"),
            None => tracing::info!(method, millis, "answered"),
        }
    }
}

/// RPC middleware, outermost: each call (a batch's too, one by one) in a span naming its method,
/// an event when it is answered with its duration and error code, and the request metrics.
#[derive(Clone, Debug)]
pub(crate) struct Observed<S> {
    inner: S,
    metrics: Arc<Metrics>,
    /// The largest batch answer built, in bytes (as the server's own limit).
    max_response_bytes: usize,
}

impl<S> Observed<S> {
    pub(crate) fn new(inner: S, metrics: Arc<Metrics>, max_response_bytes: usize) -> Self {
        Self {
            inner,
            metrics,
            max_response_bytes,
        }
    }
}

impl<S> RpcServiceT for Observed<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse, BatchResponse = MethodResponse>
        + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let metrics = Arc::clone(&self.metrics);
        async move {
            let method = request.method_name().to_owned();
            let started = Instant::now();
            let span = tracing::info_span!("rpc", method = %method);
            let response = inner.call(request).instrument(span.clone()).await;
            span.in_scope(|| metrics.observe(&method, &response, started));
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        each_call(self.clone(), batch, self.max_response_bytes)
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(notification)
    }
}

/// The first wait before a status the store refused is written again, doubled each time up to
/// [`STATUS_RETRY_MAX`].
const STATUS_RETRY_FIRST: Duration = Duration::from_millis(200);
const STATUS_RETRY_MAX: Duration = Duration::from_secs(5);

/// The calls this server took on (acknowledged, or resumed at start) and has not made final, by
/// UserOperation hash: the pending gauge, and what a shutdown leaves. The submission tasks make a
/// call final through [`CallTracker::record`]: its status stored, its outcome logged, a failure
/// counted.
#[derive(Clone, Debug)]
pub(crate) struct CallTracker {
    pending: Arc<Mutex<HashSet<B256>>>,
    /// Held (shared) by every status write in flight: see [`CallTracker::record`].
    storing: Arc<RwLock<()>>,
    gauge: Gauge,
    failures: Counter,
    taken_over: Counter,
}

impl CallTracker {
    /// `hash` is pending here.
    pub(crate) fn acknowledged(&self, hash: B256) {
        self.update(|pending| pending.insert(hash));
    }

    /// `hash`, a call of a stopped replica, is pending here now: counted as pending (so a
    /// graceful shutdown waits for it too) and as taken over.
    pub(crate) fn taken_over(&self, hash: B256) {
        self.taken_over.inc();
        self.acknowledged(hash);
    }

    /// How many calls are pending here.
    pub(crate) fn pending(&self) -> usize {
        self.update(|pending| pending.len())
    }

    fn update<T>(&self, change: impl FnOnce(&mut HashSet<B256>) -> T) -> T {
        // A panic elsewhere while the set was held leaves it whole: each change is one call.
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = change(&mut pending);
        self.gauge
            .set(i64::try_from(pending.len()).unwrap_or(i64::MAX));
        answer
    }

    /// Stores `statuses` (each call's final status, by hash) in one write, logging each call's
    /// outcome and counting the failures. The write and the pending set's update run in a task
    /// of their own: a submission task stopped mid-way (a shutdown past its grace) cannot cut
    /// between the store's commit, which the store finishes anyway, and the update, which would
    /// leave a stored call counted as pending. [`CallTracker::stored`] waits for such writes.
    pub(crate) async fn record<S: State>(&self, state: &Arc<S>, statuses: Vec<(B256, CallStatus)>) {
        for (hash, status) in &statuses {
            let code = status.code();
            match status {
                CallStatus::Failed(reason) => {
                    self.failures.inc();
                    let reason = without_url_paths(reason);
                    tracing::warn!(user_op_hash = %hash, code, %reason, "call not included");
                }
                CallStatus::Confirmed(receipt) | CallStatus::Reverted(receipt) => {
                    let transaction = receipt.receipt.transaction_hash;
                    tracing::info!(user_op_hash = %hash, code, %transaction, "call included");
                }
                CallStatus::Pending => {}
            }
        }
        let writing = Arc::clone(&self.storing).read_owned().await;
        let (tracker, state) = (self.clone(), Arc::clone(state));
        let write = tokio::spawn(async move {
            tracker.store(state.as_ref(), &statuses).await;
            drop(writing);
        });
        // The task ends by itself; a panic in it is the store's, already reported by tokio.
        let _ = write.await;
    }

    async fn store<S: State>(&self, state: &S, statuses: &[(B256, CallStatus)]) {
        // Kept trying while the server runs: the calls are this server's until their statuses
        // are stored (its claims renewed meanwhile, on a shared store). A server that stops
        // first leaves them pending, and a restart, or another replica once the claims lapse,
        // reads their receipts or submits them again.
        let mut wait = STATUS_RETRY_FIRST;
        while let Err(error) = state.set_statuses(statuses).await {
            let calls = statuses.len();
            tracing::error!(calls, %error, retry_in = ?wait, "statuses not stored yet");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(STATUS_RETRY_MAX);
        }
        self.update(|pending| {
            for (hash, _) in statuses {
                pending.remove(hash);
            }
        });
    }

    /// Waits, at most `limit`, for the status writes in flight; whether they all finished.
    pub(crate) async fn stored(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.storing.write())
            .await
            .is_ok()
    }
}

/// `text` with every URL cut to its origin: a failure reason may quote the bundler's or the node's
/// URL, whose path or query often holds an API key.
fn without_url_paths(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let (before, from) = rest.split_at(start);
        redacted.push_str(before);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | ',' | '>'))
            .unwrap_or(from.len());
        let (candidate, after) = from.split_at(end);
        match Url::parse(candidate) {
            Ok(url) if url.has_host() => redacted.push_str(&url.origin().ascii_serialization()),
            _ => redacted.push_str(candidate),
        }
        rest = after;
    }
    redacted.push_str(rest);
    Cow::Owned(redacted)
}

#[cfg(test)]
mod tests {
    use super::without_url_paths;

    #[test]
    fn urls_lose_their_paths_and_queries() {
        assert_eq!(
            without_url_paths(
                "error sending request for url (https://eth.example/v2/SECRET?key=K): refused"
            ),
            "error sending request for url (https://eth.example): refused"
        );
        assert_eq!(
            without_url_paths("http://127.0.0.1:3000/rpc and http://b.example/x"),
            "http://127.0.0.1:3000 and http://b.example"
        );
        assert_eq!(
            without_url_paths("AA25 invalid account nonce"),
            "AA25 invalid account nonce"
        );
        assert_eq!(without_url_paths("httpx"), "httpx");
    }
}
