//! `leash send`: calls as a session key, in a UserOperation through the EntryPoint.

use crate::{
    args::{BundlerArgs, GlobalArgs, StoreArgs, open_store},
    commands::session::{resolve_session, session_domain},
    failure::{Failure, UsageContext, sender_failure},
    node,
    output::Output,
};
use alloy_primitives::{Address, U256, utils::format_ether};
use clap::Args;
use leash_sdk::{
    Call, CallSpec, DirectSender, GrantRecord, OnChainStatus, RevertReason, SessionAuth,
    UserOperationSender, prepare_session_operation, read_session_state, token_transfers,
};
use leash_sim::Execution;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The session to send as (its id or a unique prefix).
    #[arg(long, value_name = "ID")]
    session: String,
    /// The called address (one call; use --calls for a batch).
    #[arg(long, value_name = "ADDRESS", required_unless_present = "calls")]
    to: Option<Address>,
    /// Native value to send with the call: wei, or with a unit (0.1ether).
    #[arg(long, value_name = "AMOUNT", conflicts_with = "calls")]
    value: Option<String>,
    /// Raw calldata (hex).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["sig", "calls"])]
    data: Option<String>,
    /// A function signature, e.g. 'transfer(address,uint256)', called with ARGS.
    #[arg(long, value_name = "SIGNATURE", conflicts_with = "calls")]
    sig: Option<String>,
    /// The function's arguments, after --sig.
    #[arg(requires = "sig")]
    args: Vec<String>,
    /// A batch: a JSON file (or - for stdin) with an array of calls, each
    /// {"to", "value"?, "data"?} or {"to", "value"?, "sig", "args"}.
    #[arg(long, value_name = "FILE", conflicts_with = "to")]
    calls: Option<PathBuf>,
    /// Only check: run validation and the calls against the chain without sending, and explain a
    /// denial.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    bundler: BundlerArgs,
    #[command(flatten)]
    store: StoreArgs,
}

impl SendArgs {
    fn calls(&self) -> eyre::Result<Vec<Call>> {
        let specs = match (&self.calls, self.to) {
            (Some(path), _) => read_call_specs(path)?,
            (None, Some(to)) => vec![CallSpec {
                to,
                value: self.value.clone(),
                data: self.data.clone(),
                sig: self.sig.clone(),
                args: self.args.clone(),
            }],
            (None, None) => return Err(Failure::usage("pass --to (one call) or --calls FILE")),
        };
        if specs.is_empty() {
            return Err(Failure::usage("--calls: the batch has no calls"));
        }
        specs
            .iter()
            .enumerate()
            .map(|(index, spec)| spec.to_call().usage(format_args!("call {}", index + 1)))
            .collect()
    }
}

fn read_call_specs(path: &PathBuf) -> eyre::Result<Vec<CallSpec>> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).usage("--calls -")?
    } else {
        std::fs::read_to_string(path).usage(format_args!("--calls {}", path.display()))?
    };
    serde_json::from_str(&text).usage(format_args!("--calls {}", path.display()))
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: SendArgs) -> eyre::Result<()> {
    let calls = args.calls()?;
    let store = open_store()?;
    let session = resolve_session(&store, &args.session)?;
    let url = global.rpc_url("send")?;
    let bundler = if args.dry_run {
        args.bundler.signer()?
    } else {
        Some(args.bundler.required_signer("`leash send`")?)
    };
    let (session_key, _) = store.load::<GrantRecord>(session.session_id, args.store.password()?)?;
    let reader = node::reader(&url);
    let domain = session_domain(&reader, &url, &session).await?;
    node::require_contracts(&reader).await?;
    let record = &session.grant;
    let grant = record.grant();
    let state = read_session_state(&reader, &domain, record).await?;
    // Until the chain says the session is enabled, every operation carries the grant (the
    // validator skips the enable when it is already done), so a first send never has to wait.
    let auth = match (state.status, &record.owner_signature) {
        (OnChainStatus::Unused, Some(owner_signature)) => SessionAuth::Lazy {
            grant: &grant,
            owner_signature,
        },
        (OnChainStatus::Unused, None) => {
            return Err(Failure::usage(format!(
                "session {} is not signed by the owner yet: finish it with \
                 `leash session create --session {} --signature 0x…`",
                session.session_id, session.session_id
            )));
        }
        _ => SessionAuth::Enabled {
            session_id: session.session_id,
            root: record.is_root(),
        },
    };
    let sender = match bundler {
        Some(key) => {
            let address = key.address();
            DirectSender::new(node::signing(&url, key), address)
        }
        // A dry run sends nothing, so any sender address will do for the estimates.
        None => DirectSender::new(node::reader(&url), session.session_key),
    };
    let fees = node::fees(&reader).await?;
    let prepared = prepare_session_operation(
        &sender,
        &domain,
        session.account,
        &session_key,
        &auth,
        &calls,
        fees,
    )
    .await
    .map_err(|error| sender_failure(error, Some(&state)))?;
    let hash = prepared.user_op_hash;

    if args.dry_run {
        let gas = sender
            .preflight(&prepared.op)
            .await
            .map_err(|error| sender_failure(error, Some(&state)))?;
        let outcome = node::simulate_on_fork(&url, prepared.op.clone()).await?;
        let Some(simulated) = outcome.ops().and_then(|ops| ops.first()) else {
            return Err(eyre::eyre!(
                "the node accepted the UserOperation but the fork did not: {outcome:?}"
            ));
        };
        out.line(format!(
            "Dry run: the UserOperation {hash} would be accepted"
        ));
        out.line(format!("  calls        {}", calls.len()));
        out.line(format!("  bundle gas   {gas}"));
        let changes = &simulated.balance_changes;
        for (address, change) in &changes.native {
            out.line(format!("  native       {address} {change} wei"));
        }
        for (token, holders) in &changes.erc20 {
            for (holder, change) in holders {
                out.line(format!("  token        {token} {holder} {change}"));
            }
        }
        let reverted = match &simulated.execution {
            Execution::Succeeded => None,
            Execution::Reverted(reason) => Some(reason.to_string()),
        };
        out.document(json!({
            "userOpHash": hash,
            "dryRun": true,
            "accepted": true,
            "bundleGas": gas,
            "revertReason": reverted,
            "nativeChanges": changes.native,
            "tokenChanges": changes.erc20,
        }));
        return match reverted {
            Some(reason) => Err(Failure::reverted(format!(
                "UserOperation {hash} would be accepted but its calls would revert: {reason}"
            ))),
            None => Ok(()),
        };
    }

    sender
        .send(&prepared.op)
        .await
        .map_err(|error| sender_failure(error, Some(&state)))?;
    let receipt = sender
        .receipt(hash)
        .await?
        .ok_or_else(|| eyre::eyre!("UserOperation {hash} was sent but has no receipt"))?;
    let transfers = token_transfers(receipt.logs.iter().map(|log| &log.inner));
    let native: Vec<(Address, U256)> = calls
        .iter()
        .filter(|call| !call.value.is_zero())
        .map(|call| (call.to, call.value))
        .collect();
    let tx = receipt.receipt.transaction_hash;
    out.line(format!("UserOperation {hash}"));
    out.line(format!("  transaction  {tx}"));
    out.line(format!(
        "  status       {}",
        if receipt.success {
            "executed"
        } else {
            "reverted"
        }
    ));
    out.line(format!(
        "  gas          {} ({} ETH paid by the account)",
        receipt.actual_gas_used,
        format_ether(receipt.actual_gas_cost)
    ));
    if receipt.success {
        for (to, value) in &native {
            out.line(format!(
                "  sent         {} ETH to {to}",
                format_ether(*value)
            ));
        }
        for t in &transfers {
            out.line(format!(
                "  token        {} moved {} from {} to {}",
                t.token, t.value, t.from, t.to
            ));
        }
    }
    let reason = (!receipt.success).then(|| RevertReason::decode(&receipt.reason).to_string());
    out.document(json!({
        "userOpHash": hash,
        "transaction": tx,
        "success": receipt.success,
        "gasUsed": receipt.actual_gas_used,
        "gasCost": receipt.actual_gas_cost,
        "nativeTransfers": native.iter().map(|(to, value)| json!({"to": to, "value": value})).collect::<Vec<_>>(),
        "tokenTransfers": if receipt.success { transfers } else { Vec::new() },
        "revertReason": reason,
    }));
    match reason {
        Some(reason) => Err(Failure::reverted(format!(
            "UserOperation {hash} was included but its calls reverted: {reason}"
        ))),
        None => Ok(()),
    }
}
