//! A session as it is kept and as the chain sees it: the grant record stored next to its key,
//! the grant's limits, what is left of each, and the session's status.

use crate::{
    permission::Permission,
    recurring::{RecurringPeriod, describe_reset},
};
use alloy_primitives::{Address, Bytes, U256, aliases::U48};
use leash_bindings::{PermissionType, SessionGrant, SessionStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A grant as it is kept next to its session key: every field the owner signed, in the Wallet API
/// permission shape, and the owner's signature once there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRecord {
    /// The account the session acts for.
    pub account: Address,
    /// The session key's address.
    pub session_key: Address,
    /// Start of the window, unix seconds (0 = at once).
    pub valid_after: u64,
    /// End of the window, unix seconds.
    pub valid_until: u64,
    /// The grant's salt.
    pub salt: U256,
    /// The permissions.
    pub permissions: Vec<Permission>,
    /// The owner's signature of the session id; `None` while it is being signed elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_signature: Option<Bytes>,
}

impl GrantRecord {
    /// The record of `grant`, with the owner's signature if it is known; `None` if a permission's
    /// type is out of range (a grant no builder makes).
    pub fn new(grant: &SessionGrant, owner_signature: Option<Bytes>) -> Option<Self> {
        Some(Self {
            account: grant.account,
            session_key: grant.sessionKey,
            valid_after: grant.validAfter.to(),
            valid_until: grant.validUntil.to(),
            salt: grant.salt,
            permissions: grant
                .permissions
                .iter()
                .map(Permission::from_sol)
                .collect::<Option<_>>()?,
            owner_signature,
        })
    }

    /// The grant itself, as the owner signed it.
    pub fn grant(&self) -> SessionGrant {
        SessionGrant {
            account: self.account,
            sessionKey: self.session_key,
            validAfter: U48::saturating_from(self.valid_after),
            validUntil: U48::saturating_from(self.valid_until),
            salt: self.salt,
            permissions: self.permissions.iter().map(Permission::to_sol).collect(),
        }
    }

    /// Whether the session holds `root`.
    pub fn is_root(&self) -> bool {
        self.permissions.contains(&Permission::Root)
    }

    /// The limits of the grant, with their full allowance: what [`SessionState::budgets`] reports
    /// the remainder of.
    pub fn limits(&self) -> Vec<Limit> {
        self.permissions
            .iter()
            .filter_map(|permission| match permission {
                Permission::NativeTokenTransfer { allowance, period } => Some(Limit {
                    kind: LimitKind::Native,
                    allowance: *allowance,
                    period: *period,
                }),
                Permission::Erc20TokenTransfer {
                    address,
                    allowance,
                    period,
                } => Some(Limit {
                    kind: LimitKind::Erc20(*address),
                    allowance: *allowance,
                    period: *period,
                }),
                Permission::GasLimit { limit } => Some(Limit {
                    kind: LimitKind::Gas,
                    allowance: *limit,
                    period: None,
                }),
                _ => None,
            })
            .collect()
    }
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "token")]
pub enum LimitKind {
    /// Native value, in wei.
    Native,
    /// One ERC-20, in its base units.
    Erc20(Address),
    /// Maximum cost of self-paid UserOperations, in wei.
    Gas,
}

impl LimitKind {
    /// The `(permissionType, token)` arguments of the validator's `getAllowance` (and
    /// `getRemaining`) for this limit.
    pub fn query(self) -> (PermissionType, Address) {
        match self {
            Self::Native => (PermissionType::NativeTokenTransfer, Address::ZERO),
            Self::Erc20(token) => (PermissionType::Erc20TokenTransfer, token),
            Self::Gas => (PermissionType::GasLimit, Address::ZERO),
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native => f.write_str("native-token-transfer (wei)"),
            Self::Erc20(token) => write!(f, "erc20-token-transfer {token}"),
            Self::Gas => f.write_str("gas-limit (wei)"),
        }
    }
}

/// One limit of a grant and its full allowance (per period, for a recurring one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// What it counts.
    pub kind: LimitKind,
    /// The full allowance.
    pub allowance: U256,
    /// When the allowance renews; none: it is for the session's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<RecurringPeriod>,
}

/// A limit and what is left of it on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The limit.
    #[serde(flatten)]
    pub limit: Limit,
    /// What the validator says is left (`getAllowance`; of the current period, for a recurring
    /// limit); for a session that is not enabled yet, the grant's full allowance.
    pub remaining: U256,
    /// When the current period of a recurring limit ends (or, before its start, when it opens),
    /// unix seconds, as `getAllowance` reports it; `None` for a limit that does not recur or a
    /// session that is not enabled.
    #[serde(rename = "resetsAt", default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<u64>,
    /// The session is not enabled on chain yet (a lazy grant never used): the validator holds no
    /// record of the limit, and `remaining` is the full allowance the first operation enables.
    #[serde(rename = "notEnabledYet", default)]
    pub not_enabled_yet: bool,
}

impl Budget {
    /// A limit of an enabled (or revoked) session, with what `getAllowance` says is left and,
    /// for a recurring limit, when its period ends.
    pub fn on_chain(limit: Limit, remaining: U256, resets_at: Option<u64>) -> Self {
        Self {
            limit,
            remaining,
            resets_at,
            not_enabled_yet: false,
        }
    }

    /// A limit of a session that is not enabled yet: the validator reports nothing left (it has
    /// no record), but the whole allowance is there for the first operation, which enables it.
    pub fn not_enabled_yet(limit: Limit) -> Self {
        Self {
            limit,
            remaining: limit.allowance,
            resets_at: None,
            not_enabled_yet: true,
        }
    }
}

impl fmt::Display for Budget {
    /// `"3 of 10 left"`, in base units; `"10 of 10 left (not enabled yet)"` before first use; for
    /// a recurring limit `"3 of 10 left this period (every day), resets at
    /// 2026-12-04T00:00:00Z (unix 1796342400)"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} left", self.remaining, self.limit.allowance)?;
        if let Some(period) = &self.limit.period {
            write!(f, " this period ({period})")?;
        }
        if let Some(resets_at) = self.resets_at {
            write!(f, ", resets at {}", describe_reset(resets_at))?;
        }
        if self.not_enabled_yet {
            f.write_str(" (not enabled yet)")?;
        }
        Ok(())
    }
}

/// A session's status on chain, as `getSession` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnChainStatus {
    /// Never enabled: the first UserOperation will enable it (lazy), or the owner may.
    Unused,
    /// Enabled and live.
    Enabled,
    /// Revoked (explicitly, or by a revoke-all after it was enabled): it can never be used.
    Revoked,
}

/// From the validator's `SessionStatus` (its `uint8` in the ABI); the unknown value back as the
/// error. The match follows the Solidity enum, so a new status there fails the build here.
impl TryFrom<u8> for OnChainStatus {
    type Error = u8;

    fn try_from(value: u8) -> Result<Self, u8> {
        match SessionStatus::try_from(value).map_err(|_| value)? {
            SessionStatus::Unused => Ok(Self::Unused),
            SessionStatus::Enabled => Ok(Self::Enabled),
            SessionStatus::Revoked => Ok(Self::Revoked),
            SessionStatus::__Invalid => Err(value),
        }
    }
}

impl fmt::Display for OnChainStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unused => "unused (not enabled yet)",
            Self::Enabled => "enabled",
            Self::Revoked => "revoked",
        })
    }
}

/// A session as the chain sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The session's status.
    pub status: OnChainStatus,
    /// Whether the account has installed the validator (without it every session fails).
    pub validator_installed: bool,
    /// What is left of each limit: zero for a revoked session, the full allowance (marked
    /// [`Budget::not_enabled_yet`]) for one that is not enabled yet.
    pub budgets: Vec<Budget>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::SessionGrantBuilder;
    use alloy_primitives::address;

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
    const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
    const TOKEN: Address = address!("0x00000000000000000000000000000000000000cc");

    fn grant() -> SessionGrant {
        SessionGrantBuilder::new(ACCOUNT, KEY, Address::repeat_byte(0x55))
            .valid_until(2_000)
            .permission(Permission::Erc20TokenTransfer {
                address: TOKEN,
                allowance: U256::from(10),
                period: None,
            })
            .permission(Permission::GasLimit {
                limit: U256::from(7),
            })
            .permission(Permission::ContractAccess { address: TOKEN })
            .build(1_000)
            .expect("valid grant")
    }

    #[test]
    fn records_round_trip_the_signed_grant() -> serde_json::Result<()> {
        let record = GrantRecord::new(&grant(), Some(Bytes::from_static(&[1, 2]))).expect("types");
        assert_eq!(record.grant(), grant());
        let json = serde_json::to_value(&record)?;
        assert_eq!(json["ownerSignature"], "0x0102");
        assert_eq!(json["permissions"][0]["type"], "erc20-token-transfer");
        assert_eq!(serde_json::from_value::<GrantRecord>(json)?, record);
        assert!(!record.is_root());
        assert_eq!(
            record.limits(),
            vec![
                Limit {
                    kind: LimitKind::Erc20(TOKEN),
                    allowance: U256::from(10),
                    period: None,
                },
                Limit {
                    kind: LimitKind::Gas,
                    allowance: U256::from(7),
                    period: None,
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn budgets_read_as_remaining_of_allowance() -> serde_json::Result<()> {
        let limit = Limit {
            kind: LimitKind::Native,
            allowance: U256::from(10),
            period: None,
        };
        let budget = Budget::on_chain(limit, U256::from(3), None);
        assert_eq!(budget.to_string(), "3 of 10 left");
        let json = serde_json::to_value(budget)?;
        assert_eq!(json["notEnabledYet"], false);
        assert_eq!(serde_json::from_value::<Budget>(json)?, budget);
        Ok(())
    }

    #[test]
    fn a_session_not_enabled_yet_has_its_full_allowances() -> serde_json::Result<()> {
        let record = GrantRecord::new(&grant(), None).expect("types");
        let budgets: Vec<Budget> = record
            .limits()
            .into_iter()
            .map(Budget::not_enabled_yet)
            .collect();
        assert_eq!(budgets.len(), 2);
        assert_eq!(budgets[0].remaining, U256::from(10));
        assert_eq!(budgets[1].remaining, U256::from(7));
        assert_eq!(budgets[0].to_string(), "10 of 10 left (not enabled yet)");
        assert_eq!(serde_json::to_value(budgets[1])?["notEnabledYet"], true);
        Ok(())
    }
}
