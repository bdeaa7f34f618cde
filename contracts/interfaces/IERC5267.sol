// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IERC5267
/// @notice ERC-5267: a contract's EIP-712 domain, which ERC-7739 nests an account's message
///         signatures in.
interface IERC5267 {
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        );
}
