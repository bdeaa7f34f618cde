//! Outflow by what actually left: which calls `SessionKeyValidator` meters by their selector, and
//! the balance-checked form every other call of a session that limits an asset must take
//! (docs/permissions.md, "Outflow by what actually left").

use crate::{
    calls::{Call, decode_execute_calldata, execute_calldata},
    error::OperationError,
    grant::is_permit2_approve,
    permission::{ERC20_SPEND_SELECTORS, Permission},
    recurring::{RecurringDenial, check_recurring_spends},
    rules::{AttachmentError, RuleAttachments},
};
use alloy_primitives::{Address, B256, Bytes, Selector, fixed_bytes};
use leash_bindings::SessionGrant;

/// `executeUserOp(PackedUserOperation,bytes32)`: the selector of the balance-checked form.
pub const EXECUTE_USER_OP_SELECTOR: Selector = fixed_bytes!("0x8dd7712f");

/// The assets a session's grant limits: native value, and each token with an allowance. A
/// balance-checked operation lists the tokens, ascending, and the account measures them all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitedAssets {
    /// The grant limits native value.
    pub native: bool,
    /// The tokens with an `erc20-token-transfer` allowance, ascending and distinct.
    pub tokens: Vec<Address>,
    /// The assets whose allowance recurs, named as the validator names assets (a token, or the
    /// zero address for native value): only the execution phase can charge them, so every spend of
    /// one takes the balance-checked form.
    pub recurring: Vec<Address>,
    /// The grant holds `typed-data-signing`: its typed-data signatures hold only while one of its
    /// balance-checked operations executes (what they let an app move is charged then), so every
    /// operation of the session takes that form.
    pub signs_typed_data: bool,
}

impl LimitedAssets {
    /// The assets `permissions` limit.
    pub fn of(permissions: &[Permission]) -> Self {
        let mut tokens: Vec<Address> = permissions
            .iter()
            .filter_map(|permission| match permission {
                Permission::Erc20TokenTransfer { address, .. } => Some(*address),
                _ => None,
            })
            .collect();
        tokens.sort();
        tokens.dedup();
        let recurring = permissions
            .iter()
            .filter_map(|permission| match permission {
                Permission::NativeTokenTransfer {
                    period: Some(_), ..
                } => Some(Address::ZERO),
                Permission::Erc20TokenTransfer {
                    address,
                    period: Some(_),
                    ..
                } => Some(*address),
                _ => None,
            })
            .collect();
        Self {
            native: permissions
                .iter()
                .any(|permission| matches!(permission, Permission::NativeTokenTransfer { .. })),
            tokens,
            recurring,
            signs_typed_data: permissions
                .iter()
                .any(|permission| matches!(permission, Permission::TypedDataSigning { .. })),
        }
    }

    /// The assets an on-chain `grant` limits (permissions carrying rule data limit nothing more).
    pub fn of_grant(grant: &SessionGrant) -> Self {
        let permissions: Vec<Permission> = grant
            .permissions
            .iter()
            .filter_map(Permission::from_sol)
            .collect();
        Self::of(&permissions)
    }

    /// Whether the grant limits any asset.
    pub fn any(&self) -> bool {
        self.native || !self.tokens.is_empty()
    }

    /// The account calldata of a session's `calls`: `execute(…)` when every call is metered by
    /// its selector or nothing is limited (the cheap path, no balance reads), else, and always for
    /// a session that signs typed data, the balance-checked form `executeUserOp.selector ‖
    /// execute(…) ‖ tokens ‖ uint8(count)`.
    pub fn session_calldata(&self, calls: &[Call]) -> Result<Bytes, OperationError> {
        if self.signs_typed_data {
            return self.balance_checked_calldata(calls);
        }
        if !self.any() || calls.iter().all(|call| self.is_direct(call)) {
            return execute_calldata(calls);
        }
        self.balance_checked_calldata(calls)
    }

    /// The balance-checked form of `calls`, `executeUserOp.selector ‖ execute(…) ‖ tokens ‖
    /// uint8(count)`, whatever they are: the form whose execution phase settles.
    pub fn balance_checked_calldata(&self, calls: &[Call]) -> Result<Bytes, OperationError> {
        let execute = execute_calldata(calls)?;
        let count = u8::try_from(self.tokens.len()).map_err(|_| OperationError::TooManyTokens {
            count: self.tokens.len(),
        })?;
        let mut data = Vec::with_capacity(4 + execute.len() + 20 * self.tokens.len() + 1);
        data.extend_from_slice(EXECUTE_USER_OP_SELECTOR.as_slice());
        data.extend_from_slice(&execute);
        for token in &self.tokens {
            data.extend_from_slice(token.as_slice());
        }
        data.push(count);
        Ok(data.into())
    }
}

/// A session's calls, with the assets its grant limits, which decide their calldata form, and its
/// grant's permissions, which decide the rules each call carries.
#[derive(Clone, Copy, Debug)]
pub struct SessionCalls<'a> {
    /// The calls.
    pub calls: &'a [Call],
    /// What the session's grant limits.
    pub limits: &'a LimitedAssets,
    /// The grant's permissions (only their argument rules and recurring allowances are read here;
    /// none for a caller that leaves both to the validator).
    pub permissions: &'a [Permission],
}

impl SessionCalls<'_> {
    /// The account calldata of the calls carrying `rules` ([`Self::rule_attachments`]): see
    /// [`LimitedAssets::session_calldata`]. A call under a rate limit is counted in the execution
    /// phase, so its operation takes the balance-checked form even when nothing is limited.
    pub fn call_data(&self, rules: &RuleAttachments) -> Result<Bytes, OperationError> {
        if rules.rated_calls() > 0 {
            return self.limits.balance_checked_calldata(self.calls);
        }
        self.limits.session_calldata(self.calls)
    }

    /// The rules the calls carry in the signature of `account`'s operation under `session_id`:
    /// see [`RuleAttachments::choose`].
    pub fn rule_attachments(
        &self,
        session_id: B256,
        account: Address,
    ) -> Result<RuleAttachments, AttachmentError> {
        RuleAttachments::choose(session_id, account, self.permissions, self.calls)
    }

    /// Refuses the spends the grant's recurring allowances can never allow, with the validator's
    /// error for each: see [`check_recurring_spends`].
    pub fn check_recurring(&self, session_id: B256) -> Result<(), RecurringDenial> {
        check_recurring_spends(session_id, self.permissions, self.calls)
    }
}

/// The calls of a session operation's account calldata, either form
/// ([`LimitedAssets::session_calldata`]); `None` when it is neither.
pub fn calls_of_session_calldata(call_data: &[u8]) -> Option<Vec<Call>> {
    let Some(checked) = call_data.strip_prefix(EXECUTE_USER_OP_SELECTOR.as_slice()) else {
        return decode_execute_calldata(call_data);
    };
    let (&count, rest) = checked.split_last()?;
    let execute_len = rest.len().checked_sub(20 * usize::from(count))?;
    decode_execute_calldata(&rest[..execute_len])
}

impl LimitedAssets {
    /// Whether the validator meters `call` by its selector alone for this grant: an ERC-20 spend
    /// on the token, Permit2's `approve`, or a plain value transfer when no token is limited (the
    /// recipient's code could pull tokens through an earlier approval). Any other call may move a
    /// limited asset by a path no selector shows. A spend of an asset whose allowance recurs is
    /// never direct: only the execution phase reads the clock that says which period it is in.
    pub fn is_direct(&self, call: &Call) -> bool {
        if !call.value.is_zero() && self.recurring.contains(&Address::ZERO) {
            return false;
        }
        match call.data.get(..4) {
            Some(selector) => {
                let selector = Selector::from_slice(selector);
                let token_spend =
                    ERC20_SPEND_SELECTORS.contains(&selector) && !self.recurring.contains(&call.to);
                token_spend || is_permit2_approve(call.to, selector)
            }
            None => call.data.is_empty() && !call.value.is_zero() && self.tokens.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::{PERMIT2, PERMIT2_SPEND_SELECTORS};
    use alloy_primitives::U256;

    const TOKEN_A: Address = Address::repeat_byte(0x0a);
    const TOKEN_B: Address = Address::repeat_byte(0x0b);

    fn limits() -> LimitedAssets {
        LimitedAssets::of(&[
            Permission::Erc20TokenTransfer {
                address: TOKEN_B,
                allowance: U256::from(1),
                period: None,
            },
            Permission::Erc20TokenTransfer {
                address: TOKEN_A,
                allowance: U256::from(1),
                period: None,
            },
            Permission::NativeTokenTransfer {
                allowance: U256::from(1),
                period: None,
            },
        ])
    }

    fn call(to: Address, data: &[u8]) -> Call {
        Call {
            to,
            value: U256::ZERO,
            data: Bytes::copy_from_slice(data),
        }
    }

    #[test]
    fn the_limited_tokens_are_listed_ascending() {
        assert_eq!(limits().tokens, vec![TOKEN_A, TOKEN_B]);
        assert!(limits().native);
        assert!(!LimitedAssets::of(&[Permission::Root]).any());
    }

    #[test]
    fn metered_calls_stay_on_the_cheap_path() -> Result<(), OperationError> {
        let transfer = call(TOKEN_A, &[0xa9, 0x05, 0x9c, 0xbb, 0, 0]);
        let permit2_approve = call(PERMIT2, PERMIT2_SPEND_SELECTORS[2].as_slice());
        let calls = [transfer, permit2_approve];
        assert_eq!(
            limits().session_calldata(&calls)?,
            execute_calldata(&calls)?
        );
        Ok(())
    }

    #[test]
    fn an_on_chain_grant_limits_what_its_permissions_limit() {
        let grant = SessionGrant {
            permissions: vec![
                Permission::Erc20TokenTransfer {
                    address: TOKEN_A,
                    allowance: U256::from(1),
                    period: None,
                }
                .to_sol(),
            ],
            ..Default::default()
        };
        assert_eq!(
            LimitedAssets::of_grant(&grant),
            LimitedAssets {
                native: false,
                tokens: vec![TOKEN_A],
                recurring: vec![],
                signs_typed_data: false,
            }
        );
    }

    #[test]
    fn native_alone_or_a_token_alone_is_a_limit() {
        let native = LimitedAssets {
            native: true,
            ..LimitedAssets::default()
        };
        let token = LimitedAssets {
            tokens: vec![TOKEN_A],
            ..LimitedAssets::default()
        };
        assert!(native.any() && token.any());
        assert!(!LimitedAssets::default().any());
    }

    #[test]
    fn session_calls_build_the_form_of_their_limits() -> Result<(), OperationError> {
        let calls = [call(TOKEN_B, &[0x5c, 0x36, 0xb1, 0x86])];
        let limits = limits();
        let session_calls = SessionCalls {
            calls: &calls,
            limits: &limits,
            permissions: &[],
        };
        let none = RuleAttachments::none();
        assert_eq!(
            session_calls.call_data(&none)?,
            limits.session_calldata(&calls)?
        );
        assert_ne!(session_calls.call_data(&none)?, execute_calldata(&calls)?);
        Ok(())
    }

    #[test]
    fn a_rate_limited_call_takes_the_balance_checked_form_even_when_nothing_is_limited()
    -> Result<(), OperationError> {
        use crate::{
            recurring::{DAY, RecurringPeriod},
            rules::Rule,
        };
        let ping = [0x5c, 0x36, 0xb1, 0x86];
        let calls = [call(TOKEN_B, &ping)];
        let permissions = [Permission::FunctionsOnContract {
            address: TOKEN_B,
            functions: vec![ping.into()],
            rules: vec![Rule::RateLimit {
                calls: 2,
                period: RecurringPeriod::every(DAY),
            }],
        }];
        let nothing_limited = LimitedAssets::of(&permissions);
        let session_calls = SessionCalls {
            calls: &calls,
            limits: &nothing_limited,
            permissions: &permissions,
        };
        let rules = session_calls
            .rule_attachments(B256::ZERO, Address::ZERO)
            .expect("the rate limit holds off-chain");
        let data = session_calls.call_data(&rules)?;
        let execute = execute_calldata(&calls)?;
        assert_eq!(
            data,
            [EXECUTE_USER_OP_SELECTOR.as_slice(), &execute, &[0]].concat()
        );
        assert_eq!(session_calls.call_data(&RuleAttachments::none())?, execute);
        Ok(())
    }

    #[test]
    fn a_session_that_signs_typed_data_always_takes_the_balance_checked_form()
    -> Result<(), OperationError> {
        let transfer = call(TOKEN_A, &[0xa9, 0x05, 0x9c, 0xbb, 0, 0]);
        let calls = [transfer];
        let execute = execute_calldata(&calls)?;
        let signing = LimitedAssets::of(&[
            Permission::Erc20TokenTransfer {
                address: TOKEN_A,
                allowance: U256::from(1),
                period: None,
            },
            Permission::TypedDataSigning { address: TOKEN_B },
        ]);
        assert!(signing.signs_typed_data);
        assert_eq!(
            signing.session_calldata(&calls)?,
            [
                EXECUTE_USER_OP_SELECTOR.as_slice(),
                &execute,
                TOKEN_A.as_slice(),
                &[1]
            ]
            .concat(),
            "even a transfer its selector meters"
        );
        let nothing_limited = LimitedAssets::of(&[
            Permission::TypedDataSigning { address: TOKEN_B },
            Permission::PersonalSign,
        ]);
        assert!(!nothing_limited.any());
        assert_eq!(
            nothing_limited.session_calldata(&calls)?,
            [EXECUTE_USER_OP_SELECTOR.as_slice(), &execute, &[0]].concat()
        );
        let personal = LimitedAssets::of(&[Permission::PersonalSign]);
        assert!(!personal.signs_typed_data);
        assert_eq!(personal.session_calldata(&calls)?, execute);
        Ok(())
    }

    #[test]
    fn a_plain_value_transfer_is_direct_only_when_no_token_is_limited() {
        let value = Call::transfer(TOKEN_B, U256::from(1));
        assert!(!limits().is_direct(&value));
        let native_only = LimitedAssets {
            native: true,
            ..LimitedAssets::default()
        };
        assert!(native_only.is_direct(&value));
    }

    #[test]
    fn any_other_call_takes_the_balance_checked_form() -> Result<(), OperationError> {
        for other in [
            call(TOKEN_B, &[0x5c, 0x36, 0xb1, 0x86]),
            call(PERMIT2, PERMIT2_SPEND_SELECTORS[0].as_slice()),
            call(TOKEN_B, &[]),
            call(TOKEN_B, &[1, 2]),
        ] {
            let calls = [call(TOKEN_A, &[0xa9, 0x05, 0x9c, 0xbb]), other];
            let data = limits().session_calldata(&calls)?;
            let execute = execute_calldata(&calls)?;
            assert_eq!(&data[..4], EXECUTE_USER_OP_SELECTOR.as_slice());
            assert_eq!(&data[4..4 + execute.len()], &execute[..]);
            let tail = &data[4 + execute.len()..];
            assert_eq!(
                tail,
                [TOKEN_A.as_slice(), TOKEN_B.as_slice(), &[2]].concat()
            );
            // Nothing limited: nothing to measure.
            assert_eq!(LimitedAssets::default().session_calldata(&calls)?, execute);
            assert_eq!(calls_of_session_calldata(&data), Some(calls.to_vec()));
            assert_eq!(calls_of_session_calldata(&execute), Some(calls.to_vec()));
        }
        let single = [call(TOKEN_B, &[0x5c, 0x36, 0xb1, 0x86])];
        let data = limits().session_calldata(&single)?;
        assert_eq!(calls_of_session_calldata(&data), Some(single.to_vec()));
        assert_eq!(calls_of_session_calldata(&[0x8d, 0xd7, 0x71, 0x2f]), None);
        Ok(())
    }
}
