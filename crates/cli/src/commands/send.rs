//! `leash send`: calls as a session key, in a UserOperation through the EntryPoint.

use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs, StoreArgs, open_store},
    failure::{Failure, UsageContext},
    node,
    output::Output,
};
use alloy_primitives::{Address, utils::format_ether};
use clap::Args;
use leash_core::{
    abi_call::CallSpec, calls::Call, prepare::Fees, sender::UserOperationSender,
    token_transfers::Movements,
};
use leash_sdk::{
    service::{Included, ServiceError, SessionSend, fees, resolve_session, session_signer, submit},
    signers::StoredKey,
    submission::UserOperationSubmission,
    transport::DirectSender,
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
    /// Print the signed UserOperation as JSON in the bundler's shape (ERC-4337 v0.8 unpacked
    /// fields, with its eip7702Auth if any), with the EntryPoint, chain id and hash, and send
    /// nothing: the parameters of eth_sendUserOperation, for curl or any tool. Gas is estimated by
    /// the bundler of --bundler-url, else on the node.
    #[arg(long, conflicts_with = "dry_run")]
    print_op: bool,
    #[command(flatten)]
    bundler: BundlerArgs,
    #[command(flatten)]
    bundler_rpc: BundlerRpcArgs,
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

/// Everything a send needs once the session is open: what to sign, and where the node is.
struct Job<'a> {
    out: &'a Output,
    args: &'a SendArgs,
    node_url: &'a url::Url,
    send: SessionSend,
    session_key: &'a StoredKey,
    calls: &'a [Call],
    fees: Fees,
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: SendArgs) -> eyre::Result<()> {
    let calls = args.calls()?;
    let bundler_urls = args.bundler_rpc.urls()?;
    let store = open_store()?;
    let session = resolve_session(&store, &args.session)?;
    let url = global.rpc_url("send")?;
    // A bundler RPC, a dry run and a printed operation send no handleOps of their own.
    let bundler = if bundler_urls.is_some() || args.dry_run || args.print_op {
        args.bundler.signer()?
    } else {
        Some(args.bundler.required_signer("`leash send`")?)
    };
    let session_key = session_signer(&store, &session, &args.store.password()?)?;
    let signer_id = session.session_key;
    let reader = node::reader(&url);
    let chain_id = node::chain_id(&reader, &url).await?;
    let send = SessionSend::open(&reader, session).await?;
    let fees = fees(&reader).await?;
    let job = Job {
        out,
        args: &args,
        node_url: &url,
        send,
        session_key: &session_key,
        calls: &calls,
        fees,
    };
    match bundler_urls {
        Some(bundler_urls) => {
            let client = node::bundlers(&bundler_urls, reader, chain_id).await?;
            send_with(&client, &job).await
        }
        None => {
            let sender = match bundler {
                Some(key) => {
                    let address = key.address();
                    DirectSender::new(node::signing(&url, key), address)
                }
                // Nothing is sent, so any sender address will do for the estimates.
                None => DirectSender::new(reader, signer_id),
            };
            send_with(&sender, &job).await
        }
    }
}

/// Prepares the operation with `sender`'s estimates and signs it, then prints it, dry-runs it or
/// sends it.
async fn send_with<S: UserOperationSender>(sender: &S, job: &Job<'_>) -> eyre::Result<()> {
    let prepared = job
        .send
        .prepare_signed(sender, job.session_key, job.calls, job.fees)
        .await?;
    if job.args.print_op {
        let submission =
            UserOperationSubmission::new(&prepared, sender.entry_point(), job.send.domain.chain_id)
                .map_err(ServiceError::from)?;
        crate::output::print_stdout(&format!("{:#}", serde_json::to_value(&submission)?));
        return Ok(());
    }
    if job.args.dry_run {
        return dry_run(job, prepared).await;
    }
    let hash = submit(sender, &prepared, Some(&job.send.state)).await?;
    let receipt = node::wait(
        sender,
        hash,
        job.args.bundler_rpc.receipt_wait(),
        Some(&job.send.state),
        job.out,
    )
    .await?;
    let included = Included::new(receipt, job.calls);
    report_included(job.out, &included);
    Ok(included.check()?)
}

/// The node's preflight, then a fork's simulation for the balance changes; nothing is sent.
async fn dry_run(
    job: &Job<'_>,
    prepared: leash_core::prepare::PreparedOperation,
) -> eyre::Result<()> {
    let out = job.out;
    let hash = prepared.user_op_hash;
    // The node runs handleOps in eth_estimateGas, whoever estimated the gas.
    let gas = job
        .send
        .preflight(node::reader(job.node_url), &prepared)
        .await?;
    let outcome = node::simulate_on_fork(job.node_url, prepared.op).await?;
    let Some(simulated) = outcome.ops().and_then(|ops| ops.first()) else {
        return Err(eyre::eyre!(
            "the node accepted the UserOperation but the fork did not: {outcome:?}"
        ));
    };
    out.line(format!(
        "Dry run: the UserOperation {hash} would be accepted"
    ));
    out.line(format!("  calls        {}", job.calls.len()));
    out.line(format!("  bundle gas   {gas}"));
    let moved = match &simulated.execution {
        Execution::Succeeded => Movements::executed(job.calls, &simulated.logs),
        Execution::Reverted(_) => Movements::default(),
    };
    report_moved(out, &moved);
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
        "nativeTransfers": moved.native_transfers,
        "tokenTransfers": moved.token_transfers,
        "nativeChanges": changes.native,
        "tokenChanges": changes.erc20,
    }));
    match reverted {
        Some(reason) => Err(ServiceError::Reverted {
            what: "the dry run of UserOperation".to_owned(),
            hash,
            reason: Some(reason),
        }
        .into()),
        None => Ok(()),
    }
}

fn report_included(out: &Output, included: &Included) {
    let receipt = &included.receipt;
    let tx = included.transaction();
    out.line(format!("UserOperation {}", included.user_op_hash));
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
    report_moved(out, &included.moved);
    out.document(json!({
        "userOpHash": included.user_op_hash,
        "transaction": tx,
        "success": receipt.success,
        "gasUsed": receipt.actual_gas_used,
        "gasCost": receipt.actual_gas_cost,
        "nativeTransfers": included.moved.native_transfers,
        "tokenTransfers": included.moved.token_transfers,
        "revertReason": included.revert_reason,
    }));
}

/// The lines of what an operation moved, the same for a dry run and a real send.
fn report_moved(out: &Output, moved: &Movements) {
    for transfer in &moved.native_transfers {
        out.line(format!(
            "  sent         {} ETH to {}",
            format_ether(transfer.value),
            transfer.to
        ));
    }
    for t in &moved.token_transfers {
        out.line(format!(
            "  token        {} moved {} from {} to {}",
            t.token, t.value, t.from, t.to
        ));
    }
}
