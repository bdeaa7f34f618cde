//! `leash delegate`: the EOA's EIP-7702 delegation to `LeashAccount`, with `SessionKeyValidator`
//! installed, through a type-4 transaction of the EOA or its first UserOperation.

use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs, OwnerArgs},
    node,
    output::Output,
};
use alloy_primitives::{Address, B256};
use alloy_provider::DynProvider;
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, ValueEnum};
use leash_core::sender::UserOperationSender;
use leash_sdk::{
    service::{
        Delegation, Included, ServiceError, delegate_by_transaction, delegate_by_user_operation,
        require_deployments,
    },
    submission::ReceiptWait,
    transport::DirectSender,
};
use serde_json::json;

#[derive(Debug, Args)]
pub(crate) struct DelegateArgs {
    #[command(flatten)]
    owner: OwnerArgs,
    /// Only show the current delegation of this address (no key needed).
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["private_key", "keystore"])]
    show: Option<Address>,
    /// How to delegate: `tx`, a type-4 transaction the EOA sends to itself (it pays the gas);
    /// `user-op`, the authorization travels with the EOA's first UserOperation, sent by a bundler
    /// (the EOA pays through the EntryPoint).
    #[arg(long, value_enum, default_value_t = Via::Tx)]
    via: Via,
    #[command(flatten)]
    bundler: BundlerArgs,
    #[command(flatten)]
    bundler_rpc: BundlerRpcArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Via {
    Tx,
    UserOp,
}

/// The delegation in words.
fn describe(delegation: &Delegation) -> String {
    let delegate = match delegation.delegate {
        None => "not delegated (plain EOA)".to_owned(),
        Some(d) if delegation.is_leash_account() => format!("LeashAccount {d}"),
        Some(d) => format!("{d} (not LeashAccount)"),
    };
    let validator = if delegation.validator_installed {
        "installed"
    } else {
        "not installed"
    };
    format!("delegate {delegate}; SessionKeyValidator {validator}")
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: DelegateArgs) -> eyre::Result<()> {
    let url = global.rpc_url("delegate")?;
    let bundler_urls = args.bundler_rpc.urls()?;
    let reader = node::reader(&url);
    let chain_id = node::chain_id(&reader, &url).await?;
    let owner = match args.show {
        Some(account) => {
            let before = Delegation::read(&reader, account).await?;
            out.line(format!("{account}: {}", describe(&before)));
            out.document(delegation_json(account, &before, None));
            return Ok(());
        }
        None => args.owner.required_signer("`leash delegate`")?,
    };
    require_deployments(&reader).await?;
    let account = owner.address();
    let before = Delegation::read(&reader, account).await?;
    out.line(format!("{account}: {}", describe(&before)));
    if before.is_complete() {
        out.line("Nothing to do.");
        out.document(delegation_json(account, &before, None));
        return Ok(());
    }
    let tx_hash = match args.via {
        Via::Tx => {
            delegate_by_transaction(&node::signing(&url, owner.clone()), &owner, &before).await?
        }
        Via::UserOp => {
            let wait = args.bundler_rpc.receipt_wait();
            match bundler_urls {
                Some(bundler_urls) => {
                    let client = node::bundlers(&bundler_urls, reader.clone(), chain_id).await?;
                    by_user_operation(&client, &reader, &owner, &before, wait, out).await?
                }
                None => {
                    let bundler = args.bundler.required_signer("--via user-op")?;
                    let bundler_address = bundler.address();
                    let sender = DirectSender::new(node::signing(&url, bundler), bundler_address);
                    by_user_operation(&sender, &reader, &owner, &before, wait, out).await?
                }
            }
        }
    };
    let after = Delegation::read(&reader, account).await?;
    out.line(format!("Sent {tx_hash}"));
    out.line(format!("{account}: {}", describe(&after)));
    out.document(delegation_json(account, &after, Some(tx_hash.to_string())));
    if after.is_complete() {
        Ok(())
    } else {
        Err(ServiceError::NotDelegated { account }.into())
    }
}

/// The delegating UserOperation through `sender`, waited for; returns the bundle transaction.
async fn by_user_operation<S: UserOperationSender>(
    sender: &S,
    reader: &DynProvider,
    owner: &PrivateKeySigner,
    before: &Delegation,
    wait: ReceiptWait,
    out: &Output,
) -> eyre::Result<B256> {
    let hash = delegate_by_user_operation(sender, reader, owner, before).await?;
    let included = Included::new(node::wait(sender, hash, wait, None, out).await?, &[]);
    included.check()?;
    Ok(included.transaction())
}

fn delegation_json(
    account: Address,
    state: &Delegation,
    sent: Option<String>,
) -> serde_json::Value {
    json!({
        "account": account,
        "delegate": state.delegate,
        "delegatedToLeashAccount": state.is_leash_account(),
        "validatorInstalled": state.validator_installed,
        "sent": sent,
    })
}
