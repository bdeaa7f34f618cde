//! The chain the server serves: the embedded one, or a node's (`--rpc-url`). The methods read,
//! estimate and submit through this, whichever it is.

use crate::{
    chain::EmbeddedChain, chain_sender::ChainSender, error::RpcError,
    pending_nonces::PendingNonces, remote::RemoteChain,
};
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, Bytes, I256};
use alloy_provider::Provider;
use leash_auth::{CallError, EthCall, NodeCalls, chain::sim_call};
use leash_core::{
    calls::Call,
    eip7702::delegate_of,
    grant::GrantDomain,
    prepare::{Fees, UnsignedOperation},
    sender::UserOperationSender,
    session_signer::P256Verification,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::CallLimitsLeft,
};
use leash_sdk::service::{Delegation, prepare_owner_calls};
use leash_sim::{SimSender, TxOutcome};
use std::collections::BTreeMap;

/// Where the server's chain lives.
#[derive(Clone, Debug)]
pub enum ServedChain {
    /// In this process (`leash serve` without `--rpc-url`).
    Embedded(EmbeddedChain),
    /// Behind a node (`--rpc-url`); boxed, being several clients larger than the embedded
    /// chain's handle.
    Remote(Box<RemoteChain>),
}

impl ServedChain {
    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.domain().chain_id
    }

    /// The grant domain of the chain's `SessionKeyValidator`.
    pub fn domain(&self) -> GrantDomain {
        match self {
            Self::Embedded(chain) => chain.domain(),
            Self::Remote(chain) => chain.domain(),
        }
    }

    /// Who checks P-256 session keys' signatures: the embedded chain runs Osaka, so the P256VERIFY
    /// precompile is there; a node's chain was probed when the server connected.
    pub fn p256_verification(&self) -> P256Verification {
        match self {
            Self::Embedded(_) => P256Verification::Precompile,
            Self::Remote(chain) => chain.p256_verification(),
        }
    }

    /// The embedded chain, when it is the one served.
    pub fn embedded(&self) -> Option<&EmbeddedChain> {
        match self {
            Self::Embedded(chain) => Some(chain),
            Self::Remote(_) => None,
        }
    }

    /// A readiness probe of the chain: the embedded one is always there; a node must answer
    /// `eth_chainId` with the chain served. The reason names no URL, which may hold a key.
    pub(crate) async fn check_node(&self) -> Result<(), String> {
        let Self::Remote(chain) = self else {
            return Ok(());
        };
        match chain.node().get_chain_id().await {
            Ok(id) if id == self.chain_id() => Ok(()),
            Ok(id) => Err(format!(
                "the node serves chain {id}, not {}",
                self.chain_id()
            )),
            Err(_) => Err("the node did not answer eth_chainId".to_owned()),
        }
    }

    /// A readiness probe of the bundlers behind `--bundler-url` (`None` without one): one of
    /// them at least must list the EntryPoint among `eth_supportedEntryPoints`.
    pub(crate) async fn check_bundler(&self) -> Option<Result<(), String>> {
        let ChainSender::Bundler(bundlers) = self.sender() else {
            return None;
        };
        let mut failure = String::new();
        for bundler in bundlers.senders() {
            match bundler.supported_entry_points().await {
                Ok(entry_points) if entry_points.contains(&bundler.entry_point()) => {
                    return Some(Ok(()));
                }
                Ok(_) => failure = "the bundler no longer serves the EntryPoint v0.8".to_owned(),
                Err(_) => {
                    failure = "no bundler answered eth_supportedEntryPoints".to_owned();
                }
            }
        }
        Some(Err(failure))
    }

    /// The sender of UserOperations to the chain.
    pub(crate) fn sender(&self) -> ChainSender {
        match self {
            Self::Embedded(chain) => ChainSender::Embedded(chain.sender()),
            Self::Remote(chain) => chain.sender(),
        }
    }

    /// The latest block's timestamp, which session windows are checked against.
    pub(crate) async fn now(&self) -> Result<u64, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.now(),
            Self::Remote(chain) => chain.now().await?,
        })
    }

    /// The fees an operation offers.
    pub(crate) async fn fees(&self) -> Result<Fees, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.sender().fees(),
            Self::Remote(chain) => chain.fees().await?,
        })
    }

    /// `record`'s session as the validator sees it.
    pub(crate) async fn session_state(
        &self,
        record: &GrantRecord,
    ) -> Result<SessionState, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.session_state(record)?,
            Self::Remote(chain) => chain.session_state(record).await?,
        })
    }

    /// What is left of the usage and rate limits of `record`'s session, in `status`.
    pub(crate) async fn call_limits_left(
        &self,
        record: &GrantRecord,
        status: OnChainStatus,
    ) -> Result<CallLimitsLeft, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.call_limits_left(record, status)?,
            Self::Remote(chain) => chain.call_limits_left(record, status).await?,
        })
    }

    /// `account`'s delegation: its EIP-7702 delegate and whether the validator is installed.
    /// The contract `account` delegates to, if any (one read, where [`Self::delegation`] makes
    /// two).
    pub(crate) async fn delegate(&self, account: Address) -> Result<Option<Address>, RpcError> {
        Ok(delegate_of(&self.code(account).await?))
    }

    /// The code at `address`.
    pub(crate) async fn code(&self, address: Address) -> Result<Bytes, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.code(address)?,
            Self::Remote(chain) => chain.code(address).await?,
        })
    }

    pub(crate) async fn delegation(&self, account: Address) -> Result<Delegation, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.delegation(account)?,
            Self::Remote(chain) => chain.delegation(account).await?,
        })
    }

    /// The nonce an authorization of `account` must name to apply when its operation is sent.
    pub(crate) async fn authorization_nonce(&self, account: Address) -> Result<u64, RpcError> {
        Ok(match self {
            Self::Embedded(chain) => chain.authorization_nonce(account)?,
            Self::Remote(chain) => chain.authorization_nonce(account).await?,
        })
    }

    /// The owner's operation making `calls` from `account` (delegated as `delegation` says),
    /// estimated with placeholder signatures and numbered after the account's `pending` calls;
    /// when `authorization` delegates the account first, estimated as if it applied, since the
    /// owner has not signed it yet.
    pub(crate) async fn prepare_owner_calls(
        &self,
        account: Address,
        delegation: &Delegation,
        authorization: Option<&Authorization>,
        calls: &[Call],
        pending: PendingNonces,
    ) -> Result<UnsignedOperation, RpcError> {
        let fees = self.fees().await?;
        Ok(match (self, authorization) {
            // The simulator applies no placeholder-signed authorization: estimate on a copy where
            // the delegation is in place, as a node's estimate does with a state override.
            (Self::Embedded(chain), Some(authorization)) => {
                let mut delegated = chain.delegated_copy(account)?;
                let sender = pending.on(SimSender::new(&mut delegated));
                let authorization = Some(authorization);
                prepare_owner_calls(&sender, account, delegation, authorization, calls, fees)
                    .await?
            }
            _ => {
                let sender = pending.on(self.sender());
                prepare_owner_calls(&sender, account, delegation, authorization, calls, fees)
                    .await?
            }
        })
    }

    /// Runs `data` on `account` as the EntryPoint runs an operation's `callData`, committing
    /// nothing: the outcome and every touched address's native balance change.
    pub(crate) async fn dry_run(
        &self,
        account: Address,
        data: Bytes,
    ) -> Result<(TxOutcome, BTreeMap<Address, I256>), RpcError> {
        Ok(match self {
            Self::Embedded(chain) => {
                chain.with_chain(|chain| chain.dry_run_from_entry_point(account, data))?
            }
            Self::Remote(chain) => chain.dry_run(account, data).await?,
        })
    }
}

/// The served chain as leash-auth reads it (owners' ERC-1271 checks, sessions' status), and as
/// contract session signers are asked before their signatures are sent.
impl EthCall for ServedChain {
    async fn eth_call(&self, to: Option<Address>, input: Bytes) -> Result<Bytes, CallError> {
        match self {
            Self::Embedded(chain) => chain.with_chain(|chain| sim_call(chain, to, input)),
            Self::Remote(remote) => NodeCalls(remote.node().clone()).eth_call(to, input).await,
        }
    }
}

impl From<EmbeddedChain> for ServedChain {
    fn from(chain: EmbeddedChain) -> Self {
        Self::Embedded(chain)
    }
}

impl From<RemoteChain> for ServedChain {
    fn from(chain: RemoteChain) -> Self {
        Self::Remote(Box::new(chain))
    }
}
