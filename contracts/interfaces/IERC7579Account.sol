// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice ERC-7579 execution, account configuration and module configuration interfaces.
interface IERC7579Account {
    /// @notice Emitted when a module is installed.
    event ModuleInstalled(uint256 moduleTypeId, address module);

    /// @notice Emitted when a module is uninstalled.
    event ModuleUninstalled(uint256 moduleTypeId, address module);

    /// @notice Executes the calls in `executionCalldata` as described by `mode`.
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable;

    /// @notice A unique identifier of the account implementation: `vendor.account.semver`.
    function accountId() external view returns (string memory);

    /// @notice Whether the account can execute `mode`.
    function supportsExecutionMode(bytes32 mode) external view returns (bool);

    /// @notice Whether the account supports modules of `moduleTypeId`.
    function supportsModule(uint256 moduleTypeId) external view returns (bool);

    /// @notice Installs `module` as a module of `moduleTypeId`, passing it `initData`.
    function installModule(uint256 moduleTypeId, address module, bytes calldata initData) external payable;

    /// @notice Uninstalls `module`, passing it `deInitData`.
    function uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData) external payable;

    /// @notice Whether `module` is installed as a module of `moduleTypeId`.
    function isModuleInstalled(uint256 moduleTypeId, address module, bytes calldata additionalContext)
        external
        view
        returns (bool);
}
