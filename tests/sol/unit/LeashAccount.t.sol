// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ILeashAccount} from "../../../contracts/interfaces/ILeashAccount.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {ExecutionLib} from "../../../contracts/libraries/ExecutionLib.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {AccountTestBase} from "../utils/AccountTestBase.sol";
import {Vm} from "../utils/Vm.sol";

contract AlwaysReverts {
    error Refused(uint256 code);

    fallback() external payable {
        revert Refused(42);
    }
}

contract LeashAccountTest is AccountTestBase {
    bytes4 internal constant ERC1271_MAGIC = 0x1626ba7e;
    address payable internal alice = payable(address(0xA1));
    LeashAccount internal account;
    AlwaysReverts internal reverter;

    function setUp() public override {
        super.setUp();
        account = LeashAccount(owner);
        reverter = new AlwaysReverts();
    }

    function _single(address target, uint256 value, bytes memory data) internal pure returns (bytes memory) {
        return abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_SINGLE, abi.encodePacked(target, value, data)));
    }

    function _batch(Execution[] memory executions) internal pure returns (bytes memory) {
        return abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, abi.encode(executions)));
    }

    function _ethThenRevertBatch() internal view returns (Execution[] memory executions) {
        executions = new Execution[](2);
        executions[0] = Execution(alice, 1 ether, "");
        executions[1] = Execution(address(reverter), 0, hex"12345678");
    }

    function test_delegationRunsLeashAccountCode() public view {
        vm.assertEq(keccak256(owner.code), keccak256(abi.encodePacked(hex"ef0100", leashImplementation)), "7702 code");
        vm.assertEq(account.ENTRY_POINT(), ENTRY_POINT, "entry point");
        vm.assertEq(keccak256(bytes(account.accountId())), keccak256("leash.account.0.1.0"), "account id");
    }

    function test_ownerUserOpTransfersEth() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _single(alice, 1 ether, ""));
        signUserOp(userOp, OWNER_KEY);
        handleOp(userOp);
        vm.assertEq(alice.balance, 1 ether, "recipient balance");
        vm.assertEq(entryPoint.getNonce(owner, 0), 1, "nonce advanced");
        vm.assertTrue(bundler.balance > 0, "bundler compensated");
    }

    function test_wrongSignerFailsValidation() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _single(alice, 1 ether, ""));
        signUserOp(userOp, OWNER_KEY + 1);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        handleOp(userOp);
    }

    function test_malformedSignatureFailsValidationWithoutReverting() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _single(alice, 1 ether, ""));
        userOp.signature = hex"deadbeef";
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        handleOp(userOp);
    }

    function test_uninstalledValidatorInNonceKeyIsRejected() public {
        address notInstalled = address(0xBEEF);
        PackedUserOperation memory userOp =
            buildUserOp(owner, uint192(uint160(notInstalled)) << 32, _single(alice, 1 ether, ""));
        signUserOp(userOp, OWNER_KEY);
        vm.expectRevert(
            abi.encodeWithSignature(
                "FailedOpWithRevert(uint256,string,bytes)",
                0,
                "AA23 reverted",
                abi.encodeWithSelector(ILeashAccount.ValidatorNotInstalled.selector, notInstalled)
            )
        );
        handleOp(userOp);
    }

    function test_validateUserOpRejectsCallerOtherThanEntryPoint() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, "");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.validateUserOp(userOp, bytes32(0), 0);
    }

    function test_executeRejectsCallerOtherThanEntryPointOrSelf() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.execute(ExecutionLib.MODE_SINGLE, abi.encodePacked(alice, uint256(1 ether)));
    }

    function test_executeBySelfTransfersEth() public {
        vm.prank(owner);
        account.execute(ExecutionLib.MODE_SINGLE, abi.encodePacked(alice, uint256(1 ether)));
        vm.assertEq(alice.balance, 1 ether, "recipient balance");
    }

    function test_batchExecutesEveryCall() public {
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(alice, 1 ether, "");
        executions[1] = Execution(bundler, 2 ether, "");
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _batch(executions));
        signUserOp(userOp, OWNER_KEY);
        handleOp(userOp);
        vm.assertEq(alice.balance, 1 ether, "first call");
        vm.assertTrue(bundler.balance > 2 ether, "second call");
    }

    function test_batchRevertsWholeWhenOneCallFails() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(AlwaysReverts.Refused.selector, 42));
        account.execute(ExecutionLib.MODE_BATCH, abi.encode(_ethThenRevertBatch()));
        vm.assertEq(alice.balance, 0, "first call undone");
    }

    function test_batchUserOpRevertsWholeWhenOneCallFails() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _batch(_ethThenRevertBatch()));
        signUserOp(userOp, OWNER_KEY);
        uint256 ownerBalance = owner.balance;
        vm.recordLogs();
        handleOp(userOp);
        vm.assertEq(alice.balance, 0, "first call undone");
        vm.assertLe(ownerBalance - owner.balance, 0.01 ether, "only gas paid");
        bytes32 revertEvent = keccak256("UserOperationRevertReason(bytes32,address,uint256,bytes)");
        bytes memory revertReason;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == revertEvent) {
                (, revertReason) = abi.decode(logs[i].data, (uint256, bytes));
            }
        }
        vm.assertEq(revertReason, abi.encodeWithSelector(AlwaysReverts.Refused.selector, 42), "revert reason");
    }

    function test_delegatecallModeIsRejected() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnsupportedCallType.selector, bytes1(0xff)));
        account.execute(bytes32(bytes1(0xff)), abi.encodePacked(alice, uint256(0)));
    }

    function test_tryExecTypeIsRejected() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnsupportedExecType.selector, bytes1(0x01)));
        account.execute(bytes32(uint256(1) << 240), abi.encodePacked(alice, uint256(0)));
    }

    function test_supportsOnlyCallAndBatchModes() public view {
        vm.assertTrue(account.supportsExecutionMode(ExecutionLib.MODE_SINGLE), "single");
        vm.assertTrue(account.supportsExecutionMode(ExecutionLib.MODE_BATCH), "batch");
        vm.assertFalse(account.supportsExecutionMode(bytes32(bytes1(0xff))), "delegatecall");
        vm.assertFalse(account.supportsExecutionMode(bytes32(uint256(1) << 240)), "try");
    }

    function test_shortSingleExecutionIsRejected() public {
        vm.prank(owner);
        vm.expectRevert(ExecutionLib.InvalidExecutionEncoding.selector);
        account.execute(ExecutionLib.MODE_SINGLE, abi.encodePacked(alice));
    }

    function test_batchOffsetOutsideCalldataIsRejected() public {
        bytes memory encoded = abi.encode(_ethThenRevertBatch());
        assembly {
            mstore(add(encoded, 0x20), 0xffff)
        }
        vm.prank(owner);
        vm.expectRevert(ExecutionLib.InvalidExecutionEncoding.selector);
        account.execute(ExecutionLib.MODE_BATCH, encoded);
    }

    function test_isValidSignatureAcceptsOwnerOnly() public view {
        bytes32 digest = keccak256("message");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, digest);
        vm.assertTrue(account.isValidSignature(digest, abi.encodePacked(r, s, v)) == ERC1271_MAGIC, "owner");
        (v, r, s) = vm.sign(OWNER_KEY + 1, digest);
        vm.assertTrue(account.isValidSignature(digest, abi.encodePacked(r, s, v)) == bytes4(0xffffffff), "other");
        vm.assertTrue(account.isValidSignature(digest, hex"00") == bytes4(0xffffffff), "malformed");
    }

    function test_installRejectsUnsupportedModuleType() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnsupportedModuleType.selector, uint256(2)));
        account.installModule(2, address(reverter), "");
    }

    function test_installRejectsContractThatIsNotAValidator() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.NotAModuleOfType.selector, alice, MODULE_TYPE_VALIDATOR));
        account.installModule(MODULE_TYPE_VALIDATOR, alice, "");
    }

    function test_installRejectsOtherCallers() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.installModule(MODULE_TYPE_VALIDATOR, alice, "");
    }
}
