//! `leash serve keys add|list|revoke`: the API keys in the server's state store (the same
//! `--data-dir` or `--database-url` as `leash serve`). A key is printed once, by `add`; the store
//! keeps only its hash.

use crate::output::Output;
use clap::{Args, Subcommand};
use eyre::WrapErr;
use leash_server::{
    access::{hash_api_key, new_api_key, unix_now},
    state::{ApiKey, KeyLimits, Rate, State},
};
use serde_json::{Value, json};
use std::num::NonZeroU32;

/// What `leash serve` does instead of serving.
#[derive(Debug, Subcommand)]
pub(crate) enum ServeCommand {
    /// Manage the API keys requests need (docs/server.md, Access), in the state store given by
    /// --data-dir or --database-url.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Add a key named NAME and print it, once: only its hash is stored. Once the store holds a
    /// key, a server started on it requires one of every request.
    Add(AddArgs),
    /// List the keys, revoked ones too: names, limits, when added and revoked; never the keys.
    List,
    /// Revoke the key named NAME: requests with it are refused at once, on every server.
    Revoke {
        /// The key's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The key's name: unique, never reused (a revoked key keeps it); what it creates is tagged
    /// with it.
    name: String,
    /// Its rate limit (N/s or N/min) instead of the server's --rate-limit.
    #[arg(long, value_name = "RATE")]
    rate_limit: Option<Rate>,
    /// Its burst instead of the server's --rate-burst.
    #[arg(long, value_name = "N")]
    rate_burst: Option<NonZeroU32>,
    /// The calls it may send a UTC day instead of the server's --daily-quota.
    #[arg(long, value_name = "CALLS")]
    daily_quota: Option<u64>,
}

pub(crate) async fn run(out: &Output, state: impl State, command: KeysCommand) -> eyre::Result<()> {
    match command {
        KeysCommand::Add(args) => add(out, &state, args).await,
        KeysCommand::List => {
            let keys = state.api_keys().await.wrap_err("reading the keys")?;
            if out.is_json() {
                out.document(Value::Array(keys.iter().map(described).collect()));
            } else if keys.is_empty() {
                out.line("no API keys: the server requires none (unless --require-api-key)");
            }
            for key in keys.iter().filter(|_| !out.is_json()) {
                let revoked = key
                    .revoked_at
                    .map_or_else(String::new, |at| format!(", revoked at {at}"));
                out.line(format!(
                    "{}: added at {}{revoked} (Unix time); {}",
                    key.name,
                    key.created_at,
                    limits(&key.limits)
                ));
            }
            Ok(())
        }
        KeysCommand::Revoke { name } => {
            if !state
                .revoke_api_key(&name, unix_now())
                .await
                .wrap_err("revoking the key")?
            {
                eyre::bail!("no key named {name:?} to revoke (or it is revoked already)");
            }
            if out.is_json() {
                out.document(json!({ "revoked": name }));
            } else {
                out.line(format!("revoked {name}: requests with it are refused"));
            }
            Ok(())
        }
    }
}

async fn add(out: &Output, state: &impl State, args: AddArgs) -> eyre::Result<()> {
    let key = new_api_key();
    let stored = ApiKey {
        name: args.name,
        key_hash: hash_api_key(&key),
        created_at: unix_now(),
        revoked_at: None,
        limits: KeyLimits {
            rate: args.rate_limit,
            burst: args.rate_burst,
            daily_quota: args.daily_quota,
        },
    };
    if !state
        .add_api_key(&stored)
        .await
        .wrap_err("storing the key")?
    {
        eyre::bail!(
            "a key named {:?} exists already (names are never reused): pick another",
            stored.name
        );
    }
    if out.is_json() {
        let mut document = described(&stored);
        document["key"] = json!(key);
        out.document(document);
    } else {
        out.progress(format!(
            "leash serve keys: added {}; the key is shown once, only its hash is kept",
            stored.name
        ));
        out.line(key);
    }
    Ok(())
}

/// `key` as `list --json` shows it.
fn described(key: &ApiKey) -> Value {
    json!({
        "name": key.name,
        "createdAt": key.created_at,
        "revokedAt": key.revoked_at,
        "rateLimit": key.limits.rate.map(|rate| rate.to_string()),
        "rateBurst": key.limits.burst,
        "dailyQuota": key.limits.daily_quota,
    })
}

/// `limits` in words, the server's defaults named as such.
fn limits(limits: &KeyLimits) -> String {
    let or_default = |value: Option<String>| value.unwrap_or_else(|| "the server's".to_owned());
    format!(
        "rate {}, burst {}, daily quota {}",
        or_default(limits.rate.map(|rate| rate.to_string())),
        or_default(limits.burst.map(|burst| burst.to_string())),
        or_default(limits.daily_quota.map(|quota| quota.to_string())),
    )
}
