//! The grant builder: every rule the validator enforces on a grant, and the grants it would
//! accept but that could never be used.

use super::{DEFAULT_GAS_LIMIT, GrantError, MAX_VALID_UNTIL};
use crate::{
    permission::{ERC20_SPEND_SELECTORS, FORBIDDEN_ACCOUNT_SELECTORS, MAX_ALLOWANCE, Permission},
    rules::{Rule, check_rules},
};
use alloy_primitives::{Address, U256, aliases::U48};
use leash_bindings::SessionGrant;
use std::collections::HashSet;

/// Builds a [`SessionGrant`], checking everything the validator would reject and what it would
/// silently make useless.
#[derive(Clone, Debug)]
pub struct SessionGrantBuilder {
    account: Address,
    session_key: Address,
    validator: Address,
    valid_after: u64,
    valid_until: Option<u64>,
    salt: U256,
    permissions: Vec<Permission>,
    gas: GasBound,
}

/// The `gas-limit` a scoped grant gets when its permissions give none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GasBound {
    /// [`DEFAULT_GAS_LIMIT`].
    Default,
    /// `2^128 - 1` wei: no bound in practice, chosen explicitly.
    Unbounded,
    /// None: the session pays for nothing itself, only its paymasters may.
    None,
}

impl SessionGrantBuilder {
    /// A grant by `account` to `session_key`, for the validator at `validator` (needed to refuse
    /// it as a target).
    pub fn new(account: Address, session_key: Address, validator: Address) -> Self {
        Self {
            account,
            session_key,
            validator,
            valid_after: 0,
            valid_until: None,
            salt: U256::ZERO,
            permissions: Vec::new(),
            gas: GasBound::Default,
        }
    }

    /// When the session expires (unix seconds). Mandatory.
    pub fn valid_until(mut self, valid_until: u64) -> Self {
        self.valid_until = Some(valid_until);
        self
    }

    /// When the session starts (unix seconds); zero (the default) for at once.
    pub fn valid_after(mut self, valid_after: u64) -> Self {
        self.valid_after = valid_after;
        self
    }

    /// A salt that makes otherwise equal grants distinct sessions.
    pub fn salt(mut self, salt: U256) -> Self {
        self.salt = salt;
        self
    }

    /// Adds a permission.
    pub fn permission(mut self, permission: Permission) -> Self {
        self.permissions.push(permission);
        self
    }

    /// Adds permissions.
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.permissions.extend(permissions);
        self
    }

    /// A scoped grant without a `gas-limit` gets one of `2^128 - 1` wei instead of
    /// [`DEFAULT_GAS_LIMIT`]: the session may spend the account's ETH on gas without a bound.
    /// Only ever an explicit choice.
    pub fn unbounded_gas(mut self) -> Self {
        self.gas = GasBound::Unbounded;
        self
    }

    /// A scoped grant without a `gas-limit` gets none: the session may not pay gas from the
    /// account at all, only through the paymasters it names (`paymaster` permissions).
    pub fn without_default_gas_limit(mut self) -> Self {
        self.gas = GasBound::None;
        self
    }

    /// What the grant so far allows that its limits cannot meter (approval hubs, paymasters), for
    /// the owner to see before signing.
    pub fn warnings(&self) -> Vec<super::GrantWarning> {
        super::grant_warnings(&self.permissions)
    }

    /// Checks the grant against `now` (unix seconds) and builds it. A scoped grant whose
    /// permissions give no `gas-limit` gets one after them (see [`DEFAULT_GAS_LIMIT`]), so the
    /// indices of the permissions given stay as they were.
    pub fn build(mut self, now: u64) -> Result<SessionGrant, GrantError> {
        if self.session_key == Address::ZERO {
            return Err(GrantError::ZeroSessionKey);
        }
        let valid_until = self.valid_until.ok_or(GrantError::MissingExpiry)?;
        for (field, value) in [
            ("validAfter", self.valid_after),
            ("validUntil", valid_until),
        ] {
            if value > MAX_VALID_UNTIL {
                return Err(GrantError::TimeOutOfRange { field, value });
            }
        }
        if valid_until <= now {
            return Err(GrantError::ExpiryInPast { valid_until, now });
        }
        if self.valid_after >= valid_until {
            return Err(GrantError::EmptyWindow {
                valid_after: self.valid_after,
                valid_until,
            });
        }
        self.check_permissions()?;
        let bounded = self
            .permissions
            .iter()
            .any(|p| matches!(p, Permission::Root | Permission::GasLimit { .. }));
        let limit = match self.gas {
            _ if bounded => None,
            GasBound::Default => Some(DEFAULT_GAS_LIMIT),
            GasBound::Unbounded => Some(MAX_ALLOWANCE),
            GasBound::None => None,
        };
        if let Some(limit) = limit {
            self.permissions.push(Permission::GasLimit { limit });
        }
        Ok(SessionGrant {
            account: self.account,
            sessionKey: self.session_key,
            validAfter: U48::from(self.valid_after),
            validUntil: U48::from(valid_until),
            salt: self.salt,
            permissions: self.permissions.iter().map(Permission::to_sol).collect(),
        })
    }

    fn check_permissions(&self) -> Result<(), GrantError> {
        if self.permissions.is_empty() {
            return Err(GrantError::NoPermissions);
        }
        let mut seen: Vec<(UniqueKey<'_>, usize)> = Vec::new();
        for (index, permission) in self.permissions.iter().enumerate() {
            let kind = permission.type_name();
            if matches!(permission, Permission::Root) && self.permissions.len() > 1 {
                return Err(GrantError::RootNotExclusive { index });
            }
            self.check_fields(index, permission)?;
            if let Some(key) = UniqueKey::of(permission) {
                if let Some(&(_, first)) = seen.iter().find(|(k, _)| *k == key) {
                    return Err(GrantError::Duplicate { index, first, kind });
                }
                seen.push((key, index));
            }
        }
        Ok(())
    }

    fn check_fields(&self, index: usize, permission: &Permission) -> Result<(), GrantError> {
        let kind = permission.type_name();
        let sol = permission.to_sol();
        let uses_target = matches!(
            permission,
            Permission::Erc20TokenTransfer { .. }
                | Permission::ContractAccess { .. }
                | Permission::FunctionsOnContract { .. }
                | Permission::Paymaster { .. }
                | Permission::TypedDataSigning { .. }
        );
        if uses_target {
            let target = sol.target;
            if target == Address::ZERO {
                return Err(GrantError::ZeroTarget { index, kind });
            }
            for (forbidden, what) in [(self.account, "account"), (self.validator, "validator")] {
                if target == forbidden {
                    return Err(GrantError::ForbiddenTarget {
                        index,
                        kind,
                        target,
                        what,
                    });
                }
            }
        }
        if let Permission::NativeTokenTransfer {
            allowance: amount, ..
        }
        | Permission::Erc20TokenTransfer {
            allowance: amount, ..
        }
        | Permission::GasLimit { limit: amount } = permission
        {
            if amount.is_zero() {
                return Err(GrantError::ZeroAllowance { index, kind });
            }
            if *amount > MAX_ALLOWANCE {
                return Err(GrantError::AllowanceTooLarge {
                    index,
                    kind,
                    amount: *amount,
                });
            }
        }
        if let Some(period) = permission.period() {
            period.check().map_err(|source| GrantError::InvalidPeriod {
                index,
                kind,
                source,
            })?;
        }
        // A recurring allowance or a rate limit whose first period opens only when the session
        // has ended could never be used.
        let rate_periods = permission.rules().iter().filter_map(|rule| match rule {
            Rule::RateLimit { period, .. } => Some(period),
            _ => None,
        });
        for period in permission.period().into_iter().chain(rate_periods) {
            if let Some(valid_until) = self.valid_until
                && period.start >= valid_until
            {
                return Err(GrantError::PeriodAfterExpiry {
                    index,
                    kind,
                    start: period.start,
                    valid_until,
                });
            }
        }
        let is_function_list = matches!(
            permission,
            Permission::AccountFunctions { .. }
                | Permission::FunctionsOnAllContracts { .. }
                | Permission::FunctionsOnContract { .. }
        );
        if is_function_list && sol.functions.is_empty() {
            return Err(GrantError::EmptyFunctions { index, kind });
        }
        check_rules(permission.rules()).map_err(|source| GrantError::InvalidRules {
            index,
            kind,
            source,
        })?;
        let mut listed = HashSet::new();
        for selector in sol.functions.iter().copied() {
            if !listed.insert(selector) {
                return Err(GrantError::DuplicateSelector {
                    index,
                    kind,
                    selector,
                });
            }
            if matches!(permission, Permission::AccountFunctions { .. }) {
                if FORBIDDEN_ACCOUNT_SELECTORS.contains(&selector) {
                    return Err(GrantError::ForbiddenSelector { index, selector });
                }
            } else if ERC20_SPEND_SELECTORS.contains(&selector) {
                return Err(GrantError::SpendSelectorInFunctions {
                    index,
                    kind,
                    selector,
                });
            }
        }
        Ok(())
    }
}

/// What may appear only once per grant: each limit (per token for ERC-20), each contract target
/// (per rule set for function lists: differently ruled lists on one contract are alternatives)
/// and each paymaster. Function lists on all contracts or on the account may repeat harmlessly.
#[derive(Debug, PartialEq, Eq)]
enum UniqueKey<'a> {
    Native,
    Gas,
    Erc20(Address),
    Contract(Address),
    Functions(Address, &'a [Rule]),
    Paymaster(Address),
    TypedDataSigning(Address),
    PersonalSign,
}

impl<'a> UniqueKey<'a> {
    fn of(permission: &'a Permission) -> Option<Self> {
        match permission {
            Permission::NativeTokenTransfer { .. } => Some(Self::Native),
            Permission::GasLimit { .. } => Some(Self::Gas),
            Permission::Erc20TokenTransfer { address, .. } => Some(Self::Erc20(*address)),
            Permission::ContractAccess { address } => Some(Self::Contract(*address)),
            Permission::FunctionsOnContract { address, rules, .. } => {
                Some(Self::Functions(*address, rules))
            }
            Permission::Paymaster { address } => Some(Self::Paymaster(*address)),
            Permission::TypedDataSigning { address } => Some(Self::TypedDataSigning(*address)),
            Permission::PersonalSign => Some(Self::PersonalSign),
            _ => None,
        }
    }
}
#[cfg(test)]
mod tests;
