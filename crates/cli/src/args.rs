//! Flags shared by several commands, and reading the secrets they point to without echoing them.

use crate::failure::{Failure, UsageContext};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use leash_sdk::submission::ReceiptWait;
use leash_store::{keystore::EncryptedKey, session_store::SessionStore};
use std::{path::PathBuf, time::Duration};
use url::Url;

/// The environment variable holding the password of stored session keys.
pub(crate) const PASSWORD_ENV: &str = "LEASH_PASSWORD";
/// The environment variable holding the password of `--keystore`.
const KEYSTORE_PASSWORD_ENV: &str = "LEASH_KEYSTORE_PASSWORD";

/// Flags every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// JSON-RPC endpoint of the chain (http://…), such as anvil's http://127.0.0.1:8545.
    #[arg(long, global = true, env = "LEASH_RPC_URL", value_name = "URL")]
    pub(crate) rpc_url: Option<String>,
    /// Print one JSON document for scripts instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl GlobalArgs {
    /// The `--rpc-url`, required by `command`: the embedded chain lives only as long as one
    /// invocation, so state that must outlast it needs a real node.
    pub(crate) fn rpc_url(&self, command: &str) -> eyre::Result<Url> {
        let Some(text) = &self.rpc_url else {
            return Err(Failure::usage(format!(
                "`leash {command}` needs a chain: pass --rpc-url URL (or set LEASH_RPC_URL), \
                 e.g. an anvil started with `anvil --hardfork osaka`; the embedded chain lives \
                 only for one invocation (try `leash demo`)"
            )));
        };
        parse_endpoint(text, "--rpc-url")
    }

    /// The `--rpc-url`, if one was given.
    pub(crate) fn optional_rpc_url(&self) -> eyre::Result<Option<Url>> {
        self.rpc_url
            .as_deref()
            .map(|text| parse_endpoint(text, "--rpc-url"))
            .transpose()
    }
}

/// An http(s) JSON-RPC endpoint given to `flag`.
fn parse_endpoint(text: &str, flag: &str) -> eyre::Result<Url> {
    let url = Url::parse(text).usage(format_args!("{flag} {text:?} is not a URL"))?;
    match url.scheme() {
        "http" => {}
        "https" if cfg!(feature = "tls") => {}
        // Say so rather than fail to connect.
        "https" => {
            return Err(Failure::usage(format!(
                "{flag} {text:?}: this build has no TLS backend (built without the `tls` \
                 feature); use an http:// endpoint or rebuild with `--features tls`"
            )));
        }
        _ => {
            return Err(Failure::usage(format!(
                "{flag} {text:?}: only http:// and https:// endpoints are supported"
            )));
        }
    }
    Ok(url)
}

/// The account owner's key: the EOA itself.
#[derive(Debug, Args)]
pub(crate) struct OwnerArgs {
    /// The owner EOA's private key (hex). Prefer the environment variable: command lines are
    /// visible to other users.
    #[arg(
        long,
        env = "LEASH_PRIVATE_KEY",
        hide_env_values = true,
        value_name = "HEX",
        conflicts_with = "keystore"
    )]
    pub(crate) private_key: Option<String>,
    /// The owner EOA's encrypted keystore (v3 JSON, scrypt, as `cast wallet new` writes it); the
    /// password comes from LEASH_KEYSTORE_PASSWORD or --keystore-password-file.
    #[arg(long, value_name = "PATH")]
    pub(crate) keystore: Option<PathBuf>,
    /// A file whose first line is the keystore's password.
    #[arg(long, value_name = "PATH", requires = "keystore")]
    pub(crate) keystore_password_file: Option<PathBuf>,
}

impl OwnerArgs {
    /// The owner's key, if one was given.
    pub(crate) fn signer(&self) -> eyre::Result<Option<PrivateKeySigner>> {
        if let Some(hex) = &self.private_key {
            return parse_private_key(hex, "--private-key").map(Some);
        }
        let Some(path) = &self.keystore else {
            return Ok(None);
        };
        let password = secret(
            KEYSTORE_PASSWORD_ENV,
            self.keystore_password_file.as_ref(),
            "--keystore-password-file",
        )?;
        let text =
            std::fs::read_to_string(path).usage(format_args!("--keystore {}", path.display()))?;
        let encrypted: EncryptedKey = serde_json::from_str(&text).usage(format_args!(
            "--keystore {}: not a v3 keystore",
            path.display()
        ))?;
        encrypted
            .decrypt(password.as_bytes())
            .map(Some)
            .usage(format_args!("--keystore {}", path.display()))
    }

    /// The owner's key, which `what` cannot do without.
    pub(crate) fn required_signer(&self, what: &str) -> eyre::Result<PrivateKeySigner> {
        self.signer()?.ok_or_else(|| {
            Failure::usage(format!(
                "{what} needs the owner's key: pass --private-key (or LEASH_PRIVATE_KEY) or \
                 --keystore PATH"
            ))
        })
    }
}

/// The key that sends `handleOps` and is paid the operations' gas.
#[derive(Debug, Args)]
pub(crate) struct BundlerArgs {
    /// Private key (hex) of the account that sends the handleOps transaction and pays its gas
    /// (the account refunds it through the EntryPoint).
    #[arg(
        long,
        env = "LEASH_BUNDLER_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub(crate) bundler_key: Option<String>,
}

impl BundlerArgs {
    pub(crate) fn signer(&self) -> eyre::Result<Option<PrivateKeySigner>> {
        self.bundler_key
            .as_deref()
            .map(|hex| parse_private_key(hex, "--bundler-key"))
            .transpose()
    }

    pub(crate) fn required_signer(&self, what: &str) -> eyre::Result<PrivateKeySigner> {
        self.signer()?.ok_or_else(|| {
            Failure::usage(format!(
                "{what} needs a bundler: pass --bundler-key (or LEASH_BUNDLER_KEY), a funded key \
                 that sends the handleOps transaction"
            ))
        })
    }
}

/// An ERC-4337 bundler's JSON-RPC endpoint, which estimates, sends and includes the operation
/// instead of a `handleOps` transaction from `--bundler-key`.
#[derive(Debug, Args)]
pub(crate) struct BundlerRpcArgs {
    /// ERC-4337 v0.8 bundler JSON-RPC endpoint (http://…), such as alto or a hosted bundler: gas
    /// comes from its eth_estimateUserOperationGas and the operation goes out through
    /// eth_sendUserOperation. With it, --bundler-key is not used. Repeat it (or separate URLs
    /// with commas) for fallbacks, tried in order when the ones before cannot be reached.
    // Hosted bundlers' URLs often carry an API key: help does not show the variable's value.
    #[arg(
        long,
        env = "LEASH_BUNDLER_URL",
        hide_env_values = true,
        value_name = "URL",
        value_delimiter = ','
    )]
    pub(crate) bundler_url: Vec<String>,
    /// How long to wait for the operation to be included (eth_getUserOperationReceipt, asked every
    /// 500 ms), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) receipt_timeout: u64,
}

impl BundlerRpcArgs {
    /// The bundlers' endpoints, if any was given: the first, then the fallbacks in order.
    pub(crate) fn urls(&self) -> eyre::Result<Option<(Url, Vec<Url>)>> {
        let mut urls = self
            .bundler_url
            .iter()
            .map(|text| parse_endpoint(text, "--bundler-url"));
        let Some(first) = urls.next() else {
            return Ok(None);
        };
        Ok(Some((first?, urls.collect::<eyre::Result<_>>()?)))
    }

    /// How long to wait for a receipt, and how often to ask.
    pub(crate) fn receipt_wait(&self) -> ReceiptWait {
        ReceiptWait {
            timeout: Duration::from_secs(self.receipt_timeout),
            ..ReceiptWait::default()
        }
    }
}

/// The session store and its password.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// A file whose first line is the password of stored session keys (else LEASH_PASSWORD).
    #[arg(long, value_name = "PATH")]
    pub(crate) password_file: Option<PathBuf>,
}

impl StoreArgs {
    pub(crate) fn password(&self) -> eyre::Result<String> {
        secret(PASSWORD_ENV, self.password_file.as_ref(), "--password-file")
    }
}

/// The session store in `$LEASH_HOME/sessions` (default `~/.leash/sessions`).
pub(crate) fn open_store() -> eyre::Result<SessionStore> {
    Ok(SessionStore::open_default()?)
}

/// A private key from hex; the message never contains the key.
pub(crate) fn parse_private_key(hex: &str, flag: &str) -> eyre::Result<PrivateKeySigner> {
    hex.trim().parse::<PrivateKeySigner>().map_err(|_| {
        Failure::usage(format!(
            "{flag}: not a private key (expected 32 bytes of hex; the value is not shown)"
        ))
    })
}

/// A secret from `file`'s first line, or else from the environment variable `env`.
fn secret(env: &str, file: Option<&PathBuf>, flag: &str) -> eyre::Result<String> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).usage(format_args!("{flag} {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    match std::env::var(env) {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Err(Failure::usage(format!(
            "a password is needed: set {env} or pass {flag} PATH"
        ))),
    }
}
