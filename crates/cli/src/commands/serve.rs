//! `leash serve`: the Wallet API's session-key methods over JSON-RPC, on the embedded chain.

use crate::output::Output;
use clap::Args;
use eyre::WrapErr;
use leash_server::{
    DEFAULT_MAX_REQUEST_BODY_BYTES, DEFAULT_PORT, EmbeddedChain, ServerConfig, state::MemoryState,
};
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Loopback by default: the server has no authentication.
    #[arg(long, default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)))]
    listen: SocketAddr,
    /// The largest request body read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BODY_BYTES)]
    max_request_body: u32,
}

pub(crate) async fn run(out: &Output, args: ServeArgs) -> eyre::Result<()> {
    let chain = EmbeddedChain::dev().wrap_err("starting the embedded chain")?;
    let chain_id = chain.chain_id();
    let config = ServerConfig {
        listen: args.listen,
        max_request_body_bytes: args.max_request_body,
    };
    let server = leash_server::start(&config, chain, MemoryState::new())
        .await
        .wrap_err_with(|| format!("serving on {}", args.listen))?;
    let address = server.local_addr();
    if out.is_json() {
        out.document(json!({ "listening": format!("http://{address}"), "chainId": chain_id }));
    } else {
        out.line(format!(
            "leash serve: http://{address} (embedded chain {chain_id}, anvil's dev accounts \
             funded; an account's first owner call delegates it)"
        ));
    }
    server.stopped().await;
    Ok(())
}
