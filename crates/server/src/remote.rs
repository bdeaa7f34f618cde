//! A chain served through its node (`--rpc-url`: anvil, or any provider): state is read and
//! operations estimated on the node, and operations are submitted by a bundler
//! (`--bundler-url`) or in `handleOps` transactions from a key (`--bundler-key`).

use crate::{chain_sender::ChainSender, error::StartError};
use alloy_primitives::{Address, Bytes, I256};
use alloy_provider::{DynProvider, Provider};
use alloy_signer_local::PrivateKeySigner;
use leash_core::{
    grant::GrantDomain,
    prepare::Fees,
    session_signer::P256Verification,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::CallLimitsLeft,
};
use leash_sdk::{
    connect,
    service::{
        Delegation, ServiceError, chain_time, fees, grant_domain, p256_verification,
        require_deployments,
    },
    session_reads::{read_call_limits_left, read_session_state},
    submission::ReceiptWait,
    transport::{BundlerClient, DirectSender, Fallback},
};
use leash_sim::{Chain, SimError, TxOutcome};
use std::collections::BTreeMap;
use url::Url;

/// Who puts the operations of a [`RemoteChain`] on chain.
#[derive(Clone, Debug)]
pub enum Submitter {
    /// `handleOps` transactions signed by this key, which pays their gas and is refunded by the
    /// accounts through the EntryPoint.
    Key(PrivateKeySigner),
    /// The ERC-4337 bundler at the first endpoint (`eth_sendUserOperation`), or when it cannot
    /// be reached the next of the others, in order.
    Bundlers(Url, Vec<Url>),
}

/// A remote chain's sender of UserOperations, as [`Submitter`] chose it.
#[derive(Clone, Debug)]
enum RemoteSender {
    Direct(DirectSender<DynProvider>),
    Bundler(Fallback<BundlerClient<DynProvider, DynProvider>>),
}

/// The chain behind a node, with the leash contracts deployed at their deterministic addresses.
#[derive(Clone, Debug)]
pub struct RemoteChain {
    url: Url,
    node: DynProvider,
    domain: GrantDomain,
    sender: RemoteSender,
    /// The address of `Submitter::Key`, whose own authorizations need one nonce more.
    bundler: Option<Address>,
    receipt_wait: ReceiptWait,
    /// Who checks P-256 session keys' signatures on this chain, probed once at connection.
    p256_verification: P256Verification,
}

impl RemoteChain {
    /// Connects to the node at `url` and to `submitter`, and checks what serving needs: the node
    /// answers, leash's contracts are deployed, and a bundler serves the same chain.
    /// `receipt_wait` bounds how long a submitted operation is waited for.
    pub async fn connect(
        url: Url,
        submitter: Submitter,
        receipt_wait: ReceiptWait,
    ) -> Result<Self, StartError> {
        let node = connect::reader(&url);
        let unreachable = |error: ServiceError| StartError::Node {
            url: url.to_string(),
            reason: error.to_string(),
        };
        let chain_id = node
            .get_chain_id()
            .await
            .map_err(|error| unreachable(error.into()))?;
        require_deployments(&node).await.map_err(unreachable)?;
        let p256_verification = p256_verification(&node).await.map_err(unreachable)?;
        let (sender, bundler) = match submitter {
            Submitter::Key(key) => {
                let address = key.address();
                let direct =
                    DirectSender::new(connect::signing(&url, key), address).with_chain_id(chain_id);
                (RemoteSender::Direct(direct), Some(address))
            }
            Submitter::Bundlers(first, rest) => {
                let client = connect::bundlers(&first, &rest, node.clone(), chain_id)
                    .await
                    .map_err(|error| StartError::Bundler {
                        url: first.to_string(),
                        reason: error.to_string(),
                    })?;
                (RemoteSender::Bundler(client), None)
            }
        };
        Ok(Self {
            url,
            node,
            domain: grant_domain(chain_id),
            sender,
            bundler,
            receipt_wait,
            p256_verification,
        })
    }

    /// The grant domain of the chain's `SessionKeyValidator`.
    pub fn domain(&self) -> GrantDomain {
        self.domain
    }

    pub(crate) fn sender(&self) -> ChainSender {
        match &self.sender {
            RemoteSender::Direct(sender) => ChainSender::Direct(sender.clone()),
            RemoteSender::Bundler(sender) => ChainSender::Bundler(sender.clone()),
        }
    }

    /// The sender of `handleOps` transactions from `--bundler-key`, when that submits.
    pub(crate) fn direct_sender(&self) -> Option<DirectSender<DynProvider>> {
        match &self.sender {
            RemoteSender::Direct(sender) => Some(sender.clone()),
            RemoteSender::Bundler(_) => None,
        }
    }

    pub(crate) fn receipt_wait(&self) -> ReceiptWait {
        self.receipt_wait
    }

    /// Who checks P-256 session keys' signatures on this chain.
    pub(crate) fn p256_verification(&self) -> P256Verification {
        self.p256_verification
    }

    /// The node, for the methods it answers itself.
    pub(crate) fn node(&self) -> &DynProvider {
        &self.node
    }

    pub(crate) async fn now(&self) -> Result<u64, ServiceError> {
        chain_time(&self.node).await
    }

    pub(crate) async fn fees(&self) -> Result<Fees, ServiceError> {
        fees(&self.node).await
    }

    pub(crate) async fn session_state(
        &self,
        record: &GrantRecord,
    ) -> Result<SessionState, ServiceError> {
        Ok(read_session_state(&self.node, &self.domain, record).await?)
    }

    pub(crate) async fn call_limits_left(
        &self,
        record: &GrantRecord,
        status: OnChainStatus,
    ) -> Result<CallLimitsLeft, ServiceError> {
        Ok(read_call_limits_left(&self.node, &self.domain, record, status).await?)
    }

    pub(crate) async fn code(&self, address: Address) -> Result<Bytes, ServiceError> {
        Ok(self.node.get_code_at(address).await?)
    }

    pub(crate) async fn delegation(&self, account: Address) -> Result<Delegation, ServiceError> {
        Delegation::read(&self.node, account).await
    }

    /// The nonce an authorization of `account` must name: its account nonce, plus one when it is
    /// the key that sends the `handleOps` carrying it (its nonce is raised first).
    pub(crate) async fn authorization_nonce(&self, account: Address) -> Result<u64, ServiceError> {
        let nonce = self.node.get_transaction_count(account).await?;
        Ok(nonce + u64::from(self.bundler == Some(account)))
    }

    /// Runs `data` on `account` as the EntryPoint runs an operation's `callData`, on a fork of
    /// the node's latest block, committing nothing.
    pub(crate) async fn dry_run(
        &self,
        account: Address,
        data: Bytes,
    ) -> Result<(TxOutcome, BTreeMap<Address, I256>), SimError> {
        let url = self.url.clone();
        // The fork reads the node synchronously on a runtime of its own, with a client of its
        // own (`Chain::fork`).
        tokio::task::spawn_blocking(move || {
            Chain::fork(connect::reader(&url), None)?.dry_run_from_entry_point(account, data)
        })
        .await
        .map_err(|error| SimError::Fork(format!("the fork's thread failed: {error}")))?
    }
}
