//! Plain HTTP beside JSON-RPC on the same port, as a tower layer in front of jsonrpsee:
//! `GET /health` (liveness), `GET /health/ready` (readiness: the state store, the chain and the
//! bundler) and `GET /metrics` (Prometheus). Every other request goes on to JSON-RPC.

use crate::{config::CorsOrigins, served_chain::ServedChain, state::State, telemetry::Metrics};
use http::{
    HeaderValue, Method, StatusCode,
    header::{AUTHORIZATION, CONTENT_TYPE},
};
use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use serde_json::{Map, Value, json};
use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long each readiness check may take: a probe must answer before its own timeout (a
/// load balancer's is typically a few seconds), and a stalled node is as unready as a dead one.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The OpenMetrics text format, which Prometheus scrapes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A readiness check's name and its failure, if it failed.
pub(crate) type Check = (&'static str, Result<(), String>);

/// What readiness asks of the server, whatever its state's type.
pub(crate) trait Probe: fmt::Debug + Send + Sync + 'static {
    /// Every readiness check, run at once, each bounded by [`CHECK_TIMEOUT`].
    fn readiness(&self) -> Boxed<'_, Vec<Check>>;
}

/// The server's state and chain, probed.
pub(crate) struct Probes<S> {
    pub(crate) state: Arc<S>,
    pub(crate) chain: ServedChain,
}

impl<S> fmt::Debug for Probes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probes")
            .field("chain_id", &self.chain.chain_id())
            .finish_non_exhaustive()
    }
}

impl<S: State> Probe for Probes<S> {
    fn readiness(&self) -> Boxed<'_, Vec<Check>> {
        Box::pin(async move {
            let state = async { self.state.ping().await.map_err(|error| error.to_string()) };
            let (state, chain, bundler) = tokio::join!(
                bounded(state),
                bounded(self.chain.check_node()),
                tokio::time::timeout(CHECK_TIMEOUT, self.chain.check_bundler()),
            );
            let mut checks = vec![("state", state), ("chain", chain)];
            match bundler {
                Ok(None) => {}
                Ok(Some(bundler)) => checks.push(("bundler", bundler)),
                Err(_) => checks.push(("bundler", Err(timed_out()))),
            }
            checks
        })
    }
}

async fn bounded(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(timed_out()))
}

fn timed_out() -> String {
    format!("no answer within {} s", CHECK_TIMEOUT.as_secs())
}

/// Answers the operations routes in front of the JSON-RPC service.
#[derive(Clone, Debug)]
pub(crate) struct RoutesLayer {
    probe: Arc<dyn Probe>,
    metrics: Arc<Metrics>,
}

impl RoutesLayer {
    pub(crate) fn new(probe: Arc<dyn Probe>, metrics: Arc<Metrics>) -> Self {
        Self { probe, metrics }
    }
}

impl<S> Layer<S> for RoutesLayer {
    type Service = Routes<S>;

    fn layer(&self, inner: S) -> Routes<S> {
        Routes {
            inner,
            routes: self.clone(),
        }
    }
}

/// [`RoutesLayer`] over the JSON-RPC service `inner`.
#[derive(Clone, Debug)]
pub(crate) struct Routes<S> {
    inner: S,
    routes: RoutesLayer,
}

/// A path this layer answers.
#[derive(Clone, Copy, Debug)]
enum Route {
    Live,
    Ready,
    Metrics,
}

impl Route {
    fn of(request: &HttpRequest) -> Option<Self> {
        if request.method() != Method::GET {
            return None;
        }
        match request.uri().path() {
            "/health" => Some(Self::Live),
            "/health/ready" => Some(Self::Ready),
            "/metrics" => Some(Self::Metrics),
            _ => None,
        }
    }
}

impl<S> Service<HttpRequest> for Routes<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Boxed<'static, Result<HttpResponse, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        let Some(route) = Route::of(&request) else {
            return Box::pin(self.inner.call(request));
        };
        let routes = self.routes.clone();
        Box::pin(async move { Ok(routes.answer(route).await) })
    }
}

impl RoutesLayer {
    async fn answer(&self, route: Route) -> HttpResponse {
        match route {
            Route::Live => respond(StatusCode::OK, "application/json", json!({"status": "ok"})),
            Route::Ready => {
                let checks = self.probe.readiness().await;
                let ready = checks.iter().all(|(_, result)| result.is_ok());
                let status = if ready {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                respond(status, "application/json", readiness_body(ready, checks))
            }
            Route::Metrics => respond(StatusCode::OK, OPENMETRICS, self.metrics.render()),
        }
    }
}

/// `{"status": "ready" | "unready", "checks": {name: {"status": "ok"} | {"status": "fail",
/// "error": …}}}`.
fn readiness_body(ready: bool, checks: Vec<Check>) -> Value {
    let checks: Map<String, Value> = checks
        .into_iter()
        .map(|(name, result)| {
            let check = match result {
                Ok(()) => json!({"status": "ok"}),
                Err(error) => json!({"status": "fail", "error": error}),
            };
            (name.to_owned(), check)
        })
        .collect();
    let status = if ready { "ready" } else { "unready" };
    json!({"status": status, "checks": checks})
}

fn respond(status: StatusCode, content_type: &'static str, body: impl ToString) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The CORS layer `origins` asks for; none (no CORS headers at all) by default. Browsers send a
/// preflight before a JSON-RPC POST (its `Content-Type: application/json` is not a simple
/// request's), answered here; `Authorization` is allowed for API keys sent as bearer tokens.
pub(crate) fn cors(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allowed = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        // Each was checked to be an origin, which is ASCII: a valid header value.
        CorsOrigins::Listed(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allowed)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([CONTENT_TYPE, AUTHORIZATION])
            // Browsers cache a preflight's answer for this long (Chromium caps it at 2 hours).
            .max_age(Duration::from_secs(3600)),
    )
}
