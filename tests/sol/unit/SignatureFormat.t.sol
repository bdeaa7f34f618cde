// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {PermissionType, SessionGrant, SessionStatus} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice An account that is not an EOA: it approves owner signatures through ERC-1271 only.
contract Erc1271Account {
    function isValidSignature(bytes32, bytes calldata signature) external pure returns (bytes4) {
        return keccak256(signature) == keccak256("approved by the account") ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

/// @notice The signature layouts are exact: the use form is 98 bytes, no more and no less, with a
///         known mode byte; the lazy form's owner signature may be an ERC-1271 approval.
/// @dev Validation is called directly as the account, with the session key's genuine signature
///      over the hash it is given: every rejection here is about the layout, never the key.
contract SignatureFormatTest is SessionTestBase {
    bytes32 internal constant HASH = keccak256("userOpHash");

    function _op(address sender, bytes32 sessionId) internal view returns (PackedUserOperation memory userOp) {
        userOp.sender = sender;
        // The session's own nonce lane (see docs/permissions.md, "Nonce key").
        userOp.nonce = uint256(_sessionNonceKey(sessionId)) << 64;
        userOp.callData = _single(alice, 1, "");
    }

    function _validUntil() internal view returns (uint256) {
        return uint256(uint48(block.timestamp + 1 days)) << 160;
    }

    function _nativeSession() internal returns (bytes32) {
        return _enable(_grant(_list(_native(ALLOWANCE))));
    }

    function _remaining(bytes32 id) internal view returns (uint256) {
        return validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0));
    }

    function _expectFailed(PackedUserOperation memory userOp, string memory what) internal {
        (bool ok, uint256 validationData,) = _validateAs(owner, userOp, HASH);
        vm.assertTrue(ok, what);
        vm.assertEq(validationData, 1, what);
    }

    // ------------------------------------------------------------ use form

    function test_useForm_exactly98BytesValidates() public {
        bytes32 id = _nativeSession();
        PackedUserOperation memory userOp = _op(owner, id);
        userOp.signature = _useSignature(id, HASH, false);
        vm.assertEq(userOp.signature.length, 98, "98 bytes");
        (bool ok, uint256 validationData,) = _validateAs(owner, userOp, HASH);
        vm.assertTrue(ok, "no revert");
        vm.assertEq(validationData, _validUntil(), "window only: signature valid");
        vm.assertEq(_remaining(id), ALLOWANCE - 1, "spent");
    }

    function test_useForm_trailingBytesFail() public {
        bytes32 id = _nativeSession();
        PackedUserOperation memory userOp = _op(owner, id);
        userOp.signature = abi.encodePacked(_useSignature(id, HASH, false), uint8(0));
        _expectFailed(userOp, "one trailing byte");
        userOp.signature = abi.encodePacked(_useSignature(id, HASH, false), bytes32(0));
        _expectFailed(userOp, "a trailing word");
        vm.assertEq(_remaining(id), ALLOWANCE, "nothing spent");
    }

    function test_useForm_rootWithTrailingBytesFails() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory userOp = _op(owner, id);
        userOp.signature = _useSignature(id, HASH, true);
        (bool ok, uint256 validationData,) = _validateAs(owner, userOp, HASH);
        vm.assertTrue(ok && validationData == _validUntil(), "98-byte root form validates");
        userOp.signature = abi.encodePacked(_useSignature(id, HASH, true), uint8(0));
        _expectFailed(userOp, "root form with a trailing byte");
    }

    function test_useForm_shortFails() public {
        bytes32 id = _nativeSession();
        PackedUserOperation memory userOp = _op(owner, id);
        bytes memory signature = _useSignature(id, HASH, false);
        assembly {
            mstore(signature, 97)
        }
        userOp.signature = signature;
        _expectFailed(userOp, "97 bytes");
        vm.assertEq(_remaining(id), ALLOWANCE, "nothing spent");
    }

    function test_unknownModeFails() public {
        bytes32 id = _nativeSession();
        PackedUserOperation memory userOp = _op(owner, id);
        bytes memory signature = _useSignature(id, HASH, false);
        signature[0] = 0x03;
        userOp.signature = signature;
        _expectFailed(userOp, "mode 3");
        vm.assertEq(_remaining(id), ALLOWANCE, "nothing spent");
    }

    // ------------------------------------------------------------ lazy form

    function test_lazyForm_ownerApprovalThroughErc1271() public {
        address smartAccount = address(new Erc1271Account());
        vm.prank(smartAccount);
        validator.onInstall("");
        SessionGrant memory grant = _grant(_list(_functionsOn(address(target), Target.ping.selector)));
        grant.account = smartAccount;
        bytes32 id = validator.getSessionId(grant);
        PackedUserOperation memory userOp = _op(smartAccount, id);
        userOp.callData = _single(address(target), 0, abi.encodeCall(Target.ping, ()));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SESSION_KEY, HASH);
        userOp.signature =
            abi.encodePacked(uint8(2), abi.encode(grant, bytes("approved by the account"), abi.encodePacked(r, s, v)));
        (bool ok, uint256 validationData,) = _validateAs(smartAccount, userOp, HASH);
        vm.assertTrue(ok, "no revert");
        vm.assertEq(validationData, _validUntil(), "validates");
        (SessionStatus status, address key,) = validator.getSession(smartAccount, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Enabled), "enabled");
        vm.assertEq(key, sessionSigner, "key");
    }
}
