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

    /// @dev Arguments for argument rules: a static address and amount.
    function pay(address, uint256) external payable {
        ++pings;
    }

    /// @dev A dynamic argument for argument rules on a word inside it.
    function route(uint256, address[] calldata) external payable {
        ++pings;
    }

    receive() external payable {}

    fallback() external payable {}
}
