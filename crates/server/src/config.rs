//! How the server listens.

use crate::access::AccessConfig;
use std::net::{Ipv4Addr, SocketAddr};
use url::Url;

/// Where the server listens, how much it reads, and which browser pages may call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The address to listen on: loopback by default, since without API keys there is no
    /// authentication.
    pub listen: SocketAddr,
    /// The largest request body read, in bytes; larger requests are refused before parsing.
    pub max_request_body_bytes: u32,
    /// The origins whose pages may call the server from a browser (CORS); none by default.
    pub cors_origins: CorsOrigins,
    /// API keys, their limits, and the calls an account may have pending.
    pub access: AccessConfig,
}

/// The default port: ERC-4337's number, free of anvil's 8545.
pub const DEFAULT_PORT: u16 = 4337;

/// A Wallet API request is a few kilobytes (a batch of calls with their data); 1 MiB leaves room
/// for large calldata while bounding what a caller can make the server buffer.
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: u32 = 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            max_request_body_bytes: DEFAULT_MAX_REQUEST_BODY_BYTES,
            cors_origins: CorsOrigins::None,
            access: AccessConfig::default(),
        }
    }
}

/// The browser origins allowed to read the server's answers (CORS, `--cors-origin`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers: browsers keep pages of other origins from calling the server.
    #[default]
    None,
    /// Any origin (`*`).
    Any,
    /// These origins, each as a browser sends it: `scheme://host[:port]`.
    Listed(Vec<String>),
}

impl CorsOrigins {
    /// The origins given to `--cors-origin`: `*` alone, or `http(s)://host[:port]` each (a
    /// trailing `/` is dropped and a default port left out, as browsers write an origin, so that
    /// it matches theirs exactly).
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Self, String> {
        if values.iter().any(|value| value.as_ref() == "*") {
            return match values {
                [_] => Ok(Self::Any),
                _ => Err("--cors-origin '*' allows every origin: give it alone".to_owned()),
            };
        }
        if values.is_empty() {
            return Ok(Self::None);
        }
        values
            .iter()
            .map(|value| origin(value.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self::Listed)
    }
}

/// `value` as a browser's `Origin` header names it.
fn origin(value: &str) -> Result<String, String> {
    let refused = |why: &str| Err(format!("--cors-origin {value}: {why}"));
    let Ok(url) = Url::parse(value) else {
        return refused("not an origin such as https://app.example or http://localhost:3000");
    };
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return refused("an origin is http(s)://host[:port]");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return refused("an origin has no path, query or fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refused("an origin has no user or password");
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::CorsOrigins;

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        assert_eq!(CorsOrigins::parse::<&str>(&[]), Ok(CorsOrigins::None));
        assert_eq!(CorsOrigins::parse(&["*"]), Ok(CorsOrigins::Any));
        assert_eq!(
            CorsOrigins::parse(&[
                "https://App.example/",
                "http://localhost:3000",
                "https://a.example:443"
            ]),
            Ok(CorsOrigins::Listed(vec![
                "https://app.example".to_owned(),
                "http://localhost:3000".to_owned(),
                "https://a.example".to_owned(),
            ]))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for values in [
            &["*", "https://a.example"][..],
            &["app.example"],
            &["https://a.example/app"],
            &["https://a.example?x=1"],
            &["ftp://a.example"],
            &["https://user@a.example"],
        ] {
            assert!(CorsOrigins::parse(values).is_err(), "{values:?}");
        }
    }
}
