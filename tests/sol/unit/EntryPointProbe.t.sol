// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {EntryPointProbe} from "../../../contracts/offchain/EntryPointProbe.sol";
import {SIGNER_SECP256K1} from "../../../contracts/types/SessionTypes.sol";
import {TypedDataApp} from "../../../contracts/test/TypedDataApp.sol";
import {TypedDataBuilders} from "../utils/TypedDataBuilders.sol";

/// @notice `EntryPointProbe` at the EntryPoint's address, as leash's gas estimate places it with a state
///         override: an operation redeeming its session's typed-data signature executes after its
///         validation in the same transaction, and reverts when its execution is measured alone.
contract EntryPointProbeTest is TypedDataBuilders {
    uint256 internal constant AMOUNT = 1 ether;

    bytes32 internal sessionId;
    PackedUserOperation internal op;
    bytes32 internal opHash;
    bytes internal entryPointCode;

    function setUp() public override {
        super.setUp();
        sessionId = _pullSession(SIGNER_SECP256K1, 0);
        op = _pullOp(
            SIGNER_SECP256K1, sessionId, AMOUNT, 0, _pullSignature(SIGNER_SECP256K1, sessionId, app, AMOUNT, 0)
        );
        opHash = entryPoint.getUserOpHash(op);
        entryPointCode = ENTRY_POINT.code;
        vm.etch(ENTRY_POINT, type(EntryPointProbe).runtimeCode);
    }

    function _validation(PackedUserOperation memory userOp) internal view returns (bytes memory) {
        return abi.encodeCall(LeashAccount.validateUserOp, (userOp, opHash, 1));
    }

    function _execution() internal view returns (bytes memory) {
        return abi.encodeCall(LeashAccount.executeUserOp, (op, opHash));
    }

    function _measure(bytes memory validation)
        internal
        returns (EntryPointProbe.Measurement memory validated, EntryPointProbe.Measurement memory executed)
    {
        return EntryPointProbe(payable(ENTRY_POINT)).measure(owner, validation, _execution());
    }

    function _badSignature() internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            TypedDataApp.BadSignature.selector, owner, app.hashOf(address(token), AMOUNT, recipient, 0)
        );
    }

    function test_measuresValidationThenExecutionInOneTransaction() public {
        (EntryPointProbe.Measurement memory validated, EntryPointProbe.Measurement memory executed) =
            _measure(_validation(op));
        vm.assertTrue(validated.success, "validated");
        // The low 160 bits of the validation data: zero when the signature holds (the rest is its window).
        vm.assertEq(uint160(abi.decode(validated.returnData, (uint256))), 0, "the signature holds");
        vm.assertTrue(executed.success, "executed: the app saw the signature valid");
        vm.assertTrue(validated.gasUsed > 0, "validation measured");
        vm.assertTrue(executed.gasUsed > 0, "execution measured");
        vm.assertEq(token.balanceOf(recipient), AMOUNT, "pulled");
    }

    function test_aPlaceholderSignatureLeavesTheSameContext() public {
        PackedUserOperation memory placeholder = op;
        bytes memory signature = placeholder.signature;
        signature[signature.length - 2] ^= 0x01;
        (EntryPointProbe.Measurement memory validated, EntryPointProbe.Measurement memory executed) =
            _measure(_validation(placeholder));
        vm.assertTrue(validated.success, "validation does not revert");
        vm.assertEq(uint160(abi.decode(validated.returnData, (uint256))), 1, "SIG_VALIDATION_FAILED");
        vm.assertTrue(executed.success, "the context is left all the same");
    }

    function test_executionMeasuredAloneFindsTheSignatureVoid() public {
        // No validation in the transaction: the call is empty and leaves no context.
        (, EntryPointProbe.Measurement memory executed) = _measure("");
        vm.assertFalse(executed.success, "reverted");
        vm.assertEq(executed.returnData, _badSignature(), "the app's refusal");
        vm.assertTrue(executed.gasUsed > 0, "a revert reports its gas too");

        // Nor does a call of its own as the EntryPoint, which is what a separate measurement runs.
        bytes memory refusal = _badSignature();
        vm.prank(ENTRY_POINT);
        vm.expectRevert(refusal);
        account.executeUserOp(op, opHash);
    }

    function test_thePrefundIsCreditedToTheEntryPointsOwnDeposit() public {
        vm.etch(ENTRY_POINT, entryPointCode);
        uint256 before = entryPoint.balanceOf(owner);
        vm.etch(ENTRY_POINT, type(EntryPointProbe).runtimeCode);
        _measure(_validation(op));
        vm.etch(ENTRY_POINT, entryPointCode);
        vm.assertEq(entryPoint.balanceOf(owner), before + 1, "deposits[account].deposit");
    }
}
