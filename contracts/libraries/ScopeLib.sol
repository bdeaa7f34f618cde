// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PermissionType} from "../types/SessionTypes.sol";

/// @title ScopeLib
/// @notice Names and packs the storage words ("scopes") that hold a session's permissions.
/// @dev Assumptions:
/// - A session is stored as one word per scope: a limit (native, gas, one ERC-20 token), a
///   contract, one selector on one contract, one selector on the account, one selector on any
///   contract, or root. Each word is self-contained, so validating one call reads one word.
/// - A scope's storage key is derived from the session id, the session key, and the account's
///   revocation epoch. Validation derives it from the key it *recovered* from the signature, so a
///   foreign signer, a revoked epoch or an unknown session simply finds an empty word.
/// - Word layout, chosen so that `validationData` is a mask away:
///   `validAfter (bits 208..255) | validUntil (160..207) | flags (128..159) | remaining (0..127)`.
///   `validUntil` is never zero, so an existing scope is never the zero word.
library ScopeLib {
    /// @dev Flag: the session holds a `GasLimit`; every self-paid UserOperation spends from it.
    uint256 internal constant FLAG_GAS_LIMIT = 1 << 128;

    uint256 private constant _REMAINING_MASK = type(uint128).max;
    uint256 private constant _VALIDITY_MASK = ~uint256(type(uint160).max);

    /// @notice The per-session seed that every scope key of the session derives from.
    function seed(bytes32 sessionId, address sessionKey, uint32 epoch) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // Narrow types may carry dirty upper bits in assembly: clean each one.
            mstore(m, sessionId)
            mstore(add(m, 0x20), shr(96, shl(96, sessionKey)))
            mstore(add(m, 0x40), and(epoch, 0xffffffff))
            result := keccak256(m, 0x60)
        }
    }

    /// @notice The storage key of one scope: `keccak256(seed ‖ kind << 192 | selector << 160 | target)`.
    /// @dev Function permissions of all three kinds share `PermissionType.FunctionsOnContract`, with
    ///      `target` = the contract, the account itself, or zero for "any contract".
    function key(bytes32 sessionSeed, PermissionType kind, bytes4 selector, address target)
        internal
        pure
        returns (bytes32 result)
    {
        assembly ("memory-safe") {
            mstore(0x00, sessionSeed)
            let tag := or(shl(192, and(kind, 0xff)), shr(64, and(selector, shl(224, 0xffffffff))))
            mstore(0x20, or(tag, shr(96, shl(96, target))))
            result := keccak256(0x00, 0x40)
        }
    }

    function pack(uint48 validAfter, uint48 validUntil, uint256 flags) internal pure returns (uint256) {
        return (uint256(validAfter) << 208) | (uint256(validUntil) << 160) | flags;
    }

    /// @notice The ERC-4337 `validationData` of a scope: its window, no aggregator.
    function validationData(uint256 scope) internal pure returns (uint256) {
        return scope & _VALIDITY_MASK;
    }

    function remaining(uint256 scope) internal pure returns (uint256) {
        return scope & _REMAINING_MASK;
    }

    /// @dev `amount` must not exceed `remaining(scope)`.
    function spend(uint256 scope, uint256 amount) internal pure returns (uint256) {
        return scope - amount;
    }
}
