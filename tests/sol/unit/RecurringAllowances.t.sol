// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ERC20} from "solady/tokens/ERC20.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    Permission,
    PermissionType,
    Rule,
    RULE_ARGUMENT,
    RULE_RECURRING,
    RULES_VERSION,
    SessionGrant
} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice Recurring allowances (docs/permissions.md, "Recurring allowances"): an amount per period,
///         charged in the execution phase by what left the account, with no rollover.
contract RecurringAllowancesTest is SessionTestBase {
    uint256 internal constant PER_DAY = 100 ether;
    uint48 internal constant DAY = 1 days;
    /// @dev 2026-01-01 00:00:00 UTC, and the first seconds of February and March 2026.
    uint256 internal constant JAN_2026 = 1767225600;
    uint256 internal constant FEB_2026 = 1769904000;
    uint256 internal constant MAR_2026 = 1772323200;
    uint256 internal constant DEC_2026 = 1796083200;
    uint256 internal constant JAN_2027 = 1798761600;

    function setUp() public override {
        super.setUp();
        vm.warp(JAN_2026 + 1 hours);
    }

    function _recurringRules(uint48 period, uint48 start) internal pure returns (bytes memory) {
        Rule[] memory rules = new Rule[](1);
        rules[0] = Rule(RULE_RECURRING, abi.encode(period, start));
        return abi.encodePacked(RULES_VERSION, abi.encode(rules));
    }

    function _recurring(Permission memory limit, uint48 period, uint48 start)
        internal
        pure
        returns (Permission memory)
    {
        limit.rules = _recurringRules(period, start);
        return limit;
    }

    /// @dev A session of `limit` for a year.
    function _session(Permission memory limit) internal returns (bytes32) {
        SessionGrant memory grant = _grant(_list(limit));
        grant.validUntil = uint48(block.timestamp + 365 days);
        return _enable(grant);
    }

    function _tokenSession(uint48 period, uint48 start) internal returns (bytes32) {
        return _session(_recurring(_erc20(address(token), PER_DAY), period, start));
    }

    /// @dev A balance-checked transfer of `amount` tokens to alice, and the revert data of its execution.
    function _spend(bytes32 id, uint256 amount) internal returns (bytes memory) {
        return _executionRevert(_useOp(id, _checked(_transfer(alice, amount), _tokens(address(token)))));
    }

    function _exceeded(bytes32 id, address asset, uint256 requested, uint256 left, uint256 resetsAt)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            ISessionKeyValidator.RecurringAllowanceExceeded.selector, id, asset, requested, left, resetsAt
        );
    }

    function _left(bytes32 id) internal view returns (uint256) {
        return validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token));
    }

    // ------------------------------------------------------------ within and beyond a period

    function test_theAmountPerPeriodIsSpentExactlyAndNoMore() public {
        bytes32 id = _tokenSession(DAY, 0);
        vm.assertEq(_spend(id, 60 ether), "", "first spend");
        vm.assertEq(_spend(id, 40 ether), "", "the exact rest");
        vm.assertEq(token.balanceOf(alice), 100 ether, "moved");
        vm.assertEq(_spend(id, 1), _exceeded(id, address(token), 1, 0, JAN_2026 + DAY), "one unit more");
        vm.assertEq(token.balanceOf(alice), 100 ether, "undone");
    }

    function test_thePeriodTurnsAtItsLastSecond() public {
        bytes32 id = _tokenSession(DAY, 0);
        vm.warp(JAN_2026 + DAY - 1);
        vm.assertEq(_spend(id, PER_DAY), "", "the last second of day one");
        vm.assertEq(_spend(id, 1), _exceeded(id, address(token), 1, 0, JAN_2026 + DAY), "still day one");
        vm.warp(JAN_2026 + DAY);
        vm.assertEq(_spend(id, PER_DAY), "", "the first second of day two");
        vm.assertEq(token.balanceOf(alice), 2 * PER_DAY, "both days");
    }

    function test_nothingRollsOver() public {
        bytes32 id = _tokenSession(DAY, 0);
        vm.assertEq(_spend(id, 10 ether), "", "day one spends little");
        vm.warp(JAN_2026 + DAY + 1);
        vm.assertEq(_spend(id, PER_DAY), "", "day two spends its own amount");
        // Day one's 90 unspent are gone.
        vm.assertEq(_spend(id, 90 ether), _exceeded(id, address(token), 90 ether, 0, JAN_2026 + 2 * DAY), "no rollover");
    }

    function test_beforeItsStartNothingMayBeSpent() public {
        uint48 start = uint48(JAN_2026 + 7 days);
        bytes32 id = _tokenSession(DAY, start);
        vm.assertEq(_spend(id, 1), _exceeded(id, address(token), 1, 0, start), "not started");
        vm.warp(start);
        vm.assertEq(_spend(id, PER_DAY), "", "started");
        (uint256 left,,, uint256 resetsAt) =
            validator.getAllowance(owner, id, PermissionType.Erc20TokenTransfer, address(token));
        vm.assertEq(left, 0, "spent");
        vm.assertEq(resetsAt, start + DAY, "periods count from the start");
    }

    function test_calendarMonthsResetOnTheFirst() public {
        bytes32 id = _tokenSession(0, 0);
        vm.warp(FEB_2026 - 1);
        vm.assertEq(_spend(id, PER_DAY), "", "January's last second");
        vm.assertEq(_spend(id, 1), _exceeded(id, address(token), 1, 0, FEB_2026), "January is spent");
        vm.warp(FEB_2026);
        vm.assertEq(_spend(id, PER_DAY), "", "February");
        vm.assertEq(_spend(id, 1), _exceeded(id, address(token), 1, 0, MAR_2026), "February has 28 days");
    }

    function test_calendarMonthsTurnTheYear() public {
        bytes32 id = _session(_recurring(_erc20(address(token), PER_DAY), 0, 0));
        vm.warp(DEC_2026 + 5 days);
        (uint256 left,, uint256 perPeriod, uint256 resetsAt) =
            validator.getAllowance(owner, id, PermissionType.Erc20TokenTransfer, address(token));
        vm.assertEq(left, PER_DAY, "a fresh month");
        vm.assertEq(perPeriod, PER_DAY, "per period");
        vm.assertEq(resetsAt, JAN_2027, "December ends with the year");
    }

    function test_nativeValueRecursToo() public {
        bytes32 id = _session(_recurring(_native(3 ether), DAY, 0));
        PackedUserOperation memory send = _useOp(id, _checked(_single(alice, 3 ether, ""), new address[](0)));
        vm.assertEq(_executionRevert(send), "", "the day's value");
        PackedUserOperation memory more = _useOp(id, _checked(_single(alice, 1, ""), new address[](0)));
        vm.assertEq(_executionRevert(more), _exceeded(id, address(0), 1, 0, JAN_2026 + DAY), "no more today");
    }

    // ------------------------------------------------------------ what a recurring allowance refuses

    function test_theDirectFormIsRefused() public {
        bytes32 id = _tokenSession(DAY, 0);
        _rejects(
            _useOp(id, _transfer(alice, 1)),
            abi.encodeWithSelector(
                ISessionKeyValidator.OutflowCheckRequired.selector, id, address(token), ERC20.transfer.selector
            )
        );
    }

    function test_approvalsAreRefused() public {
        bytes32 id = _tokenSession(DAY, 0);
        bytes memory approve = _single(address(token), 0, abi.encodeCall(ERC20.approve, (alice, 1)));
        _rejects(
            _useOp(id, _checked(approve, _tokens(address(token)))),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(token), ERC20.approve.selector
            )
        );
    }

    /// @dev `transferFrom` out of the account is charged by what left, to the period, like `transfer`:
    ///      the limit's amount per period is never spent in validation.
    function test_transferFromTheAccountIsChargedToThePeriodOnce() public {
        bytes32 id = _tokenSession(DAY, 0);
        vm.prank(owner);
        token.approve(owner, type(uint256).max);
        bytes memory pull = abi.encodeCall(ERC20.transferFrom, (owner, alice, 30 ether));
        bytes memory reason =
            _executionRevert(_useOp(id, _checked(_single(address(token), 0, pull), _tokens(address(token)))));
        vm.assertEq(reason, "", "pulled");
        vm.assertEq(_left(id), PER_DAY - 30 ether, "charged once, to the day");
        (,, uint256 perPeriod,) = validator.getAllowance(owner, id, PermissionType.Erc20TokenTransfer, address(token));
        vm.assertEq(perPeriod, PER_DAY, "the amount per period stays");
        vm.warp(JAN_2026 + DAY);
        vm.assertEq(_left(id), PER_DAY, "the next day has it all");
    }

    function test_moreThanTheAmountPerPeriodIsRefusedInValidation() public {
        bytes32 id = _tokenSession(DAY, 0);
        _rejects(
            _useOp(id, _checked(_transfer(alice, PER_DAY + 1), _tokens(address(token)))),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), PER_DAY + 1, PER_DAY
            )
        );
    }

    function test_aRevertedExecutionChargesNothing() public {
        SessionGrant memory grant = _grant(
            _list(
                _recurring(_erc20(address(token), PER_DAY), DAY, 0), _functionsOn(address(target), Target.ping.selector)
            )
        );
        bytes32 id = _enable(grant);
        // The second call fails after the first moved tokens: both are undone, nothing is charged.
        vm.mockCallRevert(address(target), abi.encodeCall(Target.ping, ()), "ping refused");
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 50 ether)));
        executions[1] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        bytes memory reason = _executionRevert(_useOp(id, _checked(_batch(executions), _tokens(address(token)))));
        vm.assertTrue(reason.length != 0, "reverted");
        vm.assertEq(_left(id), PER_DAY, "nothing charged");
    }

    function test_recurringRulesOnlyOnAssetLimits() public {
        _refused(
            _recurring(_functionsOn(address(target), bytes4(0x12345678)), DAY, 0),
            ISessionKeyValidator.UnsupportedRules.selector
        );
        _refused(_recurring(_gasLimit(1 ether), DAY, 0), ISessionKeyValidator.UnsupportedRules.selector);
        Rule[] memory two = new Rule[](2);
        two[0] = Rule(RULE_RECURRING, abi.encode(DAY, uint48(0)));
        two[1] = Rule(RULE_RECURRING, abi.encode(DAY, uint48(0)));
        Permission memory doubled = _erc20(address(token), 1);
        doubled.rules = abi.encodePacked(RULES_VERSION, abi.encode(two));
        _refused(doubled, ISessionKeyValidator.InvalidRules.selector);
        two[1] = Rule(RULE_ARGUMENT, "");
        doubled.rules = abi.encodePacked(RULES_VERSION, abi.encode(two));
        _refused(doubled, ISessionKeyValidator.UnsupportedRules.selector);
    }

    function _refused(Permission memory permission, bytes4 error) internal {
        SessionGrant memory grant = _grantAsIs(_list(permission, _gasLimit(GAS_BUDGET)));
        if (permission.permissionType == PermissionType.GasLimit) grant = _grantAsIs(_list(permission));
        _enableReverts(grant, abi.encodeWithSelector(error, validator.getSessionId(grant), 0));
    }

    // ------------------------------------------------------------ against a reference model

    /// forge-config: default.fuzz.runs = 128
    function testFuzz_noPeriodSpendsMoreThanItsAmount(uint32[8] memory gaps, uint64[8] memory amounts) public {
        bytes32 id = _tokenSession(DAY, 0);
        uint256 spentPeriod = type(uint256).max;
        uint256 spent;
        for (uint256 i; i < 8; ++i) {
            vm.warp(block.timestamp + gaps[i] % (2 * DAY));
            // Above the amount per period, validation refuses it outright (below).
            uint256 amount = uint256(amounts[i]) % (PER_DAY + 1);
            uint256 period = block.timestamp / DAY;
            if (period != spentPeriod) (spentPeriod, spent) = (period, 0);
            uint256 before = token.balanceOf(alice);
            bytes memory reason = _spend(id, amount);
            if (spent + amount <= PER_DAY) {
                vm.assertEq(reason, "", "the model allows it");
                spent += amount;
            } else {
                vm.assertEq(
                    reason,
                    _exceeded(id, address(token), amount, PER_DAY - spent, (period + 1) * DAY),
                    "the model refuses it"
                );
            }
            vm.assertEq(token.balanceOf(alice) - before, reason.length == 0 ? amount : 0, "moved what was allowed");
            vm.assertTrue(spent <= PER_DAY, "never more than the amount in a period");
            vm.assertEq(_left(id), PER_DAY - spent, "what is left");
        }
    }
}
