//! A small axum backend protected by session signatures.
//!
//! ```sh
//! cargo run -p leash-auth --example session-api-server   # listens on 127.0.0.1:3000
//! cargo run -p leash-auth --example session-api-client   # in another terminal
//! ```

mod app;

use leash_auth::{Verifier, VerifierConfig};
use std::sync::Arc;

/// The domain capabilities must name, and the base of every resource.
const DOMAIN: &str = "localhost:3000";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    // Loopback only: this is an example, not a deployment.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    // EOA and EIP-7702 owners need no chain; `Verifier::with_chain(config, NodeCalls(provider))`
    // adds ERC-1271/6492 owners and, with `session_check_ttl`, the on-chain revocation check.
    let verifier = Arc::new(Verifier::new(VerifierConfig::new(DOMAIN)));
    println!("session-api listening on http://{DOMAIN}");
    axum::serve(listener, app::router(verifier, &format!("http://{DOMAIN}"))).await
}
