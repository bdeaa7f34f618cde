//! Direct submission: the caller is its own bundler and sends `handleOps` from a funded key.

use crate::transport::entry_point_nonce;
use alloy_network::{TransactionBuilder, TransactionBuilder7702};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::Provider;
use alloy_rpc_types_eth::{
    Filter, Log, TransactionReceipt, TransactionRequest,
    state::{AccountOverride, StateOverride},
};
use alloy_sol_types::{SolCall, SolEvent};
use leash_bindings::{Deployment, EntryPoint::UserOperationEvent, EntryPointProbe};
use leash_core::sender::{SenderError, UserOperationSender};
use leash_core::{
    eip7702::{EIP7702_INIT_CODE_MARKER, delegate_of, delegation_designator},
    gas_estimate::{
        execution_call, handle_ops_calldata, operation_gas_bound, user_operation_gas,
        validate_user_op_call,
    },
    gas_probe::{Probed, measured_in_one_call, probe_call, probed},
    receipt::user_operation_receipt,
    rpc_types::{UserOperationGasEstimate, UserOperationReceipt},
    sender::SignedUserOperation,
    user_operation::user_operation_hash,
};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// How long [`DirectSender::send_bundle`] waits for its transaction to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// The first pause between reads of a sent transaction's receipt, doubled up to
/// [`RECEIPT_POLL_MAX`].
const RECEIPT_POLL_FIRST: Duration = Duration::from_millis(2);
const RECEIPT_POLL_MAX: Duration = Duration::from_secs(1);

/// Sends each UserOperation in its own `handleOps` transaction from `bundler`, over any alloy
/// provider that can send from that address (a wallet provider holding its key, or a node with
/// the account unlocked, such as anvil).
///
/// Validation failures are caught before anything is sent: the transaction's gas estimate runs
/// `handleOps`, and a `FailedOp` revert becomes [`SenderError::Rejected`] with its `AAxx` code.
/// An operation that carries an EIP-7702 authorization goes in a type-4 transaction, so the
/// sender is delegated in the same transaction that runs its first operation.
#[derive(Clone, Debug)]
pub struct DirectSender<P> {
    provider: P,
    bundler: Address,
    beneficiary: Address,
    entry_point: Address,
    receipt_lookback: Option<u64>,
    chain_id: Option<u64>,
}

impl<P: Provider> DirectSender<P> {
    /// Sends from `bundler`, which is also paid the operations' gas, to the canonical EntryPoint
    /// v0.8.
    pub fn new(provider: P, bundler: Address) -> Self {
        Self {
            provider,
            bundler,
            beneficiary: bundler,
            entry_point: Deployment::entry_point().address(),
            receipt_lookback: None,
            chain_id: None,
        }
    }

    /// Takes the node's chain id as `chain_id` (a caller that checked it already), saving a
    /// request per estimate; by default the node is asked each time.
    pub fn with_chain_id(mut self, chain_id: u64) -> Self {
        self.chain_id = Some(chain_id);
        self
    }

    /// Pays the operations' gas to `beneficiary` instead of the bundler.
    pub fn with_beneficiary(mut self, beneficiary: Address) -> Self {
        self.beneficiary = beneficiary;
        self
    }

    /// Sends to another EntryPoint v0.8 deployment.
    pub fn with_entry_point(mut self, entry_point: Address) -> Self {
        self.entry_point = entry_point;
        self
    }

    /// Looks receipts up in the last `blocks` blocks only (nodes limit `eth_getLogs` ranges); by
    /// default the whole chain is searched, which suits local chains.
    pub fn with_receipt_lookback(mut self, blocks: u64) -> Self {
        self.receipt_lookback = Some(blocks);
        self
    }

    /// The provider.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// `handleOps` of `ops`, in order, with every authorization they carry: a type-4 transaction
    /// when there is one, so each sender is delegated in the transaction that runs its first
    /// operation.
    fn handle_ops_request(&self, ops: &[SignedUserOperation]) -> TransactionRequest {
        let operations: Vec<_> = ops.iter().map(|op| op.operation.clone()).collect();
        let authorizations: Vec<_> = ops
            .iter()
            .filter_map(|op| op.authorization.clone())
            .collect();
        let request = TransactionRequest::default()
            .with_from(self.bundler)
            .with_to(self.entry_point)
            .with_input(handle_ops_calldata(&operations, self.beneficiary));
        if authorizations.is_empty() {
            request
        } else {
            request.with_authorization_list(authorizations)
        }
    }

    /// Sends `ops` in one `handleOps` transaction, as a bundler does, and waits for it (sleeping
    /// with the caller's `sleep`, such as `tokio::time::sleep`): returns the receipt of each
    /// operation it included, by hash.
    ///
    /// The bundle is run first with `eth_call`, so an operation the EntryPoint would refuse costs
    /// nothing: it is [`SenderError::Rejected`], naming the operation by its index in `ops`, and
    /// the caller drops it and sends the rest again. The transaction's gas limit is the sum of
    /// the operations' own bounds ([`operation_gas_bound`]), which the EntryPoint enforces, rather
    /// than a node's estimate (a search over many runs of the whole bundle).
    pub async fn send_bundle<F, Fut>(
        &self,
        ops: &[SignedUserOperation],
        sleep: F,
    ) -> Result<HashMap<B256, UserOperationReceipt>, SenderError>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = ()>,
    {
        let request = self.handle_ops_request(ops);
        self.provider
            .call(request.clone())
            .await
            .map_err(SenderError::from_node)?;
        let gas = ops
            .iter()
            .map(|op| operation_gas_bound(&op.operation))
            .fold(0u128, u128::saturating_add);
        let sent = self
            .provider
            .send_transaction(request.with_gas_limit(u64::try_from(gas).unwrap_or(u64::MAX)))
            .await
            .map_err(SenderError::from_node)?;
        let receipt = self.transaction_receipt(*sent.tx_hash(), sleep).await?;
        if !receipt.status() {
            return Err(SenderError::BundleReverted(receipt.transaction_hash));
        }
        let events: Vec<Log> = receipt
            .logs()
            .iter()
            .filter(|log| self.is_operation_event(log))
            .cloned()
            .collect();
        events
            .iter()
            .map(|event| {
                let included = user_operation_receipt(receipt.clone(), event, self.entry_point)?;
                Ok((included.user_op_hash, included))
            })
            .collect()
    }

    /// The receipt of the sent transaction `tx_hash`, read again and again, the pause doubling
    /// from [`RECEIPT_POLL_FIRST`] to [`RECEIPT_POLL_MAX`], for [`RECEIPT_TIMEOUT`] at most. A
    /// local chain mines the transaction moments after taking it, so the first reads find it;
    /// alloy's own wait would watch new blocks at the client's poll interval instead (250 ms on
    /// loopback), which is the whole time a bundle takes there.
    async fn transaction_receipt<F, Fut>(
        &self,
        tx_hash: B256,
        mut sleep: F,
    ) -> Result<TransactionReceipt, SenderError>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = ()>,
    {
        let started = Instant::now();
        let mut pause = RECEIPT_POLL_FIRST;
        loop {
            match self.provider.get_transaction_receipt(tx_hash).await {
                Ok(Some(receipt)) => return Ok(receipt),
                Ok(None) if started.elapsed() < RECEIPT_TIMEOUT => {}
                Ok(None) => {
                    let waited = RECEIPT_TIMEOUT.as_secs();
                    let error = format!("transaction {tx_hash} not mined within {waited}s");
                    return Err(SenderError::Pending(error.into()));
                }
                Err(error) => return Err(SenderError::Pending(Box::new(error))),
            }
            sleep(pause).await;
            pause = (pause * 2).min(RECEIPT_POLL_MAX);
        }
    }

    fn is_operation_event(&self, log: &Log) -> bool {
        log.address() == self.entry_point
            && log.topic0() == Some(&UserOperationEvent::SIGNATURE_HASH)
    }

    /// The receipts of those of `user_op_hashes` that are included, by hash: one log query for
    /// all of them, then each bundle transaction's receipt, as bundlers answer
    /// `eth_getUserOperationReceipt`.
    pub async fn receipts(
        &self,
        user_op_hashes: &[B256],
    ) -> Result<HashMap<B256, UserOperationReceipt>, SenderError> {
        let mut filter = Filter::new()
            .address(self.entry_point)
            .event_signature(UserOperationEvent::SIGNATURE_HASH)
            .topic1(user_op_hashes.to_vec());
        filter = match self.receipt_lookback {
            Some(blocks) => {
                let latest = self
                    .provider
                    .get_block_number()
                    .await
                    .map_err(SenderError::from_node)?;
                filter.from_block(latest.saturating_sub(blocks))
            }
            None => filter.from_block(0),
        };
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(SenderError::from_node)?;
        let mut receipts = HashMap::with_capacity(logs.len());
        // The latest event of a hash wins, as it would for a single lookup.
        for event_log in logs.iter().rev() {
            let (Some(&hash), Some(tx_hash)) =
                (event_log.topics().get(1), event_log.transaction_hash)
            else {
                continue;
            };
            if receipts.contains_key(&hash) {
                continue;
            }
            let Some(receipt) = self
                .provider
                .get_transaction_receipt(tx_hash)
                .await
                .map_err(SenderError::from_node)?
            else {
                continue;
            };
            receipts.insert(
                hash,
                user_operation_receipt(receipt, event_log, self.entry_point)?,
            );
        }
        Ok(receipts)
    }

    /// Runs `handleOps` with `op` in `eth_estimateGas` without sending it: the EntryPoint's whole
    /// validation (signature, validity window, nonce, prefund) and the execution, as a dry run.
    /// Returns the bundle transaction's gas, or [`SenderError::Rejected`] with the `AAxx` code.
    pub async fn preflight(&self, op: &SignedUserOperation) -> Result<u64, SenderError> {
        self.provider
            .estimate_gas(self.handle_ops_request(std::slice::from_ref(op)))
            .await
            .map_err(SenderError::from_node)
    }

    /// The delegate `op`'s hash names and, when `op`'s authorization is still to be applied, the
    /// code the sender has once it is, as a state override for simulating the operation's calls
    /// before it is.
    async fn pending_delegation(
        &self,
        op: &SignedUserOperation,
    ) -> Result<(Option<Address>, Option<StateOverride>), SenderError> {
        // Without an authorization nothing is pending, and without the EIP-7702 marker in
        // `initCode` the hash does not name the delegate: the code need not be read.
        if op.authorization.is_none()
            && !op.operation.initCode.starts_with(&EIP7702_INIT_CODE_MARKER)
        {
            return Ok((None, None));
        }
        let sender = op.operation.sender;
        let code = self
            .provider
            .get_code_at(sender)
            .await
            .map_err(SenderError::from_node)?;
        let current = delegate_of(&code);
        Ok(match &op.authorization {
            Some(authorization) if current != Some(authorization.address) => {
                let account = AccountOverride {
                    code: Some(delegation_designator(authorization.address)),
                    ..Default::default()
                };
                let overrides = StateOverride::from_iter([(sender, account)]);
                (Some(authorization.address), Some(overrides))
            }
            _ => (current, None),
        })
    }

    /// The gas of `op`'s validation and of its execution, each in an `eth_estimateGas` of its own.
    async fn measure_apart(
        &self,
        op: &SignedUserOperation,
        user_op_hash: B256,
        overrides: Option<&StateOverride>,
    ) -> Result<(u64, u64), SenderError> {
        let validate = validate_user_op_call(&op.operation, user_op_hash);
        let validation_gas = self
            .estimate_call_from_entry_point(
                op.operation.sender,
                validate.abi_encode().into(),
                overrides,
            )
            .await?;
        let call_gas = self
            .estimate_call_from_entry_point(
                op.operation.sender,
                execution_call(&op.operation, user_op_hash),
                overrides,
            )
            .await?;
        Ok((validation_gas, call_gas))
    }

    /// The gas of `op`'s validation and of its execution, one after the other in one `eth_call`
    /// of `EntryPointProbe`, put at the EntryPoint's address by a state override (beside the
    /// pending delegation's, if any). A revert of either call is [`SenderError::Reverted`], as
    /// a separate `eth_estimateGas` of it would be.
    async fn measure_together(
        &self,
        op: &SignedUserOperation,
        user_op_hash: B256,
        overrides: Option<StateOverride>,
    ) -> Result<(u64, u64), SenderError> {
        let call = probe_call(&op.operation, user_op_hash);
        let probe = AccountOverride {
            code: Some(EntryPointProbe::DEPLOYED_BYTECODE.clone()),
            ..Default::default()
        };
        let mut overrides = overrides.unwrap_or_default();
        overrides.insert(self.entry_point, probe);
        let request = TransactionRequest::default()
            .with_from(self.bundler)
            .with_to(self.entry_point)
            .with_input(call.abi_encode());
        let output = self
            .provider
            .call(request)
            .overrides(overrides)
            .await
            .map_err(SenderError::from_node)?;
        match probed(&call, &output)? {
            Probed::Measured {
                validation_gas,
                call_gas,
            } => Ok((validation_gas, call_gas)),
            Probed::ValidationReverted(data) | Probed::ExecutionReverted(data) => {
                Err(SenderError::Reverted(data))
            }
        }
    }

    async fn estimate_call_from_entry_point(
        &self,
        to: Address,
        input: Bytes,
        overrides: Option<&StateOverride>,
    ) -> Result<u64, SenderError> {
        let request = TransactionRequest::default()
            .with_from(self.entry_point)
            .with_to(to)
            .with_input(input);
        self.provider
            .estimate_gas(request)
            .overrides_opt(overrides.cloned())
            .await
            .map_err(SenderError::from_node)
    }
}

impl<P: Provider> UserOperationSender for DirectSender<P> {
    fn entry_point(&self) -> Address {
        self.entry_point
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        if let Some(chain_id) = self.chain_id {
            return Ok(chain_id);
        }
        self.provider
            .get_chain_id()
            .await
            .map_err(SenderError::from_node)
    }

    async fn nonce(&self, sender: Address, key: U256) -> Result<U256, SenderError> {
        entry_point_nonce(&self.provider, self.entry_point, sender, key).await
    }

    /// Estimates like a bundler, with calls made as the EntryPoint: the account's
    /// `validateUserOp` (any signature of the right length; the account pays a prefund, so it
    /// needs some balance) and its execution of `callData`, with the EIP-7702 delegation applied
    /// in a state override when it is still pending; [`user_operation_gas`] turns the two into
    /// limits (the simulator does the same in revm). A balance-checked operation's two run in one
    /// `eth_call` of `EntryPointProbe` overriding the EntryPoint's code, since its execution needs
    /// what its validation leaves in transient storage (a session's typed-data signature is void
    /// without it); any other operation's in two `eth_estimateGas`. Bundlers simulate the whole
    /// EntryPoint instead; this needs no deployed simulation contract.
    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        let (delegate, overrides) = self.pending_delegation(op).await?;
        let chain_id = self.chain_id().await?;
        let user_op_hash =
            user_operation_hash(&op.operation, self.entry_point, chain_id, delegate)?;
        let (validation_gas, call_gas) = if measured_in_one_call(&op.operation) {
            self.measure_together(op, user_op_hash, overrides).await?
        } else {
            self.measure_apart(op, user_op_hash, overrides.as_ref())
                .await?
        };
        Ok(user_operation_gas(
            op,
            self.beneficiary,
            validation_gas,
            call_gas,
        ))
    }

    /// Sends `handleOps` and waits for its receipt: returns once the operation is included.
    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        // Estimating first turns a validation failure into a typed rejection before any gas is
        // spent, whichever fillers the provider has.
        let gas = self.preflight(op).await?;
        let request = self.handle_ops_request(std::slice::from_ref(op));
        let receipt = self
            .provider
            .send_transaction(request.with_gas_limit(gas))
            .await
            .map_err(SenderError::from_node)?
            .get_receipt()
            .await
            .map_err(|error| SenderError::Pending(Box::new(error)))?;
        let tx_hash = receipt.transaction_hash;
        if !receipt.status() {
            return Err(SenderError::BundleReverted(tx_hash));
        }
        receipt
            .logs()
            .iter()
            .find(|log| self.is_operation_event(log))
            .and_then(|log| log.topics().get(1).copied())
            .ok_or(SenderError::MissingUserOperationEvent(tx_hash))
    }

    /// Finds the operation's `UserOperationEvent` in the EntryPoint's logs, then reads the bundle
    /// transaction's receipt, as bundlers do.
    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        Ok(self.receipts(&[user_op_hash]).await?.remove(&user_op_hash))
    }
}
