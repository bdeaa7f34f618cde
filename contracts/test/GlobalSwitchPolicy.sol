// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPolicy} from "../interfaces/IPolicy.sol";

/// @title GlobalSwitchPolicy
/// @notice A test policy that breaks ERC-7562 on purpose: it allows a call only while one global
///         switch is open, so every account's validation reads the same slot, associated with none
///         of them. leash-sim's ERC-7562 check must report that read (crates/sim/tests/erc7562.rs).
contract GlobalSwitchPolicy is IPolicy {
    bool public open = true;

    /// @notice The switch is closed.
    error SwitchClosed();

    /// @notice Opens or closes the switch for every account.
    function setOpen(bool isOpen) external {
        open = isOpen;
    }

    /// @inheritdoc IPolicy
    function checkCall(address, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        view
        returns (bytes4)
    {
        if (!open) revert SwitchClosed();
        return IPolicy.checkCall.selector;
    }
}
