//! The API key check in front of JSON-RPC, as a tower layer: the key from the path (`/v2/KEY`,
//! as the hosted API's URLs have it) or `Authorization: Bearer KEY`, looked up by its hash in the
//! store (so a key added or revoked on any replica counts at once), then its rate limit. A
//! request let in carries its [`Caller`] to the methods in its extensions; any other is answered
//! here with HTTP 401, 429 or 500 and a JSON-RPC error body.

use super::{AccessConfig, Caller, hash_api_key};
use crate::{
    error::{codes, leash_codes},
    state::{ApiKey, Rate, RatePeriod, State, StateError},
};
use governor::{
    DefaultDirectRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use http::{
    HeaderValue, StatusCode,
    header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE},
};
use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    future::Future,
    num::NonZeroU32,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
};
use tower::{Layer, Service};

/// Requires an API key of every JSON-RPC request.
#[derive(Debug)]
pub(crate) struct AccessLayer<S> {
    gate: Arc<Gate<S>>,
}

impl<S> Clone for AccessLayer<S> {
    fn clone(&self) -> Self {
        Self {
            gate: Arc::clone(&self.gate),
        }
    }
}

#[derive(Debug)]
struct Gate<S> {
    state: Arc<S>,
    config: AccessConfig,
    /// Each key's limiter, made at its first request. In this process only: with replicas, a
    /// key's rate applies on each.
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl<S: State> AccessLayer<S> {
    /// The layer when keys are enforced: `config.require_api_key`, or `state` holds a key now.
    /// `None` otherwise: every request is let in, as a server without keys always did.
    pub(crate) async fn enforced(
        state: Arc<S>,
        config: AccessConfig,
    ) -> Result<Option<Self>, StateError> {
        if !config.require_api_key && state.api_keys().await?.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            gate: Arc::new(Gate {
                state,
                config,
                limiters: Mutex::default(),
            }),
        }))
    }
}

impl<S, Svc> Layer<Svc> for AccessLayer<S> {
    type Service = Access<S, Svc>;

    fn layer(&self, inner: Svc) -> Access<S, Svc> {
        Access {
            inner,
            gate: Arc::clone(&self.gate),
        }
    }
}

/// [`AccessLayer`] over the JSON-RPC service `inner`.
#[derive(Debug)]
pub(crate) struct Access<S, Svc> {
    inner: Svc,
    gate: Arc<Gate<S>>,
}

impl<S, Svc: Clone> Clone for Access<S, Svc> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            gate: Arc::clone(&self.gate),
        }
    }
}

impl<S, Svc> Service<HttpRequest> for Access<S, Svc>
where
    S: State,
    Svc: Service<HttpRequest, Response = HttpResponse, Error = BoxError> + Clone + Send + 'static,
    Svc::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: HttpRequest) -> Self::Future {
        // The service made ready is the one to call; a clone stays for the next request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = Arc::clone(&self.gate);
        // Owned: the request's body is not `Sync`, so no borrow of it may cross the lookup.
        let presented = presented_key(&request).map(str::to_owned);
        Box::pin(async move {
            match gate.admit(presented.as_deref()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(refusal) => Ok(refusal.answer()),
            }
        })
    }
}

impl<S: State> Gate<S> {
    /// The caller presenting `key`, if it is let in.
    async fn admit(&self, key: Option<&str>) -> Result<Caller, Refusal> {
        let presented = key.ok_or(Refusal::NoKey)?;
        let key = self
            .state
            .api_key(hash_api_key(presented))
            .await
            .map_err(Refusal::State)?
            .ok_or(Refusal::UnknownKey)?;
        if key.revoked_at.is_some() {
            return Err(Refusal::RevokedKey);
        }
        let (rate, burst) = (
            key.limits.rate.unwrap_or(self.config.rate),
            key.limits.burst.unwrap_or(self.config.burst),
        );
        if let Err(not_until) = self.limiter(&key, rate, burst).check() {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(Refusal::RateLimited {
                rate,
                burst,
                retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(Caller::with(&key, self.config.daily_quota))
    }

    fn limiter(
        &self,
        key: &ApiKey,
        rate: Rate,
        burst: NonZeroU32,
    ) -> Arc<DefaultDirectRateLimiter> {
        // Held only to find or insert: a limiter checks without it.
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        let limiter = limiters.entry(key.name.clone()).or_insert_with(|| {
            let quota = match rate.per {
                RatePeriod::Second => Quota::per_second(rate.requests),
                RatePeriod::Minute => Quota::per_minute(rate.requests),
            };
            Arc::new(RateLimiter::direct(quota.allow_burst(burst)))
        });
        Arc::clone(limiter)
    }
}

/// The key a request presents: the path's `/v2/KEY`, else the bearer token.
fn presented_key(request: &HttpRequest) -> Option<&str> {
    let in_path = request
        .uri()
        .path()
        .strip_prefix("/v2/")
        .filter(|key| !key.is_empty() && !key.contains('/'));
    in_path.or_else(|| {
        let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
        header.strip_prefix("Bearer ").map(str::trim)
    })
}

/// Why a request was not let in.
#[derive(Debug)]
enum Refusal {
    NoKey,
    UnknownKey,
    RevokedKey,
    RateLimited {
        rate: Rate,
        burst: NonZeroU32,
        retry_after_ms: u64,
    },
    /// The key could not be looked up.
    State(StateError),
}

impl Refusal {
    /// The HTTP answer: a JSON-RPC error object with `id: null` (the request is not read).
    /// Nothing in it depends on which other keys exist.
    fn answer(self) -> HttpResponse {
        let unauthorized = |leash_code, message: &str| {
            let message = message.to_owned();
            (
                StatusCode::UNAUTHORIZED,
                codes::INVALID_REQUEST,
                leash_code,
                message,
                json!({}),
            )
        };
        let retry_after = match &self {
            Self::RateLimited { retry_after_ms, .. } => Some(retry_after_ms.div_ceil(1000)),
            _ => None,
        };
        let (status, code, leash_code, message, mut data) = match self {
            Self::NoKey => unauthorized(
                leash_codes::NO_API_KEY,
                "an API key is required: POST to /v2/KEY or send Authorization: Bearer KEY",
            ),
            Self::UnknownKey => unauthorized(leash_codes::UNKNOWN_API_KEY, "unknown API key"),
            Self::RevokedKey => {
                unauthorized(leash_codes::REVOKED_API_KEY, "this API key was revoked")
            }
            Self::RateLimited {
                rate,
                burst,
                retry_after_ms,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                codes::LIMIT_EXCEEDED,
                leash_codes::RATE_LIMITED,
                format!(
                    "rate limit exceeded: {rate} with bursts of {burst} for this API key (on \
                     this server); retry in {retry_after_ms} ms"
                ),
                json!({ "rate": rate.to_string(), "burst": burst, "retryAfterMs": retry_after_ms }),
            ),
            Self::State(error) => (
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                leash_codes::STATE,
                error.to_string(),
                json!({}),
            ),
        };
        data["leashCode"] = json!(leash_code);
        let body = json!({
            "jsonrpc": "2.0",
            "id": Value::Null,
            "error": { "code": code, "message": message, "data": data },
        });
        let mut response = HttpResponse::new(HttpBody::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
