// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rule, RULE_RECURRING, RULES_VERSION} from "../types/SessionTypes.sol";
import {RuleLib} from "./RuleLib.sol";

/// @title PeriodLib
/// @notice Recurring allowances: a limit's `amount` may be spent again in every period, with no
///         rollover. Periods are counted in seconds from a start, or are calendar months (UTC).
/// @dev Assumptions:
/// - The clock is read only in the execution phase (`LeashAccount.executeUserOp` →
///   `SessionKeyValidator.settleOutflow`), never in validation (ERC-7562).
/// - State word, beside the limit's scope: `start (bits 208..255) | period (160..207) |
///   period number + 1 (128..159) | spent in that period (0..127)`; period 0 means calendar months.
///   The period number is 0 until the first spend.
library PeriodLib {
    /// @dev `period` value for calendar months (UTC): each resets at 00:00 on the 1st.
    uint256 internal constant CALENDAR_MONTH = 0;

    uint256 private constant _SPENT_MASK = type(uint128).max;

    /// @dev The period and start of a limit's `rules` (non-empty), or why they are refused: a limit
    ///      takes exactly one rule, a recurring allowance.
    function decode(bytes calldata rules)
        internal
        pure
        returns (uint256 period, uint256 start, RuleLib.Refusal refusal)
    {
        if (uint8(rules[0]) != RULES_VERSION) {
            return (0, 0, RuleLib.Refusal.Unsupported);
        }
        if (rules.length == 1) return (0, 0, RuleLib.Refusal.Invalid);
        Rule[] memory list = abi.decode(rules[1:], (Rule[]));
        for (uint256 i; i < list.length; ++i) {
            if (list[i].kind != RULE_RECURRING) return (0, 0, RuleLib.Refusal.Unsupported);
        }
        if (list.length != 1) return (0, 0, RuleLib.Refusal.Invalid);
        (period, start) = abi.decode(list[0].data, (uint48, uint48));
    }

    /// @dev The state word of a new recurring allowance.
    function initialState(uint256 period, uint256 start) internal pure returns (uint256) {
        return start << 208 | period << 160;
    }

    /// @dev At `time`: whether the allowance has started, what is left of `amount` in the current
    ///      period, and when that period ends (or, not started, when it starts).
    function remaining(uint256 state, uint256 amount, uint256 time)
        internal
        pure
        returns (bool started, uint256 left, uint256 endsAt, uint256 number)
    {
        uint256 start = state >> 208;
        if (time < start) return (false, 0, start, 0);
        uint256 period = (state >> 160) & type(uint48).max;
        if (period == CALENDAR_MONTH) {
            (uint256 year, uint256 month) = _yearAndMonth(time);
            number = year * 12 + month - 1;
            endsAt = month == 12 ? _firstOfMonth(year + 1, 1) : _firstOfMonth(year, month + 1);
        } else {
            number = (time - start) / period;
            endsAt = start + (number + 1) * period;
        }
        uint256 spent = ((state >> 128) & type(uint32).max) == number + 1 ? state & _SPENT_MASK : 0;
        return (true, amount - spent, endsAt, number);
    }

    /// @dev `state` after spending `outflow` in period `number` (which `remaining` returned).
    function spend(uint256 state, uint256 number, uint256 outflow) internal pure returns (uint256) {
        uint256 spent = ((state >> 128) & type(uint32).max) == number + 1 ? state & _SPENT_MASK : 0;
        return (state >> 160) << 160 | (number + 1) << 128 | (spent + outflow);
    }

    /// @dev The UTC year and month (1..12) of a timestamp (days to civil date, after H. Hinnant).
    function _yearAndMonth(uint256 time) private pure returns (uint256 year, uint256 month) {
        unchecked {
            uint256 z = time / 86400 + 719468;
            uint256 era = z / 146097;
            uint256 doe = z - era * 146097;
            uint256 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
            uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            uint256 mp = (5 * doy + 2) / 153;
            month = mp < 10 ? mp + 3 : mp - 9;
            year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        }
    }

    /// @dev The timestamp of 00:00 UTC on the 1st of `month` in `year` (civil date to days).
    function _firstOfMonth(uint256 year, uint256 month) private pure returns (uint256) {
        unchecked {
            if (month <= 2) year -= 1;
            uint256 era = year / 400;
            uint256 yoe = year - era * 400;
            uint256 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
            uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            return (era * 146097 + doe - 719468) * 86400;
        }
    }
}
