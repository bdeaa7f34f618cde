//! Node methods (`eth_*`, `net_*`, `web3_*`) that the server's own module does not answer. With
//! `--rpc-url` every one goes to the node, which answers it as it would directly. On the
//! embedded chain, those outside the served subset are -32601 with a message that says where
//! such methods are served.
//!
//! Batches are taken apart here and each call goes through [`NodeMethods::call`], so a node
//! method in a batch is answered as it is alone.

use alloy_provider::{DynProvider, Provider};
use jsonrpsee::{
    server::{
        BatchResponseBuilder, ResponsePayload,
        middleware::rpc::{Batch, BatchEntry, MethodResponse, Notification, Request, RpcServiceT},
    },
    types::{ErrorCode, ErrorObjectOwned, Id},
};
use serde_json::value::RawValue;
use std::{future::Future, sync::Arc};

/// RPC middleware: forwards node methods to the node behind `--rpc-url`, or rewrites the
/// method-not-found answer of one the embedded chain does not serve.
#[derive(Clone, Debug)]
pub(crate) struct NodeMethods<S> {
    inner: S,
    /// The node behind `--rpc-url`; `None` on the embedded chain.
    node: Option<DynProvider>,
    /// The largest batch answer built, in bytes (as the server's own limit).
    max_response_bytes: usize,
}

impl<S> NodeMethods<S> {
    pub(crate) fn new(inner: S, node: Option<DynProvider>, max_response_bytes: usize) -> Self {
        Self {
            inner,
            node,
            max_response_bytes,
        }
    }
}

impl<S> RpcServiceT for NodeMethods<S>
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
        let node = self.node.clone();
        let max_response_bytes = self.max_response_bytes;
        async move {
            let id = request.id.clone().into_owned();
            let method = request.method_name().to_owned();
            if !is_node_method(&method) {
                return inner.call(request).await;
            }
            match node {
                Some(node) => {
                    let params = request.params.as_deref();
                    forward(&node, id, method, params, max_response_bytes).await
                }
                None => {
                    let response = inner.call(request).await;
                    if response.as_error_code() == Some(ErrorCode::MethodNotFound.code()) {
                        let error = ErrorObjectOwned::owned(
                            ErrorCode::MethodNotFound.code(),
                            unserved_message(&method),
                            None::<()>,
                        );
                        MethodResponse::error(id, error)
                            .with_extensions(response.extensions().clone())
                    } else {
                        response
                    }
                }
            }
        }
    }

    /// Each call of the batch through [`NodeMethods::call`] (whose calls jsonrpsee's own service
    /// would otherwise run without this middleware).
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

/// `batch` answered call by call through `service.call`, as jsonrpsee's own service runs a batch:
/// for a middleware whose calls must each go through it. Answers up to `max_response_bytes` in
/// all (as the server's own limit).
pub(crate) async fn each_call<S>(
    service: S,
    batch: Batch<'_>,
    max_response_bytes: usize,
) -> MethodResponse
where
    S: RpcServiceT<MethodResponse = MethodResponse>,
{
    let mut answers = BatchResponseBuilder::new_with_limit(max_response_bytes);
    let mut notified = false;
    for entry in batch {
        let answer = match entry {
            Ok(BatchEntry::Call(request)) => service.call(request).await,
            Ok(BatchEntry::Notification(notification)) => {
                notified = true;
                service.notification(notification).await;
                continue;
            }
            Err(error) => {
                let (error, id) = error.into_parts();
                MethodResponse::error(id, error)
            }
        };
        if let Err(too_big) = answers.append(answer) {
            return too_big;
        }
    }
    // A batch of notifications only gets no answer; an empty batch is invalid.
    if answers.is_empty() && notified {
        MethodResponse::notification()
    } else {
        MethodResponse::from_batch(answers.finish())
    }
}

/// `method` with `params`, answered by `node`: its result, or its error unchanged (a revert keeps
/// its data); a node that cannot be reached is -32603, which clients retry.
async fn forward(
    node: &DynProvider,
    id: Id<'static>,
    method: String,
    params: Option<&RawValue>,
    max_response_bytes: usize,
) -> MethodResponse {
    let answer: Result<Box<RawValue>, _> = match params {
        Some(params) => node.raw_request_dyn(method.clone().into(), params).await,
        // No parameters: an empty array (nodes refuse `null`).
        None => node.raw_request(method.clone().into(), [(); 0]).await,
    };
    match answer {
        Ok(result) => MethodResponse::response(
            id,
            ResponsePayload::success(Arc::<RawValue>::from(result)),
            max_response_bytes,
        ),
        Err(error) => {
            let error = match error.as_error_resp() {
                Some(payload) => ErrorObjectOwned::owned(
                    i32::try_from(payload.code).unwrap_or(ErrorCode::InternalError.code()),
                    payload.message.to_string(),
                    payload.data.clone(),
                ),
                None => ErrorObjectOwned::owned(
                    ErrorCode::InternalError.code(),
                    format!("{method}: the node behind --rpc-url did not answer: {error}"),
                    None::<()>,
                ),
            };
            MethodResponse::error(id, error)
        }
    }
}

fn is_node_method(method: &str) -> bool {
    ["eth_", "net_", "web3_"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
}

fn unserved_message(method: &str) -> String {
    format!(
        "{method} is not served by leash serve's embedded chain, which answers only the eth_* \
         subset cast and viem need to read state and send transactions (docs/server.md); for \
         {method}, use --rpc-url with a full node (anvil, or your provider)"
    )
}
