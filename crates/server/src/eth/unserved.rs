//! The answer to an `eth_*`, `net_*` or `web3_*` method the embedded chain does not serve:
//! -32601 as for any unknown method, with a message that says where such methods are served.

use jsonrpsee::{
    server::middleware::rpc::{Batch, MethodResponse, Notification, Request, RpcServiceT},
    types::{ErrorCode, ErrorObjectOwned},
};
use std::future::Future;

/// RPC middleware: rewrites the method-not-found answer of a node method.
#[derive(Clone, Debug)]
pub(crate) struct UnservedMethods<S> {
    inner: S,
}

impl<S> UnservedMethods<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S> RpcServiceT for UnservedMethods<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        async move {
            let id = request.id.clone().into_owned();
            let method = request.method_name().to_owned();
            let response = inner.call(request).await;
            let not_found = response.as_error_code() == Some(ErrorCode::MethodNotFound.code());
            if not_found && is_node_method(&method) {
                let error = ErrorObjectOwned::owned(
                    ErrorCode::MethodNotFound.code(),
                    unserved_message(&method),
                    None::<()>,
                );
                MethodResponse::error(id, error).with_extensions(response.extensions().clone())
            } else {
                response
            }
        }
    }

    /// Batches go through unchanged: jsonrpsee runs their calls past this middleware, so an
    /// unserved method in a batch gets the plain -32601.
    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        self.inner.batch(batch)
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(notification)
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
