//! The eight session permission types of the hosted Wallet API, in its JSON shape, leash's own
//! `paymaster`, `typed-data-signing` and `personal-sign`, and their on-chain encoding as
//! `SessionKeyValidator` verifies it.

use crate::{
    recurring::RecurringPeriod,
    rules::{Rule, decode_rules, encode_rules},
};
use alloy_primitives::{Address, Selector, U256, fixed_bytes};
use leash_bindings::{Permission as SolPermission, PermissionType};
use serde::{Deserialize, Serialize};

/// Largest allowance or limit the validator stores (128 bits).
pub const MAX_ALLOWANCE: U256 = U256::from_limbs([u64::MAX, u64::MAX, 0, 0]);

/// ERC-20 calls that move or approve tokens. Only `erc20-token-transfer` governs them: no function
/// or contract permission allows them.
pub const ERC20_SPEND_SELECTORS: [Selector; 4] = [
    fixed_bytes!("0xa9059cbb"), // transfer(address,uint256)
    fixed_bytes!("0x23b872dd"), // transferFrom(address,address,uint256)
    fixed_bytes!("0x095ea7b3"), // approve(address,uint256)
    fixed_bytes!("0x39509351"), // increaseAllowance(address,uint256)
];

/// Account functions no session may call, not even through `account-functions`.
pub const FORBIDDEN_ACCOUNT_SELECTORS: [Selector; 6] = [
    fixed_bytes!("0xe9ae5c53"), // execute(bytes32,bytes)
    fixed_bytes!("0xd691c964"), // executeFromExecutor(bytes32,bytes)
    fixed_bytes!("0x9517e29f"), // installModule(uint256,address,bytes)
    fixed_bytes!("0xa71763a8"), // uninstallModule(uint256,address,bytes)
    fixed_bytes!("0x19822f7c"), // validateUserOp(PackedUserOperation,bytes32,uint256)
    fixed_bytes!("0x8dd7712f"), // executeUserOp(PackedUserOperation,bytes32)
];

/// One permission of a session, serialized exactly as the hosted Wallet API writes it:
/// `{"type": "erc20-token-transfer", "data": {"address": "0x…", "allowance": "0x…"}}`. The two
/// function types may carry argument rules (`"rules": [...]`, see [`Rule`]), and the native and
/// token limits a recurring period (`"period": {...}`, see [`RecurringPeriod`]); without them
/// there is no `rules` or `period` key, as in the Wallet API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub enum Permission {
    /// Any call, except those no session may make. Must be the only permission.
    Root,
    /// Cumulative native value the session may send, in wei (per period, when it has one).
    NativeTokenTransfer {
        /// The allowance, in wei.
        allowance: U256,
        /// When the allowance renews; none: it is for the session's life.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<RecurringPeriod>,
    },
    /// Cumulative amount of one ERC-20 the session may `transfer`, `transferFrom`, `approve` or
    /// `increaseAllowance` (per period, when it has one: then it may only `transfer` and
    /// `transferFrom`).
    #[serde(rename = "erc20-token-transfer")]
    Erc20TokenTransfer {
        /// The token.
        address: Address,
        /// The allowance, in token units.
        allowance: U256,
        /// When the allowance renews; none: it is for the session's life.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<RecurringPeriod>,
    },
    /// Cumulative maximum cost, in wei, of UserOperations the account pays for itself.
    GasLimit {
        /// The limit, in wei.
        limit: U256,
    },
    /// Any function on one contract.
    ContractAccess {
        /// The contract.
        address: Address,
    },
    /// These functions on the account itself.
    AccountFunctions {
        /// The selectors.
        functions: Vec<Selector>,
    },
    /// These functions on any contract (never the account or the validator).
    FunctionsOnAllContracts {
        /// The selectors.
        functions: Vec<Selector>,
        /// Rules every call must satisfy; none allows the functions outright.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<Rule>,
    },
    /// These functions on one contract.
    FunctionsOnContract {
        /// The contract.
        address: Address,
        /// The selectors.
        functions: Vec<Selector>,
        /// Rules every call must satisfy; none allows the functions outright.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<Rule>,
    },
    /// A paymaster the session's UserOperations may name (leash's own type; the Wallet API has
    /// none). A grant names its paymasters: none means none.
    Paymaster {
        /// The paymaster.
        address: Address,
    },
    /// The session may sign EIP-712 typed data of one app as the account (ERC-1271, nested as
    /// ERC-7739 nests it), during its own balance-checked operations only, so that what the
    /// signature lets move is charged to the session's limits (leash's own type).
    TypedDataSigning {
        /// The app domain's `verifyingContract`.
        address: Address,
    },
    /// The session may sign personal messages (EIP-191, e.g. a SIWE login) as the account, at
    /// any time within its window (leash's own type).
    PersonalSign,
}

impl Permission {
    /// The Wallet API name of this permission's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::NativeTokenTransfer { .. } => "native-token-transfer",
            Self::Erc20TokenTransfer { .. } => "erc20-token-transfer",
            Self::GasLimit { .. } => "gas-limit",
            Self::ContractAccess { .. } => "contract-access",
            Self::AccountFunctions { .. } => "account-functions",
            Self::FunctionsOnAllContracts { .. } => "functions-on-all-contracts",
            Self::FunctionsOnContract { .. } => "functions-on-contract",
            Self::Paymaster { .. } => "paymaster",
            Self::TypedDataSigning { .. } => "typed-data-signing",
            Self::PersonalSign => "personal-sign",
        }
    }

    /// The permission's rules: empty for every type but the two function types.
    pub fn rules(&self) -> &[Rule] {
        match self {
            Self::FunctionsOnAllContracts { rules, .. }
            | Self::FunctionsOnContract { rules, .. } => rules,
            _ => &[],
        }
    }

    /// The recurring period of a native or token limit; `None` for every other permission.
    pub fn period(&self) -> Option<&RecurringPeriod> {
        match self {
            Self::NativeTokenTransfer { period, .. } | Self::Erc20TokenTransfer { period, .. } => {
                period.as_ref()
            }
            _ => None,
        }
    }

    /// The on-chain encoding: one `Permission` struct, unused fields zero.
    pub fn to_sol(&self) -> SolPermission {
        let (permission_type, target, amount, functions) = match self {
            Self::Root => (PermissionType::Root, Address::ZERO, U256::ZERO, Vec::new()),
            Self::NativeTokenTransfer { allowance, .. } => (
                PermissionType::NativeTokenTransfer,
                Address::ZERO,
                *allowance,
                Vec::new(),
            ),
            Self::Erc20TokenTransfer {
                address, allowance, ..
            } => (
                PermissionType::Erc20TokenTransfer,
                *address,
                *allowance,
                Vec::new(),
            ),
            Self::GasLimit { limit } => {
                (PermissionType::GasLimit, Address::ZERO, *limit, Vec::new())
            }
            Self::ContractAccess { address } => (
                PermissionType::ContractAccess,
                *address,
                U256::ZERO,
                Vec::new(),
            ),
            Self::AccountFunctions { functions } => (
                PermissionType::AccountFunctions,
                Address::ZERO,
                U256::ZERO,
                functions.clone(),
            ),
            Self::FunctionsOnAllContracts { functions, .. } => (
                PermissionType::FunctionsOnAllContracts,
                Address::ZERO,
                U256::ZERO,
                functions.clone(),
            ),
            Self::FunctionsOnContract {
                address, functions, ..
            } => (
                PermissionType::FunctionsOnContract,
                *address,
                U256::ZERO,
                functions.clone(),
            ),
            Self::Paymaster { address } => {
                (PermissionType::Paymaster, *address, U256::ZERO, Vec::new())
            }
            Self::TypedDataSigning { address } => (
                PermissionType::TypedDataSigning,
                *address,
                U256::ZERO,
                Vec::new(),
            ),
            Self::PersonalSign => (
                PermissionType::PersonalSign,
                Address::ZERO,
                U256::ZERO,
                Vec::new(),
            ),
        };
        SolPermission {
            permissionType: permission_type,
            target,
            amount,
            functions,
            rules: match self.period() {
                Some(period) => period.encode_rules(),
                None => encode_rules(self.rules()),
            },
        }
    }

    /// Reads an on-chain permission back, or `None` when its type index is out of range or it
    /// carries rule data leash cannot represent: rules on a type that takes none, a kind or
    /// version it does not know, or bytes other than its own encoding of them (see
    /// [`decode_rules`] and [`RecurringPeriod::decode_rules`]).
    pub fn from_sol(permission: &SolPermission) -> Option<Self> {
        let SolPermission {
            permissionType,
            target,
            amount,
            functions,
            rules,
        } = permission;
        let is_limit = matches!(
            permissionType,
            PermissionType::NativeTokenTransfer | PermissionType::Erc20TokenTransfer
        );
        let period = if is_limit && !rules.is_empty() {
            Some(RecurringPeriod::decode_rules(rules).ok()?)
        } else {
            None
        };
        let rules = match period {
            Some(_) => Vec::new(),
            None => decode_rules(rules).ok()?,
        };
        let takes_rules = matches!(
            permissionType,
            PermissionType::FunctionsOnAllContracts | PermissionType::FunctionsOnContract
        );
        if !rules.is_empty() && !takes_rules {
            return None;
        }
        let (address, amount, functions) = (*target, *amount, functions.clone());
        Some(match permissionType {
            PermissionType::Root => Self::Root,
            PermissionType::NativeTokenTransfer => Self::NativeTokenTransfer {
                allowance: amount,
                period,
            },
            PermissionType::Erc20TokenTransfer => Self::Erc20TokenTransfer {
                address,
                allowance: amount,
                period,
            },
            PermissionType::GasLimit => Self::GasLimit { limit: amount },
            PermissionType::ContractAccess => Self::ContractAccess { address },
            PermissionType::AccountFunctions => Self::AccountFunctions { functions },
            PermissionType::FunctionsOnAllContracts => {
                Self::FunctionsOnAllContracts { functions, rules }
            }
            PermissionType::FunctionsOnContract => Self::FunctionsOnContract {
                address,
                functions,
                rules,
            },
            PermissionType::Paymaster => Self::Paymaster { address },
            PermissionType::TypedDataSigning => Self::TypedDataSigning { address },
            PermissionType::PersonalSign => Self::PersonalSign,
            PermissionType::__Invalid => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::tests::sample_rules;
    use alloy_primitives::{Bytes, address};
    use serde_json::json;

    fn every_type() -> Vec<Permission> {
        let token = address!("0x1111111111111111111111111111111111111111");
        let functions = vec![fixed_bytes!("0x12345678")];
        vec![
            Permission::Root,
            Permission::NativeTokenTransfer {
                allowance: U256::from(1),
                period: None,
            },
            Permission::Erc20TokenTransfer {
                address: token,
                allowance: U256::from(2),
                period: None,
            },
            Permission::GasLimit {
                limit: U256::from(3),
            },
            Permission::ContractAccess { address: token },
            Permission::AccountFunctions {
                functions: functions.clone(),
            },
            Permission::FunctionsOnAllContracts {
                functions: functions.clone(),
                rules: vec![],
            },
            Permission::FunctionsOnContract {
                address: token,
                functions: functions.clone(),
                rules: vec![],
            },
            Permission::FunctionsOnContract {
                address: token,
                functions,
                rules: sample_rules(),
            },
            Permission::Paymaster { address: token },
            Permission::TypedDataSigning { address: token },
            Permission::PersonalSign,
        ]
    }

    #[test]
    fn json_matches_the_wallet_api_shape() -> serde_json::Result<()> {
        let erc20 = Permission::Erc20TokenTransfer {
            address: address!("0x1111111111111111111111111111111111111111"),
            allowance: U256::from(1_000_000),
            period: None,
        };
        assert_eq!(
            serde_json::to_value(&erc20)?,
            json!({"type": "erc20-token-transfer", "data": {
                "address": "0x1111111111111111111111111111111111111111", "allowance": "0xf4240"}})
        );
        assert_eq!(
            serde_json::to_value(Permission::Root)?,
            json!({"type": "root"})
        );
        for permission in every_type() {
            let value = serde_json::to_value(&permission)?;
            assert_eq!(value["type"], permission.type_name());
            assert_eq!(serde_json::from_value::<Permission>(value)?, permission);
        }
        Ok(())
    }

    #[test]
    fn unknown_types_and_fields_are_rejected() {
        let unknown = json!({"type": "nft-transfer", "data": {}});
        assert!(serde_json::from_value::<Permission>(unknown).is_err());
        let extra = json!({"type": "gas-limit", "data": {"limit": "0x1", "per": "day"}});
        assert!(serde_json::from_value::<Permission>(extra).is_err());
    }

    #[test]
    fn on_chain_encoding_round_trips() {
        for permission in every_type() {
            assert_eq!(Permission::from_sol(&permission.to_sol()), Some(permission));
        }
    }

    #[test]
    fn rules_are_json_in_the_wallet_api_style() -> serde_json::Result<()> {
        let permission = Permission::FunctionsOnContract {
            address: address!("0x1111111111111111111111111111111111111111"),
            functions: vec![fixed_bytes!("0x12345678")],
            rules: sample_rules(),
        };
        let word = |tail: &str| format!("0x{tail:0>64}");
        let expected = json!({"type": "functions-on-contract", "data": {
        "address": "0x1111111111111111111111111111111111111111",
        "functions": ["0x12345678"],
        "rules": [
            {"type": "argument", "data": {"index": 0, "op": "eq", "values": [word("be")]}},
            {"type": "dynamic-argument", "data": {
                "index": 1, "offset": 32, "op": "one-of", "values": [word("1"), word("2")]}},
            {"type": "call-value", "data": {"max": "0x3e8"}},
        ]}});
        assert_eq!(serde_json::to_value(&permission)?, expected);
        assert_eq!(serde_json::from_value::<Permission>(expected)?, permission);
        // An address, a short quantity and a full word are all the same padded word.
        let written = json!({"type": "functions-on-all-contracts", "data": {
            "functions": ["0x12345678"],
            "rules": [{"type": "argument", "data": {"index": 0, "op": "one-of", "values": [
                "0x00000000000000000000000000000000000000be", "0xbe", word("be")]}}]}});
        let read: Permission = serde_json::from_value(written)?;
        let value = json!(word("be"));
        assert_eq!(
            serde_json::to_value(&read)?["data"]["rules"][0]["data"]["values"],
            json!([value, value, value])
        );
        Ok(())
    }

    #[test]
    fn a_function_permission_without_rules_has_no_rules_key() -> serde_json::Result<()> {
        let plain = json!({"type": "functions-on-contract", "data": {
            "address": "0x1111111111111111111111111111111111111111", "functions": ["0x12345678"]}});
        let read: Permission = serde_json::from_value(plain.clone())?;
        assert_eq!(serde_json::to_value(&read)?, plain);
        let empty = json!({"type": "functions-on-all-contracts", "data": {
            "functions": ["0x12345678"], "rules": []}});
        assert_eq!(
            serde_json::to_value(serde_json::from_value::<Permission>(empty)?)?,
            json!({"type": "functions-on-all-contracts", "data": {"functions": ["0x12345678"]}})
        );
        Ok(())
    }

    #[test]
    fn malformed_rules_are_refused_in_json() {
        for rule in [
            json!({"type": "argument", "data": {"index": 0, "op": "approx", "values": ["0x1"]}}),
            json!({"type": "argument", "data": {"index": 0, "op": "eq", "values": ["1"]}}),
            json!({"type": "argument", "data": {"index": 0, "op": "eq", "values": [format!("0x{}", "1".repeat(65))]}}),
            json!({"type": "argument", "data": {"index": 70000, "op": "eq", "values": ["0x1"]}}),
            json!({"type": "argument", "data": {"index": 0, "op": "eq", "values": ["0x1"], "offset": 0}}),
            json!({"type": "period", "data": {"seconds": 60}}),
        ] {
            let permission = json!({"type": "functions-on-all-contracts", "data": {
                "functions": ["0x12345678"], "rules": [rule]}});
            assert!(
                serde_json::from_value::<Permission>(permission.clone()).is_err(),
                "{permission}"
            );
        }
        let on_root = json!({"type": "contract-access", "data": {
            "address": "0x1111111111111111111111111111111111111111", "rules": []}});
        assert!(serde_json::from_value::<Permission>(on_root).is_err());
    }

    #[test]
    fn rule_data_on_a_type_that_takes_none_is_not_read_back() {
        let mut sol = Permission::Root.to_sol();
        sol.rules = encode_rules(&sample_rules());
        assert_eq!(Permission::from_sol(&sol), None);
        let mut unreadable = every_type()[6].to_sol();
        unreadable.rules = Bytes::from_static(&[1]);
        assert_eq!(Permission::from_sol(&unreadable), None);
    }
}
