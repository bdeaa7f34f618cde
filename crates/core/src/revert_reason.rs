//! Revert data decoded into the contracts' own errors, with a sentence that says which rule said
//! no and why.

use crate::{
    permission::Permission,
    rejection::EntryPointRejection,
    rules::{Rule, RuleBreach, attachments::ruled_candidates},
};
use alloy_primitives::{Address, B256, Bytes, Selector, U256};
use alloy_sol_types::{Panic, Revert, SolError, SolInterface};
use leash_bindings::{
    EntryPoint::EntryPointErrors, LeashAccount::LeashAccountErrors,
    RecipientBlocklistPolicy::RecipientBlocklistPolicyErrors,
    SessionKeyValidator::SessionKeyValidatorErrors,
};
use std::fmt;

/// Decoded revert data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevertReason {
    /// `Error(string)`, from `require` or `revert("...")`.
    Message(String),
    /// `Panic(uint256)`, from an assertion, overflow or out-of-bounds access.
    Panic(U256),
    /// A `SessionKeyValidator` error: which session, which rule, requested against allowed.
    Validator(SessionKeyValidatorErrors),
    /// A `LeashAccount` error.
    Account(LeashAccountErrors),
    /// An EntryPoint error.
    EntryPoint(EntryPointErrors),
    /// Revert data that matches no known error (including empty data).
    Unknown(Bytes),
}

impl RevertReason {
    /// Decodes revert data against `Error`, `Panic` and every custom error of the leash and
    /// ERC-4337 contracts. The validator is tried first: it shares `InvalidExecutionEncoding` with
    /// the account.
    pub fn decode(data: &[u8]) -> Self {
        if let Ok(revert) = Revert::abi_decode(data) {
            return Self::Message(revert.reason);
        }
        if let Ok(panic) = Panic::abi_decode(data) {
            return Self::Panic(panic.code);
        }
        if let Ok(error) = SessionKeyValidatorErrors::abi_decode(data) {
            return Self::Validator(error);
        }
        if let Ok(error) = LeashAccountErrors::abi_decode(data) {
            return Self::Account(error);
        }
        if let Ok(error) = EntryPointErrors::abi_decode(data) {
            return Self::EntryPoint(error);
        }
        Self::Unknown(Bytes::copy_from_slice(data))
    }
}

impl RevertReason {
    /// This reason explained against a session's grant (its `permissions`): as its [`Display`]
    /// sentence, but a broken argument rule names its condition when the grant shows which rule
    /// it is (all of the grant's ruled permissions on the call's function have the same rules),
    /// as leash's own denial before signing does.
    ///
    /// [`Display`]: fmt::Display
    pub fn explain(&self, permissions: &[Permission]) -> String {
        Explained {
            reason: self,
            permissions,
        }
        .to_string()
    }
}

struct Explained<'a> {
    reason: &'a RevertReason,
    permissions: &'a [Permission],
}

impl fmt::Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let broken = match self.reason {
            RevertReason::Validator(error) => BrokenRule::of(error),
            _ => None,
        };
        let Some(mut broken) = broken else {
            return self.reason.fmt(f);
        };
        let mut candidates = ruled_candidates(self.permissions, broken.target, broken.selector)
            .map(|(_, rules)| rules);
        if let Some(rules) = candidates.next()
            && candidates.all(|other| other == rules)
        {
            broken.rules = Some(rules);
        }
        fmt::Display::fmt(&broken, f)
    }
}

/// The sentence of a call that breaks an argument rule, shared by the validator's errors
/// (`ArgumentOutOfRange`, `ArgumentsNotAllowed`, `CallRuleFailed`) and leash's denial before
/// signing, so both read alike. `rules`, the permission's rules when the grant shows them, name the
/// rule's condition; without them the sentence names the rule by its index.
pub(crate) struct BrokenRule<'a> {
    pub(crate) session_id: B256,
    pub(crate) target: Address,
    pub(crate) selector: Selector,
    pub(crate) breach: RuleBreach,
    pub(crate) rules: Option<&'a [Rule]>,
}

impl BrokenRule<'_> {
    /// The broken rule a validator error reports, if it is one.
    fn of(error: &SessionKeyValidatorErrors) -> Option<Self> {
        use SessionKeyValidatorErrors as E;
        let (session_id, target, selector, breach) = match error {
            E::ArgumentOutOfRange(e) => (
                e.sessionId,
                e.target,
                e.selector,
                RuleBreach::OutOfRange {
                    rule_index: e.ruleIndex.saturating_to(),
                    data_length: e.dataLength.saturating_to(),
                },
            ),
            E::ArgumentsNotAllowed(e) => (
                e.sessionId,
                e.target,
                e.selector,
                RuleBreach::NotAllowed {
                    words: e.words.clone(),
                },
            ),
            E::CallRuleFailed(e) => (
                e.sessionId,
                e.target,
                e.selector,
                RuleBreach::Failed {
                    rule_index: e.ruleIndex.saturating_to(),
                    actual: e.actual,
                },
            ),
            _ => return None,
        };
        Some(Self {
            session_id,
            target,
            selector,
            breach,
            rules: None,
        })
    }
}

impl fmt::Display for BrokenRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            session_id,
            target,
            selector,
            ..
        } = self;
        write!(f, "session {session_id}: calling {selector} on {target}")?;
        let rule_at = |index: usize| self.rules.and_then(|rules| rules.get(index));
        let (rule_index, rule) = match &self.breach {
            RuleBreach::NotAllowed { words } => {
                let words: Vec<String> = words.iter().map(|w| B256::from(*w).to_string()).collect();
                write!(
                    f,
                    " with argument words [{}] (what its eq and one-of rules read) is not a \
                     combination of values its permissions allow",
                    words.join(", ")
                )?;
                if let Some(rules) = self.rules {
                    let set: Vec<String> = rules
                        .iter()
                        .filter(|rule| rule.is_set())
                        .map(ToString::to_string)
                        .collect();
                    write!(f, " ({})", set.join("; "))?;
                }
                return Ok(());
            }
            RuleBreach::OutOfRange { rule_index, .. } | RuleBreach::Failed { rule_index, .. } => {
                (*rule_index, rule_at(*rule_index))
            }
        };
        write!(f, " breaks rule {rule_index} of its permission")?;
        if let Some(rule) = rule {
            write!(f, " ({rule})")?;
        }
        match (&self.breach, rule) {
            (RuleBreach::Failed { actual, .. }, Some(Rule::CallValue { .. })) => {
                write!(f, ": the call sends {actual} wei")
            }
            (RuleBreach::Failed { actual, .. }, Some(_)) => {
                write!(f, ": the word is {}", B256::from(*actual))
            }
            (RuleBreach::Failed { actual, .. }, None) => write!(f, ": it read {actual:#x}"),
            (RuleBreach::OutOfRange { data_length, .. }, _) => write!(
                f,
                ": the word it reads is not inside the call's {data_length} bytes of data (short \
                 calldata, or a dynamic argument's offset out of range)"
            ),
            (RuleBreach::NotAllowed { .. }, _) => Ok(()),
        }
    }
}

impl EntryPointRejection {
    /// The account's or validator's own revert, decoded, when the EntryPoint passed it on.
    pub fn inner_reason(&self) -> Option<RevertReason> {
        self.inner.as_ref().map(|data| RevertReason::decode(data))
    }
}

impl fmt::Display for RevertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(message) => write!(f, "reverted: {message:?}"),
            Self::Panic(code) => write!(f, "panic 0x{code:x}"),
            Self::Validator(error) => explain_validator_error(error, f),
            Self::Account(error) => write!(f, "LeashAccount: {error:?}"),
            Self::EntryPoint(error) => write!(f, "EntryPoint: {error:?}"),
            Self::Unknown(data) if data.is_empty() => f.write_str("reverted without data"),
            Self::Unknown(data) => write!(f, "unknown revert data {data}"),
        }
    }
}

/// How a denial names an asset the validator meters: native value (address zero) or a token.
fn asset_name(asset: alloy_primitives::Address) -> String {
    if asset.is_zero() {
        "native value (wei)".to_owned()
    } else {
        format!("token {asset}")
    }
}

fn explain_validator_error(
    error: &SessionKeyValidatorErrors,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    use SessionKeyValidatorErrors as E;
    match error {
        E::CallNotAllowed(e) => write!(
            f,
            "session {}: no permission allows calling {} on {}",
            e.sessionId, e.selector, e.target
        ),
        E::ForbiddenCall(e) => write!(
            f,
            "session {}: no session may call {} on {} (the account itself, the validator, or module management)",
            e.sessionId, e.selector, e.target
        ),
        E::NativeTransferNotAllowed(e) => write!(
            f,
            "session {}: sending {} wei to {} needs a native-token-transfer permission",
            e.sessionId, e.value, e.target
        ),
        E::NativeAllowanceExceeded(e) => write!(
            f,
            "session {}: native-token-transfer allowance exceeded sending to {}: requested {} wei, remaining {} wei",
            e.sessionId, e.target, e.requested, e.remaining
        ),
        E::Erc20NotAllowed(e) => write!(
            f,
            "session {}: {} on token {} needs an erc20-token-transfer permission for that token",
            e.sessionId, e.selector, e.token
        ),
        E::Erc20AllowanceExceeded(e) => write!(
            f,
            "session {}: erc20-token-transfer allowance of token {} exceeded: requested {}, remaining {}",
            e.sessionId, e.token, e.requested, e.remaining
        ),
        E::MalformedErc20Call(e) => write!(
            f,
            "session {}: {} on token {} is too short to hold its amount",
            e.sessionId, e.selector, e.token
        ),
        E::GasLimitExceeded(e) => write!(
            f,
            "session {}: gas-limit exceeded: this operation may cost up to {} wei, remaining {} wei",
            e.sessionId, e.requested, e.remaining
        ),
        E::SelfPaidGasNotAllowed(e) => write!(
            f,
            "session {}: the account would pay this operation's gas (up to {} wei) but the session has no gas-limit; a scoped session pays its own gas only within a gas-limit, or through a paymaster its grant names",
            e.sessionId, e.maxCost
        ),
        E::PaymasterNotAllowed(e) => write!(
            f,
            "session {}: paymaster {} is not one the grant names (a session uses only its own paymasters); {}",
            e.sessionId,
            e.paymaster,
            if e.selfPaidAllowed {
                "without a paymaster the account pays, within the session's gas-limit"
            } else {
                "the session has no gas-limit either, so only a named paymaster can pay"
            }
        ),
        E::OutflowCheckRequired(e) => write!(
            f,
            "session {}: calling {} on {} could move an asset the session limits by a path its selector does not show (an approval, Permit2, a forwarder, a callback), so the operation must take the balance-checked form (executeUserOp), which leash-core builds for it",
            e.sessionId, e.selector, e.target
        ),
        E::InvalidOutflowTokens(e) => write!(
            f,
            "session {}: a balance-checked operation must list every token the session limits, once each, ascending: it lists {}, the session limits {}",
            e.sessionId, e.declared, e.limited
        ),
        E::PolicyRefused(e) => {
            write!(
                f,
                "session {}: policy {} (rule {} of the permission) refused calling {} on {}",
                e.sessionId, e.policy, e.ruleIndex, e.selector, e.target
            )?;
            if e.reason.is_empty() {
                return write!(
                    f,
                    " (no answer: it ran out of its gas, has no code, or did not return its selector)"
                );
            }
            // leash knows the errors of its example policy; another policy's are its own.
            use RecipientBlocklistPolicyErrors as P;
            match P::abi_decode(&e.reason) {
                Ok(P::RecipientIsBlocked(blocked)) => write!(
                    f,
                    ": account {} has blocked recipient {} (RecipientBlocklistPolicy)",
                    blocked.account, blocked.recipient
                ),
                Ok(P::RecipientArgumentMissing(missing)) => write!(
                    f,
                    ": the call's {} bytes of data hold no argument word {}, where its config \
                     says the recipient is (RecipientBlocklistPolicy)",
                    missing.dataLength, missing.index
                ),
                Err(_) => write!(f, ": it reverted with {}", e.reason),
            }
        }
        E::RateLimitReached(e) => write!(
            f,
            "session {}: calling {} on {} is refused: its permission has made the {} calls its rate limit allows in this period, which ends at {} (the calls were undone)",
            e.sessionId,
            e.selector,
            e.target,
            e.limit,
            crate::recurring::describe_reset(e.resetsAt.saturating_to())
        ),
        E::UsageLimitReached(e) => write!(
            f,
            "session {}: calling {} on {} is refused: its permission has made the {} calls its usage limit allows",
            e.sessionId, e.selector, e.target, e.limit
        ),
        E::RecurringAllowanceExceeded(e) => write!(
            f,
            "session {}: the operation's calls moved {} of {} out of the account, more than the {} its recurring allowance has left in this period, which ends at {} (the calls were undone)",
            e.sessionId,
            e.requested,
            asset_name(e.asset),
            e.remaining,
            crate::recurring::describe_reset(e.resetsAt.saturating_to())
        ),
        E::OutflowExceeded(e) => write!(
            f,
            "session {}: the operation's calls moved {} of {} out of the account, more than the {} remaining (what actually left, by any path; the calls were undone)",
            e.sessionId,
            e.outflow,
            asset_name(e.asset),
            e.remaining
        ),
        E::NotRootSession(e) => write!(
            f,
            "session {}: signed as root but the session is not root",
            e.sessionId
        ),
        E::NotAnExecuteCall(e) => write!(
            f,
            "session {}: callData must call the account's execute, not {}",
            e.sessionId, e.selector
        ),
        E::UnsupportedExecutionMode(e) => write!(
            f,
            "session {}: execution mode {} is not a single or batch call",
            e.sessionId, e.mode
        ),
        E::InvalidExecutionEncoding(_) => f.write_str(
            "the account's execute calldata is malformed (an offset or length outside its bounds)",
        ),
        E::WrongNonceLane(e) => write!(
            f,
            "session {}: the operation is on nonce lane {:#010x}, not the session's {:#010x} (the first four bytes of its id)",
            e.sessionId,
            e.lane,
            u32::from_be_bytes([
                e.sessionId[0],
                e.sessionId[1],
                e.sessionId[2],
                e.sessionId[3]
            ])
        ),
        E::GrantAccountMismatch(e) => write!(
            f,
            "session {}: the grant is for account {}, not {}",
            e.sessionId, e.grantAccount, e.account
        ),
        E::InvalidSessionKey(e) => {
            write!(
                f,
                "session {}: the grant's session key is zero",
                e.sessionId
            )
        }
        E::InvalidValidity(e) => write!(
            f,
            "session {}: invalid validity window: validAfter {}, validUntil {} (validUntil must be set and later)",
            e.sessionId, e.validAfter, e.validUntil
        ),
        E::NoPermissions(e) => write!(f, "session {}: the grant has no permissions", e.sessionId),
        E::RootNotExclusive(e) => write!(
            f,
            "session {}: root must be the grant's only permission",
            e.sessionId
        ),
        E::InvalidPermission(e) => write!(
            f,
            "session {}: permission {} is malformed (a field its type does not use, a missing one, the account or the validator as target, a forbidden account selector, or an amount above 2^128-1)",
            e.sessionId, e.index
        ),
        E::UnsupportedRules(e) => write!(
            f,
            "session {}: permission {} carries rule data this validator does not enforce (an unknown version or kind, a kind not built yet, or rules on a type that takes none); the grant is refused rather than enabled without its rules",
            e.sessionId, e.index
        ),
        E::InvalidRules(e) => write!(
            f,
            "session {}: permission {}'s rules break their encoding (no rule, an unknown operator, a wrong number of values, in-range bounds reversed, a usage limit of 0 calls or a second one, or a policy at address zero or with more than 1024 bytes of config)",
            e.sessionId, e.index
        ),
        E::CallRuleFailed(_) | E::ArgumentOutOfRange(_) | E::ArgumentsNotAllowed(_) => {
            BrokenRule::of(error).map_or(Ok(()), |broken| fmt::Display::fmt(&broken, f))
        }
        E::UnusedRuleAttachment(e) => write!(
            f,
            "session {}: the signature's rules for call {} were not used (no such call, out of order, or a call no function permission governs, such as an ERC-20 spend)",
            e.sessionId, e.callIndex
        ),
        E::DuplicatePermission(e) => write!(
            f,
            "session {}: permission {} repeats a limit of the grant",
            e.sessionId, e.index
        ),
        E::SessionNotUnused(e) => match crate::session_state::OnChainStatus::try_from(e.status) {
            Ok(status) => write!(
                f,
                "session {}: already {status} (a grant is enabled at most once)",
                e.sessionId
            ),
            Err(status) => write!(
                f,
                "session {}: not unused (status {status}; a grant is enabled at most once)",
                e.sessionId
            ),
        },
        E::SessionAlreadyRevoked(e) => {
            write!(f, "session {}: already revoked", e.sessionId)
        }
        E::NotSessionAuthority(e) => write!(
            f,
            "session {}: {} may not revoke it (only the account or the session key)",
            e.sessionId, e.caller
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, B256};
    use leash_bindings::{
        LeashAccount::UnauthorizedCaller, SessionKeyValidator::Erc20AllowanceExceeded,
    };

    #[test]
    fn decodes_each_kind() {
        let message = Revert::from("nope").abi_encode();
        assert_eq!(
            RevertReason::decode(&message),
            RevertReason::Message("nope".into())
        );
        let panic = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(RevertReason::decode(&panic).to_string(), "panic 0x11");
        let custom = UnauthorizedCaller {
            caller: Address::repeat_byte(7),
        }
        .abi_encode();
        assert!(matches!(
            RevertReason::decode(&custom),
            RevertReason::Account(LeashAccountErrors::UnauthorizedCaller(_))
        ));
        assert_eq!(
            RevertReason::decode(&[]).to_string(),
            "reverted without data"
        );
    }

    #[test]
    fn each_kind_has_its_sentence() {
        assert_eq!(
            RevertReason::decode(&Revert::from("nope").abi_encode()).to_string(),
            "reverted: \"nope\""
        );
        let unknown = RevertReason::decode(&[0x12, 0x34, 0x56, 0x78]);
        assert_eq!(
            unknown,
            RevertReason::Unknown(Bytes::from_static(&[0x12, 0x34, 0x56, 0x78]))
        );
        assert_eq!(unknown.to_string(), "unknown revert data 0x12345678");
        let account = UnauthorizedCaller {
            caller: Address::repeat_byte(7),
        };
        assert_eq!(
            RevertReason::decode(&account.abi_encode()).to_string(),
            format!("LeashAccount: UnauthorizedCaller({account:?})")
        );
    }

    #[test]
    fn a_rejection_decodes_the_revert_it_carries() {
        let error = Erc20AllowanceExceeded {
            sessionId: B256::repeat_byte(1),
            token: Address::repeat_byte(2),
            requested: U256::from(5),
            remaining: U256::from(4),
        };
        let rejection = EntryPointRejection {
            op_index: 0,
            code: crate::rejection::AaCode::ACCOUNT_REVERTED,
            reason: "AA23 reverted".into(),
            inner: Some(error.abi_encode().into()),
        };
        assert_eq!(
            rejection.inner_reason(),
            Some(RevertReason::Validator(
                SessionKeyValidatorErrors::Erc20AllowanceExceeded(error)
            ))
        );
        let without = EntryPointRejection {
            inner: None,
            ..rejection
        };
        assert_eq!(without.inner_reason(), None);
    }

    #[test]
    fn validator_errors_explain_the_rule_and_the_numbers() {
        let error = Erc20AllowanceExceeded {
            sessionId: B256::repeat_byte(1),
            token: Address::repeat_byte(2),
            requested: U256::from(5),
            remaining: U256::from(4),
        };
        let reason = RevertReason::decode(&error.abi_encode());
        let text = reason.to_string();
        assert!(text.contains("erc20-token-transfer allowance"), "{text}");
        assert!(text.contains("requested 5, remaining 4"), "{text}");
    }

    #[test]
    fn a_signature_on_another_sessions_lane_names_both_lanes() {
        let mut session_id = B256::repeat_byte(1);
        session_id[..4].copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]);
        let error = leash_bindings::SessionKeyValidator::WrongNonceLane {
            sessionId: session_id,
            lane: U256::from(0x0102_0304),
        };
        let text = RevertReason::decode(&error.abi_encode()).to_string();
        assert!(
            text.contains("nonce lane 0x01020304, not the session's 0xaabbccdd"),
            "{text}"
        );
    }

    #[test]
    fn validator_v2_errors_name_the_session_the_rule_and_the_numbers() {
        use leash_bindings::SessionKeyValidator as V;
        let session = B256::repeat_byte(1);
        let cases: [(Vec<u8>, &str); 5] = [
            (
                V::SelfPaidGasNotAllowed {
                    sessionId: session,
                    maxCost: U256::from(7),
                }
                .abi_encode(),
                "(up to 7 wei) but the session has no gas-limit",
            ),
            (
                V::PaymasterNotAllowed {
                    sessionId: session,
                    paymaster: Address::repeat_byte(9),
                    selfPaidAllowed: false,
                }
                .abi_encode(),
                "has no gas-limit either",
            ),
            (
                V::OutflowCheckRequired {
                    sessionId: session,
                    target: Address::repeat_byte(2),
                    selector: alloy_primitives::fixed_bytes!("0x36c78516"),
                }
                .abi_encode(),
                "must take the balance-checked form",
            ),
            (
                V::InvalidOutflowTokens {
                    sessionId: session,
                    declared: U256::from(1),
                    limited: U256::from(2),
                }
                .abi_encode(),
                "it lists 1, the session limits 2",
            ),
            (
                V::OutflowExceeded {
                    sessionId: session,
                    asset: Address::ZERO,
                    outflow: U256::from(5),
                    remaining: U256::from(4),
                }
                .abi_encode(),
                "moved 5 of native value (wei) out of the account, more than the 4 remaining",
            ),
        ];
        for (data, expected) in cases {
            let text = RevertReason::decode(&data).to_string();
            assert!(text.contains(expected), "{text}");
            assert!(text.starts_with(&format!("session {session}")), "{text}");
        }
    }

    #[test]
    fn rule_errors_name_the_session_the_call_and_the_numbers() {
        use leash_bindings::SessionKeyValidator as V;
        let session = B256::repeat_byte(1);
        let target = Address::repeat_byte(2);
        let selector = alloy_primitives::fixed_bytes!("0xc4076876");
        let cases: [(Vec<u8>, String); 4] = [
            (
                V::ArgumentOutOfRange {
                    sessionId: session,
                    target,
                    selector,
                    ruleIndex: U256::from(1),
                    dataLength: U256::from(36),
                }
                .abi_encode(),
                format!(
                    "calling {selector} on {target} breaks rule 1 of its permission: the word it reads is not inside the call's 36 bytes of data"
                ),
            ),
            (
                V::CallRuleFailed {
                    sessionId: session,
                    target,
                    selector,
                    ruleIndex: U256::ZERO,
                    actual: U256::from(0xbf),
                }
                .abi_encode(),
                format!(
                    "calling {selector} on {target} breaks rule 0 of its permission: it read 0xbf"
                ),
            ),
            (
                V::UnusedRuleAttachment {
                    sessionId: session,
                    callIndex: U256::from(3),
                }
                .abi_encode(),
                "the signature's rules for call 3 were not used".to_owned(),
            ),
            (
                V::InvalidRules {
                    sessionId: session,
                    index: U256::from(2),
                }
                .abi_encode(),
                "permission 2's rules break their encoding".to_owned(),
            ),
        ];
        for (data, expected) in cases {
            let text = RevertReason::decode(&data).to_string();
            assert!(
                text.starts_with(&format!("session {session}: {expected}")),
                "{text}"
            );
        }
    }

    #[test]
    fn grant_errors_say_what_is_wrong() {
        let error = leash_bindings::SessionKeyValidator::SessionNotUnused {
            sessionId: B256::repeat_byte(1),
            status: 2,
        };
        let text = RevertReason::decode(&error.abi_encode()).to_string();
        assert!(
            text.ends_with("already revoked (a grant is enabled at most once)"),
            "{text}"
        );
    }
}
