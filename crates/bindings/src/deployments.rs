//! Deterministic addresses: every contract is deployed through the standard CREATE2 deployer, so
//! its address is the same on every chain and is known from its bytecode alone.

use crate::{EntryPoint, LeashAccount, SessionKeyValidator, Simple7702Account, Target, TestToken};
use alloy_primitives::{Address, B256, Bytes, address, b256, bytes};
use std::sync::LazyLock;

/// The standard CREATE2 deployer (Arachnid's), present on anvil and most chains.
pub const CREATE2_DEPLOYER: Address = address!("0x4e59b44847b379578588920cA78FbF26c0B4956C");

/// Runtime code of [`CREATE2_DEPLOYER`]: calldata is `salt || initCode`, the result is the address.
pub const CREATE2_DEPLOYER_RUNTIME_CODE: Bytes = bytes!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// The salt that puts the official EntryPoint v0.8 bytecode at its canonical address.
pub const ENTRY_POINT_SALT: B256 =
    b256!("0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9");

/// The salt of every leash contract and of `Simple7702Account`.
pub const LEASH_SALT: B256 = B256::ZERO;

/// The address `CREATE2_DEPLOYER` gives `init_code` under `salt`.
pub fn create2_address(salt: B256, init_code: &[u8]) -> Address {
    CREATE2_DEPLOYER.create2_from_code(salt, init_code)
}

/// A contract deployed deterministically through the CREATE2 deployer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The contract's name, as in its artifact.
    pub name: &'static str,
    /// The CREATE2 salt.
    pub salt: B256,
    /// The creation bytecode.
    pub init_code: &'static [u8],
    /// Where it lives, computed once: hashing the init code (the EntryPoint's is 24 KB) costs more
    /// than signing a UserOperation.
    address: Address,
}

/// A deployment computed on first use and kept for the life of the process.
macro_rules! cached_deployment {
    ($name:literal, $salt:expr, $init_code:expr) => {{
        static DEPLOYMENT: LazyLock<Deployment> =
            LazyLock::new(|| Deployment::new($name, $salt, &$init_code));
        *DEPLOYMENT
    }};
}

impl Deployment {
    fn new(name: &'static str, salt: B256, init_code: &'static [u8]) -> Self {
        Self {
            name,
            salt,
            init_code,
            address: create2_address(salt, init_code),
        }
    }

    /// The ERC-4337 v0.8 EntryPoint.
    pub fn entry_point() -> Self {
        cached_deployment!("EntryPoint", ENTRY_POINT_SALT, EntryPoint::BYTECODE)
    }

    /// The EntryPoint's reference `Simple7702Account`.
    pub fn simple_7702_account() -> Self {
        cached_deployment!("Simple7702Account", LEASH_SALT, Simple7702Account::BYTECODE)
    }

    /// The leash account implementation, the EIP-7702 delegation target.
    pub fn leash_account() -> Self {
        cached_deployment!("LeashAccount", LEASH_SALT, LeashAccount::BYTECODE)
    }

    /// `SessionSigners` (`ISessionSigners`), which checks session keys that are not EOAs: the first
    /// contract the validator's constructor creates (its CREATE nonce 1).
    pub fn session_signers_address() -> Address {
        Self::session_key_validator().address.create(1)
    }

    /// The session-key validator module.
    pub fn session_key_validator() -> Self {
        cached_deployment!(
            "SessionKeyValidator",
            LEASH_SALT,
            SessionKeyValidator::BYTECODE
        )
    }

    /// The test ERC-20 (open minting): for local chains only.
    pub fn test_token() -> Self {
        cached_deployment!("TestToken", LEASH_SALT, TestToken::BYTECODE)
    }

    /// The test call target: for local chains only.
    pub fn test_target() -> Self {
        cached_deployment!("Target", LEASH_SALT, Target::BYTECODE)
    }

    /// What every chain needs, dependencies first: the ERC-4337 contracts and leash's own.
    pub fn all() -> Vec<Self> {
        vec![
            Self::entry_point(),
            Self::simple_7702_account(),
            Self::leash_account(),
            Self::session_key_validator(),
        ]
    }

    /// The test contracts that local chains (the embedded one, anvil) get as well.
    pub fn test_contracts() -> Vec<Self> {
        vec![Self::test_token(), Self::test_target()]
    }

    /// Where this deployment lives on every chain.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The calldata to send to [`CREATE2_DEPLOYER`] to deploy it.
    pub fn deployer_calldata(&self) -> Bytes {
        [self.salt.as_slice(), self.init_code].concat().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_erc4337_addresses() {
        assert_eq!(
            Deployment::entry_point().address(),
            address!("0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108")
        );
        assert_eq!(
            Deployment::simple_7702_account().address(),
            address!("0xe6Cae83BdE06E4c305530e199D7217f42808555B")
        );
    }

    #[test]
    fn cached_addresses_are_the_create2_addresses() {
        for deployment in Deployment::all()
            .into_iter()
            .chain(Deployment::test_contracts())
        {
            let computed = create2_address(deployment.salt, deployment.init_code);
            assert_eq!(deployment.address(), computed, "{}", deployment.name);
        }
    }

    #[test]
    fn leash_account_targets_the_canonical_entry_point() {
        let entry_point = Deployment::entry_point().address();
        let needle = entry_point.as_slice();
        assert!(
            LeashAccount::DEPLOYED_BYTECODE
                .windows(20)
                .any(|w| w == needle)
        );
    }
}
