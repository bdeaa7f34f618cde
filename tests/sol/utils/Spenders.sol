// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";

/// @notice The part of Uniswap's Permit2 the tests need, etched at its canonical address: its
///         `transferFrom` moves the caller's tokens through the infinite allowance Solady tokens give
///         Permit2, and its `approve` records a spender's allowance there.
contract MockPermit2 {
    mapping(address owner => mapping(address token => mapping(address spender => uint256))) public allowance;

    function approve(address token, address spender, uint160 amount, uint48) external {
        allowance[msg.sender][token][spender] = amount;
    }

    function transferFrom(address from, address to, uint160 amount, address token) external {
        if (msg.sender != from) allowance[from][token][msg.sender] -= amount;
        ERC20(token).transferFrom(from, to, amount);
    }
}

/// @notice Moves tokens of whoever calls it to `to`, through the allowance the caller gave it: a
///         router or forwarder of the same token.
contract Forwarder {
    function forward(ERC20 token, address to, uint256 amount) external {
        token.transferFrom(msg.sender, to, amount);
    }
}

/// @notice A contract holding an earlier approval of the account, which pulls tokens from its caller
///         when called for something else: a callback that moves tokens.
contract Puller {
    ERC20 internal immutable token;
    uint256 public take;

    constructor(ERC20 pulled) {
        token = pulled;
    }

    function setTake(uint256 amount) external {
        take = amount;
    }

    function ping() external {
        token.transferFrom(msg.sender, address(this), take);
    }

    /// @dev A plain value transfer runs this: receiving ETH pulls tokens too.
    receive() external payable {
        token.transferFrom(msg.sender, address(this), take);
    }

    /// @dev Pulls, then fails: the execution reverts after spending.
    function pingAndFail() external {
        token.transferFrom(msg.sender, address(this), take);
        revert("failed after spending");
    }
}

/// @notice A token with ERC-677 `transferAndCall`: it moves the caller's tokens by a selector the
///         ERC-20 meter does not know.
contract CallbackToken is TestToken {
    function transferAndCall(address to, uint256 amount, bytes calldata) external returns (bool) {
        return transfer(to, amount);
    }
}
