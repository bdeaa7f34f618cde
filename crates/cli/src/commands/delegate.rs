//! `leash delegate`: the EOA's EIP-7702 delegation to `LeashAccount`, with `SessionKeyValidator`
//! installed, through a type-4 transaction of the EOA or its first UserOperation.

use crate::{
    args::{BundlerArgs, BundlerRpcArgs, GlobalArgs, OwnerArgs},
    failure::{Failure, sender_failure},
    node,
    output::Output,
};
use alloy_network::{TransactionBuilder, TransactionBuilder7702};
use alloy_primitives::{Address, Bytes};
use alloy_provider::{DynProvider, Provider};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, ValueEnum};
use leash_bindings::Deployment;
use leash_core::{
    calls::install_validator_calldata, eip7702::sign_authorization,
    prepare::prepare_owner_operation, sender::UserOperationSender,
};
use leash_sdk::{
    delegation::{authorization_if_not_delegated, delegate_at},
    session_reads::validator_installed,
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

/// An account's delegation as the chain has it.
struct Delegation {
    delegate: Option<Address>,
    validator_installed: bool,
}

impl Delegation {
    async fn read(provider: &DynProvider, account: Address) -> eyre::Result<Self> {
        let validator = Deployment::session_key_validator().address();
        Ok(Self {
            delegate: delegate_at(provider, account).await?,
            validator_installed: validator_installed(provider, validator, account).await?,
        })
    }

    fn is_leash_account(&self) -> bool {
        self.delegate == Some(Deployment::leash_account().address())
    }

    fn describe(&self) -> String {
        let delegate = match self.delegate {
            None => "not delegated (plain EOA)".to_owned(),
            Some(d) if d == Deployment::leash_account().address() => format!("LeashAccount {d}"),
            Some(d) => format!("{d} (not LeashAccount)"),
        };
        let validator = if self.validator_installed {
            "installed"
        } else {
            "not installed"
        };
        format!("delegate {delegate}; SessionKeyValidator {validator}")
    }
}

pub(crate) async fn run(global: &GlobalArgs, out: &Output, args: DelegateArgs) -> eyre::Result<()> {
    let url = global.rpc_url("delegate")?;
    let bundler_url = args.bundler_rpc.url()?;
    let reader = node::reader(&url);
    let chain_id = node::chain_id(&reader, &url).await?;
    let owner = match args.show {
        Some(account) => {
            let before = Delegation::read(&reader, account).await?;
            out.line(format!("{account}: {}", before.describe()));
            out.document(delegation_json(account, &before, None));
            return Ok(());
        }
        None => args.owner.required_signer("`leash delegate`")?,
    };
    node::require_contracts(&reader).await?;
    let account = owner.address();
    let before = Delegation::read(&reader, account).await?;
    out.line(format!("{account}: {}", before.describe()));
    if before.is_leash_account() && before.validator_installed {
        out.line("Nothing to do.");
        out.document(delegation_json(account, &before, None));
        return Ok(());
    }
    let install = (!before.validator_installed).then(install_validator_calldata);
    let tx_hash = match args.via {
        Via::Tx => {
            let signer = node::signing(&url, owner.clone());
            delegate_with_transaction(&signer, &owner, chain_id, &before, install).await?
        }
        Via::UserOp => {
            let call_data = install.ok_or_else(|| {
                Failure::usage(
                    "the validator is installed; re-delegating alone needs no UserOperation: \
                     use --via tx",
                )
            })?;
            let wait = args.bundler_rpc.receipt_wait();
            match bundler_url {
                Some(bundler_url) => {
                    let client = node::bundler(&bundler_url, reader.clone(), chain_id).await?;
                    delegate_with_user_operation(&client, &reader, &owner, call_data, wait, out)
                        .await?
                }
                None => {
                    let bundler = args.bundler.required_signer("--via user-op")?;
                    let bundler_address = bundler.address();
                    let sender = DirectSender::new(node::signing(&url, bundler), bundler_address);
                    delegate_with_user_operation(&sender, &reader, &owner, call_data, wait, out)
                        .await?
                }
            }
        }
    };
    let after = Delegation::read(&reader, account).await?;
    out.line(format!("Sent {tx_hash}"));
    out.line(format!("{account}: {}", after.describe()));
    out.document(delegation_json(account, &after, Some(tx_hash.to_string())));
    if after.is_leash_account() && after.validator_installed {
        Ok(())
    } else {
        Err(eyre::eyre!(
            "{account} is still not delegated with the validator installed"
        ))
    }
}

/// The EOA sends a transaction to itself: type 4 carrying its authorization when it is not
/// delegated to `LeashAccount` yet, calling `installModule` when the validator is missing. Its
/// own transaction bumps its nonce before the authorization is checked, hence `nonce + 1`.
async fn delegate_with_transaction(
    provider: &DynProvider,
    owner: &PrivateKeySigner,
    chain_id: u64,
    before: &Delegation,
    install: Option<Bytes>,
) -> eyre::Result<alloy_primitives::B256> {
    let account = owner.address();
    let mut request = TransactionRequest::default()
        .with_from(account)
        .with_to(account)
        .with_input(install.unwrap_or_default());
    if !before.is_leash_account() {
        let nonce = provider.get_transaction_count(account).await?;
        let authorization = sign_authorization(
            owner,
            chain_id,
            Deployment::leash_account().address(),
            nonce + 1,
        )?;
        request = request.with_authorization_list(vec![authorization]);
    }
    node::send_checked(provider, request, "the delegation transaction").await
}

/// The owner signs a UserOperation calling `installModule`, carrying the EOA's authorization when
/// it is not delegated yet; `sender` (a `handleOps` from a bundler key, or a bundler's RPC)
/// estimates and sends it. Returns the bundle transaction.
async fn delegate_with_user_operation<S: UserOperationSender>(
    sender: &S,
    reader: &DynProvider,
    owner: &PrivateKeySigner,
    call_data: Bytes,
    wait: ReceiptWait,
    out: &Output,
) -> eyre::Result<alloy_primitives::B256> {
    let leash_account = Deployment::leash_account().address();
    let authorization = authorization_if_not_delegated(reader, owner, leash_account).await?;
    let fees = node::fees(reader).await?;
    let prepared =
        prepare_owner_operation(sender, owner, call_data, authorization, leash_account, fees)
            .await
            .map_err(|error| sender_failure(error, None))?;
    let receipt = node::deliver(sender, &prepared, wait, None, out).await?;
    if !receipt.success {
        return Err(Failure::reverted(format!(
            "UserOperation {} was included but installModule reverted: {}",
            prepared.user_op_hash,
            leash_core::revert_reason::RevertReason::decode(&receipt.reason)
        )));
    }
    Ok(receipt.receipt.transaction_hash)
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
