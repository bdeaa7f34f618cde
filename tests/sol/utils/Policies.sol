// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPolicy} from "../../../contracts/interfaces/IPolicy.sol";

/// @notice Policies that misbehave, for the validator's handling of them.
contract RevertingPolicy is IPolicy {
    error NotToday(address account);

    function checkCall(address account, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        revert NotToday(account);
    }
}

contract GasBurningPolicy is IPolicy {
    function checkCall(address, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        uint256 n;
        while (true) {
            ++n;
        }
        return bytes4(uint32(n));
    }
}

contract GarbagePolicy is IPolicy {
    function checkCall(address, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return 0xdeadbeef;
    }
}

/// @notice Allows a call only when `config` equals the call's value, as a word: shows what reaches a
///         policy.
contract ConfigEchoPolicy is IPolicy {
    function checkCall(address, bytes32, address, uint256 value, bytes calldata, bytes calldata config)
        external
        pure
        returns (bytes4)
    {
        return abi.decode(config, (uint256)) == value ? IPolicy.checkCall.selector : bytes4(0);
    }
}
