// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ACCOUNT_EXECUTE_USER_OP} from "../../../contracts/types/SessionTypes.sol";
import {Test} from "./Vm.sol";

/// @notice Deploys the canonical ERC-4337 v0.8 contracts the way every chain has them, and builds,
///         signs and submits UserOperations against them.
/// @dev The EntryPoint and Simple7702Account come from the official npm artifacts, sent through the
///      standard CREATE2 deployer with their canonical salts, so tests run the production bytecode at
///      the production addresses.
abstract contract AccountTestBase is Test {
    address internal constant CREATE2_DEPLOYER = 0x4e59b44847b379578588920cA78FbF26c0B4956C;
    bytes internal constant CREATE2_DEPLOYER_CODE =
        hex"7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";
    bytes32 internal constant ENTRY_POINT_SALT = 0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9;
    address internal constant ENTRY_POINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;
    address internal constant SIMPLE_7702_ACCOUNT = 0xe6Cae83BdE06E4c305530e199D7217f42808555B;
    string internal constant AA_ARTIFACTS = "node_modules/@account-abstraction/contracts/artifacts/";

    uint256 internal constant OWNER_KEY = 0xA11CE;
    uint256 internal constant VERIFICATION_GAS_LIMIT = 500_000;
    uint256 internal constant CALL_GAS_LIMIT = 500_000;
    uint256 internal constant PRE_VERIFICATION_GAS = 50_000;
    uint256 internal constant MAX_FEE_PER_GAS = 2 gwei;
    uint256 internal constant MAX_PRIORITY_FEE_PER_GAS = 1 gwei;

    IEntryPoint internal entryPoint;
    LeashAccount internal leashImplementation;
    address payable internal owner;
    address payable internal bundler = payable(address(0xB0B));

    function setUp() public virtual {
        if (CREATE2_DEPLOYER.code.length == 0) vm.etch(CREATE2_DEPLOYER, CREATE2_DEPLOYER_CODE);
        entryPoint = IEntryPoint(deployCreate2(_artifactBytecode("EntryPoint"), ENTRY_POINT_SALT));
        vm.assertEq(address(entryPoint), ENTRY_POINT, "canonical EntryPoint address");
        leashImplementation = LeashAccount(payable(deployCreate2(type(LeashAccount).creationCode, bytes32(0))));
        owner = payable(vm.addr(OWNER_KEY));
        delegate(OWNER_KEY, address(leashImplementation));
        vm.deal(owner, 10 ether);
        vm.label(owner, "owner");
        vm.label(address(entryPoint), "EntryPoint");
    }

    /// @dev Deploys `initCode` through the standard CREATE2 deployer; returns the existing address if
    ///      it is already there, as the deployer itself would fail.
    function deployCreate2(bytes memory initCode, bytes32 salt) internal returns (address deployed) {
        deployed = address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), CREATE2_DEPLOYER, salt, keccak256(initCode)))))
        );
        if (deployed.code.length != 0) return deployed;
        (bool success,) = CREATE2_DEPLOYER.call(abi.encodePacked(salt, initCode));
        vm.assertTrue(success && deployed.code.length != 0, "CREATE2 deployment failed");
    }

    function deploySimple7702Account() internal returns (address) {
        address deployed = deployCreate2(_artifactBytecode("Simple7702Account"), bytes32(0));
        vm.assertEq(deployed, SIMPLE_7702_ACCOUNT, "canonical Simple7702Account address");
        return deployed;
    }

    /// @dev Installs the EIP-7702 delegation designator `0xef0100 || implementation` at the key's address.
    function delegate(uint256 privateKey, address implementation) internal {
        vm.etch(vm.addr(privateKey), abi.encodePacked(hex"ef0100", implementation));
    }

    function buildUserOp(address sender, uint192 nonceKey, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp.sender = sender;
        userOp.nonce = entryPoint.getNonce(sender, nonceKey);
        userOp.callData = callData;
        userOp.accountGasLimits = bytes32((VERIFICATION_GAS_LIMIT << 128) | CALL_GAS_LIMIT);
        userOp.preVerificationGas = PRE_VERIFICATION_GAS;
        userOp.gasFees = bytes32((MAX_PRIORITY_FEE_PER_GAS << 128) | MAX_FEE_PER_GAS);
    }

    function signUserOp(PackedUserOperation memory userOp, uint256 privateKey) internal view {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, entryPoint.getUserOpHash(userOp));
        userOp.signature = abi.encodePacked(r, s, v);
    }

    function handleOp(PackedUserOperation memory userOp) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = userOp;
        entryPoint.handleOps(ops, bundler);
    }

    /// @dev `callData` in the balance-checked form: `executeUserOp.selector ‖ callData ‖ tokens ‖
    ///      uint8(tokens.length)`, the tokens packed and ascending (`ExecutionLib.outflowTokens`).
    function _checked(bytes memory callData, address[] memory tokens) internal pure returns (bytes memory result) {
        result = abi.encodePacked(ACCOUNT_EXECUTE_USER_OP, callData);
        for (uint256 i; i < tokens.length; ++i) {
            result = abi.encodePacked(result, tokens[i]);
        }
        result = abi.encodePacked(result, uint8(tokens.length));
    }

    function _artifactBytecode(string memory name) private view returns (bytes memory) {
        return vm.parseJsonBytes(vm.readFile(string.concat(AA_ARTIFACTS, name, ".json")), ".bytecode");
    }
}
