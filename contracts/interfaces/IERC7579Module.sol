// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/// @dev ERC-7579 module type ids.
uint256 constant MODULE_TYPE_VALIDATOR = 1;

/// @notice ERC-7579 base module interface.
interface IERC7579Module {
    /// @notice Called by the account when it installs this module.
    function onInstall(bytes calldata data) external payable;

    /// @notice Called by the account when it uninstalls this module.
    function onUninstall(bytes calldata data) external payable;

    /// @notice Whether this module is of the given ERC-7579 module type.
    function isModuleType(uint256 moduleTypeId) external view returns (bool);
}

/// @notice ERC-7579 validator module interface.
interface IERC7579Validator is IERC7579Module {
    /// @notice Validates `userOp` for the calling account; returns ERC-4337 `validationData`.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256 validationData);

    /// @notice ERC-1271 check forwarded by the account; `sender` is the caller of the account.
    function isValidSignatureWithSender(address sender, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4 magicValue);
}
