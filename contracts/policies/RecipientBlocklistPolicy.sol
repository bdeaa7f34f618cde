// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPolicy} from "../interfaces/IPolicy.sol";

/// @title RecipientBlocklistPolicy
/// @notice An example policy to deploy as is: each account keeps its own list of blocked recipients
///         here, and a session's calls whose recipient argument is on it are refused, without
///         granting the session again. `config` is `abi.encode(uint256 index)`: the static ABI word of
///         the call that holds the recipient (0 for `transfer(to, amount)`).
/// @dev ERC-7562: the list is `blocked[recipient][account]`, the account innermost, so its slots are
///      associated with the account and may be read in validation.
contract RecipientBlocklistPolicy is IPolicy {
    mapping(address recipient => mapping(address account => bool)) public blocked;

    event RecipientBlocked(address indexed account, address indexed recipient, bool isBlocked);

    /// @notice The call's recipient is on the account's blocklist.
    error RecipientIsBlocked(address account, address recipient);

    /// @notice The call has no static word `index` (`dataLength` bytes of data).
    error RecipientArgumentMissing(uint256 index, uint256 dataLength);

    /// @notice Blocks or unblocks `recipient` for the calling account's sessions.
    function setBlocked(address recipient, bool isBlocked) external {
        blocked[recipient][msg.sender] = isBlocked;
        emit RecipientBlocked(msg.sender, recipient, isBlocked);
    }

    /// @inheritdoc IPolicy
    function checkCall(address account, bytes32, address, uint256, bytes calldata data, bytes calldata config)
        external
        view
        returns (bytes4)
    {
        uint256 index = abi.decode(config, (uint256));
        if (index > type(uint16).max || data.length < 36 + index * 32) {
            revert RecipientArgumentMissing(index, data.length);
        }
        address recipient = address(uint160(uint256(bytes32(data[4 + index * 32:36 + index * 32]))));
        if (blocked[recipient][account]) revert RecipientIsBlocked(account, recipient);
        return IPolicy.checkCall.selector;
    }
}
