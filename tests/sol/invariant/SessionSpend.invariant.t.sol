// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ERC20} from "solady/tokens/ERC20.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ExecutionLib} from "../../../contracts/libraries/ExecutionLib.sol";
import {SessionKeyValidator} from "../../../contracts/modules/SessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {PermissionType, SessionGrant, SIG_MODE_USE} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Test} from "../utils/Vm.sol";

/// @notice Drives random spends through `validateUserOp`, as the account would, and records what
///         validation let through.
contract SpendHandler is Test {
    SessionKeyValidator internal immutable validator;
    address internal immutable account;
    address internal immutable token;
    uint256 internal immutable sessionKey;
    bytes32[] internal sessionIds;

    mapping(bytes32 sessionId => uint256) public tokenSpent;
    mapping(bytes32 sessionId => uint256) public nativeSpent;

    constructor(
        SessionKeyValidator validator_,
        address account_,
        address token_,
        uint256 sessionKey_,
        bytes32[] memory ids
    ) {
        validator = validator_;
        account = account_;
        token = token_;
        sessionKey = sessionKey_;
        sessionIds = ids;
    }

    /// @dev A batch of a token transfer and a value transfer, each of a random size.
    function spend(uint256 which, uint256 tokenAmount, uint256 value) external {
        bytes32 sessionId = sessionIds[which % sessionIds.length];
        tokenAmount %= 4 ether;
        value %= 2 ether;
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(token, 0, abi.encodeCall(ERC20.transfer, (address(0xA1), tokenAmount)));
        executions[1] = Execution(address(0xA1), value, "");
        PackedUserOperation memory userOp;
        userOp.sender = account;
        userOp.callData = abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, abi.encode(executions)));
        bytes32 hash = keccak256(abi.encode(userOp.callData, sessionId, tokenSpent[sessionId]));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sessionKey, hash);
        userOp.signature = abi.encodePacked(SIG_MODE_USE, sessionId, r, s, v);
        vm.prank(account);
        try validator.validateUserOp(userOp, hash) returns (uint256 validationData) {
            vm.assertTrue(validationData != 1, "a session signature never fails here");
            tokenSpent[sessionId] += tokenAmount;
            nativeSpent[sessionId] += value;
        } catch {}
    }
}

/// @notice For every session, the total that validation let through never exceeds the allowance,
///         and the reported remaining budget is exactly the allowance minus that total.
contract SessionSpendInvariantTest is SessionTestBase {
    SpendHandler internal handler;
    bytes32[] internal ids;
    uint256[] internal tokenAllowances;
    uint256[] internal nativeAllowances;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 3; ++i) {
            tokenAllowances.push((i + 1) * 5 ether);
            nativeAllowances.push((3 - i) * 3 ether);
            SessionGrant memory grant =
                _grant(_list(_erc20(address(token), tokenAllowances[i]), _native(nativeAllowances[i])));
            grant.salt = i;
            ids.push(_enable(grant));
        }
        handler = new SpendHandler(validator, owner, address(token), SESSION_KEY, ids);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_spentNeverExceedsAllowance() public view {
        for (uint256 i; i < ids.length; ++i) {
            uint256 tokenSpent = handler.tokenSpent(ids[i]);
            uint256 nativeSpent = handler.nativeSpent(ids[i]);
            vm.assertLe(tokenSpent, tokenAllowances[i], "token spend within allowance");
            vm.assertLe(nativeSpent, nativeAllowances[i], "native spend within allowance");
            vm.assertEq(
                validator.getRemaining(owner, ids[i], PermissionType.Erc20TokenTransfer, address(token)),
                tokenAllowances[i] - tokenSpent,
                "token remaining"
            );
            vm.assertEq(
                validator.getRemaining(owner, ids[i], PermissionType.NativeTokenTransfer, address(0)),
                nativeAllowances[i] - nativeSpent,
                "native remaining"
            );
        }
    }
}
