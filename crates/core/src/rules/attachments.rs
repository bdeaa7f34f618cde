//! Which rules each call of a session operation carries in its signature: a call a plain
//! permission allows carries none; otherwise it carries the compact rules of the first ruled
//! permission whose rules it satisfies; a call that satisfies none is refused before it is signed.

use super::{RULE_RATE, Rule, RuleBreach, compact_rules, encoding::compact_holds_kind, evaluate};
use crate::{
    calls::Call,
    grant::is_permit2_approve,
    permission::{ERC20_SPEND_SELECTORS, Permission},
    revert_reason::BrokenRule,
    session_signature::SIG_FLAG_RULES,
};
use alloy_primitives::{Address, B256, Bytes, Selector};
use std::fmt;

/// The compact rules one call of an operation carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleAttachment {
    /// The call's index in the operation's `execute` batch (0 for a single call).
    pub call_index: u8,
    /// The compact form of the rules of the permission that allows it.
    pub compact: Bytes,
}

/// The rule attachments of an operation's signature, in strictly ascending call order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleAttachments(Vec<RuleAttachment>);

/// Why an operation's calls cannot carry their rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// A call breaks every ruled permission that could allow it: the validator would revert.
    #[error("{0}")]
    Denied(Box<RuleDenial>),
    /// A ruled call past index 255: an attachment names its call in one byte.
    #[error("call {index} needs rules, but only calls 0 to 255 can carry them")]
    CallIndex {
        /// The call's index.
        index: usize,
    },
    /// The attachments (or one permission's compact rules) exceed the 65,535 bytes their
    /// `uint16` length can frame.
    #[error("the calls' rules take {length} bytes; a signature frames at most 65535")]
    TooLong {
        /// Their length.
        length: usize,
    },
}

/// A call refused before it is signed because it breaks the rules of the permissions that could
/// allow it; its sentence is the one the validator's error for the same breach decodes to, with
/// the permission's rules named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDenial {
    /// The session.
    pub session_id: B256,
    /// The call's target.
    pub target: Address,
    /// The call's selector.
    pub selector: Selector,
    /// The rules of the permission whose breach is reported (the first that could allow the call).
    pub rules: Vec<Rule>,
    /// How the call breaks them.
    pub breach: RuleBreach,
}

impl fmt::Display for RuleDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let broken = BrokenRule {
            session_id: self.session_id,
            target: self.target,
            selector: self.selector,
            breach: self.breach.clone(),
            rules: Some(&self.rules),
        };
        fmt::Display::fmt(&broken, f)
    }
}

/// The function permissions that reach calling `selector` on `target`, each as its index in the
/// grant (which a usage or rate limit's compact form holds) and its rules (empty for a plain
/// one), in grant order.
fn reaching(
    permissions: &[Permission],
    target: Address,
    selector: Selector,
) -> impl Iterator<Item = (u32, &[Rule])> {
    permissions
        .iter()
        .zip(0..)
        .filter_map(move |(permission, index)| {
            let (scope, functions) = match permission {
                Permission::FunctionsOnContract {
                    address, functions, ..
                } => (Some(*address), functions),
                Permission::FunctionsOnAllContracts { functions, .. } => (None, functions),
                _ => return None,
            };
            (scope.is_none_or(|address| address == target) && functions.contains(&selector))
                .then(|| (index, permission.rules()))
        })
}

/// Whether a rule-free permission allows calling `selector` on `target` (which is not the account).
fn plainly_allowed(permissions: &[Permission], target: Address, selector: Selector) -> bool {
    permissions.iter().any(|permission| match permission {
        Permission::Root => true,
        Permission::ContractAccess { address } => *address == target,
        _ => false,
    }) || reaching(permissions, target, selector).any(|(_, rules)| rules.is_empty())
}

/// The ruled permissions that would allow calling `selector` on `target` if their rules hold, as
/// their index in the grant and their rules, in grant order.
pub(crate) fn ruled_candidates(
    permissions: &[Permission],
    target: Address,
    selector: Selector,
) -> impl Iterator<Item = (u32, &[Rule])> {
    reaching(permissions, target, selector).filter(|(_, rules)| !rules.is_empty())
}

impl RuleAttachments {
    /// No attachments: the signature takes no rules flag.
    pub fn none() -> Self {
        Self::default()
    }

    /// The attachments of `calls` made by `account` under session `session_id`, whose grant has
    /// `permissions`. Only calls the validator checks against function permissions may carry
    /// rules: calls with a selector, to another address than the account, that are not ERC-20
    /// spends or Permit2's `approve`. Of those, one a plain permission allows carries nothing;
    /// one with ruled permissions carries the first whose rules hold, and if it breaks them all
    /// it is [`AttachmentError::Denied`] by the first one's breach. A call nothing
    /// allows carries nothing, and validation refuses it as `CallNotAllowed`.
    pub fn choose(
        session_id: B256,
        account: Address,
        permissions: &[Permission],
        calls: &[Call],
    ) -> Result<Self, AttachmentError> {
        let mut attachments = Vec::new();
        for (index, call) in calls.iter().enumerate() {
            let Some(selector) = call.data.get(..4).map(Selector::from_slice) else {
                continue;
            };
            if call.to == account
                || ERC20_SPEND_SELECTORS.contains(&selector)
                || is_permit2_approve(call.to, selector)
                || plainly_allowed(permissions, call.to, selector)
            {
                continue;
            }
            let mut first_breach = None;
            let mut chosen = None;
            for (permission_index, rules) in ruled_candidates(permissions, call.to, selector) {
                match evaluate(rules, call) {
                    Ok(()) => {
                        chosen = Some((permission_index, rules));
                        break;
                    }
                    Err(breach) => {
                        first_breach.get_or_insert((rules, breach));
                    }
                }
            }
            match (chosen, first_breach) {
                (Some((permission_index, rules)), _) => attachments.push(RuleAttachment {
                    call_index: u8::try_from(index)
                        .map_err(|_| AttachmentError::CallIndex { index })?,
                    compact: compact_rules(rules, permission_index),
                }),
                (None, Some((rules, breach))) => {
                    return Err(AttachmentError::Denied(Box::new(RuleDenial {
                        session_id,
                        target: call.to,
                        selector,
                        rules: rules.to_vec(),
                        breach,
                    })));
                }
                (None, None) => {}
            }
        }
        let chosen = Self(attachments);
        let length = chosen.framed_len();
        if length > usize::from(u16::MAX) + 2 {
            return Err(AttachmentError::TooLong { length: length - 2 });
        }
        Ok(chosen)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attachments, in call order.
    pub fn as_slice(&self) -> &[RuleAttachment] {
        &self.0
    }

    /// How many of the calls carry a rate limit. Each is counted in the execution phase, the only
    /// one that reads the clock: the operation takes the balance-checked form, whose settlement
    /// charges them.
    pub fn rated_calls(&self) -> usize {
        self.0
            .iter()
            .filter(|attachment| compact_holds_kind(&attachment.compact, RULE_RATE))
            .count()
    }

    /// The attachments a session signature carries: its trailer ([`Self::trailer`]) when its mode
    /// byte has [`SIG_FLAG_RULES`], else none. A trailer that does not frame reads as none: the
    /// validator refuses such a signature anyway.
    pub fn of_signature(signature: &[u8]) -> Self {
        Self::read_trailer(signature).unwrap_or_default()
    }

    fn read_trailer(signature: &[u8]) -> Option<Self> {
        if signature.first()? & SIG_FLAG_RULES == 0 {
            return None;
        }
        let (body, length) = signature.split_last_chunk::<2>()?;
        let start = body
            .len()
            .checked_sub(usize::from(u16::from_be_bytes(*length)))?;
        let mut rest = &body[start..];
        let mut attachments = Vec::new();
        while let [call_index, high, low, tail @ ..] = rest {
            let (compact, after) =
                tail.split_at_checked(usize::from(u16::from_be_bytes([*high, *low])))?;
            attachments.push(RuleAttachment {
                call_index: *call_index,
                compact: Bytes::copy_from_slice(compact),
            });
            rest = after;
        }
        rest.is_empty().then_some(Self(attachments))
    }

    fn framed_len(&self) -> usize {
        self.0.iter().map(|a| 3 + a.compact.len()).sum::<usize>() + 2
    }

    /// The signature's trailer: `attachments ‖ uint16 attachmentsLength` (big-endian), each
    /// attachment `uint8 callIndex ‖ uint16 length ‖ compact`. Empty when there are none.
    /// [`Self::choose`] keeps every length within its `uint16`.
    pub fn trailer(&self) -> Vec<u8> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.framed_len());
        for attachment in &self.0 {
            out.push(attachment.call_index);
            out.extend_from_slice(&(attachment.compact.len() as u16).to_be_bytes());
            out.extend_from_slice(&attachment.compact);
        }
        let length = out.len() as u16;
        out.extend_from_slice(&length.to_be_bytes());
        out
    }
}
