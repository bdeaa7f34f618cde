// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {ExecutionLib} from "../../../contracts/libraries/ExecutionLib.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {ACCOUNT_EXECUTE} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice Exposes `ExecutionLib` on calldata. Results carry offsets relative to the input, never
///         copies, so a decoder that accepted a bad length cannot make the harness itself fail.
contract ExecutionLibHarness {
    function decodeExecuteCall(bytes calldata callData)
        external
        pure
        returns (bytes32 mode, uint256 relativeOffset, uint256 length)
    {
        bytes calldata executionCalldata;
        (mode, executionCalldata) = ExecutionLib.decodeExecuteCall(callData);
        assembly {
            relativeOffset := sub(executionCalldata.offset, callData.offset)
            length := executionCalldata.length
        }
    }

    function decodeSingle(bytes calldata data) external pure returns (address target, uint256 value, uint256 length) {
        bytes calldata callData;
        (target, value, callData) = ExecutionLib.decodeSingle(data);
        length = callData.length;
    }

    function decodeBatch(bytes calldata data) external pure returns (uint256 count) {
        return ExecutionLib.decodeBatch(data).length;
    }

    function decodeBatchCopy(bytes calldata data) external pure returns (Execution[] memory) {
        return ExecutionLib.decodeBatch(data);
    }
}

/// @notice `ExecutionLib`'s bounds, one check at a time (each input is in bounds but for one field),
///         and the execution modes and encodings the validator accepts.
contract ExecutionDecodingTest is SessionTestBase {
    uint256 internal constant MAX = type(uint256).max;
    ExecutionLibHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new ExecutionLibHarness();
    }

    /// @dev `call` to the harness reverts with exactly `InvalidExecutionEncoding`. Gas is bounded so
    ///      that a decoder looping over a huge count fails instead of running on.
    function _invalid(bytes memory call, string memory what) internal {
        (bool ok, bytes memory result) = address(harness).call{gas: 2_000_000}(call);
        vm.assertFalse(ok, what);
        vm.assertEq(result, abi.encodeWithSelector(ExecutionLib.InvalidExecutionEncoding.selector), what);
    }

    function _invalidBatch(bytes memory data, string memory what) internal {
        _invalid(abi.encodeCall(ExecutionLibHarness.decodeBatch, (data)), what);
    }

    function _invalidExecute(bytes memory data, string memory what) internal {
        _invalid(abi.encodeCall(ExecutionLibHarness.decodeExecuteCall, (data)), what);
    }

    function _truncate(bytes memory data, uint256 by) internal pure returns (bytes memory) {
        assembly {
            mstore(data, sub(mload(data), by))
        }
        return data;
    }

    /// @dev A batch of one call to `target` whose call data is one whole word (no ABI padding), so
    ///      the encoding ends exactly where the call data ends.
    function _oneWordBatch() internal view returns (bytes memory) {
        Execution[] memory executions = new Execution[](1);
        executions[0] = Execution(address(target), 7, abi.encodePacked(bytes32(uint256(0xabcd))));
        return abi.encode(executions);
    }

    // ------------------------------------------------------------ decodeExecuteCall

    function test_executeCall_exactEncodingDecodes() public view {
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (bytes32(uint256(5)), new bytes(64)));
        (bytes32 mode, uint256 offset, uint256 length) = harness.decodeExecuteCall(callData);
        vm.assertEq(mode, bytes32(uint256(5)), "mode");
        vm.assertEq(offset, 0x64, "execution calldata after the head and its length");
        vm.assertEq(length, 64, "length");
    }

    function test_executeCall_shorterThanTheHeadIsInvalid() public {
        _invalidExecute(abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0)), "selector and mode only");
        _invalidExecute(abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0), bytes31(0)), "one byte short of the head");
    }

    function test_executeCall_bytesOutsideTheCallDataAreInvalid() public {
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (bytes32(0), new bytes(64)));
        _invalidExecute(_truncate(callData, 1), "last byte missing");
        callData = abi.encodeCall(LeashAccount.execute, (bytes32(0), new bytes(64)));
        _invalidExecute(_truncate(callData, 32), "last word missing");
    }

    function test_executeCall_offsetAboveTwoToThe32IsInvalid() public {
        // An offset that wraps around to the call data's own length word: in bounds only modulo 2**256.
        _invalidExecute(abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0), MAX - 0x23), "wrapping offset");
    }

    function test_executeCall_lengthAboveTwoToThe32IsInvalid() public {
        // A length that wraps the end check around to zero.
        _invalidExecute(abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0), uint256(0x40), MAX - 0x63), "wrapping length");
    }

    // ------------------------------------------------------------ decodeSingle

    function test_single_boundaries() public {
        (address to, uint256 value, uint256 length) = harness.decodeSingle(abi.encodePacked(alice, uint256(3)));
        vm.assertEq(to, alice, "target");
        vm.assertEq(value, 3, "value");
        vm.assertEq(length, 0, "52 bytes: no call data");
        (to, value, length) = harness.decodeSingle(abi.encodePacked(alice, uint256(3), hex"aabbcc"));
        vm.assertEq(length, 3, "call data length");
        _invalid(
            abi.encodeCall(ExecutionLibHarness.decodeSingle, (_truncate(abi.encodePacked(alice, uint256(3)), 1))),
            "51 bytes"
        );
    }

    // ------------------------------------------------------------ decodeBatch: accepted

    function test_batch_exactEncodingDecodes() public view {
        Execution[] memory executions = harness.decodeBatchCopy(_oneWordBatch());
        vm.assertEq(executions.length, 1, "count");
        vm.assertEq(executions[0].target, address(target), "target");
        vm.assertEq(executions[0].value, 7, "value");
        vm.assertEq(executions[0].callData, abi.encodePacked(bytes32(uint256(0xabcd))), "call data");
    }

    function test_batch_headsThatEndExactlyAtTheEndDecode() public view {
        // Three heads of zero all point at one element made of the heads themselves.
        vm.assertEq(harness.decodeBatch(abi.encode(0x20, 3, 0, 0, 0)), 3, "three executions");
        vm.assertEq(harness.decodeBatch(abi.encode(0x20, 0)), 0, "empty batch");
    }

    // ------------------------------------------------------------ decodeBatch: each bound

    function test_batch_elementCallDataOutsideTheSliceIsInvalid() public {
        _invalidBatch(_truncate(_oneWordBatch(), 1), "call data one byte short");
        _invalidBatch(_truncate(_oneWordBatch(), 32), "call data one word short");
    }

    function test_batch_secondElementOutsideTheSliceIsInvalid() public {
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(address(target), 0, abi.encodePacked(bytes32(uint256(1))));
        executions[1] = Execution(address(target), 0, abi.encodePacked(bytes32(uint256(2))));
        bytes memory encoded = abi.encode(executions);
        vm.assertEq(harness.decodeBatch(encoded), 2, "whole batch decodes");
        _invalidBatch(_truncate(encoded, 1), "second call data one byte short");
    }

    function test_batch_countBeyondTheSliceIsInvalid() public {
        _invalidBatch(abi.encode(0x20, 4, 0, 0, 0), "a fourth head outside the slice");
    }

    function test_batch_countAboveTwoToThe32IsInvalid() public {
        _invalidBatch(abi.encode(0x20, uint256(1) << 251, 0, 0, 0), "count whose heads wrap to nothing");
    }

    function test_batch_arrayOffsetAboveTwoToThe32IsInvalid() public {
        _invalidBatch(abi.encode(MAX, 0), "offset 2**256-1");
        _invalidBatch(abi.encode(uint256(1) << 32, 0), "offset 2**32");
    }

    function test_batch_elementOffsetAboveTwoToThe32IsInvalid() public {
        // The head wraps the element back onto the count word: a well-formed element modulo 2**256.
        _invalidBatch(abi.encode(0x20, 1, MAX - 0x1f, 0x60, 0), "wrapping element offset");
    }

    function test_batch_elementHeadOutsideTheSliceIsInvalid() public {
        _invalidBatch(abi.encode(0x20, 1, 0x20, 0), "element words past the end");
    }

    function test_batch_callDataOffsetAboveTwoToThe32IsInvalid() public {
        _invalidBatch(abi.encode(0x20, 1, 0x20, address(target), 0, MAX - 0x5f), "wrapping call data offset");
    }

    function test_batch_callDataLengthAboveTwoToThe32IsInvalid() public {
        _invalidBatch(abi.encode(0x20, 1, 0x20, address(target), 0, 0x60, MAX - 0xdf), "wrapping call data length");
    }

    function test_batch_tooShortIsInvalid() public {
        _invalidBatch(hex"", "empty");
        _invalidBatch(abi.encodePacked(bytes31(0)), "31 bytes");
    }

    // ------------------------------------------------------------ through the account and the validator

    function test_account_rejectsBatchWithCallDataOutsideTheSlice() public {
        vm.prank(owner);
        vm.expectRevert(ExecutionLib.InvalidExecutionEncoding.selector);
        account.execute(ExecutionLib.MODE_BATCH, _truncate(_oneWordBatch(), 1));
    }

    function test_validator_rejectsBatchWithCallDataOutsideTheSlice() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)), _native(ALLOWANCE))));
        // Balance-checked: the session limits native value, and contract access could move it.
        address[] memory none;
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, _oneWordBatch()));
        handleOp(_useOp(id, _checked(callData, none)));
        vm.assertEq(target.pings(), 0, "fallback ran, nothing pinged");
        callData = abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, _truncate(_oneWordBatch(), 1)));
        _rejects(
            _useOp(id, _checked(callData, none)), abi.encodeWithSelector(ExecutionLib.InvalidExecutionEncoding.selector)
        );
    }

    function test_validator_rejectsExecutionCalldataOutsideTheCallData() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        bytes memory single = abi.encodePacked(address(target), uint256(0), abi.encodeCall(Target.ping, ()));
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_SINGLE, single));
        // The length word claims the padding and one byte more.
        assembly {
            mstore(add(callData, 0x64), add(mload(add(callData, 0x64)), 9))
        }
        _rejects(_useOp(id, callData), abi.encodeWithSelector(ExecutionLib.InvalidExecutionEncoding.selector));
        bytes memory wrapping = abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0), MAX - 0x23);
        _rejects(_useOp(id, wrapping), abi.encodeWithSelector(ExecutionLib.InvalidExecutionEncoding.selector));
    }

    function test_validator_rejectsTryMode() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        bytes memory ping = abi.encodePacked(address(target), uint256(0), abi.encodeCall(Target.ping, ()));
        bytes32 singleTry = bytes32(uint256(0x0001) << 240);
        _rejects(
            _useOp(id, abi.encodeCall(LeashAccount.execute, (singleTry, ping))),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, id, singleTry)
        );
        Execution[] memory executions = new Execution[](1);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        bytes32 batchTry = bytes32(uint256(0x0101) << 240);
        _rejects(
            _useOp(id, abi.encodeCall(LeashAccount.execute, (batchTry, abi.encode(executions)))),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, id, batchTry)
        );
    }

    function test_validator_rejectsTryModeForRoot() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes32 singleTry = bytes32(uint256(0x0001) << 240);
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (singleTry, abi.encodePacked(alice, uint256(1))));
        _rejects(
            _useOp(id, callData, SESSION_KEY, true),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, id, singleTry)
        );
    }

    function test_validator_ignoresTheModeBytesTheAccountIgnores() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        bytes memory ping = abi.encodePacked(address(target), uint256(0), abi.encodeCall(Target.ping, ()));
        // Call type single, exec type default, then unused, selector and payload bytes set.
        bytes32 mode = bytes32(uint256(0x0000_11223344_55667788) << 176 | 0xdead);
        handleOp(_useOp(id, abi.encodeCall(LeashAccount.execute, (mode, ping))));
        vm.assertEq(target.pings(), 1, "executed");
    }

    function test_validator_rejectsTruncatedExecuteHead() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        PackedUserOperation memory userOp = _useOp(id, abi.encodePacked(ACCOUNT_EXECUTE, bytes32(0)));
        _rejects(userOp, abi.encodeWithSelector(ExecutionLib.InvalidExecutionEncoding.selector));
    }
}
