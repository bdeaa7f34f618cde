//! `leash session create|list|show|sign|revoke|clear`.

use crate::{
    args::{GlobalArgs, OwnerArgs, StoreArgs, open_store},
    failure::{Failure, UsageContext},
    node,
    output::Output,
};
use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use key_type::KeyTypeArgs;
use leash_core::{
    abi_call::parse_hex_data,
    expiry::{format_utc, parse_expiry},
    grant::grant_warnings,
    session_state::Budget,
};
use leash_sdk::service::{
    CreatedSession, OwnerSignature, SessionRequest, StoredSession, attach_owner_signature,
    create_session, enable_session, resolve_session, revoke_all_sessions, revoke_session,
    session_call_limits_left, session_key, session_state,
};
use leash_store::keystore::ScryptParams;
use permission_flags::{PermissionArgs, describe_permission};
use serde_json::json;

mod key_type;
mod period_flags;
mod permission_flags;
mod rule_flags;
mod sign;

#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// Grant a new session key: one flag per permission type, an expiry, the owner's signature.
    Create(Box<CreateArgs>),
    /// List the stored session keys (no chain needed).
    List,
    /// A stored session and its state on chain: status and what is left of each limit.
    Show {
        /// Session id (or a unique prefix of it).
        session: String,
    },
    /// Sign a message as the account with a stored session's key (ERC-1271): prints the
    /// account's signature (no chain needed).
    Sign(sign::SignArgs),
    /// Revoke a session on chain (by the owner, or by the session key itself), or all of the
    /// owner's sessions.
    Revoke(RevokeArgs),
    /// Delete stored session keys (nothing happens on chain: revoke first if it may be live).
    Clear {
        /// Session id (or a unique prefix of it).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        session: Option<String>,
        /// Delete every stored session.
        #[arg(long)]
        all: bool,
    },
}

/// The permission flags: each maps to exactly one Wallet API permission type.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    permissions: PermissionArgs,
    /// When the session ends: a duration from now (30m, 1h, 7d) or a UTC time
    /// (2026-12-01T00:00Z).
    #[arg(long, value_name = "WHEN", required_unless_present = "session")]
    expires: Option<String>,
    #[command(flatten)]
    owner: OwnerArgs,
    #[command(flatten)]
    key: KeyTypeArgs,
    /// The account the session acts for (the owner EOA); implied by the owner's key.
    #[arg(long, value_name = "ADDRESS")]
    account: Option<Address>,
    /// Do not sign: store the session unsigned and print the EIP-712 typed data for the owner to
    /// sign elsewhere (e.g. `cast wallet sign --data "$(cat typed.json)"`), then finish with
    /// `--session ID --signature SIG`.
    #[arg(long, conflicts_with_all = ["private_key", "keystore", "session"])]
    print_typed_data: bool,
    /// Finish a session created with --print-typed-data (its id or a unique prefix).
    #[arg(long, value_name = "ID", requires = "signature")]
    session: Option<String>,
    /// The owner's signature of the session id (65 bytes hex), as `cast wallet sign` prints it.
    #[arg(long, value_name = "0xSIG", requires = "session")]
    signature: Option<String>,
    /// Enable the session now with a transaction from the owner EOA. By default the grant is
    /// enabled lazily by the session's first UserOperation, which costs nothing until it is used.
    #[arg(long)]
    enable_now: bool,
    /// A name for people.
    #[arg(long, default_value = "")]
    label: String,
    /// Encrypt the session key with light scrypt parameters (fast; for tests and throwaway keys).
    #[arg(long)]
    light_kdf: bool,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// Session id (or a unique prefix of it).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    session: Option<String>,
    /// Revoke every session of the owner's account at once (revokeAllSessions).
    #[arg(long)]
    all: bool,
    /// Revoke with the session key itself (a transaction from the key's address, which needs
    /// gas money) instead of the owner.
    #[arg(long, conflicts_with_all = ["all", "private_key", "keystore"])]
    by_session_key: bool,
    #[command(flatten)]
    owner: OwnerArgs,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) async fn run(
    global: &GlobalArgs,
    out: &Output,
    command: SessionCommand,
) -> eyre::Result<()> {
    match command {
        SessionCommand::Create(args) => create(global, out, *args).await,
        SessionCommand::List => list(out),
        SessionCommand::Show { session } => show(global, out, &session).await,
        SessionCommand::Sign(args) => sign::run(out, &args),
        SessionCommand::Revoke(args) => revoke(global, out, args).await,
        SessionCommand::Clear { session, all } => clear(out, session.as_deref(), all),
    }
}

async fn create(global: &GlobalArgs, out: &Output, args: CreateArgs) -> eyre::Result<()> {
    if let (Some(session), Some(signature)) = (&args.session, &args.signature) {
        return attach_signature(global, out, &args, session, signature).await;
    }
    let permissions = args.permissions.permissions()?;
    let key_kind = args.key.kind()?;
    let owner_key = if args.print_typed_data {
        None
    } else {
        Some(args.owner.required_signer(
            "`leash session create` (or pass --print-typed-data to sign elsewhere)",
        )?)
    };
    let owner = match (&owner_key, args.account) {
        (Some(key), Some(account)) if key.address() != account => {
            return Err(Failure::usage(format!(
                "--account {account} is not the owner key's address {}",
                key.address()
            )));
        }
        (Some(key), _) => OwnerSignature::Key(key),
        (None, Some(account)) => OwnerSignature::External(account),
        (None, None) => {
            return Err(Failure::usage(
                "--print-typed-data needs --account ADDRESS (the owner EOA)",
            ));
        }
    };
    let expires = args.expires.clone().unwrap_or_default();
    // Checked before any connection; durations are counted from the chain's clock.
    parse_expiry(&expires, 0).usage("--expires")?;
    let password = args.store.password()?;
    let url = global.rpc_url("session create")?;
    let provider = node::reader(&url);
    node::chain_id(&provider, &url).await?;
    let mut store = open_store()?;
    if args.light_kdf {
        store = store.with_scrypt_params(ScryptParams::LIGHT);
    }
    let request = SessionRequest {
        permissions,
        expires,
        label: args.label.clone(),
        key: key_kind.new_key(&provider).await?,
    };
    let CreatedSession {
        session,
        typed_data,
    } = create_session(&provider, &store, &password, owner, request).await?;

    if let Some(typed_data) = typed_data {
        let session_id = session.session_id;
        if out.is_json() {
            out.document(json!({"sessionId": session_id, "typedData": typed_data}));
        } else {
            crate::output::print_stdout(&format!("{typed_data:#}"));
            eprintln!(
                "Session {session_id} stored unsigned. Have the owner sign the typed data above \
                 (e.g. `cast wallet sign --data \"$(cat typed.json)\"`), then run:\n  \
                 leash session create --session {session_id} --signature 0x…"
            );
        }
        return Ok(());
    }
    let enable_tx = match (owner_key, args.enable_now) {
        (Some(owner), true) => Some(enable(&url, owner, &session).await?),
        _ => None,
    };
    report_created(out, store.dir(), &session, enable_tx);
    Ok(())
}

/// Attaches the owner's signature to a session created with `--print-typed-data`.
async fn attach_signature(
    global: &GlobalArgs,
    out: &Output,
    args: &CreateArgs,
    session: &str,
    signature: &str,
) -> eyre::Result<()> {
    let store = open_store()?;
    let stored = resolve_session(&store, session)?;
    let bytes = parse_hex_data(signature).usage("--signature")?;
    let session = attach_owner_signature(&store, stored, bytes)?;
    let enable_tx = match (args.owner.signer()?, args.enable_now) {
        (Some(owner), true) => {
            let url = global.rpc_url("session create --enable-now")?;
            Some(enable(&url, owner, &session).await?)
        }
        (None, true) => {
            return Err(Failure::usage(
                "--enable-now needs the owner's key (--private-key or --keystore)",
            ));
        }
        _ => None,
    };
    report_created(out, store.dir(), &session, enable_tx);
    Ok(())
}

/// `enableSession(grant)` sent by the owner EOA itself.
async fn enable(
    url: &url::Url,
    owner: PrivateKeySigner,
    session: &StoredSession,
) -> eyre::Result<B256> {
    let from = owner.address();
    Ok(enable_session(&node::signing(url, owner), from, session).await?)
}

fn report_created(
    out: &Output,
    dir: &std::path::Path,
    session: &StoredSession,
    enable_tx: Option<B256>,
) {
    out.line(format!("Session {}", session.session_id));
    out.line(format!("  account      {}", session.account));
    out.line(format!(
        "  session key  {} (stored in {})",
        session.session_key,
        dir.display()
    ));
    out.line(format!("  key type     {}", session.key_type.kind()));
    out.line(format!("  expires      {}", format_utc(session.expires_at)));
    for permission in &session.grant.permissions {
        out.line(format!(
            "  permission   {}",
            describe_permission(permission)
        ));
    }
    let warnings = grant_warnings(&session.grant.permissions);
    for warning in &warnings {
        out.line(format!("  warning      {warning}"));
    }
    match enable_tx {
        Some(tx) => out.line(format!("  enabled      now, in {tx}")),
        None => out.line("  enabled      lazily, by the first `leash send`"),
    }
    out.document(json!({
        "sessionId": session.session_id,
        "account": session.account,
        "sessionKey": session.session_key,
        "keyType": session.key_type,
        "expiresAt": session.expires_at,
        "permissions": session.grant.permissions,
        "warnings": warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "enableTransaction": enable_tx,
    }));
}

fn list(out: &Output) -> eyre::Result<()> {
    let store = open_store()?;
    let sessions: Vec<StoredSession> = store.list()?;
    if sessions.is_empty() {
        out.line(format!("No sessions in {}", store.dir().display()));
    }
    for session in &sessions {
        let signed = if session.grant.owner_signature.is_some() {
            ""
        } else {
            "  (unsigned)"
        };
        out.line(format!(
            "{}  account {}  chain {}  expires {}  {}{signed}",
            session.session_id,
            session.account,
            session.chain_id,
            format_utc(session.expires_at),
            session.label
        ));
    }
    out.document(json!({ "sessions": sessions }));
    Ok(())
}

async fn show(global: &GlobalArgs, out: &Output, session: &str) -> eyre::Result<()> {
    let store = open_store()?;
    let session = resolve_session(&store, session)?;
    let url = global.rpc_url("session show")?;
    let provider = node::reader(&url);
    node::chain_id(&provider, &url).await?;
    let state = session_state(&provider, &session).await?;
    let limits = session_call_limits_left(&provider, &session, state.status).await?;
    out.line(format!("Session {}", session.session_id));
    out.line(format!("  account      {}", session.account));
    out.line(format!("  session key  {}", session.session_key));
    out.line(format!("  key type     {}", session.key_type.kind()));
    out.line(format!(
        "  window       {} .. {}",
        match session.grant.valid_after {
            0 => "now".to_owned(),
            start => format_utc(start),
        },
        format_utc(session.grant.valid_until)
    ));
    out.line(format!("  status       {}", state.status));
    if !state.validator_installed {
        out.line(
            "  warning      the account has not installed SessionKeyValidator (leash delegate)",
        );
    }
    for permission in &session.grant.permissions {
        out.line(format!(
            "  permission   {}",
            describe_permission(permission)
        ));
    }
    for budget in &state.budgets {
        out.line(budget_line(budget));
    }
    for uses in &limits.uses_left {
        out.line(format!("  usage limit  {uses}"));
    }
    for rate in &limits.rate_left {
        out.line(format!("  rate limit   {rate}"));
    }
    out.document(json!({
        "session": session,
        "state": state,
        "usesLeft": limits.uses_left,
        "rateLeft": limits.rate_left,
    }));
    Ok(())
}

/// What is left of one limit: of the current period, with its length and when it ends, for a
/// recurring one.
fn budget_line(budget: &Budget) -> String {
    format!("  remaining    {}: {budget}", budget.limit.kind)
}

async fn revoke(global: &GlobalArgs, out: &Output, args: RevokeArgs) -> eyre::Result<()> {
    let url = global.rpc_url("session revoke")?;
    node::chain_id(&node::reader(&url), &url).await?;
    if args.all {
        let owner = args.owner.required_signer("`leash session revoke --all`")?;
        let from = owner.address();
        let tx = revoke_all_sessions(&node::signing(&url, owner), from).await?;
        out.line(format!("Revoked every session of the account in {tx}"));
        out.document(json!({"revoked": "all", "transaction": tx}));
        return Ok(());
    }
    let store = open_store()?;
    let session = resolve_session(&store, args.session.as_deref().unwrap_or_default())?;
    let key = if args.by_session_key {
        session_key(&store, &session, &args.store.password()?)?
    } else {
        args.owner.required_signer("`leash session revoke`")?
    };
    let from = key.address();
    let tx = revoke_session(&node::signing(&url, key), from, &session).await?;
    out.line(format!("Revoked session {} in {tx}", session.session_id));
    out.document(json!({"revoked": session.session_id, "transaction": tx}));
    Ok(())
}

fn clear(out: &Output, session: Option<&str>, all: bool) -> eyre::Result<()> {
    let store = open_store()?;
    let ids: Vec<B256> = if all {
        store
            .list::<serde_json::Value, serde_json::Value>()?
            .iter()
            .map(|s| s.session_id)
            .collect()
    } else {
        vec![resolve_session(&store, session.unwrap_or_default())?.session_id]
    };
    for id in &ids {
        store.delete(*id)?;
        crate::commands::auth::forget_capability(store.dir(), *id)?;
        out.line(format!("Deleted session key {id}"));
    }
    out.document(json!({ "deleted": ids }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use leash_core::{
        recurring::RecurringPeriod,
        session_state::{Limit, LimitKind},
    };

    #[test]
    fn a_recurring_limit_shows_the_period_left_its_length_and_its_reset() {
        let token = Address::repeat_byte(0xcc);
        let daily = Limit {
            kind: LimitKind::Erc20(token),
            allowance: U256::from(100),
            period: Some(RecurringPeriod::every(86_400)),
        };
        assert_eq!(
            budget_line(&Budget::on_chain(
                daily,
                U256::from(40),
                Some(1_767_312_000)
            )),
            format!(
                "  remaining    erc20-token-transfer {token}: 40 of 100 left this period (every \
                 day), resets at 2026-01-02T00:00:00Z (unix 1767312000)"
            )
        );
        let lifetime = Limit {
            kind: LimitKind::Native,
            allowance: U256::from(10),
            period: None,
        };
        assert_eq!(
            budget_line(&Budget::on_chain(lifetime, U256::from(3), None)),
            "  remaining    native-token-transfer (wei): 3 of 10 left"
        );
    }
}
