// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPolicy
/// @notice A check of a session's call that a grant names in a function permission's rules (kind 4,
///         docs/permissions.md "Policy contracts"): the validator asks it in validation, for every
///         call the permission allows, after the permission's other rules.
/// @dev Assumptions a policy must meet:
/// - It is called with `staticcall` during ERC-4337 validation, with at most `POLICY_GAS` gas
///   (SessionKeyValidator). It may not write state, and ERC-7562 allows it to read only storage
///   associated with the account: its own mappings keyed by the account innermost
///   (`mapping(key => mapping(address account => value))`), never a global or another account's
///   slot, and no banned opcode (TIMESTAMP, NUMBER, BALANCE of others, …). Bundlers drop operations
///   that break this; the validator cannot tell.
/// - It allows a call by returning `checkCall.selector`. Anything else refuses it: another value,
///   too little return data, a revert (its data is passed on in `PolicyRefused`), running out of gas.
interface IPolicy {
    function checkCall(
        address account,
        bytes32 sessionId,
        address target,
        uint256 value,
        bytes calldata data,
        bytes calldata config
    ) external view returns (bytes4);
}
