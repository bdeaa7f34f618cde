// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Execution} from "../types/Execution.sol";

/// @title ExecutionLib
/// @notice Decodes ERC-7579 execution modes and execution calldata, strictly.
/// @dev Assumptions:
/// - Single execution calldata is `abi.encodePacked(target, value, callData)`.
/// - Batch execution calldata is `abi.encode(Execution[])`.
/// - Every offset and length of a batch is checked to stay inside the given slice. The account that
///   executes and the validator that authorizes read the same calldata in different contexts (the
///   account's own calldata, and a field of a `PackedUserOperation`); a decoder that could read past
///   the slice would let the two see different calls. With strict bounds they cannot.
library ExecutionLib {
    /// @notice The execution calldata is malformed or reaches outside its own bytes.
    error InvalidExecutionEncoding();

    bytes1 internal constant CALLTYPE_SINGLE = 0x00;
    bytes1 internal constant CALLTYPE_BATCH = 0x01;
    bytes1 internal constant CALLTYPE_DELEGATECALL = 0xff;
    bytes1 internal constant EXECTYPE_DEFAULT = 0x00;

    /// @dev Mode for a single call that reverts on failure.
    bytes32 internal constant MODE_SINGLE = bytes32(0);

    /// @dev Mode for a batch of calls that reverts as a whole if any call fails.
    bytes32 internal constant MODE_BATCH = bytes32(CALLTYPE_BATCH);

    /// @notice The call type (byte 0) and exec type (byte 1) of an ERC-7579 mode.
    function decodeMode(bytes32 mode) internal pure returns (bytes1 callType, bytes1 execType) {
        callType = mode[0];
        execType = mode[1];
    }

    /// @notice Views `callData` as a call to `execute(bytes32 mode, bytes executionCalldata)`, reading
    ///         it exactly as Solidity's ABI decoder in the account will.
    /// @dev Reverts with `InvalidExecutionEncoding` when it is shorter than the head, or when the
    ///      execution calldata reaches outside `callData`. The selector is not checked here.
    function decodeExecuteCall(bytes calldata callData)
        internal
        pure
        returns (bytes32 mode, bytes calldata executionCalldata)
    {
        bool valid;
        assembly ("memory-safe") {
            let len := callData.length
            let bytesOffset := calldataload(add(callData.offset, 0x24))
            // Offsets are relative to the arguments, which start after the 4-byte selector.
            valid := and(gt(len, 0x43), lt(bytesOffset, 0x100000000))
            let start := add(add(callData.offset, 0x04), bytesOffset)
            let bytesLength := calldataload(start)
            valid := and(valid, iszero(gt(add(add(bytesOffset, 0x24), bytesLength), len)))
            valid := and(valid, lt(bytesLength, 0x100000000))
            mode := calldataload(add(callData.offset, 0x04))
            executionCalldata.offset := add(start, 0x20)
            executionCalldata.length := bytesLength
        }
        if (!valid) revert InvalidExecutionEncoding();
    }

    /// @notice The tokens listed at the end of a balance-checked UserOperation's `callData`:
    ///         `executeUserOp.selector ‖ execute call ‖ token_1 ‖ … ‖ token_n (20 bytes each) ‖ uint8 n`.
    /// @dev Returns the packed addresses (`20 * n` bytes). Reverts with `InvalidExecutionEncoding`
    ///      when `callData` is too short to hold them after the 4-byte selector. The validator and the
    ///      account both read the list with this function, so they see the same tokens.
    function outflowTokens(bytes calldata callData) internal pure returns (bytes calldata tokens) {
        uint256 length = callData.length;
        if (length < 5) revert InvalidExecutionEncoding();
        uint256 size = uint256(uint8(callData[length - 1])) * 20;
        if (length < size + 5) revert InvalidExecutionEncoding();
        tokens = callData[length - 1 - size:length - 1];
    }

    /// @notice Token `i` of a list returned by `outflowTokens`.
    function tokenAt(bytes calldata tokens, uint256 i) internal pure returns (address token) {
        assembly ("memory-safe") {
            token := shr(96, calldataload(add(tokens.offset, mul(i, 20))))
        }
    }

    /// @notice Splits single execution calldata into its target, value and call data.
    function decodeSingle(bytes calldata data)
        internal
        pure
        returns (address target, uint256 value, bytes calldata callData)
    {
        if (data.length < 52) revert InvalidExecutionEncoding();
        assembly ("memory-safe") {
            target := shr(96, calldataload(data.offset))
            value := calldataload(add(data.offset, 20))
            callData.offset := add(data.offset, 52)
            callData.length := sub(data.length, 52)
        }
    }

    /// @notice Views batch execution calldata as `Execution[]` after checking all of its bounds.
    function decodeBatch(bytes calldata data) internal pure returns (Execution[] calldata executions) {
        bool valid;
        uint256 headsOffset;
        uint256 count;
        assembly ("memory-safe") {
            // Offsets and lengths are capped at 2**32 so sums below cannot overflow.
            let limit := 0x100000000
            let len := data.length
            let arrayOffset := calldataload(data.offset)
            valid := and(gt(len, 0x1f), lt(arrayOffset, limit))
            valid := and(valid, iszero(gt(add(arrayOffset, 0x20), len)))
            if valid {
                count := calldataload(add(data.offset, arrayOffset))
                headsOffset := add(arrayOffset, 0x20)
                valid := and(lt(count, limit), iszero(gt(add(headsOffset, shl(5, count)), len)))
            }
            for { let i := 0 } and(valid, lt(i, count)) { i := add(i, 1) } {
                let elementOffset := calldataload(add(data.offset, add(headsOffset, shl(5, i))))
                let element := add(headsOffset, elementOffset)
                valid := and(lt(elementOffset, limit), iszero(gt(add(element, 0x60), len)))
                if valid {
                    let bytesOffset := calldataload(add(data.offset, add(element, 0x40)))
                    let bytesStart := add(element, bytesOffset)
                    valid := and(lt(bytesOffset, limit), iszero(gt(add(bytesStart, 0x20), len)))
                    if valid {
                        let bytesLength := calldataload(add(data.offset, bytesStart))
                        valid := and(lt(bytesLength, limit), iszero(gt(add(add(bytesStart, 0x20), bytesLength), len)))
                    }
                }
            }
        }
        if (!valid) revert InvalidExecutionEncoding();
        assembly ("memory-safe") {
            executions.offset := add(data.offset, headsOffset)
            executions.length := count
        }
    }
}
