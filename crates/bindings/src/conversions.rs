//! The validator's ABI artifact declares its own copies of the session types; these conversions
//! connect them to the types read from `contracts/types/SessionTypes.sol`. The fields are the same
//! by construction (one Solidity source), so the mapping is total.

use crate::{Permission, PermissionType, SessionGrant, SessionKeyValidator};

impl From<PermissionType> for SessionKeyValidator::PermissionType {
    fn from(kind: PermissionType) -> Self {
        Self::from(u8::from(kind))
    }
}

impl From<&Permission> for SessionKeyValidator::Permission {
    fn from(p: &Permission) -> Self {
        Self {
            permissionType: p.permissionType.into(),
            target: p.target,
            amount: p.amount,
            functions: p.functions.clone(),
            rules: p.rules.clone(),
        }
    }
}

impl From<&SessionGrant> for SessionKeyValidator::SessionGrant {
    fn from(grant: &SessionGrant) -> Self {
        Self {
            account: grant.account,
            sessionKey: grant.sessionKey,
            validAfter: grant.validAfter,
            validUntil: grant.validUntil,
            salt: grant.salt,
            permissions: grant.permissions.iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256, aliases::U48, fixed_bytes};
    use alloy_sol_types::SolValue;

    #[test]
    fn conversion_preserves_the_abi_encoding() {
        let grant = SessionGrant {
            account: Address::repeat_byte(1),
            sessionKey: Address::repeat_byte(2),
            validAfter: U48::from(3),
            validUntil: U48::from(4),
            salt: U256::from(5),
            permissions: vec![Permission {
                permissionType: PermissionType::FunctionsOnContract,
                target: Address::repeat_byte(6),
                amount: U256::ZERO,
                functions: vec![fixed_bytes!("0x12345678")],
                rules: alloy_primitives::Bytes::from_static(&[1, 2, 3]),
            }],
        };
        let converted = SessionKeyValidator::SessionGrant::from(&grant);
        assert_eq!(converted.abi_encode(), grant.abi_encode());
    }
}
