//! The in-process chain as a [`UserOperationSender`], so operations reach it the way `leash send`
//! gets them to a node: nonce from the EntryPoint, an estimate with the placeholder signature,
//! limits with leash-core's margin, then the real signature.

use crate::{
    BundleOutcome, Chain, SimError,
    chain::{BASE_FEE, Commit},
};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use alloy_transport::TransportErrorKind;
use leash_bindings::{Deployment, EntryPoint::UserOperationEvent};
use leash_core::{
    calls::Call,
    eip7702::{delegate_of, sign_authorization},
    gas_estimate::{execution_call, user_operation_gas, validate_user_op_call},
    gas_probe::{Probed, measured_in_one_call, probe_call, probed},
    outflow::{LimitedAssets, SessionCalls},
    prepare::{Fees, PreparedOperation, prepare_owner_operation, prepare_session_operation},
    receipt::user_operation_receipt,
    rejection::{AaCode, EntryPointRejection},
    rpc_types::{UserOperationGasEstimate, UserOperationReceipt},
    sender::{SenderError, SignedUserOperation, UserOperationSender},
    session_signature::SessionAuth,
    user_operation::user_operation_hash,
};
use std::{
    future::{Future, IntoFuture},
    ops::{Deref, DerefMut},
    pin::pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    task::{Context, Poll, Waker},
};

/// Sends UserOperations to a [`Chain`], one `handleOps` bundle each, from the chain's bundler.
///
/// Like leash-sdk's `DirectSender`, it estimates by running the account's `validateUserOp` and
/// its `callData` as the EntryPoint (without committing), and sends only what passes validation:
/// a validator's revert comes back as [`SenderError::Rejected`] (`AA23` with the validator's
/// error), a revert of the account's calls in the estimate as [`SenderError::Reverted`].
#[derive(Debug)]
pub struct SimSender<'a> {
    chain: Held<'a>,
}

/// The chain a sender sends to: borrowed for the sender's life (a test, the demo), or shared
/// with other holders (a server's request handlers and its bundling task).
#[derive(Debug)]
enum Held<'a> {
    Borrowed(Mutex<&'a mut Chain>),
    Shared(Arc<Mutex<Chain>>),
}

/// The locked chain, whichever way it is held.
enum Locked<'g, 'a> {
    Borrowed(MutexGuard<'g, &'a mut Chain>),
    Shared(MutexGuard<'g, Chain>),
}

impl Deref for Locked<'_, '_> {
    type Target = Chain;

    fn deref(&self) -> &Chain {
        match self {
            Self::Borrowed(chain) => chain,
            Self::Shared(chain) => chain,
        }
    }
}

impl DerefMut for Locked<'_, '_> {
    fn deref_mut(&mut self) -> &mut Chain {
        match self {
            Self::Borrowed(chain) => chain,
            Self::Shared(chain) => chain,
        }
    }
}

impl<'a> SimSender<'a> {
    /// Sends to `chain` until dropped.
    pub fn new(chain: &'a mut Chain) -> Self {
        Self {
            chain: Held::Borrowed(Mutex::new(chain)),
        }
    }

    /// The fees operations offer here: what the chain's bundle transactions pay per gas.
    pub fn fees(&self) -> Fees {
        Fees {
            max_fee_per_gas: u128::from(BASE_FEE) * 2,
            max_priority_fee_per_gas: u128::from(BASE_FEE),
        }
    }

    /// `owner`'s EIP-7702 authorization delegating its EOA to `LeashAccount`, at its current
    /// account nonce.
    pub fn authorize(&self, owner: &PrivateKeySigner) -> Result<SignedAuthorization, SimError> {
        let chain = self.lock();
        let nonce = chain.nonce(owner.address())?;
        let delegate = Deployment::leash_account().address();
        Ok(sign_authorization(
            owner,
            chain.chain_id(),
            delegate,
            nonce,
        )?)
    }

    /// An owner operation with raw account calldata, prepared by leash-core as `leash send` does;
    /// with `authorization`, it also delegates the EOA to `LeashAccount`.
    pub fn prepare_owner(
        &self,
        owner: &PrivateKeySigner,
        call_data: Bytes,
        authorization: Option<SignedAuthorization>,
    ) -> Result<PreparedOperation, SenderError> {
        let delegate = Deployment::leash_account().address();
        let fees = self.fees();
        ready(prepare_owner_operation(
            self,
            owner,
            call_data,
            authorization,
            delegate,
            fees,
        ))
    }

    /// A session operation of `account` making `calls`, prepared by leash-core as `leash send`
    /// does; `limits` are the assets the session's grant limits (they decide whether the
    /// operation takes the balance-checked form). The calls carry no argument rules: a session
    /// with ruled permissions is prepared through leash-sdk's `SessionSend`, which has its grant.
    pub fn prepare_session(
        &self,
        account: Address,
        session_key: &PrivateKeySigner,
        auth: &SessionAuth<'_>,
        limits: &LimitedAssets,
        calls: &[Call],
    ) -> Result<PreparedOperation, SenderError> {
        let domain = self.lock().grant_domain();
        let fees = self.fees();
        ready(prepare_session_operation(
            self,
            &domain,
            account,
            session_key,
            auth,
            SessionCalls {
                calls,
                limits,
                permissions: &[],
            },
            fees,
        ))
    }

    /// Sends `op` alone in a bundle and reports the whole outcome. A bundle the EntryPoint
    /// rejects changes nothing, as a bundler that simulates before sending never sends it.
    pub fn send_operation(&self, op: &SignedUserOperation) -> Result<BundleOutcome, SimError> {
        self.send_bundle(std::slice::from_ref(op))
    }

    /// Sends `ops` in one bundle, in order, every authorization they carry in its transaction,
    /// and reports the whole outcome; a rejected bundle changes nothing, as in
    /// [`SimSender::send_operation`], and its rejection names the operation by index.
    pub fn send_bundle(&self, ops: &[SignedUserOperation]) -> Result<BundleOutcome, SimError> {
        let authorizations = ops
            .iter()
            .filter_map(|op| op.authorization.clone())
            .collect();
        let ops = ops.iter().map(|op| op.operation.clone()).collect();
        self.lock()
            .run_bundle(ops, authorizations, Commit::UnlessRejected)
    }

    /// Prepares (with [`SimSender::prepare_owner`]) and sends an owner operation; a rejection,
    /// in the estimate or in the bundle, is an outcome.
    pub fn owner_operation(
        &self,
        owner: &PrivateKeySigner,
        call_data: Bytes,
        authorization: Option<SignedAuthorization>,
    ) -> Result<BundleOutcome, SimError> {
        self.deliver(self.prepare_owner(owner, call_data, authorization))
    }

    /// Prepares (with [`SimSender::prepare_session`]) and sends a session operation; a
    /// rejection, in the estimate or in the bundle, is an outcome.
    pub fn session_operation(
        &self,
        account: Address,
        session_key: &PrivateKeySigner,
        auth: &SessionAuth<'_>,
        limits: &LimitedAssets,
        calls: &[Call],
    ) -> Result<BundleOutcome, SimError> {
        self.deliver(self.prepare_session(account, session_key, auth, limits, calls))
    }

    fn deliver(
        &self,
        prepared: Result<PreparedOperation, SenderError>,
    ) -> Result<BundleOutcome, SimError> {
        match prepared {
            Ok(prepared) => self.send_operation(&prepared.op),
            Err(SenderError::Rejected(rejection)) => Ok(BundleOutcome::Rejected(rejection)),
            Err(error) => Err(SimError::Sender(error)),
        }
    }

    fn lock(&self) -> Locked<'_, 'a> {
        // A panic while holding the lock leaves no half-written state: revm commits whole
        // transactions or nothing.
        match &self.chain {
            Held::Borrowed(chain) => {
                Locked::Borrowed(chain.lock().unwrap_or_else(PoisonError::into_inner))
            }
            Held::Shared(chain) => {
                Locked::Shared(chain.lock().unwrap_or_else(PoisonError::into_inner))
            }
        }
    }
}

impl SimSender<'static> {
    /// Sends to a chain others hold too; each call locks it only for its own duration, so the
    /// holders take turns operation by operation.
    pub fn shared(chain: Arc<Mutex<Chain>>) -> Self {
        Self {
            chain: Held::Shared(chain),
        }
    }
}

impl UserOperationSender for SimSender<'_> {
    fn entry_point(&self) -> Address {
        Deployment::entry_point().address()
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        Ok(self.lock().chain_id())
    }

    async fn nonce(&self, sender: Address, key: U256) -> Result<U256, SenderError> {
        self.lock()
            .entry_point_nonce(sender, key)
            .map_err(infrastructure)
    }

    /// Runs `validateUserOp` and then `callData` as the EntryPoint, with the operation's
    /// authorization applied first, and turns the gas they spent into limits with leash-core's
    /// [`user_operation_gas`], exactly as `DirectSender` does on a node: a balance-checked
    /// operation in one transaction through `EntryPointProbe` (its execution needs what its
    /// validation leaves in transient storage), any other in two.
    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        let mut chain = self.lock();
        let account = op.operation.sender;
        let delegate = match &op.authorization {
            Some(authorization) => Some(authorization.address),
            None => delegate_of(&chain.code(account).map_err(infrastructure)?),
        };
        let user_op_hash = user_operation_hash(
            &op.operation,
            self.entry_point(),
            chain.chain_id(),
            delegate,
        )?;
        let (validation_gas, call_gas) = if measured_in_one_call(&op.operation) {
            measure_together(&chain, op, user_op_hash)?
        } else {
            measure_apart(&mut chain, op, user_op_hash)?
        };
        Ok(user_operation_gas(
            op,
            chain.bundler(),
            validation_gas,
            call_gas,
        ))
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        let tx_hash = self.lock().next_bundle_tx_hash().map_err(infrastructure)?;
        match self.send_operation(op).map_err(infrastructure)? {
            BundleOutcome::Included { ops, .. } => ops
                .first()
                .map(|included| included.user_op_hash)
                .ok_or(SenderError::MissingUserOperationEvent(tx_hash)),
            BundleOutcome::Rejected(rejection) => Err(SenderError::Rejected(rejection)),
            BundleOutcome::Failed(_) => Err(SenderError::BundleReverted(tx_hash)),
        }
    }

    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        let chain = self.lock();
        let Some(receipt) = chain.bundle_receipt(user_op_hash) else {
            return Ok(None);
        };
        let entry_point = self.entry_point();
        let event_log = receipt.logs().iter().find(|log| {
            log.address() == entry_point
                && log.topic0() == Some(&UserOperationEvent::SIGNATURE_HASH)
                && log.topics().get(1) == Some(&user_op_hash)
        });
        match event_log {
            Some(event_log) => {
                user_operation_receipt(receipt.clone(), event_log, entry_point).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// The gas of `op`'s validation and of its execution, each in a transaction of its own.
fn measure_apart(
    chain: &mut Chain,
    op: &SignedUserOperation,
    user_op_hash: B256,
) -> Result<(u64, u64), SenderError> {
    let account = op.operation.sender;
    let validate = validate_user_op_call(&op.operation, user_op_hash).abi_encode();
    let validation_gas = chain
        .measure_from_entry_point(account, validate.into(), op.authorization.clone())
        .map_err(infrastructure)?
        .map_err(validation_reverted)?;
    let call_data = execution_call(&op.operation, user_op_hash);
    let call_gas = chain
        .measure_from_entry_point(account, call_data, op.authorization.clone())
        .map_err(infrastructure)?
        .map_err(SenderError::Reverted)?;
    Ok((validation_gas, call_gas))
}

/// The gas of `op`'s validation and of its execution, one after the other in the probe.
fn measure_together(
    chain: &Chain,
    op: &SignedUserOperation,
    user_op_hash: B256,
) -> Result<(u64, u64), SenderError> {
    let call = probe_call(&op.operation, user_op_hash);
    let output = chain
        .probe_from_entry_point(&call, op.authorization.clone())
        .map_err(infrastructure)?;
    match probed(&call, &output)? {
        Probed::Measured {
            validation_gas,
            call_gas,
        } => Ok((validation_gas, call_gas)),
        Probed::ValidationReverted(inner) => Err(validation_reverted(inner)),
        Probed::ExecutionReverted(data) => Err(SenderError::Reverted(data)),
    }
}

/// `validateUserOp` reverting, as the EntryPoint reports it.
fn validation_reverted(inner: Bytes) -> SenderError {
    SenderError::Rejected(EntryPointRejection {
        op_index: 0,
        code: AaCode::ACCOUNT_REVERTED,
        reason: "AA23 reverted".to_owned(),
        inner: Some(inner),
    })
}

/// The chain failing is the sim's counterpart of a node that cannot answer.
fn infrastructure(error: SimError) -> SenderError {
    SenderError::Transport(TransportErrorKind::custom(error))
}

/// Drives a future that awaits only [`SimSender`] (such as leash-core's `prepare_*`) to its end,
/// outside any async runtime. The chain is in this process, so such futures never wait: the
/// first poll finishes them (a future that does wait is polled again until it is done).
pub fn ready<F: IntoFuture>(future: F) -> F::Output {
    let mut future = pin!(future.into_future());
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}
