//! The tower layer in the example axum backend (examples/session-api), over loopback HTTP: the
//! verified request reaches the handler; every refusal is a JSON body with its status and code.

#[path = "../../../examples/session-api/app.rs"]
mod app;
mod support;

use leash_auth::{SESSION_HEADER, SessionRequest, Verifier, VerifierConfig};
use serde_json::Value;
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds loopback");
    let address = listener.local_addr().expect("an address");
    let verifier = Arc::new(Verifier::new(VerifierConfig::new(DOMAIN)));
    tokio::spawn(async move { axum::serve(listener, app::router(verifier, BASE)).await });
    address
}

/// Sends `method path` with `body` and the header of `request` (none when `None`).
async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    request: Option<&SessionRequest>,
) -> (u16, Value) {
    let mut builder = reqwest::Client::new()
        .request(
            method.parse().expect("a method"),
            format!("http://{address}{path}"),
        )
        .body(body.to_owned());
    if let Some(request) = request {
        builder = builder.header(SESSION_HEADER, request.to_header());
    }
    let response = builder.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

#[tokio::test]
async fn the_layer_admits_the_capability_and_refuses_the_rest_with_json() {
    let address = serve().await;
    let (owner, session) = (key(1), key(2));
    let mut granted = capability(owner.address(), session.address());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    (granted.issued_at, granted.not_before, granted.expiration) = (now, None, now + 600);
    let signed = sign_capability(&granted, &owner);
    let sign = |method: &str, path: &str, body: &str, nonce: u8| {
        request(&signed, &session, method, path, body.as_bytes(), now, nonce)
    };

    let post = sign("POST", "/orders/7", "{\"qty\":2}", 1);
    let (status, body) = send(address, "POST", "/orders/7", "{\"qty\":2}", Some(&post)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["placedFor"], serde_json::json!(owner.address()));
    assert_eq!(
        body["body"], "{\"qty\":2}",
        "the handler gets the body the layer read"
    );

    let (status, body) = send(address, "POST", "/orders/7", "{\"qty\":2}", Some(&post)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("replayed-nonce"))
    );

    let (status, body) = send(address, "GET", "/orders/7", "", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("missing-session"))
    );

    let tampered = sign("POST", "/orders/8", "{\"qty\":1}", 2);
    let (status, body) = send(address, "POST", "/orders/8", "{\"qty\":9}", Some(&tampered)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("body-mismatch"))
    );

    let admin = sign("GET", "/admin", "", 3);
    let (status, body) = send(address, "GET", "/admin", "", Some(&admin)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "resource-outside-capability");
    assert_eq!(
        body["error"]["missing"]["resource"],
        format!("{BASE}/admin")
    );

    let large = "x".repeat(leash_auth::layer::DEFAULT_BODY_LIMIT + 1);
    let too_large = sign("POST", "/orders/9", &large, 5);
    let (status, body) = send(address, "POST", "/orders/9", &large, Some(&too_large)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body-too-large"))
    );

    // HTTP clients resolve dot segments before sending; a hostile one need not.
    let escape = sign("GET", "/orders/../admin", "", 4);
    let raw = format!(
        "GET /orders/../admin HTTP/1.1\r\nhost: {address}\r\n{SESSION_HEADER}: {}\r\n\
         connection: close\r\n\r\n",
        escape.to_header()
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    stream.write_all(raw.as_bytes()).await.expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("reads");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"code\":\"dot-segments\""), "{answer}");
}
