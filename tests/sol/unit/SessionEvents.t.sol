// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {PermissionType, SessionGrant, SessionStatus} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice Every lifecycle and spend event, with its exact arguments; and the epoch a session
///         reports, which the events and `getSession` must agree on.
contract SessionEventsTest is SessionTestBase {
    uint48 internal constant VALID_AFTER = 1000;

    /// @dev A grant whose window has both ends set, and different, so swapped arguments show.
    function _windowGrant() internal view returns (SessionGrant memory grant) {
        grant = _grantWithLimits();
        grant.validAfter = VALID_AFTER;
    }

    // ------------------------------------------------------------ SessionEnabled

    function test_enableSession_emitsSessionEnabled() public {
        SessionGrant memory grant = _windowGrant();
        bytes32 id = validator.getSessionId(grant);
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionEnabled(owner, id, sessionSigner, VALID_AFTER, grant.validUntil);
        _enable(grant);
    }

    function test_lazyEnable_emitsSessionEnabled() public {
        SessionGrant memory grant = _windowGrant();
        bytes32 id = validator.getSessionId(grant);
        vm.warp(VALID_AFTER + 1);
        PackedUserOperation memory userOp = _enableOp(grant, _ping());
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionEnabled(owner, id, sessionSigner, VALID_AFTER, grant.validUntil);
        handleOp(userOp);
        vm.assertEq(target.pings(), 1, "used");
    }

    // ------------------------------------------------------------ SessionRevoked

    function test_revokeByTheAccount_emitsSessionRevoked() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionRevoked(owner, id, owner);
        vm.prank(owner);
        validator.revokeSession(grant);
    }

    function test_revokeByTheSessionKey_emitsSessionRevokedWithTheKeyAsRevoker() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionRevoked(owner, id, sessionSigner);
        vm.prank(sessionSigner);
        validator.revokeSession(grant);
    }

    function test_revokeOfAnUnusedGrant_emitsSessionRevoked() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionRevoked(owner, id, owner);
        vm.prank(owner);
        validator.revokeSession(grant);
    }

    // ------------------------------------------------------------ AllSessionsRevoked

    function test_revokeAllSessions_emitsTheNewEpoch() public {
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.AllSessionsRevoked(owner, 1);
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.AllSessionsRevoked(owner, 2);
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.assertEq(validator.epochOf(owner), 2, "epoch");
    }

    function test_uninstall_emitsAllSessionsRevoked() public {
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.AllSessionsRevoked(owner, 2);
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
    }

    // ------------------------------------------------------------ spends

    function test_nativeSpend_emitsSessionSpent() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        PackedUserOperation memory userOp = _useOp(id, _single(alice, 3 ether, ""));
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionSpent(id, address(0), 3 ether);
        handleOp(userOp);
    }

    /// @dev Balance-checked: the spend is reported when execution settles it, by what left.
    function test_checkedOutflow_emitsSessionSpent() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = _useOp(id, _checked(_single(alice, 3 ether, ""), _tokens(address(token))));
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionSpent(id, address(0), 3 ether);
        handleOp(userOp);
    }

    function test_erc20Spend_emitsSessionSpent() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = _useOp(id, _transfer(alice, 2 ether));
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionSpent(id, address(token), 2 ether);
        handleOp(userOp);
    }

    /// @dev A gas charge emits nothing (it is the operation's own maximum cost); what is left reads
    ///      back through `getRemaining`.
    function test_gasSpend_emitsNothingAndIsReadBack() public {
        uint256 maxCost = (VERIFICATION_GAS_LIMIT + CALL_GAS_LIMIT + PRE_VERIFICATION_GAS) * MAX_FEE_PER_GAS;
        bytes32 id = _enable(_grant(_list(_gasLimit(2 * maxCost), _native(ALLOWANCE))));
        vm.recordLogs();
        handleOp(_useOp(id, _single(alice, 1, "")));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            vm.assertNotEq(logs[i].topics[0], keccak256("SessionGasSpent(bytes32,uint256)"), "v1's gas event is gone");
        }
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)), maxCost, "charged");
    }

    // ------------------------------------------------------------ epochs in session records

    function test_sessionEnabledInALaterEpochReportsThatEpoch() public {
        vm.prank(owner);
        validator.revokeAllSessions();
        bytes32 id = _enable(_grantWithLimits());
        (SessionStatus status, address key, uint256 epoch) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Enabled), "enabled");
        vm.assertEq(key, sessionSigner, "key");
        vm.assertEq(epoch, 1, "epoch of the enable");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)), ALLOWANCE, "budget"
        );
    }

    function test_revokingASessionOfAnEarlierEpochKeepsItsEpoch() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.prank(owner);
        validator.revokeAllSessions();
        vm.expectEmit(address(validator));
        emit ISessionKeyValidator.SessionRevoked(owner, id, owner);
        vm.prank(owner);
        validator.revokeSession(grant);
        (SessionStatus status, address key, uint256 epoch) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Revoked), "revoked");
        vm.assertEq(key, sessionSigner, "key");
        vm.assertEq(epoch, 0, "epoch of the enable");
    }
}
