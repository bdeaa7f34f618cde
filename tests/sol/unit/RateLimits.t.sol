// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {RuleBuilders} from "../utils/RuleBuilders.sol";

/// @notice Rate limits (docs/permissions.md, "Rule data", kind 7): at most N calls per period under a
///         function permission, counted in the execution phase.
contract RateLimitsTest is RuleBuilders {
    uint48 internal constant DAY = 1 days;
    /// @dev 2026-01-01 00:00:00 UTC.
    uint256 internal constant JAN_2026 = 1767225600;
    address internal constant BOB = address(0xB0B);

    function setUp() public override {
        super.setUp();
        vm.warp(JAN_2026 + 1 hours);
    }

    /// @dev A year-long session of `pay` under `rules`.
    function _session(TestRule[] memory rules) internal returns (bytes32) {
        SessionGrant memory grant = _grant(_list(_ruledOn(address(target), Target.pay.selector, rules)));
        grant.validUntil = uint48(block.timestamp + 365 days);
        return _enable(grant);
    }

    /// @dev `calls` calls of `pay` in one operation, in the form with an execution phase.
    function _payOp(bytes32 id, TestRule[] memory rules, uint256 calls)
        internal
        view
        returns (PackedUserOperation memory)
    {
        Execution[] memory executions = new Execution[](calls);
        bytes memory attachments;
        for (uint256 i; i < calls; ++i) {
            executions[i] = Execution(address(target), 0, abi.encodeCall(Target.pay, (BOB, i)));
            attachments = abi.encodePacked(attachments, _attachment(uint8(i), rules));
        }
        return _ruledOp(id, _checked(_batch(executions), new address[](0)), attachments);
    }

    function _reached(bytes32 id, uint256 limit, uint256 resetsAt) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ISessionKeyValidator.RateLimitReached.selector, id, address(target), Target.pay.selector, limit, resetsAt
        );
    }

    function test_theLimitPerPeriodAndThenTheNextPeriod() public {
        TestRule[] memory rules = _rules(_rate(3, DAY, 0, 0));
        bytes32 id = _session(rules);
        vm.assertEq(_executionRevert(_payOp(id, rules, 2)), "", "two calls");
        vm.assertEq(_executionRevert(_payOp(id, rules, 1)), "", "the third");
        (uint256 left, uint256 resetsAt) = validator.getRateLeft(owner, id, _compact(rules));
        vm.assertEq(left, 0, "none left today");
        vm.assertEq(resetsAt, JAN_2026 + DAY, "resets at midnight");
        vm.assertEq(_executionRevert(_payOp(id, rules, 1)), _reached(id, 3, JAN_2026 + DAY), "a fourth today");
        vm.warp(JAN_2026 + DAY);
        vm.assertEq(_executionRevert(_payOp(id, rules, 3)), "", "three tomorrow");
        vm.assertEq(target.pings(), 6, "calls made");
    }

    function test_aBatchBeyondTheLimitIsUndoneWhole() public {
        TestRule[] memory rules = _rules(_rate(2, DAY, 0, 0));
        bytes32 id = _session(rules);
        vm.assertEq(_executionRevert(_payOp(id, rules, 3)), _reached(id, 2, JAN_2026 + DAY), "three at once");
        vm.assertEq(target.pings(), 0, "nothing ran");
        (uint256 left,) = validator.getRateLeft(owner, id, _compact(rules));
        vm.assertEq(left, 2, "nothing counted");
    }

    function test_theDirectFormIsRefused() public {
        TestRule[] memory rules = _rules(_rate(2, DAY, 0, 0));
        bytes32 id = _session(rules);
        bytes memory direct = _single(address(target), 0, abi.encodeCall(Target.pay, (BOB, 1)));
        _rejects(
            _ruledOp(id, direct, _attachment(0, rules)),
            abi.encodeWithSelector(
                ISessionKeyValidator.OutflowCheckRequired.selector, id, address(target), Target.pay.selector
            )
        );
    }

    function test_malformedRateLimitsAreInvalid() public {
        bytes4 invalid = ISessionKeyValidator.InvalidRules.selector;
        _refusedWith(_rulesField(_rules(_rate(0, DAY, 0, 0))), invalid);
        _refusedWith(_rulesField(_rules(_rate(1, DAY, 0, 0), _rate(2, DAY, 0, 0))), invalid);
    }

    function _refusedWith(bytes memory rules, bytes4 error) internal {
        SessionGrant memory grant = _grant(_list(_functionsOn(address(target), Target.pay.selector)));
        grant.permissions[0].rules = rules;
        _enableReverts(grant, abi.encodeWithSelector(error, validator.getSessionId(grant), 0));
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_noPeriodMakesMoreCallsThanTheLimit(uint32[6] memory gaps, uint8[6] memory sizes) public {
        TestRule[] memory rules = _rules(_rate(3, DAY, 0, 0));
        bytes32 id = _session(rules);
        uint256 period = type(uint256).max;
        uint256 made;
        for (uint256 i; i < 6; ++i) {
            vm.warp(block.timestamp + gaps[i] % (2 * DAY));
            uint256 calls = sizes[i] % 4 + 1;
            if (block.timestamp / DAY != period) (period, made) = (block.timestamp / DAY, 0);
            bytes memory reason = _executionRevert(_payOp(id, rules, calls));
            if (made + calls <= 3) {
                vm.assertEq(reason, "", "the model allows it");
                made += calls;
            } else {
                vm.assertEq(reason, _reached(id, 3, (period + 1) * DAY), "the model refuses it");
            }
            vm.assertTrue(made <= 3, "never more calls than the limit in a period");
        }
    }
}
