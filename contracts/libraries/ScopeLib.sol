// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PermissionType} from "../types/SessionTypes.sol";

/// @title ScopeLib
/// @notice Names and packs the storage words ("scopes") that hold a session's permissions.
/// @dev Assumptions:
/// - A session is stored as one word per scope: a limit (native, gas, one ERC-20 token), a
///   contract, one selector on one contract, one selector on the account, one selector on any
///   contract, or root. Each word is self-contained, so validating one call reads one word.
/// - A scope's slot is `keccak256(account ‖ sessionId ‖ keyEpoch ‖ tag)`, four 32-byte words, where
///   `keyEpoch = epoch << 160 | sessionKey`. The account leads the preimage, which makes the slot
///   storage *associated* with the account under ERC-7562, and one hash names the slot (a nested
///   mapping would take three). The preimage is 128 bytes, so it cannot collide with a Solidity
///   mapping slot (64-byte preimages).
/// - Validation derives the slot from the key it *recovered* from the signature and the account's
///   current epoch, so a foreign signer, a revoked epoch or an unknown session finds an empty word.
/// - Word layout, chosen so that `validationData` is a mask away:
///   `validAfter (bits 208..255) | validUntil (160..207) | flags (128..159) | remaining (0..127)`.
///   Flags: gas limit (128), native limit (129), number of token limits (130..137).
///   `validUntil` is never zero, so an existing scope is never the zero word.
library ScopeLib {
    /// @dev The preimage of a scope's slot: `keccak256` of these four words, in this order, is the
    ///      slot. `slot` hashes the struct's memory in place, so the fields must stay first and in
    ///      this order.
    struct Key {
        address account;
        bytes32 sessionId;
        uint256 keyEpoch; // epoch << 160 | sessionKey
        uint256 tag; // kind << 192 | selector << 160 | target, set by `slot`
    }

    /// @dev Flag: the session holds a `GasLimit`; every self-paid UserOperation spends from it.
    uint256 internal constant FLAG_GAS_LIMIT = 1 << 128;

    /// @dev Flag: the session holds a `NativeTokenTransfer` limit.
    uint256 internal constant FLAG_NATIVE_LIMIT = 1 << 129;

    /// @dev Bits 130..137: how many `Erc20TokenTransfer` limits the session holds (at most 255), so
    ///      that validation can tell whether an operation's list of metered tokens is complete.
    uint256 internal constant TOKEN_COUNT_SHIFT = 130;
    uint256 internal constant MAX_TOKEN_COUNT = 0xff;

    /// @dev The flags that say the session limits a token, and an asset (native, or any token).
    uint256 internal constant TOKEN_LIMITS = MAX_TOKEN_COUNT << TOKEN_COUNT_SHIFT;

    /// @dev Flag, on a limit's own scope: the limit is a recurring allowance (`PeriodLib`); its
    ///      remaining field holds the amount per period, and its state word what the period spent.
    uint256 internal constant FLAG_RECURRING = 1 << 138;

    /// @dev The selector field of a recurring limit's state word tag (limits use no selector).
    bytes4 internal constant RECURRING_STATE = 0xffffffff;

    /// @dev Flag: the session holds a `TypedDataSigning` permission, so its balance-checked operations
    ///      leave their context for the execution phase even without a limit (see `_checkOutflow`).
    uint256 internal constant FLAG_SIGNS_TYPED_DATA = 1 << 139;
    uint256 internal constant ASSET_LIMITS = FLAG_NATIVE_LIMIT | TOKEN_LIMITS;

    uint256 private constant _REMAINING_MASK = type(uint128).max;
    uint256 private constant _VALIDITY_MASK = ~uint256(type(uint160).max);

    /// @notice `epoch << 160 | sessionKey`: the session-key half of every scope slot of a session.
    function keyEpoch(address sessionKey, uint256 epoch) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := or(shl(160, and(epoch, 0xffffffff)), shr(96, shl(96, sessionKey)))
        }
    }

    /// @notice The tag of one rule: `kind << 192 | selector << 160 | target`.
    /// @dev Function permissions of all three kinds share `PermissionType.FunctionsOnContract`, with
    ///      `target` = the contract, the account itself, or zero for "any contract".
    function tag(PermissionType kind, bytes4 selector, address target) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := or(shl(192, and(kind, 0xff)), shr(64, and(selector, shl(224, 0xffffffff))))
            result := or(result, shr(96, shl(96, target)))
        }
    }

    /// @notice The storage slot of the scope `ruleTag` of the session in `key`.
    /// @dev Writes `ruleTag` into `key.tag`, then hashes the struct's four words where they are.
    function slot(Key memory key, uint256 ruleTag) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(add(key, 0x60), ruleTag)
            result := keccak256(key, 0x80)
        }
    }

    function load(bytes32 scopeSlot) internal view returns (uint256 scope) {
        assembly ("memory-safe") {
            scope := sload(scopeSlot)
        }
    }

    function store(bytes32 scopeSlot, uint256 scope) internal {
        assembly ("memory-safe") {
            sstore(scopeSlot, scope)
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
    function spend(uint256 scope, uint256 amount) internal pure returns (uint256 result) {
        unchecked {
            result = scope - amount;
        }
    }
}
