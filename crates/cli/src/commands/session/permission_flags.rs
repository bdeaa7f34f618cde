//! The permission flags of `leash session create`, one per Wallet API permission type, and the
//! line each permission prints as.

use super::{period_flags::parse_limit, rule_flags::split_rules};
use crate::failure::{Failure, UsageContext};
use alloy_primitives::{Address, Selector};
use clap::Args;
use leash_core::{
    abi_call::{parse_amount, parse_selector_list},
    permission::{MAX_ALLOWANCE, Permission},
    recurring::RecurringPeriod,
    rules::Rule,
};

#[derive(Debug, Args)]
pub(crate) struct PermissionArgs {
    /// `root`: any call (except on the account and the validator); cannot be combined.
    #[arg(long)]
    root: bool,
    /// `native-token-transfer`: cumulative native value, e.g. 0.5ether or 1000 (wei); or per
    /// period, renewed every hour, day, week or (calendar, UTC) month: 0.1ether/day, optionally
    /// from a start, 1ether/month@2026-12-01T00:00Z.
    #[arg(long, value_name = "AMOUNT[/PERIOD[@START]]")]
    native: Option<String>,
    /// `erc20-token-transfer`: cumulative amount of one token (base units, or 10ether for 18
    /// decimals); or per period, as for --native: 0xToken:100ether/day. Repeatable.
    #[arg(long, value_name = "TOKEN:AMOUNT[/PERIOD[@START]]")]
    erc20: Vec<String>,
    /// `gas-limit`: cumulative maximum gas cost of the operations the account pays for, e.g.
    /// 0.01ether. Without it (and without --unbounded-gas), a scoped session gets the default
    /// gas-limit of 0.01 ETH, shown in the grant.
    #[arg(long, value_name = "WEI")]
    gas_limit: Option<String>,
    /// Let the session spend the account's ETH on gas without a bound (a gas-limit of 2^128-1
    /// wei). Never the default.
    #[arg(long, conflicts_with_all = ["gas_limit", "root"])]
    unbounded_gas: bool,
    /// `paymaster` (leash): a paymaster the session's operations may name. Repeatable; a session
    /// may use no other.
    #[arg(long, value_name = "ADDRESS")]
    paymaster: Vec<String>,
    /// `contract-access`: any function on this contract. Repeatable.
    #[arg(long, value_name = "ADDRESS")]
    contract: Vec<String>,
    /// `account-functions`: these functions on the account itself.
    #[arg(long, value_name = "SIG_OR_SELECTOR[,…]")]
    account_functions: Option<String>,
    /// `functions-on-all-contracts`: these functions on any contract, optionally with argument
    /// rules after `;` (as for --call). Repeatable: permissions on one function are alternatives.
    #[arg(long, value_name = "SIG_OR_SELECTOR[,…][;RULE…]")]
    functions: Vec<String>,
    /// `functions-on-contract`: these functions on this contract, e.g.
    /// 0xAbc…:ping(),setValue(uint256), optionally with argument rules after `;`, all of which a
    /// call must satisfy: argI:OP:VALUE[,…] (static argument word I), argI+OFFSET:OP:VALUE[,…] (the
    /// word OFFSET bytes into dynamic argument I), value:lte:AMOUNT; OP is eq, ne, gt, gte, lt,
    /// lte, one-of or in-range. Repeatable.
    #[arg(long, value_name = "ADDRESS:SIG_OR_SELECTOR[,…][;RULE…]")]
    call: Vec<String>,
    /// `typed-data-signing` (leash): sign EIP-712 typed data as the account for the app whose
    /// domain's verifyingContract this is (`leash session sign --typed-data`), valid only during
    /// the session's own operations, whose outflow its limits charge. Repeatable.
    #[arg(long, value_name = "ADDRESS")]
    typed_data_signing: Vec<String>,
    /// `personal-sign` (leash): sign personal messages (EIP-191, e.g. a SIWE login) as the
    /// account within the session's window (`leash session sign --message`).
    #[arg(long)]
    personal_sign: bool,
}

impl PermissionArgs {
    pub(super) fn permissions(&self) -> eyre::Result<Vec<Permission>> {
        let mut permissions = Vec::new();
        if self.root {
            permissions.push(Permission::Root);
        }
        if let Some(amount) = &self.native {
            let (allowance, period) = parse_limit(amount).usage("--native")?;
            permissions.push(Permission::NativeTokenTransfer { allowance, period });
        }
        for spec in &self.erc20 {
            let (token, amount) = spec.split_once(':').ok_or_else(|| {
                Failure::usage(format!(
                    "--erc20 {spec:?}: expected TOKEN:AMOUNT[/PERIOD[@START]]"
                ))
            })?;
            let (allowance, period) =
                parse_limit(amount).usage(format_args!("--erc20 {spec:?}"))?;
            permissions.push(Permission::Erc20TokenTransfer {
                address: parse_address(token, "--erc20")?,
                allowance,
                period,
            });
        }
        if let Some(amount) = &self.gas_limit {
            let limit = parse_amount(amount).usage("--gas-limit")?;
            permissions.push(Permission::GasLimit { limit });
        }
        if self.unbounded_gas {
            permissions.push(Permission::GasLimit {
                limit: MAX_ALLOWANCE,
            });
        }
        for address in &self.paymaster {
            let address = parse_address(address, "--paymaster")?;
            permissions.push(Permission::Paymaster { address });
        }
        for address in &self.contract {
            let address = parse_address(address, "--contract")?;
            permissions.push(Permission::ContractAccess { address });
        }
        if let Some(list) = &self.account_functions {
            let functions = parse_selector_list(list).usage("--account-functions")?;
            permissions.push(Permission::AccountFunctions { functions });
        }
        for spec in &self.functions {
            let (list, rules) = split_rules(spec).usage("--functions")?;
            let functions = parse_selector_list(list).usage("--functions")?;
            permissions.push(Permission::FunctionsOnAllContracts { functions, rules });
        }
        for spec in &self.call {
            let (address, list) = spec.split_once(':').ok_or_else(|| {
                Failure::usage(format!(
                    "--call {spec:?}: expected ADDRESS:SIG_OR_SELECTOR[,…][;RULE…]"
                ))
            })?;
            let (list, rules) = split_rules(list).usage(format_args!("--call {spec:?}"))?;
            permissions.push(Permission::FunctionsOnContract {
                address: parse_address(address, "--call")?,
                functions: parse_selector_list(list).usage(format_args!("--call {spec:?}"))?,
                rules,
            });
        }
        for address in &self.typed_data_signing {
            let address = parse_address(address, "--typed-data-signing")?;
            permissions.push(Permission::TypedDataSigning { address });
        }
        if self.personal_sign {
            permissions.push(Permission::PersonalSign);
        }
        if permissions.is_empty() {
            return Err(Failure::usage(
                "a session needs at least one permission: --root, --native, --erc20, \
                 --gas-limit, --unbounded-gas, --paymaster, --contract, --account-functions, \
                 --functions, --call, --typed-data-signing or --personal-sign",
            ));
        }
        Ok(permissions)
    }
}

pub(super) fn describe_permission(permission: &Permission) -> String {
    match permission {
        Permission::Root => "root".to_owned(),
        Permission::NativeTokenTransfer { allowance, period } => {
            format!(
                "native-token-transfer {allowance} wei{}",
                describe_period(period)
            )
        }
        Permission::Erc20TokenTransfer {
            address,
            allowance,
            period,
        } => format!(
            "erc20-token-transfer {allowance} of {address}{}",
            describe_period(period)
        ),
        Permission::GasLimit { limit } if *limit == MAX_ALLOWANCE => {
            "gas-limit unbounded (2^128-1 wei)".to_owned()
        }
        Permission::GasLimit { limit } => format!("gas-limit {limit} wei"),
        Permission::Paymaster { address } => format!("paymaster {address}"),
        Permission::TypedDataSigning { address } => format!("typed-data-signing for {address}"),
        Permission::PersonalSign => "personal-sign".to_owned(),
        Permission::ContractAccess { address } => format!("contract-access {address}"),
        Permission::AccountFunctions { functions } => {
            format!("account-functions {}", join(functions))
        }
        Permission::FunctionsOnAllContracts { functions, rules } => {
            format!(
                "functions-on-all-contracts {}{}",
                join(functions),
                describe_rules(rules)
            )
        }
        Permission::FunctionsOnContract {
            address,
            functions,
            rules,
        } => format!(
            "functions-on-contract {address} {}{}",
            join(functions),
            describe_rules(rules)
        ),
    }
}

/// ` every day` for a recurring limit, nothing for a limit for the session's life.
fn describe_period(period: &Option<RecurringPeriod>) -> String {
    period
        .map(|period| format!(" {period}"))
        .unwrap_or_default()
}

/// ` where RULE; RULE` for a ruled permission, nothing for a plain one.
fn describe_rules(rules: &[Rule]) -> String {
    if rules.is_empty() {
        return String::new();
    }
    let described: Vec<String> = rules.iter().map(ToString::to_string).collect();
    format!(" where {}", described.join("; "))
}

fn join(selectors: &[Selector]) -> String {
    selectors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_address(text: &str, flag: &str) -> eyre::Result<Address> {
    text.trim().parse().map_err(|_| {
        Failure::usage(format!(
            "{flag}: {text:?} is not an address (0x and 40 hex digits)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, fixed_bytes};
    use leash_core::rules::RuleOp;

    #[test]
    fn a_recurring_limit_prints_its_period_after_its_amount() {
        let token = Address::repeat_byte(0xcc);
        let daily = Permission::Erc20TokenTransfer {
            address: token,
            allowance: U256::from(100),
            period: Some(RecurringPeriod::every(86_400)),
        };
        assert_eq!(
            describe_permission(&daily),
            format!("erc20-token-transfer 100 of {token} every day")
        );
        let monthly = Permission::NativeTokenTransfer {
            allowance: U256::from(5),
            period: Some(RecurringPeriod::monthly()),
        };
        assert_eq!(
            describe_permission(&monthly),
            "native-token-transfer 5 wei every calendar month (UTC)"
        );
    }

    #[test]
    fn a_ruled_permission_prints_its_rules_after_its_functions() {
        let address = Address::repeat_byte(0xcc);
        let rules = vec![
            Rule::Argument {
                index: 1,
                op: RuleOp::Lte,
                values: vec![U256::from(1000).into()],
            },
            Rule::CallValue { max: U256::from(5) },
        ];
        let ruled = Permission::FunctionsOnContract {
            address,
            functions: vec![fixed_bytes!("0x12345678")],
            rules,
        };
        assert_eq!(
            describe_permission(&ruled),
            format!(
                "functions-on-contract {address} 0x12345678 where argument 1 lte {}; call value \
                 lte 5 wei",
                alloy_primitives::B256::from(U256::from(1000))
            )
        );
        let plain = Permission::FunctionsOnAllContracts {
            functions: vec![fixed_bytes!("0x12345678")],
            rules: vec![],
        };
        assert_eq!(
            describe_permission(&plain),
            "functions-on-all-contracts 0x12345678"
        );
    }
}
