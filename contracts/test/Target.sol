// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A contract with a few functions a session may or may not be allowed to call.
contract Target {
    uint256 public pings;

    function ping() external payable {
        ++pings;
    }

    function pong() external payable {
        ++pings;
    }

    receive() external payable {}

    fallback() external payable {}
}
