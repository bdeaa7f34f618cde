//! `leash auth`: session signatures for backends. `grant` renders a stored session as SIWE +
//! ReCap text for the owner to sign and keeps the signed capability beside the session key;
//! `sign` signs a request with the session key; `verify` checks one as a backend would.

use crate::{
    args::{GlobalArgs, OwnerArgs, StoreArgs, open_store},
    failure::{Failure, UsageContext},
    node::chain_id,
    output::Output,
};
use alloy_primitives::{B128, B256, Bytes, keccak256};
use alloy_signer::SignerSync;
use clap::{Args, Subcommand};
use leash_auth::{
    NodeCalls, Recap, Received, Scope, SessionCapability, SessionRequest, SignedCapability,
    UnsignedRequest, Verifier, VerifierConfig, layer::target_scope,
};
use leash_core::grant::GrantDomain;
use leash_sdk::{
    connect,
    service::{resolve_session, session_key},
};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Print a stored session as a SIWE (ERC-4361) message with ReCap (ERC-5573) capabilities,
    /// sign it with the owner's key (or attach the owner's signature), and keep it beside the
    /// session key.
    Grant(GrantArgs),
    /// Sign a request with a session key under its capability: prints the Leash-Session header.
    Sign(SignArgs),
    /// Verify a session-signed request as a backend would.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GrantArgs {
    /// The session (id or a unique prefix).
    #[arg(long)]
    session: String,
    /// The backend's domain (RFC 3986 authority, e.g. api.example.com).
    #[arg(long)]
    domain: String,
    /// An off-chain capability, `URI=namespace/name[,namespace/name…]`
    /// (e.g. `https://api.example.com/orders/*=http/GET,http/POST`); repeatable.
    #[arg(long = "resource", value_name = "URI=ABILITIES")]
    resources: Vec<String>,
    /// Text the wallet shows before the capabilities.
    #[arg(long)]
    statement: Option<String>,
    /// The owner's `personal_sign` signature of the text printed by a previous run.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["private_key", "keystore"])]
    signature: Option<Bytes>,
    #[command(flatten)]
    owner: OwnerArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The session (id or a unique prefix) whose capability and key sign.
    #[arg(long)]
    session: String,
    /// The HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// The path and query.
    #[arg(long)]
    target: String,
    /// The body.
    #[arg(long, default_value = "")]
    body: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The backend's domain.
    #[arg(long)]
    domain: String,
    /// The Leash-Session header's value.
    #[arg(long)]
    header: String,
    /// The body as received (else the signed body hash is taken as it).
    #[arg(long)]
    body: Option<String>,
    /// The resource base (`https://api.example.com`): the resource is it plus the target's
    /// path, the ability `http/<METHOD>`.
    #[arg(long, conflicts_with_all = ["resource", "ability"])]
    base: Option<String>,
    /// The resource asked for.
    #[arg(long, requires = "ability")]
    resource: Option<String>,
    /// The ability asked for.
    #[arg(long, requires = "resource")]
    ability: Option<String>,
    /// Also check that the capability's on-chain session is live (needs --rpc-url).
    #[arg(long)]
    check_session: bool,
}

pub(crate) async fn run(
    global: &GlobalArgs,
    out: &Output,
    command: AuthCommand,
) -> eyre::Result<()> {
    match command {
        AuthCommand::Grant(args) => grant(out, args),
        AuthCommand::Sign(args) => sign(out, args),
        AuthCommand::Verify(args) => verify(global, out, args).await,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The signed capability beside the session key: `<id>.capability.json` in the store.
fn capability_path(store: &Path, session: B256) -> PathBuf {
    store.join(format!("{session}.capability.json"))
}

/// Deletes the capability kept beside session `id`'s key, if there is one: without its key it
/// can sign nothing, and `leash session clear` ends the session on this machine.
pub(crate) fn forget_capability(store: &Path, id: B256) -> eyre::Result<()> {
    match std::fs::remove_file(capability_path(store, id)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

fn off_chain(resources: &[String]) -> eyre::Result<Recap> {
    let mut recap = Recap::new();
    for entry in resources {
        let (uri, abilities) = entry.rsplit_once('=').ok_or_else(|| {
            Failure::usage(format!("--resource {entry:?}: expected URI=ABILITIES"))
        })?;
        for ability in abilities.split(',') {
            recap
                .grant(uri, ability.trim(), serde_json::Map::new())
                .usage(format_args!("--resource {entry:?}"))?;
        }
    }
    Ok(recap)
}

fn grant(out: &Output, args: GrantArgs) -> eyre::Result<()> {
    let store = open_store()?;
    let session = resolve_session(&store, &args.session)?;
    let path = capability_path(store.dir(), session.session_id);
    let message = match (&args.signature, std::fs::read_to_string(&path)) {
        // Attaching: the text printed before, as it is.
        (Some(_), Ok(kept)) => serde_json::from_str::<SignedCapability>(&kept)?.message,
        (Some(_), Err(_)) => {
            return Err(Failure::usage(format!(
                "no capability text for session {} to attach a signature to: run `leash auth \
                 grant` without --signature first",
                session.session_id
            )));
        }
        (None, _) => {
            let domain = GrantDomain {
                chain_id: session.chain_id,
                validator: session.validator,
            };
            let mut capability = SessionCapability::from_record(
                &args.domain,
                &domain,
                &session.grant,
                off_chain(&args.resources)?,
                now(),
            );
            capability.statement = args.statement.clone();
            capability.to_text().usage("--domain or --statement")?
        }
    };
    let signature = match (&args.signature, args.owner.signer()?) {
        (Some(signature), _) => Some(signature.clone()),
        (None, Some(owner)) => Some(
            owner
                .sign_message_sync(message.as_bytes())?
                .as_bytes()
                .into(),
        ),
        (None, None) => None,
    };
    let kept = SignedCapability {
        message: message.clone(),
        signature: signature.clone().unwrap_or_default(),
    };
    std::fs::write(&path, serde_json::to_vec_pretty(&kept)?)?;
    out.line(&message);
    match &signature {
        Some(_) => out.line(format!(
            "\nCapability signed and kept in {}",
            path.display()
        )),
        None => out.line(format!(
            "\nHave the owner sign the text above with personal_sign, then: leash auth grant \
             --session {} --domain {} --signature 0x…",
            session.session_id, args.domain
        )),
    }
    out.document(json!({
        "sessionId": session.session_id,
        "message": message,
        "signature": signature,
        "path": path,
    }));
    Ok(())
}

fn sign(out: &Output, args: SignArgs) -> eyre::Result<()> {
    let store = open_store()?;
    let session = resolve_session(&store, &args.session)?;
    let path = capability_path(store.dir(), session.session_id);
    let kept: SignedCapability =
        serde_json::from_str(&std::fs::read_to_string(&path).usage(format_args!(
            "no capability for session {}: run `leash auth grant` first",
            session.session_id
        ))?)?;
    if kept.signature.is_empty() {
        return Err(Failure::usage(format!(
            "the capability of session {} is not signed yet: attach the owner's signature with \
             `leash auth grant --signature`",
            session.session_id
        )));
    }
    let key = session_key(&store, &session, &args.store.password()?)?;
    let request = UnsignedRequest {
        capability: &kept,
        method: &args.method,
        target: &args.target,
        body: args.body.as_bytes(),
        timestamp: now(),
        nonce: B128::random(),
    }
    .sign(&key)?;
    out.line(request.to_header());
    out.document(json!({ "header": request.to_header(), "request": request }));
    Ok(())
}

async fn verify(global: &GlobalArgs, out: &Output, args: VerifyArgs) -> eyre::Result<()> {
    let request = SessionRequest::from_header(args.header.trim().as_bytes()).usage("--header")?;
    let body_hash = args
        .body
        .as_ref()
        .map_or(request.body_hash, |body| keccak256(body.as_bytes()));
    let scope = match (&args.resource, &args.ability, &args.base) {
        (Some(resource), Some(ability), _) => Scope {
            resource: resource.clone(),
            ability: ability.clone(),
        },
        (_, _, Some(base)) => target_scope(base, &request.method, &request.target)?,
        _ => {
            return Err(Failure::usage(
                "name the scope: --base URL, or --resource and --ability",
            ));
        }
    };
    let received = Received {
        method: &request.method,
        target: &request.target,
        body_hash,
    };
    let config = VerifierConfig {
        session_check_ttl: args.check_session.then_some(0),
        ..VerifierConfig::new(&args.domain)
    };
    let verified = match global.optional_rpc_url()? {
        Some(url) => {
            let node = connect::reader(&url);
            // Contract owners and the session are read on this node: capabilities for another
            // chain are refused rather than checked against the wrong one.
            let config = VerifierConfig {
                chain_id: Some(chain_id(&node, &url).await?),
                ..config
            };
            Verifier::with_chain(config, NodeCalls(node))
                .verify(&request, received, &scope)
                .await
        }
        None if args.check_session => {
            return Err(Failure::usage("--check-session needs --rpc-url"));
        }
        None => {
            Verifier::new(config)
                .verify(&request, received, &scope)
                .await
        }
    };
    match verified {
        Ok(verified) => {
            out.line(format!(
                "valid: {} acting for {} ({:?}), {} on {}",
                verified.session_key,
                verified.owner,
                verified.owner_kind,
                verified.ability,
                verified.resource
            ));
            out.document(json!({ "valid": true, "verified": verified }));
            Ok(())
        }
        Err(error) => Err(Failure::denied(format!(
            "{} {}: {error}",
            error.status(),
            error.code()
        ))),
    }
}
