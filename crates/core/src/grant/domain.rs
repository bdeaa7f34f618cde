//! The EIP-712 domain a grant is signed in: the session id, the typed data a wallet shows, and
//! the owner's signature.

use crate::error::OperationError;
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer::{Signer, SignerSync};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};
use leash_bindings::SessionGrant;
use serde_json::{Value, json};

/// The EIP-712 domain version of the grant shape, as `GRANT_DOMAIN_VERSION` in
/// `contracts/types/SessionTypes.sol` (checked by `tests/solidity_facts.rs`).
pub const GRANT_DOMAIN_VERSION: &str = "2";

/// The validator and chain a grant is signed for: the EIP-712 domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantDomain {
    /// The chain id.
    pub chain_id: u64,
    /// The `SessionKeyValidator` address.
    pub validator: Address,
}

impl GrantDomain {
    /// The EIP-712 domain: `LeashSessionKeyValidator`, version [`GRANT_DOMAIN_VERSION`] (`2`: the
    /// grant shape with `Permission.rules`).
    pub fn eip712(&self) -> Eip712Domain {
        eip712_domain! {
            name: "LeashSessionKeyValidator",
            version: GRANT_DOMAIN_VERSION,
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
                    "rules": p.rules,
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
                    field("rules", "bytes"),
                ],
            },
            "primaryType": "SessionGrant",
            "domain": {
                "name": "LeashSessionKeyValidator",
                "version": GRANT_DOMAIN_VERSION,
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
    pub fn sign(
        &self,
        owner: &impl SignerSync,
        grant: &SessionGrant,
    ) -> Result<Bytes, OperationError> {
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
    ) -> Result<Bytes, OperationError> {
        Ok(owner
            .sign_hash(&self.session_id(grant))
            .await?
            .as_bytes()
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        grant::{GrantError, SessionGrantBuilder},
        permission::Permission,
    };
    use alloy_primitives::{U256, address};

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
    const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
    const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000cc");
    const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");
    const NOW: u64 = 1_000;

    fn grant() -> Result<SessionGrant, GrantError> {
        SessionGrantBuilder::new(ACCOUNT, KEY, VALIDATOR)
            .valid_until(NOW + 3600)
            .permission(Permission::Erc20TokenTransfer {
                address: TOKEN,
                allowance: U256::from(5),
                period: None,
            })
            .build(NOW)
    }

    #[test]
    fn the_owner_signs_the_session_id() -> Result<(), Box<dyn std::error::Error>> {
        let owner = alloy_signer_local::PrivateKeySigner::random();
        let grant = grant()?;
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
        let grant = grant()?;
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
