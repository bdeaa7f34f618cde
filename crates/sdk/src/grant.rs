//! Session grants: validated building, the EIP-712 session id, typed data for wallets, and the
//! owner's signature.

use crate::{
    ERC20_SPEND_SELECTORS, FORBIDDEN_ACCOUNT_SELECTORS, MAX_ALLOWANCE, Permission, SdkError,
};
use alloy_primitives::{Address, B256, Bytes, Selector, U256, aliases::U48};
use alloy_signer::{Signer, SignerSync};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};
use leash_bindings::SessionGrant;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Largest `validUntil` a grant can carry (`uint48`).
pub const MAX_VALID_UNTIL: u64 = (1 << 48) - 1;

/// Why a grant cannot be built. Each names the offending permission by its index in the order
/// they were added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// A grant needs at least one permission.
    #[error("a session needs at least one permission")]
    NoPermissions,
    /// `root` must be the only permission.
    #[error("permission {index}: root cannot be combined with other permissions")]
    RootNotExclusive {
        /// Index of the root permission.
        index: usize,
    },
    /// The session key is the zero address.
    #[error("the session key is the zero address")]
    ZeroSessionKey,
    /// No expiry was set; every session must end.
    #[error("the session has no expiry (validUntil)")]
    MissingExpiry,
    /// The expiry is not in the future.
    #[error("validUntil {valid_until} is not after now ({now})")]
    ExpiryInPast {
        /// The requested expiry.
        valid_until: u64,
        /// The clock the grant was checked against.
        now: u64,
    },
    /// The expiry or start does not fit in `uint48`.
    #[error("{field} {value} does not fit in uint48 (max {MAX_VALID_UNTIL})")]
    TimeOutOfRange {
        /// `validAfter` or `validUntil`.
        field: &'static str,
        /// The requested value.
        value: u64,
    },
    /// The window is empty.
    #[error("validAfter {valid_after} is not before validUntil {valid_until}")]
    EmptyWindow {
        /// The requested start.
        valid_after: u64,
        /// The requested end.
        valid_until: u64,
    },
    /// An allowance or limit of zero allows nothing.
    #[error("permission {index} ({kind}): an allowance of zero allows nothing")]
    ZeroAllowance {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// An allowance above 2^128 - 1, which the validator cannot store.
    #[error("permission {index} ({kind}): allowance {amount} exceeds 2^128 - 1")]
    AllowanceTooLarge {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The requested amount.
        amount: U256,
    },
    /// A function permission without functions.
    #[error("permission {index} ({kind}): the function list is empty")]
    EmptyFunctions {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A target that is the zero address.
    #[error("permission {index} ({kind}): the address is zero")]
    ZeroTarget {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A target that is the account itself or the validator, which the validator refuses
    /// (`account-functions` is the way to call the account).
    #[error("permission {index} ({kind}): {target} is the {what}, which no session may target")]
    ForbiddenTarget {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The target.
        target: Address,
        /// "account" or "validator".
        what: &'static str,
    },
    /// A selector no session may call on the account (`execute`, module management, …).
    #[error("permission {index} (account-functions): selector {selector} can never be granted")]
    ForbiddenSelector {
        /// Index of the permission.
        index: usize,
        /// The selector.
        selector: Selector,
    },
    /// An ERC-20 spend selector in a function list: only `erc20-token-transfer` governs those.
    #[error(
        "permission {index} ({kind}): selector {selector} moves or approves tokens; \
         use an erc20-token-transfer permission instead"
    )]
    SpendSelectorInFunctions {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The selector.
        selector: Selector,
    },
    /// The same limit (per token for ERC-20) or contract target twice.
    #[error("permission {index} ({kind}) repeats permission {first}")]
    Duplicate {
        /// Index of the repeat.
        index: usize,
        /// The index it repeats.
        first: usize,
        /// Its Wallet API type.
        kind: &'static str,
    },
    /// A selector listed twice in one function list.
    #[error("permission {index} ({kind}): selector {selector} is listed twice")]
    DuplicateSelector {
        /// Index of the permission.
        index: usize,
        /// Its Wallet API type.
        kind: &'static str,
        /// The selector.
        selector: Selector,
    },
}

/// The validator and chain a grant is signed for: the EIP-712 domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantDomain {
    /// The chain id.
    pub chain_id: u64,
    /// The `SessionKeyValidator` address.
    pub validator: Address,
}

impl GrantDomain {
    /// The EIP-712 domain: `LeashSessionKeyValidator`, version `1`.
    pub fn eip712(&self) -> Eip712Domain {
        eip712_domain! {
            name: "LeashSessionKeyValidator",
            version: "1",
            chain_id: self.chain_id,
            verifying_contract: self.validator,
        }
    }

    /// The session id of `grant`: its EIP-712 digest, which is also what the owner signs.
    pub fn session_id(&self, grant: &SessionGrant) -> B256 {
        grant.eip712_signing_hash(&self.eip712())
    }

    /// The `eth_signTypedData_v4` payload of `grant`, for wallets and `cast wallet sign --data`.
    pub fn typed_data(&self, grant: &SessionGrant) -> Value {
        let field = |name: &str, ty: &str| json!({ "name": name, "type": ty });
        let permissions: Vec<Value> = grant
            .permissions
            .iter()
            .map(|p| {
                json!({
                    "permissionType": u8::from(p.permissionType),
                    "target": p.target,
                    "amount": p.amount.to_string(),
                    "functions": p.functions,
                })
            })
            .collect();
        json!({
            "types": {
                "EIP712Domain": [
                    field("name", "string"),
                    field("version", "string"),
                    field("chainId", "uint256"),
                    field("verifyingContract", "address"),
                ],
                "SessionGrant": [
                    field("account", "address"),
                    field("sessionKey", "address"),
                    field("validAfter", "uint48"),
                    field("validUntil", "uint48"),
                    field("salt", "uint256"),
                    field("permissions", "Permission[]"),
                ],
                "Permission": [
                    field("permissionType", "uint8"),
                    field("target", "address"),
                    field("amount", "uint256"),
                    field("functions", "bytes4[]"),
                ],
            },
            "primaryType": "SessionGrant",
            "domain": {
                "name": "LeashSessionKeyValidator",
                "version": "1",
                "chainId": self.chain_id,
                "verifyingContract": self.validator,
            },
            "message": {
                "account": grant.account,
                "sessionKey": grant.sessionKey,
                "validAfter": grant.validAfter.to::<u64>(),
                "validUntil": grant.validUntil.to::<u64>(),
                "salt": grant.salt.to_string(),
                "permissions": permissions,
            },
        })
    }

    /// The owner's signature of `grant` (its session id, signed raw), `r ‖ s ‖ v`.
    pub fn sign(&self, owner: &impl SignerSync, grant: &SessionGrant) -> Result<Bytes, SdkError> {
        Ok(owner
            .sign_hash_sync(&self.session_id(grant))?
            .as_bytes()
            .into())
    }

    /// As [`GrantDomain::sign`], through any async alloy signer (hardware wallet, remote signer,
    /// keystore): the caller supplies the signer when the owner's approval is needed.
    pub async fn sign_async(
        &self,
        owner: &(impl Signer + Sync),
        grant: &SessionGrant,
    ) -> Result<Bytes, SdkError> {
        Ok(owner
            .sign_hash(&self.session_id(grant))
            .await?
            .as_bytes()
            .into())
    }
}

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

    /// Checks the grant against `now` (unix seconds) and builds it.
    pub fn build(self, now: u64) -> Result<SessionGrant, GrantError> {
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
        let mut seen: Vec<(UniqueKey, usize)> = Vec::new();
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
        if let Permission::NativeTokenTransfer { allowance: amount }
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
        let is_function_list = matches!(
            permission,
            Permission::AccountFunctions { .. }
                | Permission::FunctionsOnAllContracts { .. }
                | Permission::FunctionsOnContract { .. }
        );
        if is_function_list && sol.functions.is_empty() {
            return Err(GrantError::EmptyFunctions { index, kind });
        }
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

/// What may appear only once per grant: each limit (per token for ERC-20) and each contract
/// target. Function lists on all contracts or on the account may repeat harmlessly.
#[derive(Debug, PartialEq, Eq)]
enum UniqueKey {
    Native,
    Gas,
    Erc20(Address),
    Contract(Address),
    Functions(Address),
}

impl UniqueKey {
    fn of(permission: &Permission) -> Option<Self> {
        match permission {
            Permission::NativeTokenTransfer { .. } => Some(Self::Native),
            Permission::GasLimit { .. } => Some(Self::Gas),
            Permission::Erc20TokenTransfer { address, .. } => Some(Self::Erc20(*address)),
            Permission::ContractAccess { address } => Some(Self::Contract(*address)),
            Permission::FunctionsOnContract { address, .. } => Some(Self::Functions(*address)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, fixed_bytes};

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
    const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
    const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000cc");
    const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");
    const NOW: u64 = 1_000;

    fn builder() -> SessionGrantBuilder {
        SessionGrantBuilder::new(ACCOUNT, KEY, VALIDATOR).valid_until(NOW + 3600)
    }

    fn build_with(permissions: Vec<Permission>) -> Result<SessionGrant, GrantError> {
        builder().permissions(permissions).build(NOW)
    }

    fn erc20(token: Address, allowance: u64) -> Permission {
        Permission::Erc20TokenTransfer {
            address: token,
            allowance: U256::from(allowance),
        }
    }

    #[test]
    fn a_valid_grant_carries_every_field() -> Result<(), GrantError> {
        let grant = builder()
            .valid_after(NOW)
            .salt(U256::from(7))
            .permission(erc20(TOKEN, 5))
            .permission(Permission::GasLimit {
                limit: U256::from(10),
            })
            .build(NOW)?;
        assert_eq!((grant.account, grant.sessionKey), (ACCOUNT, KEY));
        assert_eq!(
            (grant.validAfter.to::<u64>(), grant.validUntil.to::<u64>()),
            (NOW, NOW + 3600)
        );
        assert_eq!(grant.salt, U256::from(7));
        assert_eq!(grant.permissions.len(), 2);
        Ok(())
    }

    #[test]
    fn each_invalid_input_has_its_own_error() {
        let selector = fixed_bytes!("0x12345678");
        let cases: Vec<(Vec<Permission>, GrantError)> = vec![
            (vec![], GrantError::NoPermissions),
            (
                vec![erc20(TOKEN, 1), Permission::Root],
                GrantError::RootNotExclusive { index: 1 },
            ),
            (
                vec![erc20(TOKEN, 0)],
                GrantError::ZeroAllowance {
                    index: 0,
                    kind: "erc20-token-transfer",
                },
            ),
            (
                vec![Permission::NativeTokenTransfer {
                    allowance: MAX_ALLOWANCE + U256::from(1),
                }],
                GrantError::AllowanceTooLarge {
                    index: 0,
                    kind: "native-token-transfer",
                    amount: MAX_ALLOWANCE + U256::from(1),
                },
            ),
            (
                vec![Permission::FunctionsOnAllContracts { functions: vec![] }],
                GrantError::EmptyFunctions {
                    index: 0,
                    kind: "functions-on-all-contracts",
                },
            ),
            (
                vec![Permission::ContractAccess {
                    address: Address::ZERO,
                }],
                GrantError::ZeroTarget {
                    index: 0,
                    kind: "contract-access",
                },
            ),
            (
                vec![Permission::ContractAccess { address: ACCOUNT }],
                GrantError::ForbiddenTarget {
                    index: 0,
                    kind: "contract-access",
                    target: ACCOUNT,
                    what: "account",
                },
            ),
            (
                vec![erc20(VALIDATOR, 1)],
                GrantError::ForbiddenTarget {
                    index: 0,
                    kind: "erc20-token-transfer",
                    target: VALIDATOR,
                    what: "validator",
                },
            ),
            (
                vec![Permission::AccountFunctions {
                    functions: vec![FORBIDDEN_ACCOUNT_SELECTORS[2]],
                }],
                GrantError::ForbiddenSelector {
                    index: 0,
                    selector: FORBIDDEN_ACCOUNT_SELECTORS[2],
                },
            ),
            (
                vec![Permission::FunctionsOnContract {
                    address: TOKEN,
                    functions: vec![ERC20_SPEND_SELECTORS[0]],
                }],
                GrantError::SpendSelectorInFunctions {
                    index: 0,
                    kind: "functions-on-contract",
                    selector: ERC20_SPEND_SELECTORS[0],
                },
            ),
            (
                vec![erc20(TOKEN, 1), erc20(TOKEN, 2)],
                GrantError::Duplicate {
                    index: 1,
                    first: 0,
                    kind: "erc20-token-transfer",
                },
            ),
            (
                vec![
                    Permission::GasLimit {
                        limit: U256::from(1),
                    },
                    Permission::GasLimit {
                        limit: U256::from(2),
                    },
                ],
                GrantError::Duplicate {
                    index: 1,
                    first: 0,
                    kind: "gas-limit",
                },
            ),
            (
                vec![Permission::FunctionsOnAllContracts {
                    functions: vec![selector, selector],
                }],
                GrantError::DuplicateSelector {
                    index: 0,
                    kind: "functions-on-all-contracts",
                    selector,
                },
            ),
        ];
        for (permissions, expected) in cases {
            assert_eq!(
                build_with(permissions.clone()),
                Err(expected),
                "{permissions:?}"
            );
        }
    }

    #[test]
    fn erc20_limits_on_different_tokens_are_not_duplicates() {
        let other = address!("0x00000000000000000000000000000000000000ee");
        assert!(build_with(vec![erc20(TOKEN, 1), erc20(other, 1)]).is_ok());
    }

    #[test]
    fn window_errors() {
        let root = || vec![Permission::Root];
        let no_expiry = SessionGrantBuilder::new(ACCOUNT, KEY, VALIDATOR)
            .permissions(root())
            .build(NOW);
        assert_eq!(no_expiry, Err(GrantError::MissingExpiry));
        let past = builder().valid_until(NOW).permissions(root()).build(NOW);
        assert_eq!(
            past,
            Err(GrantError::ExpiryInPast {
                valid_until: NOW,
                now: NOW
            })
        );
        let too_far = builder()
            .valid_until(MAX_VALID_UNTIL + 1)
            .permissions(root())
            .build(NOW);
        assert_eq!(
            too_far,
            Err(GrantError::TimeOutOfRange {
                field: "validUntil",
                value: MAX_VALID_UNTIL + 1
            })
        );
        let empty = builder()
            .valid_after(NOW + 3600)
            .permissions(root())
            .build(NOW);
        assert_eq!(
            empty,
            Err(GrantError::EmptyWindow {
                valid_after: NOW + 3600,
                valid_until: NOW + 3600
            })
        );
        let no_key = SessionGrantBuilder::new(ACCOUNT, Address::ZERO, VALIDATOR)
            .valid_until(NOW + 1)
            .build(NOW);
        assert_eq!(no_key, Err(GrantError::ZeroSessionKey));
    }

    #[test]
    fn times_up_to_uint48_max_are_accepted() -> Result<(), GrantError> {
        assert_eq!(MAX_VALID_UNTIL, 0xffff_ffff_ffff);
        let grant = builder()
            .valid_after(MAX_VALID_UNTIL - 1)
            .valid_until(MAX_VALID_UNTIL)
            .permission(Permission::Root)
            .build(NOW)?;
        assert_eq!(
            (grant.validAfter.to::<u64>(), grant.validUntil.to::<u64>()),
            (MAX_VALID_UNTIL - 1, MAX_VALID_UNTIL)
        );
        let start_too_far = builder()
            .valid_after(MAX_VALID_UNTIL + 1)
            .valid_until(MAX_VALID_UNTIL)
            .permission(Permission::Root)
            .build(NOW);
        assert_eq!(
            start_too_far,
            Err(GrantError::TimeOutOfRange {
                field: "validAfter",
                value: MAX_VALID_UNTIL + 1
            })
        );
        Ok(())
    }

    #[test]
    fn expiry_one_second_ahead_is_in_the_future() -> Result<(), GrantError> {
        let grant = builder()
            .valid_until(NOW + 1)
            .permission(Permission::Root)
            .build(NOW)?;
        assert_eq!(grant.validUntil.to::<u64>(), NOW + 1);
        let window = builder()
            .valid_after(NOW + 1)
            .valid_until(NOW + 1)
            .permission(Permission::Root)
            .build(NOW);
        assert_eq!(
            window,
            Err(GrantError::EmptyWindow {
                valid_after: NOW + 1,
                valid_until: NOW + 1
            })
        );
        Ok(())
    }

    #[test]
    fn root_alone_is_a_grant() -> Result<(), GrantError> {
        let grant = build_with(vec![Permission::Root])?;
        assert_eq!(grant.permissions, vec![Permission::Root.to_sol()]);
        assert_eq!(
            build_with(vec![Permission::Root, Permission::Root]),
            Err(GrantError::RootNotExclusive { index: 0 })
        );
        Ok(())
    }

    #[test]
    fn allowances_up_to_2_pow_128_minus_1_are_accepted() -> Result<(), GrantError> {
        let grant = build_with(vec![
            Permission::GasLimit {
                limit: MAX_ALLOWANCE,
            },
            Permission::NativeTokenTransfer {
                allowance: U256::from(1),
            },
        ])?;
        assert_eq!(grant.permissions[0].amount, MAX_ALLOWANCE);
        assert_eq!(grant.permissions[1].amount, U256::from(1));
        assert_eq!(
            build_with(vec![Permission::GasLimit { limit: U256::ZERO }]),
            Err(GrantError::ZeroAllowance {
                index: 0,
                kind: "gas-limit"
            })
        );
        Ok(())
    }

    #[test]
    fn each_limit_and_contract_target_appears_once() {
        let native = |allowance: u64| Permission::NativeTokenTransfer {
            allowance: U256::from(allowance),
        };
        let selector = fixed_bytes!("0x12345678");
        let other = fixed_bytes!("0x87654321");
        let cases = [
            (vec![native(1), native(2)], "native-token-transfer"),
            (
                vec![
                    Permission::ContractAccess { address: TOKEN },
                    Permission::ContractAccess { address: TOKEN },
                ],
                "contract-access",
            ),
            (
                vec![
                    Permission::FunctionsOnContract {
                        address: TOKEN,
                        functions: vec![selector],
                    },
                    Permission::FunctionsOnContract {
                        address: TOKEN,
                        functions: vec![other],
                    },
                ],
                "functions-on-contract",
            ),
        ];
        for (permissions, kind) in cases {
            assert_eq!(
                build_with(permissions.clone()),
                Err(GrantError::Duplicate {
                    index: 1,
                    first: 0,
                    kind
                }),
                "{permissions:?}"
            );
        }
        // One of each kind on the same contract, and repeated function lists on all contracts
        // or on the account, are not duplicates.
        let distinct = build_with(vec![
            native(1),
            erc20(TOKEN, 1),
            Permission::ContractAccess { address: TOKEN },
            Permission::FunctionsOnContract {
                address: TOKEN,
                functions: vec![selector],
            },
            Permission::FunctionsOnAllContracts {
                functions: vec![selector],
            },
            Permission::FunctionsOnAllContracts {
                functions: vec![other],
            },
            Permission::AccountFunctions {
                functions: vec![selector],
            },
            Permission::AccountFunctions {
                functions: vec![other],
            },
        ]);
        assert_eq!(distinct.map(|grant| grant.permissions.len()), Ok(8));
    }

    #[test]
    fn the_owner_signs_the_session_id() -> Result<(), Box<dyn std::error::Error>> {
        let owner = alloy_signer_local::PrivateKeySigner::random();
        let grant = builder().permission(erc20(TOKEN, 5)).build(NOW)?;
        let domain = GrantDomain {
            chain_id: 31337,
            validator: VALIDATOR,
        };
        let session_id = domain.session_id(&grant);
        assert_ne!(session_id, B256::ZERO);
        let signature = domain.sign(&owner, &grant)?;
        assert_eq!(signature.len(), 65);
        let recovered = alloy_primitives::Signature::try_from(signature.as_ref())?
            .recover_address_from_prehash(&session_id)?;
        assert_eq!(recovered, owner.address());
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let signed_async = runtime.block_on(domain.sign_async(&owner, &grant))?;
        assert_eq!(signed_async, signature);
        Ok(())
    }

    #[test]
    fn typed_data_carries_the_domain_and_every_field() -> Result<(), GrantError> {
        let grant = builder().permission(erc20(TOKEN, 5)).build(NOW)?;
        let domain = GrantDomain {
            chain_id: 31337,
            validator: VALIDATOR,
        };
        let typed = domain.typed_data(&grant);
        assert_eq!(typed["primaryType"], "SessionGrant");
        assert_eq!(typed["domain"]["chainId"], 31337);
        assert_eq!(typed["message"]["permissions"][0]["permissionType"], 2);
        assert_eq!(typed["message"]["permissions"][0]["amount"], "5");
        assert_eq!(typed["message"]["validUntil"], NOW + 3600);
        Ok(())
    }
}
