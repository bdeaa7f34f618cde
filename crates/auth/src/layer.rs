//! The `tower` layer: reads the `Leash-Session` header and the body, verifies, and passes the
//! request on with its [`Verified`] in the extensions, or answers 400/401/403/413/503 with a JSON
//! body naming what failed.

use crate::{
    chain::EthCall,
    envelope::{SESSION_HEADER, SessionRequest},
    nonces::{MemoryNonces, NonceStore},
    verify::{AuthError, Received, Scope, Verified, Verifier},
};
use alloy_primitives::keccak256;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header::CONTENT_TYPE, request::Parts};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tower_layer::Layer;
use tower_service::Service;

/// The largest body the layer reads by default (1 MiB): it must hash the whole body before the
/// handler sees it.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ScopeFn = dyn Fn(&Parts) -> Result<Scope, AuthError> + Send + Sync;

/// Protects a service with session signatures.
pub struct SessionAuthLayer<C, N = MemoryNonces> {
    verifier: Arc<Verifier<C, N>>,
    scope: Arc<ScopeFn>,
    body_limit: usize,
}

impl<C, N> Clone for SessionAuthLayer<C, N> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            scope: self.scope.clone(),
            body_limit: self.body_limit,
        }
    }
}

impl<C, N> fmt::Debug for SessionAuthLayer<C, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAuthLayer")
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl<C: EthCall + 'static, N: NonceStore + 'static> SessionAuthLayer<C, N> {
    /// Each request's resource is `resource_base` followed by its path (`https://api.example.com`
    /// + `/orders/42`), its ability `http/<METHOD>`.
    pub fn new(verifier: Arc<Verifier<C, N>>, resource_base: impl Into<String>) -> Self {
        let base = resource_base.into();
        Self {
            verifier,
            scope: Arc::new(move |parts: &Parts| http_scope(&base, parts)),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Maps requests to resources and abilities another way.
    pub fn with_scope(
        mut self,
        scope: impl Fn(&Parts) -> Result<Scope, AuthError> + Send + Sync + 'static,
    ) -> Self {
        self.scope = Arc::new(scope);
        self
    }

    /// Reads bodies up to `limit` bytes (larger ones get 413).
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

/// `base` + the path as the resource, `http/<METHOD>` as the ability; dot segments refused.
pub fn http_scope(base: &str, parts: &Parts) -> Result<Scope, AuthError> {
    target_scope(base, parts.method.as_str(), parts.uri.path())
}

/// [`http_scope`] of a method and a target (its query, if any, is not part of the resource).
pub fn target_scope(base: &str, method: &str, target: &str) -> Result<Scope, AuthError> {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(AuthError::DotSegments {
            target: path.to_owned(),
        });
    }
    Ok(Scope {
        resource: format!("{base}{path}"),
        ability: format!("http/{method}"),
    })
}

impl<S, C, N> Layer<S> for SessionAuthLayer<C, N> {
    type Service = SessionAuth<S, C, N>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionAuth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SessionAuthLayer`] wraps around another.
pub struct SessionAuth<S, C, N = MemoryNonces> {
    inner: S,
    layer: SessionAuthLayer<C, N>,
}

impl<S: Clone, C, N> Clone for SessionAuth<S, C, N> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, C, N> fmt::Debug for SessionAuth<S, C, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAuth").finish_non_exhaustive()
    }
}

impl<S, C, N, ReqBody, ResBody> Service<Request<ReqBody>> for SessionAuth<S, C, N>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    C: EthCall + 'static,
    N: NonceStore + 'static,
    ReqBody: Body + From<Bytes> + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            match authorize(&layer, request).await {
                Ok(request) => inner.call(request).await,
                Err(error) => Ok(refusal(&error)),
            }
        })
    }
}

async fn authorize<C: EthCall, N: NonceStore, B>(
    layer: &SessionAuthLayer<C, N>,
    request: Request<B>,
) -> Result<Request<B>, AuthError>
where
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let header = parts
        .headers
        .get(SESSION_HEADER)
        .ok_or(AuthError::Missing)?;
    let session = SessionRequest::from_header(header.as_bytes())?;
    let scope = (layer.scope)(&parts)?;
    let body = Limited::new(body, layer.body_limit)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                AuthError::BodyTooLarge {
                    limit: layer.body_limit,
                }
            } else {
                AuthError::BodyUnreadable {
                    reason: error.to_string(),
                }
            }
        })?
        .to_bytes();
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |pq| pq.as_str());
    let received = Received {
        method: parts.method.as_str(),
        target,
        body_hash: keccak256(&body),
    };
    let verified: Verified = layer.verifier.verify(&session, received, &scope).await?;
    parts.extensions.insert(verified);
    Ok(Request::from_parts(parts, B::from(body)))
}

/// The refusal's JSON response.
pub fn refusal<B: From<String>>(error: &AuthError) -> Response<B> {
    let mut response = Response::new(B::from(error.to_json().to_string()));
    *response.status_mut() =
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
