// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {Rule, RULE_OP_EQ, RULE_USAGE, RULES_VERSION, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {RuleBuilders} from "../utils/RuleBuilders.sol";

/// @notice Usage limits (docs/permissions.md, "Rule data", kind 3): at most N calls under a function
///         permission over the session's life, counted in validation.
contract UsageLimitsTest is RuleBuilders {
    address internal constant BOB = address(0xB0B);

    function _payCall(uint256 amount) internal view returns (bytes memory) {
        return _single(address(target), 0, abi.encodeCall(Target.pay, (BOB, amount)));
    }

    function _reached(bytes32 id, uint256 limit) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ISessionKeyValidator.UsageLimitReached.selector, id, address(target), Target.pay.selector, limit
        );
    }

    function test_exactlyTheLimitIsAllowed() public {
        TestRule[] memory rules = _rules(_usage(2, 0));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        vm.assertEq(validator.getUsesLeft(owner, id, _compact(rules)), 2, "two to start with");
        handleOp(_ruledOp(id, _payCall(1), _attachment(0, rules)));
        handleOp(_ruledOp(id, _payCall(1), _attachment(0, rules)));
        vm.assertEq(validator.getUsesLeft(owner, id, _compact(rules)), 0, "none left");
        _rejects(_ruledOp(id, _payCall(1), _attachment(0, rules)), _reached(id, 2));
        vm.assertEq(target.pings(), 2, "two calls made");
    }

    function test_everyCallOfABatchCounts() public {
        TestRule[] memory rules = _rules(_usage(2, 0));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        Execution[] memory three = new Execution[](3);
        for (uint256 i; i < 3; ++i) {
            three[i] = Execution(address(target), 0, abi.encodeCall(Target.pay, (BOB, i)));
        }
        bytes memory attachments = abi.encodePacked(_attachment(0, rules), _attachment(1, rules), _attachment(2, rules));
        _rejects(_ruledOp(id, _batch(three), attachments), _reached(id, 2));
    }

    function test_eachPermissionCountsItsOwnCalls() public {
        TestRule[] memory first = _rules(_usage(1, 0));
        TestRule[] memory second = _rules(_usage(1, 1));
        bytes32 id = _enable(
            _grant(
                _list(
                    _ruledOn(address(target), Target.pay.selector, first),
                    _ruledOn(address(target), Target.pay.selector, second)
                )
            )
        );
        handleOp(_ruledOp(id, _payCall(1), _attachment(0, first)));
        handleOp(_ruledOp(id, _payCall(1), _attachment(0, second)));
        _rejects(_ruledOp(id, _payCall(1), _attachment(0, first)), _reached(id, 1));
    }

    function test_aUsageLimitCombinesWithArgumentRules() public {
        TestRule[] memory rules = _rules(_argument(1, RULE_OP_EQ, _words(7)), _usage(1, 0));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        uint256[] memory eight = new uint256[](1);
        eight[0] = 8;
        // A refused call uses nothing.
        _rejects(
            _ruledOp(id, _payCall(8), _attachment(0, rules)),
            abi.encodeWithSelector(
                ISessionKeyValidator.ArgumentsNotAllowed.selector, id, address(target), Target.pay.selector, eight
            )
        );
        handleOp(_ruledOp(id, _payCall(7), _attachment(0, rules)));
        _rejects(_ruledOp(id, _payCall(7), _attachment(0, rules)), _reached(id, 1));
    }

    function test_aUsageLimitOfAnotherIndexFindsNoScope() public {
        TestRule[] memory granted = _rules(_usage(1, 0));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, granted))));
        _rejects(
            _ruledOp(id, _payCall(1), _attachment(0, _rules(_usage(1, 5)))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.pay.selector
            )
        );
    }

    function test_malformedUsageLimitsAreInvalid() public {
        bytes4 invalid = ISessionKeyValidator.InvalidRules.selector;
        _refusedWith(_rulesField(_rules(_usage(0, 0))), invalid);
        _refusedWith(_rulesField(_rules(_usage(1, 0), _usage(2, 0))), invalid);
    }

    function test_aUsageLimitOnALimitIsUnsupported() public {
        SessionGrant memory grant = _grant(_list(_erc20(address(token), 1)));
        Rule[] memory usage = new Rule[](1);
        usage[0] = Rule(RULE_USAGE, abi.encode(uint32(3)));
        grant.permissions[0].rules = abi.encodePacked(RULES_VERSION, abi.encode(usage));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedRules.selector, validator.getSessionId(grant), 0)
        );
    }

    function _refusedWith(bytes memory rules, bytes4 error) internal {
        SessionGrant memory grant = _grant(_list(_functionsOn(address(target), Target.pay.selector)));
        grant.permissions[0].rules = rules;
        _enableReverts(grant, abi.encodeWithSelector(error, validator.getSessionId(grant), 0));
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_neverMoreCallsThanTheLimit(uint8 limitSeed, uint8 attemptsSeed) public {
        uint32 limit = uint32(limitSeed % 5) + 1;
        uint256 attempts = attemptsSeed % 8;
        TestRule[] memory rules = _rules(_usage(limit, 0));
        bytes32 id = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        for (uint256 i; i < attempts; ++i) {
            if (i < limit) handleOp(_ruledOp(id, _payCall(i), _attachment(0, rules)));
            else _rejects(_ruledOp(id, _payCall(i), _attachment(0, rules)), _reached(id, limit));
        }
        vm.assertEq(target.pings(), attempts < limit ? attempts : limit, "calls made");
        vm.assertEq(validator.getUsesLeft(owner, id, _compact(rules)), attempts < limit ? limit - attempts : 0, "left");
    }
}
