//! The example backend's routes, behind leash-auth's layer: a session key may place and read
//! orders as far as its owner's capability allows; `/admin` is never granted by the client.

use axum::{
    Extension, Json, Router,
    extract::Path,
    routing::{get, post},
};
use leash_auth::{EthCall, SessionAuthLayer, Verified, Verifier};
use serde_json::{Value, json};
use std::sync::Arc;

/// The routes, every one protected: `base` is the scheme and authority resources start with.
pub(crate) fn router<C: EthCall + 'static>(verifier: Arc<Verifier<C>>, base: &str) -> Router {
    Router::new()
        .route("/orders/{id}", post(place_order).get(show_order))
        .route("/admin", get(admin))
        .layer(SessionAuthLayer::new(verifier, base))
}

/// The handler knows who the order is for (the owner) and which key placed it.
async fn place_order(
    Path(id): Path<u64>,
    Extension(verified): Extension<Verified>,
    body: String,
) -> Json<Value> {
    Json(json!({
        "order": id,
        "placedFor": verified.owner,
        "by": verified.session_key,
        "body": body,
    }))
}

async fn show_order(Path(id): Path<u64>, Extension(verified): Extension<Verified>) -> Json<Value> {
    Json(json!({ "order": id, "owner": verified.owner }))
}

async fn admin() -> Json<Value> {
    Json(json!({ "admin": true }))
}
