//! What a grant allows that no limit of its own can meter: calls into contracts that hold the
//! account's approvals (approval hubs), and paymasters, which charge the account outside every
//! limit. The validator accepts these grants; the owner should know what they sign
//! (docs/permissions.md, "What a grant does not protect").

use crate::permission::Permission;
use alloy_primitives::{Address, Selector, address, fixed_bytes};
use std::fmt;

/// Uniswap's Permit2, at its canonical address on every chain. Many tokens (Solady's among them)
/// give it an infinite allowance from every holder, so whoever may call its `transferFrom` as the
/// account moves those tokens without an `approve` that `erc20-token-transfer` would meter.
pub const PERMIT2: Address = address!("0x000000000022D473030F116dDEE9F6B43aC78BA3");

/// Permit2's functions that move or approve the caller's tokens through its allowances.
pub const PERMIT2_SPEND_SELECTORS: [Selector; 3] = [
    fixed_bytes!("0x36c78516"), // transferFrom(address,address,uint160,address)
    fixed_bytes!("0x0d58b1db"), // transferFrom((address,address,uint160,address)[])
    fixed_bytes!("0x87517c45"), // approve(address,address,uint160,uint48)
];

/// Whether calling `selector` on `target` is Permit2's `approve`, which the validator meters like
/// the token's own `approve` (under the `erc20-token-transfer` of its first argument), never
/// under a function permission.
pub fn is_permit2_approve(target: Address, selector: Selector) -> bool {
    target == PERMIT2 && selector == PERMIT2_SPEND_SELECTORS[2]
}

/// Something a grant allows that its limits do not meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantWarning {
    /// Permission `index` lets the session call `hub`, which may move the account's tokens
    /// through allowances the account gave it earlier.
    ApprovalHub {
        /// Index of the permission.
        index: usize,
        /// The hub: Permit2, or a paymaster the grant names.
        hub: Address,
        /// What the hub is.
        what: &'static str,
    },
    /// Permission `index` names a paymaster: what it charges the account (an ERC-20 paymaster's
    /// tokens, taken after execution) counts against no limit.
    PaymasterCharges {
        /// Index of the permission.
        index: usize,
        /// The paymaster.
        paymaster: Address,
    },
}

impl fmt::Display for GrantWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApprovalHub { index, hub, what } => write!(
                f,
                "permission {index} lets the session call {hub} ({what}), which can move the \
                 account's tokens through approvals the account gave it; an allowance meters \
                 only the tokens the grant names"
            ),
            Self::PaymasterCharges { index, paymaster } => write!(
                f,
                "permission {index} names paymaster {paymaster}: what it charges the account \
                 (e.g. an ERC-20 paymaster's fee) counts against no limit"
            ),
        }
    }
}

/// The warnings of a grant of `permissions`.
pub fn grant_warnings(permissions: &[Permission]) -> Vec<GrantWarning> {
    let paymasters: Vec<Address> = permissions
        .iter()
        .filter_map(|permission| match permission {
            Permission::Paymaster { address } => Some(*address),
            _ => None,
        })
        .collect();
    let hub = |address: &Address| {
        if *address == PERMIT2 {
            Some("Permit2")
        } else if paymasters.contains(address) {
            Some("a paymaster of this grant")
        } else {
            None
        }
    };
    let mut warnings = Vec::new();
    for (index, permission) in permissions.iter().enumerate() {
        match permission {
            Permission::ContractAccess { address }
            | Permission::FunctionsOnContract { address, .. } => {
                if let Some(what) = hub(address) {
                    warnings.push(GrantWarning::ApprovalHub {
                        index,
                        hub: *address,
                        what,
                    });
                }
            }
            Permission::FunctionsOnAllContracts { functions, .. }
                if functions
                    .iter()
                    .any(|selector| PERMIT2_SPEND_SELECTORS.contains(selector)) =>
            {
                warnings.push(GrantWarning::ApprovalHub {
                    index,
                    hub: PERMIT2,
                    what: "Permit2, reached by functions-on-all-contracts",
                });
            }
            Permission::Paymaster { address } => warnings.push(GrantWarning::PaymasterCharges {
                index,
                paymaster: *address,
            }),
            _ => {}
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn access_to_permit2_warns() {
        let transfer_from = PERMIT2_SPEND_SELECTORS[0];
        for permission in [
            Permission::ContractAccess { address: PERMIT2 },
            Permission::FunctionsOnContract {
                address: PERMIT2,
                functions: vec![transfer_from],
                rules: vec![],
            },
            Permission::FunctionsOnAllContracts {
                functions: vec![transfer_from],
                rules: vec![],
            },
        ] {
            let warnings = grant_warnings(std::slice::from_ref(&permission));
            assert!(
                matches!(
                    warnings.as_slice(),
                    [GrantWarning::ApprovalHub {
                        index: 0,
                        hub: PERMIT2,
                        ..
                    }]
                ),
                "{permission:?}: {warnings:?}"
            );
            assert!(warnings[0].to_string().contains("Permit2"));
        }
    }

    #[test]
    fn a_named_paymaster_warns_and_is_a_hub() {
        let paymaster = Address::repeat_byte(0x99);
        let warnings = grant_warnings(&[
            Permission::Paymaster { address: paymaster },
            Permission::ContractAccess { address: paymaster },
        ]);
        assert_eq!(
            warnings,
            vec![
                GrantWarning::PaymasterCharges {
                    index: 0,
                    paymaster
                },
                GrantWarning::ApprovalHub {
                    index: 1,
                    hub: paymaster,
                    what: "a paymaster of this grant"
                },
            ]
        );
        assert!(warnings[0].to_string().contains("counts against no limit"));
    }

    #[test]
    fn ordinary_grants_do_not_warn() {
        let other = Address::repeat_byte(0x42);
        assert!(
            grant_warnings(&[
                Permission::ContractAccess { address: other },
                Permission::FunctionsOnAllContracts {
                    functions: vec![fixed_bytes!("0x5c36b186")],
                    rules: vec![],
                },
                Permission::NativeTokenTransfer {
                    allowance: U256::from(1),
                    period: None,
                },
            ])
            .is_empty()
        );
    }
}
