//! Scripted flows on a [`Chain`], shared by `leash demo` and the tests, so that what the demo shows
//! is exactly what the tests check. Every UserOperation goes the road `leash send` takes on a
//! node: prepared by leash-core through a [`SimSender`] (nonce, estimate, margin, signature).

use crate::{BundleOutcome, Chain, SimError, SimSender};
use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, U256, uint};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, IERC20, SessionGrant, SessionKeyValidator, TestToken};
use leash_core::{
    calls::{Call, execute_calldata, install_validator_calldata},
    eip7702::delegate_of,
    grant::SessionGrantBuilder,
    outflow::LimitedAssets,
    permission::Permission,
    recurring::{DAY, RecurringPeriod},
    revert_reason::RevertReason,
    sender::SenderError,
    session_signature::SessionAuth,
};

/// Native balances of the parties of a flow at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    /// The delegated EOA.
    pub owner: U256,
    /// The receiver of the transfer.
    pub recipient: U256,
    /// The bundler, who pays the transaction and is paid by the EntryPoint.
    pub bundler: U256,
    /// The owner's deposit in the EntryPoint, where the unused part of a prefund stays.
    pub owner_deposit: U256,
}

/// What happened when an EOA delegated to `LeashAccount` and sent its first UserOperation, both in
/// one bundle transaction.
#[derive(Debug)]
pub struct OwnerTransfer {
    /// The EOA.
    pub owner: Address,
    /// The receiver of the native transfer.
    pub recipient: Address,
    /// The amount sent, in wei.
    pub amount: U256,
    /// The EIP-7702 authorization the owner signed.
    pub authorization: SignedAuthorization,
    /// The EntryPoint's hash of the UserOperation.
    pub user_op_hash: B256,
    /// The bundle's outcome.
    pub outcome: BundleOutcome,
    /// The owner's delegate after the bundle (`LeashAccount` on success).
    pub delegate_after: Option<Address>,
    /// Balances before the bundle.
    pub before: Balances,
    /// Balances after the bundle.
    pub after: Balances,
}

/// Delegates `owner`'s EOA to `LeashAccount` with an EIP-7702 authorization carried in the bundle
/// transaction, and in the same bundle sends `amount` to `recipient` with an owner-signed
/// UserOperation (its `initCode` is the EIP-7702 marker, so its hash commits to the delegate).
pub fn owner_transfer(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
    recipient: Address,
    amount: U256,
) -> Result<OwnerTransfer, SimError> {
    let account = owner.address();
    let call_data = execute_calldata(&[Call::transfer(recipient, amount)])?;
    let (authorization, prepared) = {
        let sender = SimSender::new(chain);
        let authorization = sender.authorize(owner)?;
        let prepared = sender.prepare_owner(owner, call_data, Some(authorization.clone()))?;
        (authorization, prepared)
    };

    let balances = |chain: &mut Chain| -> Result<Balances, SimError> {
        Ok(Balances {
            owner: chain.balance(account)?,
            recipient: chain.balance(recipient)?,
            bundler: chain.balance(chain.bundler())?,
            owner_deposit: chain.entry_point_deposit(account)?,
        })
    };
    let before = balances(chain)?;
    let outcome = SimSender::new(chain).send_operation(&prepared.op)?;
    Ok(OwnerTransfer {
        owner: account,
        recipient,
        amount,
        authorization,
        user_op_hash: prepared.user_op_hash,
        outcome,
        delegate_after: delegate_of(&chain.code(account)?),
        before,
        after: balances(chain)?,
    })
}

/// Delegates `owner`'s EOA to `LeashAccount` and installs `SessionKeyValidator` in one
/// UserOperation (the authorization travels in the same bundle transaction).
pub fn delegate_and_install_validator(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
) -> Result<BundleOutcome, SimError> {
    let sender = SimSender::new(chain);
    let authorization = sender.authorize(owner)?;
    sender.owner_operation(owner, install_validator_calldata(), Some(authorization))
}

/// Test tokens (18 decimals) minted to the account in [`session_story`].
pub const STORY_MINTED: U256 = uint!(1_000_000_000_000_000_000_000_U256);
/// The session's ERC-20 allowance in [`session_story`]: 100 tokens.
pub const STORY_ALLOWANCE: U256 = uint!(100_000_000_000_000_000_000_U256);
/// The spend within the allowance: 60 tokens.
pub const STORY_WITHIN: U256 = uint!(60_000_000_000_000_000_000_U256);
/// The spend beyond what is left (40): 50 tokens.
pub const STORY_BEYOND: U256 = uint!(50_000_000_000_000_000_000_U256);
/// The spend after revocation, within what is left: 10 tokens.
pub const STORY_AFTER_REVOKE: U256 = uint!(10_000_000_000_000_000_000_U256);
/// How long the story's session lasts, in seconds.
pub const STORY_SESSION_SECONDS: u64 = 3600;

/// One attempt of the session key to send test tokens.
#[derive(Debug)]
pub struct SessionSpend {
    /// Tokens asked for, in base units.
    pub amount: U256,
    /// The bundle's outcome: included, or rejected with the rule that said no.
    pub outcome: BundleOutcome,
}

/// The whole life of a scoped session, as [`session_story`] played it.
#[derive(Debug)]
pub struct SessionStory {
    /// The delegated EOA.
    pub account: Address,
    /// The session key's address.
    pub session_key: Address,
    /// The test token the session may spend.
    pub token: Address,
    /// Who receives the tokens.
    pub recipient: Address,
    /// Delegation and installation of `SessionKeyValidator`, in one UserOperation.
    pub delegation: BundleOutcome,
    /// The grant the owner signed.
    pub grant: SessionGrant,
    /// Its session id.
    pub session_id: B256,
    /// A spend within the allowance, which also enables the session (lazy form).
    pub within: SessionSpend,
    /// What is left of the allowance after it (`getRemaining`).
    pub remaining_after_within: U256,
    /// A spend beyond what is left.
    pub beyond: SessionSpend,
    /// The owner's UserOperation revoking the session.
    pub revocation: BundleOutcome,
    /// A spend within what was left, after revocation.
    pub after_revocation: SessionSpend,
    /// The recipient's token balance at the end.
    pub recipient_tokens: U256,
}

/// Delegates `owner`'s funded EOA and installs `SessionKeyValidator`; mints it test tokens; grants
/// `session_key` an ERC-20 allowance of [`STORY_ALLOWANCE`] for [`STORY_SESSION_SECONDS`]; spends
/// [`STORY_WITHIN`] with the lazy enable form; tries [`STORY_BEYOND`] (denied: allowance); the
/// owner revokes; tries [`STORY_AFTER_REVOKE`] (denied: the session is gone).
pub fn session_story(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
    session_key: &PrivateKeySigner,
    recipient: Address,
) -> Result<SessionStory, SimError> {
    let account = owner.address();
    let token = Deployment::test_token().address();
    let validator = Deployment::session_key_validator().address();
    let delegation = delegate_and_install_validator(chain, owner)?;
    let mint = TestToken::mintCall {
        to: account,
        amount: STORY_MINTED,
    };
    chain.transact(chain.bundler(), token, mint.abi_encode().into(), U256::ZERO)?;

    let allowance = Permission::Erc20TokenTransfer {
        address: token,
        allowance: STORY_ALLOWANCE,
        period: None,
    };
    let signed = SignedGrant::new(chain, owner, session_key, allowance, STORY_SESSION_SECONDS)?;
    let session_id = signed.session_id;
    let spender = TokenSpender::new(account, session_key, token, recipient, &signed.grant);
    let enabled = signed.enabled();
    let within = spender.spend(chain, &signed.lazy(), STORY_WITHIN)?;
    let remaining_after_within = chain.call(
        validator,
        SessionKeyValidator::getRemainingCall {
            account,
            sessionId: session_id,
            permissionType: leash_bindings::PermissionType::Erc20TokenTransfer.into(),
            token,
        },
    )?;
    let beyond = spender.spend(chain, &enabled, STORY_BEYOND)?;
    let revoke = Call {
        to: validator,
        value: U256::ZERO,
        data: SessionKeyValidator::revokeSessionCall {
            grant: (&signed.grant).into(),
        }
        .abi_encode()
        .into(),
    };
    let revocation =
        SimSender::new(chain).owner_operation(owner, execute_calldata(&[revoke])?, None)?;
    let after_revocation = spender.spend(chain, &enabled, STORY_AFTER_REVOKE)?;
    let recipient_tokens = chain.erc20_balance(token, recipient)?;
    Ok(SessionStory {
        account,
        session_key: session_key.address(),
        token,
        recipient,
        delegation,
        grant: signed.grant,
        session_id,
        within,
        remaining_after_within,
        beyond,
        revocation,
        after_revocation,
        recipient_tokens,
    })
}

/// A scoped grant the owner signed, and the two ways its key's operations prove it.
struct SignedGrant {
    grant: SessionGrant,
    session_id: B256,
    owner_signature: Bytes,
}

impl SignedGrant {
    /// `owner`'s grant of `permission` to `session_key`, for `seconds` from the chain's clock.
    fn new(
        chain: &Chain,
        owner: &PrivateKeySigner,
        session_key: &PrivateKeySigner,
        permission: Permission,
        seconds: u64,
    ) -> Result<Self, SimError> {
        let validator = Deployment::session_key_validator().address();
        let now = chain.timestamp();
        let grant = SessionGrantBuilder::new(owner.address(), session_key.address(), validator)
            .valid_until(now + seconds)
            .permission(permission)
            .build(now)?;
        let domain = chain.grant_domain();
        Ok(Self {
            session_id: domain.session_id(&grant),
            owner_signature: domain.sign(owner, &grant)?,
            grant,
        })
    }

    /// The first use: the grant and the owner's signature ride along and enable the session.
    fn lazy(&self) -> SessionAuth<'_> {
        SessionAuth::Lazy {
            grant: &self.grant,
            owner_signature: &self.owner_signature,
        }
    }

    /// Any later use: the session id alone.
    fn enabled(&self) -> SessionAuth<'static> {
        SessionAuth::Enabled {
            session_id: self.session_id,
            root: false,
        }
    }
}

/// The session key of a flow sending test tokens to one recipient, as `leash send` does.
struct TokenSpender<'a> {
    account: Address,
    session_key: &'a PrivateKeySigner,
    token: Address,
    recipient: Address,
    /// What the session's grant limits, which decides the calldata form.
    limits: LimitedAssets,
}

impl<'a> TokenSpender<'a> {
    fn new(
        account: Address,
        session_key: &'a PrivateKeySigner,
        token: Address,
        recipient: Address,
        grant: &SessionGrant,
    ) -> Self {
        Self {
            account,
            session_key,
            token,
            recipient,
            limits: LimitedAssets::of_grant(grant),
        }
    }

    /// A `transfer` of `amount` tokens under `auth`, prepared and sent; a rejection is an outcome.
    fn spend(
        &self,
        chain: &mut Chain,
        auth: &SessionAuth<'_>,
        amount: U256,
    ) -> Result<SessionSpend, SimError> {
        let outcome = SimSender::new(chain).session_operation(
            self.account,
            self.session_key,
            auth,
            &self.limits,
            &[self.transfer(amount)],
        )?;
        Ok(SessionSpend { amount, outcome })
    }

    /// A `transfer` of `amount` tokens under `auth`, prepared only: the estimate runs its
    /// validation and execution, and an execution-phase refusal stops it there, unsent.
    fn try_estimate(
        &self,
        chain: &mut Chain,
        auth: &SessionAuth<'_>,
        amount: U256,
    ) -> Result<EstimatedSpend, SimError> {
        let prepared = SimSender::new(chain).prepare_session(
            self.account,
            self.session_key,
            auth,
            &self.limits,
            &[self.transfer(amount)],
        );
        let refusal = match prepared {
            Ok(_) => None,
            Err(SenderError::Reverted(data)) => Some(RevertReason::decode(&data)),
            Err(error) => return Err(error.into()),
        };
        Ok(EstimatedSpend { amount, refusal })
    }

    fn transfer(&self, amount: U256) -> Call {
        Call {
            to: self.token,
            value: U256::ZERO,
            data: IERC20::transferCall {
                to: self.recipient,
                amount,
            }
            .abi_encode()
            .into(),
        }
    }
}

/// A spend leash's estimate was asked about and nothing was sent.
#[derive(Debug)]
pub struct EstimatedSpend {
    /// Tokens asked for, in base units.
    pub amount: U256,
    /// Why the estimate refused it (its execution reverting), or `None` if it would have gone
    /// through.
    pub refusal: Option<RevertReason>,
}

/// How long the session of [`recurring_story`] lasts: long enough to see a day turn.
pub const RECURRING_SESSION_SECONDS: u64 = 3 * DAY;

/// A daily allowance's two days, as [`recurring_story`] played them.
#[derive(Debug)]
pub struct RecurringStory {
    /// The grant the owner signed: [`STORY_ALLOWANCE`] tokens a day.
    pub grant: SessionGrant,
    /// Its session id.
    pub session_id: B256,
    /// A spend within the day's amount, which also enables the session (lazy form).
    pub within: SessionSpend,
    /// What is left of the day's amount after it (`getAllowance`).
    pub remaining_after_within: U256,
    /// When the day ends, unix seconds (`getAllowance`).
    pub resets_at: u64,
    /// A spend beyond the day's rest, refused by the estimate: its execution reverts with
    /// `RecurringAllowanceExceeded`, so it is never sent.
    pub beyond: EstimatedSpend,
    /// The same spend once the chain's clock has passed `resets_at`.
    pub after_reset: SessionSpend,
    /// What is left of the new day's amount after it.
    pub remaining_after_reset: U256,
    /// The recipient's token balance at the end.
    pub recipient_tokens: U256,
}

/// After [`session_story`] (the account delegated, with test tokens): grants `session_key`
/// [`STORY_ALLOWANCE`] tokens a day (a recurring allowance, resetting at 00:00 UTC) for
/// [`RECURRING_SESSION_SECONDS`]; spends [`STORY_WITHIN`] (lazy enable); tries [`STORY_BEYOND`],
/// which validation passes (it is within the day's amount) but the execution phase, which reads
/// the clock, refuses, so the estimate (running both) stops it before it is signed; warps the chain's clock to the reset; spends [`STORY_BEYOND`] again.
pub fn recurring_story(
    chain: &mut Chain,
    owner: &PrivateKeySigner,
    session_key: &PrivateKeySigner,
    recipient: Address,
) -> Result<RecurringStory, SimError> {
    let account = owner.address();
    let token = Deployment::test_token().address();
    let validator = Deployment::session_key_validator().address();
    let daily = Permission::Erc20TokenTransfer {
        address: token,
        allowance: STORY_ALLOWANCE,
        period: Some(RecurringPeriod::every(DAY)),
    };
    let signed = SignedGrant::new(chain, owner, session_key, daily, RECURRING_SESSION_SECONDS)?;
    let session_id = signed.session_id;
    let spender = TokenSpender::new(account, session_key, token, recipient, &signed.grant);
    let enabled = signed.enabled();
    let allowance = |chain: &mut Chain| {
        chain.call(
            validator,
            SessionKeyValidator::getAllowanceCall {
                account,
                sessionId: session_id,
                permissionType: leash_bindings::PermissionType::Erc20TokenTransfer.into(),
                token,
            },
        )
    };
    let within = spender.spend(chain, &signed.lazy(), STORY_WITHIN)?;
    let today = allowance(chain)?;
    let beyond = spender.try_estimate(chain, &enabled, STORY_BEYOND)?;
    let resets_at: u64 = today.resetsAt.saturating_to();
    chain.advance_time(resets_at.saturating_sub(chain.timestamp()));
    let after_reset = spender.spend(chain, &enabled, STORY_BEYOND)?;
    let remaining_after_reset = allowance(chain)?.remaining;
    Ok(RecurringStory {
        grant: signed.grant,
        session_id,
        within,
        remaining_after_within: today.remaining,
        resets_at,
        beyond,
        after_reset,
        remaining_after_reset,
        recipient_tokens: chain.erc20_balance(token, recipient)?,
    })
}
