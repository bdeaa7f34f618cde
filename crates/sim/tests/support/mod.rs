//! A delegated account with `SessionKeyValidator` installed, test tokens, and helpers to grant,
//! enable and use sessions on the embedded chain.

#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{
    CREATE2_DEPLOYER, Deployment, LEASH_SALT, SessionGrant, SessionKeyValidator,
    SessionKeyValidator::SessionKeyValidatorErrors, Target, TestToken, create2_address,
};
use leash_core::{
    calls::{Call, execute_calldata},
    grant::SessionGrantBuilder,
    outflow::{EXECUTE_USER_OP_SELECTOR, LimitedAssets, SessionCalls},
    permission::Permission,
    prepare::UnsignedOperation,
    sender::{SignedUserOperation, UserOperationSender},
    session_signature::{SessionAuth, session_nonce_key},
    session_signer::SessionKeyType,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    user_operation::{GasSettings, UserOperationBuilder, user_operation_hash},
};
use leash_sdk::service::{Included, ServiceError, SessionSend, StoredSession, submit};
use leash_sim::{
    AaCode, BundleOutcome, Chain, Execution, RevertReason, SimSender, UserOpOutcome, ready,
    walkthrough,
};

pub mod signers;

pub const ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);
pub const TOKENS: U256 = ETH;
pub const RECIPIENT: Address =
    alloy_primitives::address!("0x000000000000000000000000000000000000beef");

pub struct Setup {
    pub chain: Chain,
    pub owner: PrivateKeySigner,
    pub account: Address,
    pub key: PrivateKeySigner,
    pub token: Address,
    pub target: Address,
    pub validator: Address,
}

impl Setup {
    /// A fresh chain; an EOA with 10 ETH and 1000 test tokens, delegated to `LeashAccount` with
    /// `SessionKeyValidator` installed; a session key.
    pub fn new() -> Self {
        let mut chain = Chain::new().expect("chain");
        let owner = key(0x11);
        let account = owner.address();
        chain
            .set_balance(account, ETH * U256::from(10))
            .expect("chain state");
        let installed =
            walkthrough::delegate_and_install_validator(&mut chain, &owner).expect("install");
        assert_eq!(
            installed.ops().expect("included")[0].execution,
            Execution::Succeeded
        );
        let token = Deployment::test_token().address();
        let mint = TestToken::mintCall {
            to: account,
            amount: TOKENS * U256::from(1000),
        };
        let minted = chain
            .transact(chain.bundler(), token, mint.abi_encode().into(), U256::ZERO)
            .expect("mint");
        assert!(minted.result.is_success());
        Self {
            chain,
            owner,
            account,
            key: key(0x22),
            token,
            target: Deployment::test_target().address(),
            validator: Deployment::session_key_validator().address(),
        }
    }

    /// A grant to `self.key` valid for an hour from now.
    pub fn grant(&self, permissions: impl IntoIterator<Item = Permission>) -> SessionGrant {
        self.grant_to(self.key.address(), permissions)
    }

    /// [`Setup::grant`] of an ERC-20 allowance of `tokens` whole test tokens, and nothing else.
    pub fn erc20_grant(&self, tokens: u64) -> SessionGrant {
        self.grant([Permission::Erc20TokenTransfer {
            address: self.token,
            allowance: TOKENS * U256::from(tokens),
            period: None,
        }])
    }

    pub fn grant_to(
        &self,
        session_key: Address,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> SessionGrant {
        let now = self.chain.timestamp();
        SessionGrantBuilder::new(self.account, session_key, self.validator)
            .valid_until(now + 3600)
            .permissions(permissions)
            .build(now)
            .expect("valid grant")
    }

    pub fn session_id(&self, grant: &SessionGrant) -> B256 {
        self.chain.grant_domain().session_id(grant)
    }

    /// `grant`'s session as leash-sdk keeps it, with the owner's signature.
    pub fn stored_session(&self, grant: &SessionGrant, label: &str) -> StoredSession {
        let domain = self.chain.grant_domain();
        StoredSession {
            session_id: domain.session_id(grant),
            session_key: grant.sessionKey,
            key_type: SessionKeyType::Secp256k1,
            account: self.account,
            chain_id: domain.chain_id,
            validator: domain.validator,
            grant: GrantRecord::new(grant, Some(self.owner_signature(grant)))
                .expect("a known grant"),
            created_at: 0,
            expires_at: grant.validUntil.to(),
            label: label.into(),
        }
    }

    /// `grant`'s session in `status` on chain, opened for sending as leash-sdk opens a stored one
    /// (an `Unused` one sends the lazy form, grant and owner signature along).
    pub fn session_send(&self, grant: &SessionGrant, status: OnChainStatus) -> SessionSend {
        let session = self.stored_session(grant, "rules");
        let state = SessionState {
            status,
            validator_installed: true,
            budgets: vec![],
        };
        SessionSend::with_state(session, self.chain.grant_domain(), state).expect("opens")
    }

    /// `calls` prepared through `send`, which must give them the balance-checked form (whose
    /// execution phase settles what validation could not charge), signed by the session key and
    /// submitted; what the included operation did, as `leash send` reports it.
    pub fn send_checked(
        &mut self,
        send: &SessionSend,
        calls: &[Call],
    ) -> Result<Included, ServiceError> {
        let sender = SimSender::new(&mut self.chain);
        let fees = sender.fees();
        let unsigned = ready(send.prepare(&sender, calls, fees))?;
        assert_eq!(
            &unsigned.op.operation.callData[..4],
            EXECUTE_USER_OP_SELECTOR.as_slice(),
            "the balance-checked form"
        );
        let signature = self
            .key
            .sign_hash_sync(&unsigned.user_op_hash)
            .expect("signs");
        let prepared = send.attach(unsigned, &signature.as_bytes())?;
        let hash = ready(submit(&sender, &prepared, Some(&send.state)))?;
        let receipt = ready(sender.receipt(hash))
            .expect("receipt")
            .expect("included");
        Ok(Included::new(receipt, calls))
    }

    /// `calls` as `send`'s balance-checked operation with fixed gas limits, signed by the session
    /// key and submitted without leash's estimate, as a bundler that does not simulate would
    /// include it: the on-chain side of an execution-phase refusal, which leash's own estimate
    /// reports before anything is sent.
    pub fn send_unestimated(&mut self, send: &SessionSend, calls: &[Call]) -> Included {
        let sender = SimSender::new(&mut self.chain);
        let permissions = &send.session.grant.permissions;
        let session_calls = SessionCalls {
            calls,
            limits: &LimitedAssets::of(permissions),
            permissions,
        };
        let rules = session_calls
            .rule_attachments(send.session.session_id, self.account)
            .expect("rules");
        let call_data = session_calls.call_data(&rules).expect("calldata");
        let nonce_key = session_nonce_key(send.domain.validator, send.session.session_id);
        let nonce = ready(sender.nonce(self.account, nonce_key)).expect("nonce");
        let op = UserOperationBuilder::new(self.account)
            .nonce(nonce)
            .call_data(call_data)
            .gas(GasSettings::default())
            .build()
            .expect("operation");
        let user_op_hash =
            user_operation_hash(&op, sender.entry_point(), send.domain.chain_id, None)
                .expect("hashes");
        let signature = self.key.sign_hash_sync(&user_op_hash).expect("signs");
        let unsigned = UnsignedOperation {
            op: SignedUserOperation::new(op),
            user_op_hash,
        };
        let prepared = send
            .attach(unsigned, &signature.as_bytes())
            .expect("attaches");
        let hash = ready(submit(&sender, &prepared, Some(&send.state))).expect("submitted");
        let receipt = ready(sender.receipt(hash))
            .expect("receipt")
            .expect("included");
        Included::new(receipt, calls)
    }

    pub fn owner_signature(&self, grant: &SessionGrant) -> Bytes {
        self.chain
            .grant_domain()
            .sign(&self.owner, grant)
            .expect("sign grant")
    }

    /// Enables `grant` with an owner-signed UserOperation calling `enableSession`.
    pub fn enable(&mut self, grant: &SessionGrant) -> B256 {
        let call = SessionKeyValidator::enableSessionCall {
            grant: grant.into(),
        };
        let outcome = self.owner_calls(&[Call {
            to: self.validator,
            value: U256::ZERO,
            data: call.abi_encode().into(),
        }]);
        assert_eq!(
            executed(&outcome).execution,
            Execution::Succeeded,
            "{outcome:?}"
        );
        self.session_id(grant)
    }

    /// An owner operation making `calls`, prepared and sent as `leash send` does.
    pub fn owner_calls(&mut self, calls: &[Call]) -> BundleOutcome {
        let call_data = execute_calldata(calls).expect("calldata");
        SimSender::new(&mut self.chain)
            .owner_operation(&self.owner, call_data, None)
            .expect("owner operation")
    }

    /// The `Enabled` authorization of `grant`'s session.
    pub fn enabled(&self, grant: &SessionGrant) -> SessionAuth<'static> {
        SessionAuth::Enabled {
            session_id: self.session_id(grant),
            root: is_root(grant),
        }
    }

    /// An operation of `self.key` under `auth`, prepared (estimated and signed) but not sent.
    /// The grant's limits are known from a lazy `auth` only: an enabled one is taken to limit no
    /// asset (tests that need the balance-checked form use [`Setup::send`], which has the grant).
    pub fn prepare(&mut self, auth: &SessionAuth<'_>, calls: &[Call]) -> SignedUserOperation {
        let key = self.key.clone();
        SimSender::new(&mut self.chain)
            .prepare_session(self.account, &key, auth, &limits_of(auth), calls)
            .expect("session operation prepared")
            .op
    }

    /// Sends an operation made with [`Setup::prepare`].
    pub fn send_prepared(&mut self, op: &SignedUserOperation) -> BundleOutcome {
        SimSender::new(&mut self.chain)
            .send_operation(op)
            .expect("handleOps")
    }

    /// An operation of `key` under `auth`, prepared and sent; a rejection is an outcome. Limits as
    /// in [`Setup::prepare`].
    pub fn send_as(
        &mut self,
        key: &PrivateKeySigner,
        auth: &SessionAuth<'_>,
        calls: &[Call],
    ) -> BundleOutcome {
        self.send_limited(key, auth, &limits_of(auth), calls)
    }

    fn send_limited(
        &mut self,
        key: &PrivateKeySigner,
        auth: &SessionAuth<'_>,
        limits: &LimitedAssets,
        calls: &[Call],
    ) -> BundleOutcome {
        SimSender::new(&mut self.chain)
            .session_operation(self.account, key, auth, limits, calls)
            .expect("session operation")
    }

    /// A first operation by `self.key` that enables `grant` lazily.
    pub fn send_lazily(&mut self, grant: &SessionGrant, calls: &[Call]) -> BundleOutcome {
        let owner_signature = self.owner_signature(grant);
        let auth = SessionAuth::Lazy {
            grant,
            owner_signature: &owner_signature,
        };
        self.send_as(&self.key.clone(), &auth, calls)
    }

    /// An operation by `self.key` for an enabled session (balance-checked when its calls need it).
    pub fn send(&mut self, grant: &SessionGrant, calls: &[Call]) -> BundleOutcome {
        let auth = self.enabled(grant);
        self.send_limited(
            &self.key.clone(),
            &auth,
            &LimitedAssets::of_grant(grant),
            calls,
        )
    }

    pub fn token_balance(&mut self, holder: Address) -> U256 {
        self.chain
            .erc20_balance(self.token, holder)
            .expect("balanceOf")
    }

    pub fn transfer_tokens(&self, to: Address, amount: U256) -> Call {
        erc20_call(
            self.token,
            leash_bindings::IERC20::transferCall { to, amount }.abi_encode(),
        )
    }

    /// `Target.pay(to, amount)`: a call whose recipient is its argument 0, as a policy's config
    /// names it.
    pub fn pay(&self, to: Address, amount: U256) -> Call {
        Call {
            to: self.target,
            value: U256::ZERO,
            data: Target::payCall { _0: to, _1: amount }.abi_encode().into(),
        }
    }

    /// A contract (a policy) deployed through the CREATE2 deployer, as leash's own contracts are.
    pub fn deploy(&mut self, init_code: &Bytes) -> Address {
        let deployed = self
            .chain
            .transact(
                self.chain.bundler(),
                CREATE2_DEPLOYER,
                [LEASH_SALT.as_slice(), init_code].concat().into(),
                U256::ZERO,
            )
            .expect("deploys");
        assert!(deployed.result.is_success(), "{:?}", deployed.result);
        create2_address(LEASH_SALT, init_code)
    }

    pub fn ping(&self) -> Call {
        Call {
            to: self.target,
            value: U256::ZERO,
            data: Target::pingCall {}.abi_encode().into(),
        }
    }
}

/// The limits a session's `auth` shows: a lazy one carries its grant, an enabled one nothing.
fn limits_of(auth: &SessionAuth<'_>) -> LimitedAssets {
    match auth {
        SessionAuth::Lazy { grant, .. } => LimitedAssets::of_grant(grant),
        SessionAuth::Enabled { .. } => LimitedAssets::default(),
    }
}

pub fn key(seed: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&[seed; 32].into()).expect("valid key")
}

pub fn erc20_call(token: Address, data: Vec<u8>) -> Call {
    Call {
        to: token,
        value: U256::ZERO,
        data: data.into(),
    }
}

fn is_root(grant: &SessionGrant) -> bool {
    grant
        .permissions
        .iter()
        .any(|p| p.permissionType == leash_bindings::PermissionType::Root)
}

/// The one UserOperation of an included bundle, which must have executed.
pub fn executed(outcome: &BundleOutcome) -> &UserOpOutcome {
    let ops = outcome
        .ops()
        .unwrap_or_else(|| panic!("bundle not included: {outcome:?}"));
    assert_eq!(ops[0].execution, Execution::Succeeded, "{outcome:?}");
    &ops[0]
}

/// The validator's error that made the EntryPoint reject the bundle with AA23.
pub fn denial(outcome: &BundleOutcome) -> SessionKeyValidatorErrors {
    let rejection = outcome
        .rejection()
        .unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code, AaCode::ACCOUNT_REVERTED, "{rejection:?}");
    match rejection.inner_reason() {
        Some(RevertReason::Validator(error)) => error,
        other => panic!("not a validator error: {other:?}"),
    }
}

/// The EntryPoint's code for a bundle rejected without a revert from the account.
pub fn rejection_code(outcome: &BundleOutcome) -> AaCode {
    outcome
        .rejection()
        .unwrap_or_else(|| panic!("not rejected: {outcome:?}"))
        .code
}
