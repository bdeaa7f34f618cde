// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Errors of `LeashAccount`; each names what was rejected.
interface ILeashAccount {
    /// @notice `caller` may not call this function: only the EntryPoint or the account itself may.
    error UnauthorizedCaller(address caller);

    /// @notice The ERC-7579 call type (mode byte 0) is not supported; delegatecall (0xff) never is.
    error UnsupportedCallType(bytes1 callType);

    /// @notice The ERC-7579 exec type (mode byte 1) is not supported.
    error UnsupportedExecType(bytes1 execType);

    /// @notice Only validator modules (type 1) can be installed.
    error UnsupportedModuleType(uint256 moduleTypeId);

    /// @notice `module` does not report itself as a module of `moduleTypeId`.
    error NotAModuleOfType(address module, uint256 moduleTypeId);

    /// @notice `module` is already installed.
    error ModuleAlreadyInstalled(address module);

    /// @notice `module` is not installed.
    error ModuleNotInstalled(address module);

    /// @notice The UserOperation's nonce key selects `validator`, which is not installed.
    error ValidatorNotInstalled(address validator);
}
