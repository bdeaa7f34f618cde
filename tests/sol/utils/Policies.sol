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

/// @dev The size of the answers of the two policies below: far more than `POLICY_ANSWER_BYTES`,
///      and within what `POLICY_GAS` lets a policy put in its memory.
uint256 constant LONG_ANSWER_BYTES = 131_072;

/// @notice Reverts with `LONG_ANSWER_BYTES` of data, its first word 1 and the rest zero (a return
///         bomb): the validator copies only its first `POLICY_ANSWER_BYTES`.
contract RevertBombPolicy is IPolicy {
    function checkCall(address, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        // Not memory-safe: the free memory pointer's word is cleared too, so that the data is
        // exactly what the comment above says.
        assembly {
            mstore(0x00, 1)
            mstore(0x40, 0)
            revert(0x00, LONG_ANSWER_BYTES)
        }
    }
}

/// @notice Answers its selector, then zeros up to `LONG_ANSWER_BYTES`: an answer the validator reads
///         only the start of.
contract LongAnswerPolicy is IPolicy {
    function checkCall(address, bytes32, address, uint256, bytes calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        bytes4 selector = IPolicy.checkCall.selector;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            return(0x00, LONG_ANSWER_BYTES)
        }
    }
}
