//! The JSON-RPC methods: each parses its request, calls leash-sdk's service over the served
//! chain, and answers in the Wallet API's shape.

mod calls_status;
mod capabilities;
mod create_session;
mod execution_permissions;
mod explain_calls;
mod format_sign;
mod get_session;
mod list_sessions;
mod prepare_calls;
mod prepare_revoke;
mod prepare_sign;
mod request_account;
mod request_execution_permissions;
mod send_prepared_calls;
mod verify_session_request;

pub(crate) use verify_session_request::SessionVerifiers;

use crate::{
    access::Caller,
    bundler::QueuedCall,
    error::RpcError,
    served_chain::ServedChain,
    state::{State, WireSessionId},
    telemetry::CallTracker,
};
use alloy_primitives::U64;
use jsonrpsee::{RpcModule, types::ErrorObjectOwned};
use leash_sdk::service::{ServiceError, StoredSession};
use std::{future::Future, sync::Arc};
use tokio::sync::mpsc::UnboundedSender;

/// What every method works with.
#[derive(Debug)]
pub(crate) struct Context<S> {
    pub(crate) chain: ServedChain,
    pub(crate) state: Arc<S>,
    pub(crate) submissions: UnboundedSender<QueuedCall>,
    /// The calls acknowledged here and not final yet (the pending gauge, and a shutdown's count).
    pub(crate) calls: CallTracker,
    /// The calls an account may have pending.
    pub(crate) max_pending_calls: usize,
    /// `leash_verifySessionRequest`'s verifiers, on this server's chain and state.
    pub(crate) verifiers: SessionVerifiers<S>,
}

impl<S: State> Context<S> {
    /// The served chain's id, when it is the one `requested`.
    fn served_chain(&self, requested: U64) -> Result<u64, RpcError> {
        let served = self.chain.chain_id();
        if requested == U64::from(served) {
            Ok(served)
        } else {
            Err(ServiceError::UnservedChain {
                requested: requested.saturating_to(),
                served,
            }
            .into())
        }
    }

    /// The session with wire id `id`, when `caller`'s key created it: another key's is as
    /// unknown as one never created.
    async fn session(&self, id: WireSessionId, caller: &Caller) -> Result<StoredSession, RpcError> {
        self.state.session(id, caller.key()).await?.ok_or_else(|| {
            ServiceError::SessionNotFound {
                prefix: id.to_string(),
            }
            .into()
        })
    }
}

/// Every method, over `context`.
pub(crate) fn rpc_module<S: State>(context: Context<S>) -> RpcModule<Context<S>> {
    let embedded = context.chain.embedded().cloned();
    let mut module = RpcModule::new(context);
    // A node behind --rpc-url answers its own methods (the middleware forwards them).
    if let Some(chain) = embedded {
        let merged = module.merge(crate::eth::rpc_module(chain));
        debug_assert!(merged.is_ok(), "an eth_* method has a wallet method's name");
    }
    register_with_caller(
        &mut module,
        "wallet_createSession",
        create_session::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "wallet_prepareCalls",
        prepare_calls::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "wallet_sendPreparedCalls",
        send_prepared_calls::handle::<S>,
    );
    register_with_caller(&mut module, "wallet_prepareSign", prepare_sign::handle::<S>);
    register_with_caller(&mut module, "wallet_formatSign", format_sign::handle::<S>);
    register_with_caller(
        &mut module,
        "wallet_getCallsStatus",
        calls_status::handle::<S>,
    );
    register(
        &mut module,
        "wallet_getCapabilities",
        capabilities::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "wallet_requestExecutionPermissions",
        request_execution_permissions::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "wallet_revokeExecutionPermission",
        execution_permissions::revoke::<S>,
    );
    register(
        &mut module,
        "wallet_getSupportedExecutionPermissions",
        execution_permissions::get_supported::<S>,
    );
    register_with_caller(
        &mut module,
        "wallet_getGrantedExecutionPermissions",
        execution_permissions::get_granted::<S>,
    );
    register(
        &mut module,
        "wallet_requestAccount",
        request_account::handle::<S>,
    );
    register_with_caller(&mut module, "leash_getSession", get_session::handle::<S>);
    register_with_caller(
        &mut module,
        "leash_listSessions",
        list_sessions::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "leash_explainCalls",
        explain_calls::handle::<S>,
    );
    register_with_caller(
        &mut module,
        "leash_prepareRevoke",
        prepare_revoke::handle::<S>,
    );
    register(
        &mut module,
        "leash_verifySessionRequest",
        verify_session_request::handle::<S>,
    );
    module
}

/// Registers `handler` as `name`, its error answered as a JSON-RPC error object.
pub(crate) fn register<C, F, Fut, T, E>(module: &mut RpcModule<C>, name: &'static str, handler: F)
where
    C: Send + Sync + 'static,
    F: Fn(jsonrpsee::types::Params<'static>, Arc<C>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    E: Into<ErrorObjectOwned>,
    T: serde::Serialize + Clone + 'static,
{
    register_with_caller(module, name, move |params, context, _| {
        handler(params, context)
    });
}

/// [`register`], `handler` given the request's [`Caller`] too: a method that reads or creates
/// what belongs to an API key.
fn register_with_caller<C, F, Fut, T, E>(module: &mut RpcModule<C>, name: &'static str, handler: F)
where
    C: Send + Sync + 'static,
    F: Fn(jsonrpsee::types::Params<'static>, Arc<C>, Caller) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    E: Into<ErrorObjectOwned>,
    T: serde::Serialize + Clone + 'static,
{
    let registered = module.register_async_method(name, move |params, context, extensions| {
        let handler = handler.clone();
        let caller = Caller::of(&extensions);
        async move { handler(params, context, caller).await.map_err(Into::into) }
    });
    // Names are the literals above, each registered once.
    debug_assert!(registered.is_ok(), "{name} registered twice");
}
