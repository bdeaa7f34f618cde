// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {ExecutionLib} from "../../../contracts/libraries/ExecutionLib.sol";
import {SessionKeyValidator} from "../../../contracts/modules/SessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    Permission,
    PermissionType,
    SessionGrant,
    SIG_MODE_ENABLE,
    SIG_MODE_USE,
    SIG_MODE_USE_ROOT
} from "../../../contracts/types/SessionTypes.sol";
import {AccountTestBase} from "./AccountTestBase.sol";
import {SponsorPaymaster} from "./Paymasters.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";
import {Vm} from "./Vm.sol";

/// @notice A `LeashAccount` with the `SessionKeyValidator` installed, plus builders for grants,
///         calls and session-signed UserOperations.
abstract contract SessionTestBase is AccountTestBase {
    uint256 internal constant SESSION_KEY = 0x5E55;
    uint256 internal constant ALLOWANCE = 10 ether;
    /// @dev The gas bound `_grant` adds: enough for every test's operations at the test gas prices.
    uint256 internal constant GAS_BUDGET = 1 ether;

    SessionKeyValidator internal validator;
    LeashAccount internal account;
    TestToken internal token;
    Target internal target;
    address internal sessionSigner;
    /// @dev A paymaster with a deposit, sponsoring whatever names it.
    SponsorPaymaster internal sponsor;
    address payable internal alice = payable(address(0xA1));

    function setUp() public virtual override {
        super.setUp();
        validator = SessionKeyValidator(deployCreate2(type(SessionKeyValidator).creationCode, bytes32(0)));
        account = LeashAccount(owner);
        vm.prank(owner);
        account.installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.deal(owner, 100 ether);
        token = new TestToken();
        token.mint(owner, 1000 ether);
        target = new Target();
        sessionSigner = vm.addr(SESSION_KEY);
        sponsor = new SponsorPaymaster();
        entryPoint.depositTo{value: 1 ether}(address(sponsor));
        vm.label(address(validator), "SessionKeyValidator");
        vm.label(address(token), "TestToken");
    }

    // ------------------------------------------------------------ permissions

    function _permission(PermissionType kind, address to, uint256 amount, bytes4[] memory functions)
        internal
        pure
        returns (Permission memory)
    {
        return Permission(kind, to, amount, functions, "");
    }

    function _root() internal pure returns (Permission memory) {
        return _permission(PermissionType.Root, address(0), 0, new bytes4[](0));
    }

    function _native(uint256 allowance) internal pure returns (Permission memory) {
        return _permission(PermissionType.NativeTokenTransfer, address(0), allowance, new bytes4[](0));
    }

    function _erc20(address erc20, uint256 allowance) internal pure returns (Permission memory) {
        return _permission(PermissionType.Erc20TokenTransfer, erc20, allowance, new bytes4[](0));
    }

    function _gasLimit(uint256 limit) internal pure returns (Permission memory) {
        return _permission(PermissionType.GasLimit, address(0), limit, new bytes4[](0));
    }

    function _contractAccess(address to) internal pure returns (Permission memory) {
        return _permission(PermissionType.ContractAccess, to, 0, new bytes4[](0));
    }

    function _accountFunctions(bytes4 selector) internal pure returns (Permission memory) {
        return _permission(PermissionType.AccountFunctions, address(0), 0, _selectors(selector));
    }

    function _functionsOnAll(bytes4 selector) internal pure returns (Permission memory) {
        return _permission(PermissionType.FunctionsOnAllContracts, address(0), 0, _selectors(selector));
    }

    function _functionsOn(address to, bytes4 selector) internal pure returns (Permission memory) {
        return _permission(PermissionType.FunctionsOnContract, to, 0, _selectors(selector));
    }

    function _paymaster(address paymaster) internal pure returns (Permission memory) {
        return _permission(PermissionType.Paymaster, paymaster, 0, new bytes4[](0));
    }

    function _selectors(bytes4 selector) internal pure returns (bytes4[] memory selectors) {
        selectors = new bytes4[](1);
        selectors[0] = selector;
    }

    function _list(Permission memory a) internal pure returns (Permission[] memory list) {
        list = new Permission[](1);
        list[0] = a;
    }

    function _list(Permission memory a, Permission memory b) internal pure returns (Permission[] memory list) {
        list = new Permission[](2);
        list[0] = a;
        list[1] = b;
    }

    function _list(Permission memory a, Permission memory b, Permission memory c)
        internal
        pure
        returns (Permission[] memory list)
    {
        list = new Permission[](3);
        list[0] = a;
        list[1] = b;
        list[2] = c;
    }

    function _list(Permission memory a, Permission memory b, Permission memory c, Permission memory d)
        internal
        pure
        returns (Permission[] memory list)
    {
        list = new Permission[](4);
        list[0] = a;
        list[1] = b;
        list[2] = c;
        list[3] = d;
    }

    // ------------------------------------------------------------ grants

    /// @dev A grant with a token limit, a native limit and `ping` on the target: one rule of each
    ///      accounting kind.
    function _grantWithLimits() internal view returns (SessionGrant memory) {
        return _grant(
            _list(
                _erc20(address(token), ALLOWANCE),
                _native(ALLOWANCE),
                _functionsOn(address(target), Target.ping.selector)
            )
        );
    }

    /// @dev A grant of `permissions` plus a `GasLimit` of `GAS_BUDGET`, as leash-sdk adds by default
    ///      (a scoped session may not pay for itself without one), unless the list is empty, holds
    ///      root or already bounds gas. `_grantAsIs` adds nothing.
    function _grant(Permission[] memory permissions) internal view returns (SessionGrant memory) {
        bool bounded = permissions.length == 0;
        for (uint256 i; i < permissions.length; ++i) {
            PermissionType kind = permissions[i].permissionType;
            bounded = bounded || kind == PermissionType.Root || kind == PermissionType.GasLimit;
        }
        if (bounded) return _grantAsIs(permissions);
        Permission[] memory withGas = new Permission[](permissions.length + 1);
        for (uint256 i; i < permissions.length; ++i) {
            withGas[i] = permissions[i];
        }
        withGas[permissions.length] = _gasLimit(GAS_BUDGET);
        return _grantAsIs(withGas);
    }

    function _grantAsIs(Permission[] memory permissions) internal view returns (SessionGrant memory) {
        return SessionGrant(owner, sessionSigner, 0, uint48(block.timestamp + 1 days), 0, permissions);
    }

    function _enable(SessionGrant memory grant) internal returns (bytes32 sessionId) {
        vm.prank(owner);
        sessionId = validator.enableSession(grant);
    }

    function _ownerSignature(SessionGrant memory grant) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, validator.getSessionId(grant));
        return abi.encodePacked(r, s, v);
    }

    // ------------------------------------------------------------ calls

    function _single(address to, uint256 value, bytes memory data) internal pure returns (bytes memory) {
        return abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_SINGLE, abi.encodePacked(to, value, data)));
    }

    function _batch(Execution[] memory executions) internal pure returns (bytes memory) {
        return abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, abi.encode(executions)));
    }

    function _tokens(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    /// @dev `ping()` on the target, in the balance-checked form for a `_grantWithLimits` session: it
    ///      limits the test token (and native value), which a call the selector meter does not see
    ///      could move.
    function _ping() internal view returns (bytes memory) {
        return _checked(_single(address(target), 0, abi.encodeCall(Target.ping, ())), _tokens(address(token)));
    }

    function _transfer(address to, uint256 amount) internal view returns (bytes memory) {
        return _single(address(token), 0, abi.encodeCall(ERC20.transfer, (to, amount)));
    }

    // ------------------------------------------------------------ session UserOperations

    /// @dev The nonce key of a session's UserOperations: the validator, then the session's lane (the
    ///      first four bytes of its id), which the validator checks.
    function _sessionNonceKey(bytes32 sessionId) internal view returns (uint192) {
        return uint192(uint160(address(validator))) << 32 | uint32(bytes4(sessionId));
    }

    function _keySignature(PackedUserOperation memory userOp, uint256 key) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, entryPoint.getUserOpHash(userOp));
        return abi.encodePacked(r, s, v);
    }

    /// @dev A UserOperation of an enabled session, signed by `key`.
    function _useOp(bytes32 sessionId, bytes memory callData, uint256 key, bool root)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(sessionId), callData);
        uint8 mode = root ? SIG_MODE_USE_ROOT : SIG_MODE_USE;
        userOp.signature = abi.encodePacked(mode, sessionId, _keySignature(userOp, key));
    }

    function _useOp(bytes32 sessionId, bytes memory callData) internal view returns (PackedUserOperation memory) {
        return _useOp(sessionId, callData, SESSION_KEY, false);
    }

    /// @dev `paymasterAndData` naming `paymaster`, with its verification and post-op gas limits.
    function _paymasterAndData(address paymaster) internal pure returns (bytes memory) {
        return abi.encodePacked(paymaster, uint128(100_000), uint128(100_000));
    }

    /// @dev A UserOperation of an enabled session that `paymaster` pays for, signed by the session key.
    function _sponsored(bytes32 sessionId, bytes memory callData, address paymaster)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(sessionId), callData);
        userOp.paymasterAndData = _paymasterAndData(paymaster);
        userOp.signature = abi.encodePacked(SIG_MODE_USE, sessionId, _keySignature(userOp, SESSION_KEY));
    }

    /// @dev The first UserOperation of `grant`, carrying the owner's grant signature (lazy enable).
    function _enableOp(SessionGrant memory grant, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        return _enableOp(grant, callData, address(0));
    }

    /// @dev The same, paid for by `paymaster` unless it is zero.
    function _enableOp(SessionGrant memory grant, bytes memory callData, address paymaster)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), callData);
        if (paymaster != address(0)) {
            userOp.paymasterAndData = _paymasterAndData(paymaster);
        }
        bytes memory keySignature = _keySignature(userOp, SESSION_KEY);
        userOp.signature = abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, _ownerSignature(grant), keySignature));
    }

    // ------------------------------------------------------------ expectations

    bytes32 internal constant REVERT_REASON_EVENT =
        keccak256("UserOperationRevertReason(bytes32,address,uint256,bytes)");

    /// @dev Sends `userOp` and returns the revert data of its execution (empty if it succeeded): the
    ///      bundle goes through, the calls are undone, the EntryPoint reports the reason.
    function _executionRevert(PackedUserOperation memory userOp) internal returns (bytes memory reason) {
        vm.recordLogs();
        handleOp(userOp);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == REVERT_REASON_EVENT) (, reason) = abi.decode(logs[i].data, (uint256, bytes));
        }
    }

    /// @dev Submits `userOp` and expects its validation to revert with `inner`, which the EntryPoint
    ///      wraps as `FailedOpWithRevert(0, "AA23 reverted", inner)`.
    function _rejects(PackedUserOperation memory userOp, bytes memory inner) internal {
        vm.expectRevert(abi.encodeWithSignature("FailedOpWithRevert(uint256,string,bytes)", 0, "AA23 reverted", inner));
        handleOp(userOp);
    }

    /// @dev Submits `userOp` and expects validation to return `SIG_VALIDATION_FAILED`.
    function _failsSignature(PackedUserOperation memory userOp) internal {
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        handleOp(userOp);
    }

    /// @dev Submits `userOp` and expects the EntryPoint to reject its validity window.
    function _failsWindow(PackedUserOperation memory userOp) internal {
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA22 expired or not due"));
        handleOp(userOp);
    }

    /// @dev The owner's `enableSession(grant)` reverts with `error`.
    function _enableReverts(SessionGrant memory grant, bytes memory error) internal {
        vm.prank(owner);
        vm.expectRevert(error);
        validator.enableSession(grant);
    }

    // ------------------------------------------------------------ direct validation

    /// @dev The use-form signature (`mode ‖ sessionId ‖ r ‖ s ‖ v`) of the session key over `hash`.
    function _useSignature(bytes32 sessionId, bytes32 hash, bool root) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SESSION_KEY, hash);
        return abi.encodePacked(root ? SIG_MODE_USE_ROOT : SIG_MODE_USE, sessionId, r, s, v);
    }

    /// @dev Calls `validateUserOp(userOp, hash)` as `caller` (an account), without the EntryPoint.
    ///      Returns the revert data on revert.
    function _validateAs(address caller, PackedUserOperation memory userOp, bytes32 hash)
        internal
        returns (bool ok, uint256 validationData, bytes memory revertData)
    {
        vm.prank(caller);
        try validator.validateUserOp(userOp, hash) returns (uint256 result) {
            return (true, result, "");
        } catch (bytes memory data) {
            return (false, 0, data);
        }
    }

    /// @dev Calls `validateUserOp` as the account, with the session key's signature over an arbitrary
    ///      hash (the validator checks the signature against the hash it is given), so that fuzz and
    ///      invariant runs need no EntryPoint round trip. Returns the revert data on revert.
    function _validate(bytes32 sessionId, bytes memory callData)
        internal
        returns (bool ok, uint256 validationData, bytes memory revertData)
    {
        PackedUserOperation memory userOp;
        userOp.sender = owner;
        userOp.nonce = uint256(_sessionNonceKey(sessionId)) << 64;
        userOp.callData = callData;
        bytes32 hash = keccak256(abi.encode(callData, sessionId));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SESSION_KEY, hash);
        userOp.signature = abi.encodePacked(SIG_MODE_USE, sessionId, r, s, v);
        vm.prank(owner);
        try validator.validateUserOp(userOp, hash) returns (uint256 result) {
            return (true, result, "");
        } catch (bytes memory data) {
            return (false, 0, data);
        }
    }
}
