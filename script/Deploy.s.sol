// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LeashAccount} from "../contracts/account/LeashAccount.sol";
import {SessionKeyValidator} from "../contracts/modules/SessionKeyValidator.sol";
import {Target} from "../contracts/test/Target.sol";
import {TestToken} from "../contracts/test/TestToken.sol";
import {Vm} from "../tests/sol/utils/Vm.sol";

/// @title Deploy
/// @notice Deploys leash and the ERC-4337 v0.8 contracts it needs at their deterministic addresses:
///         `forge script script/Deploy.s.sol --rpc-url <url> --broadcast --slow --private-key <key>`.
/// @dev Assumptions:
/// - The standard CREATE2 deployer `0x4e59…956C` is on the chain (anvil has it; so do most chains).
///   Everything goes through it, so each address depends only on the salt and the init code and is
///   the same on every chain — the addresses `leash-bindings` computes (`Deployment::address`).
/// - The EntryPoint v0.8 and `Simple7702Account` are the official npm artifacts, byte for byte, with
///   their canonical salts: recompiling them would move them off their canonical addresses.
/// - `LeashAccount` and `SessionKeyValidator` use salt 0 and `type(X).creationCode`, which is
///   byte-equal to `crates/bindings/artifacts` (same compiler settings; `cargo test -p xtask`
///   checks those artifacts against a fresh compile).
/// - `TestToken` and `Target` (open minting, no access control) are for local chains only: they are
///   deployed when the chain id is 31337 (anvil, the embedded chain).
/// - Whatever already has code is skipped, so re-running is a no-op.
contract Deploy {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    /// @dev Foundry's console: forge prints what is sent there (forge-std is not available).
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    address internal constant CREATE2_DEPLOYER = 0x4e59b44847b379578588920cA78FbF26c0B4956C;
    bytes32 internal constant ENTRY_POINT_SALT = 0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9;
    string internal constant AA_ARTIFACTS = "node_modules/@account-abstraction/contracts/artifacts/";
    uint256 internal constant LOCAL_CHAIN_ID = 31337;

    /// @notice The CREATE2 deployer has no code on this chain.
    error NoCreate2Deployer(address deployer);

    /// @notice Deploying `name` through the CREATE2 deployer left no code at `expected`.
    error DeploymentFailed(string name, address expected);

    /// @notice `LeashAccount`'s built-in validator address is not where the validator was deployed.
    error BuiltInValidatorMismatch(address builtIn, address deployed);

    /// @notice One contract to deploy.
    struct Deployment {
        string name;
        bytes32 salt;
        bytes initCode;
    }

    /// @notice Deploys what is missing; returns how many contracts it created.
    function run() external returns (uint256 created) {
        if (CREATE2_DEPLOYER.code.length == 0) revert NoCreate2Deployer(CREATE2_DEPLOYER);
        Deployment[] memory list = deployments();
        vm.startBroadcast();
        for (uint256 i; i < list.length; ++i) {
            if (_deploy(list[i])) ++created;
        }
        vm.stopBroadcast();
        address validator = addressOf(list[3]);
        address builtIn = LeashAccount(payable(addressOf(list[2]))).SESSION_KEY_VALIDATOR();
        if (builtIn != validator) revert BuiltInValidatorMismatch(builtIn, validator);
    }

    /// @notice What this chain gets, dependencies first: the EntryPoint, `Simple7702Account`,
    ///         `LeashAccount`, `SessionKeyValidator`, and on chain 31337 `TestToken` and `Target`.
    function deployments() public view returns (Deployment[] memory list) {
        bool local = block.chainid == LOCAL_CHAIN_ID;
        list = new Deployment[](local ? 6 : 4);
        list[0] = Deployment("EntryPoint", ENTRY_POINT_SALT, _artifactBytecode("EntryPoint"));
        list[1] = Deployment("Simple7702Account", bytes32(0), _artifactBytecode("Simple7702Account"));
        list[2] = Deployment("LeashAccount", bytes32(0), type(LeashAccount).creationCode);
        list[3] = Deployment("SessionKeyValidator", bytes32(0), type(SessionKeyValidator).creationCode);
        if (local) {
            list[4] = Deployment("TestToken", bytes32(0), type(TestToken).creationCode);
            list[5] = Deployment("Target", bytes32(0), type(Target).creationCode);
        }
    }

    /// @notice Where the CREATE2 deployer puts `d`.
    function addressOf(Deployment memory d) public pure returns (address) {
        bytes32 hash = keccak256(abi.encodePacked(bytes1(0xff), CREATE2_DEPLOYER, d.salt, keccak256(d.initCode)));
        return address(uint160(uint256(hash)));
    }

    /// @dev Deploys `d` unless its address has code; returns whether it did.
    function _deploy(Deployment memory d) internal returns (bool created) {
        address expected = addressOf(d);
        if (expected.code.length != 0) {
            _log(string.concat(d.name, " already at"), expected);
            return false;
        }
        // The deployer's calldata is `salt ‖ initCode`; it reverts if the creation fails.
        (bool success,) = CREATE2_DEPLOYER.call(abi.encodePacked(d.salt, d.initCode));
        if (!success || expected.code.length == 0) revert DeploymentFailed(d.name, expected);
        _log(string.concat(d.name, " deployed at"), expected);
        return true;
    }

    /// @dev `console.log(label, value)`. A low-level call: the console address has no code, so a
    ///      high-level call would revert on Solidity's code-size check.
    function _log(string memory label, address value) internal view {
        (bool success,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,address)", label, value));
        success;
    }

    function _artifactBytecode(string memory name) internal view returns (bytes memory) {
        return vm.parseJsonBytes(vm.readFile(string.concat(AA_ARTIFACTS, name, ".json")), ".bytecode");
    }
}
