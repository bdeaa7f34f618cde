// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice One call of an ERC-7579 batch execution, `abi.encode`d as `Execution[]`.
struct Execution {
    address target;
    uint256 value;
    bytes callData;
}
