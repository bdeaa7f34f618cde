// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";

/// @notice A plain ERC-20 for tests, with open minting.
contract TestToken is ERC20 {
    function name() public pure override returns (string memory) {
        return "Test Token";
    }

    function symbol() public pure override returns (string memory) {
        return "TEST";
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

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
