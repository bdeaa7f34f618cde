#![doc = include_str!("../README.md")]

mod conversions;
mod deployments;

pub use deployments::{
    CREATE2_DEPLOYER, CREATE2_DEPLOYER_RUNTIME_CODE, Deployment, ENTRY_POINT_SALT, LEASH_SALT,
    create2_address,
};

use alloy_sol_types::sol;

sol!(
    /// The canonical ERC-4337 v0.8 EntryPoint (official npm artifact).
    #[allow(missing_docs)]
    #[sol(all_derives)]
    EntryPoint,
    "artifacts/EntryPoint.json"
);

sol!(
    /// The EntryPoint's own reference EIP-7702 account (official npm artifact), the gas baseline.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    Simple7702Account,
    "artifacts/Simple7702Account.json"
);

sol!(
    /// The leash EIP-7702 account: ERC-4337 v0.8 and ERC-7579.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    LeashAccount,
    "artifacts/LeashAccount.json"
);

sol!(
    /// The leash ERC-7579 validator of scoped and root session keys.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    SessionKeyValidator,
    "artifacts/SessionKeyValidator.json"
);

sol!(
    /// ERC-6492's off-chain signature check (contracts/offchain): never deployed, its creation
    /// code with the constructor arguments `(signer, hash, signature)` is the input of an
    /// `eth_call` with no `to`, which returns one byte, `0x01` when the signature is valid.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    Erc6492Verifier,
    "artifacts/Erc6492Verifier.json"
);

sol!(
    /// The gas probe (contracts/offchain): never deployed, its runtime code is put at the
    /// EntryPoint's address by a state override for one call, where `measure` runs an account's
    /// `validateUserOp` and its execution in one transaction, so what validation leaves in
    /// transient storage is there for the execution, as in `handleOps`.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    EntryPointProbe,
    "artifacts/EntryPointProbe.json"
);

sol!(
    /// The example policy contract (contracts/policies): each account blocks recipients there, and
    /// a session's calls whose recipient argument (the word its config names) is blocked are
    /// refused.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    RecipientBlocklistPolicy,
    "artifacts/RecipientBlocklistPolicy.json"
);

sol!(
    /// A plain ERC-20 with open minting, for tests and demos (contracts/test).
    #[allow(missing_docs)]
    #[sol(all_derives)]
    TestToken,
    "artifacts/TestToken.json"
);

sol!(
    /// A contract with a few callable functions, for tests and demos (contracts/test).
    #[allow(missing_docs)]
    #[sol(all_derives)]
    Target,
    "artifacts/Target.json"
);

// `SessionSigners`' check of a session key that is not an EOA, as validation asks it.
sol!(
    #[sol(all_derives)]
    "../../contracts/interfaces/ISessionSigners.sol"
);

pub use EntryPoint::PackedUserOperation;

// Types shared with the contracts, read from their Solidity source of truth in `contracts/types`.
sol!(
    #[sol(all_derives)]
    "../../contracts/types/Execution.sol"
);

sol!(
    #[sol(all_derives)]
    "../../contracts/types/SessionTypes.sol"
);

sol!(
    /// The part of ERC-20 that the tools read: balances and transfers.
    #[allow(missing_docs)]
    #[sol(all_derives)]
    interface IERC20 {
        event Transfer(address indexed from, address indexed to, uint256 value);
        function balanceOf(address owner) external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
    }
);
