// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {
    PermissionType,
    SessionGrant,
    SessionStatus,
    SIG_MODE_ENABLE,
    SIG_MODE_USE,
    SIG_MODE_USE_ROOT
} from "../../../contracts/types/SessionTypes.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";

/// @notice The second form a key may sign a UserOperation in (docs/permissions.md, "Signature
///         forms"): `personal_sign` of the userOpHash, i.e. a signature over its EIP-191 hash, sent
///         as `r ‖ s ‖ v + 4` (v ∈ {31, 32}). The form is read from v, never guessed by recovering
///         twice: a raw signature sent with v + 4 is over the wrong hash and fails, and so does every
///         v outside {27, 28, 31, 32}. The owner's grant signature and ERC-1271 keep the raw form only.
contract Eip191SignaturesTest is SessionTestBase {
    /// @dev The authorizer part (low 160 bits) of `validationData` for a failed signature.
    uint256 internal constant SIG_VALIDATION_FAILED = 1;
    /// @dev secp256k1's group order: private keys are 1 ..= N − 1.
    uint256 internal constant N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    uint256 internal constant OTHER_KEY = 0xBAD;

    // ------------------------------------------------------------ signatures

    /// @dev What `personal_sign` signs for a 32-byte message.
    function _eip191(bytes32 hash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", hash));
    }

    /// @dev `key`'s `personal_sign` of `hash` in the EIP-191 form: `r ‖ s ‖ v + 4`.
    function _personalSign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _eip191(hash));
        return abi.encodePacked(r, s, v + 4);
    }

    /// @dev `key`'s raw signature of `hash`: `r ‖ s ‖ v`.
    function _rawSign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `key`'s raw signature of `hash` sent with v + 4: the EIP-191 form over the wrong hash.
    function _rawPlus4(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, s, v + 4);
    }

    /// @dev A copy of the 65-byte `signature` with its last byte set to `v`.
    function _withV(bytes memory signature, uint8 v) internal pure returns (bytes memory copy) {
        copy = bytes.concat(signature);
        copy[64] = bytes1(v);
    }

    function _hashOf(PackedUserOperation memory userOp) internal view returns (bytes32) {
        return entryPoint.getUserOpHash(userOp);
    }

    // ------------------------------------------------------------ operations

    function _ownerOp() internal view returns (PackedUserOperation memory) {
        return buildUserOp(owner, 0, _transfer(alice, 1 ether));
    }

    /// @dev A use-form operation of session `id` whose key signature is `sign(userOpHash)`.
    function _useOpSignedBy(bytes32 id, bool root, function(bytes32) view returns (bytes memory) sign)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(id), _transfer(alice, 1 ether));
        userOp.signature = abi.encodePacked(root ? SIG_MODE_USE_ROOT : SIG_MODE_USE, id, sign(_hashOf(userOp)));
    }

    /// @dev The lazy form of `grant` (real owner signature) whose key signature is `sign(userOpHash)`.
    function _enableOpSignedBy(SessionGrant memory grant, function(bytes32) view returns (bytes memory) sign)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(validator.getSessionId(grant)), _transfer(alice, 1 ether));
        userOp.signature =
            abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, _ownerSignature(grant), sign(_hashOf(userOp))));
    }

    // The signers, as the function pointers above take them.
    function _ownerEip191(bytes32 hash) internal pure returns (bytes memory) {
        return _personalSign(OWNER_KEY, hash);
    }

    function _keyEip191(bytes32 hash) internal pure returns (bytes memory) {
        return _personalSign(SESSION_KEY, hash);
    }

    function _otherEip191(bytes32 hash) internal pure returns (bytes memory) {
        return _personalSign(OTHER_KEY, hash);
    }

    function _keyRawPlus4(bytes32 hash) internal pure returns (bytes memory) {
        return _rawPlus4(SESSION_KEY, hash);
    }

    function _keyV29(bytes32 hash) internal pure returns (bytes memory) {
        return _withV(_personalSign(SESSION_KEY, hash), 29);
    }

    function _keyV30(bytes32 hash) internal pure returns (bytes memory) {
        return _withV(_personalSign(SESSION_KEY, hash), 30);
    }

    function _keyV33(bytes32 hash) internal pure returns (bytes memory) {
        return _withV(_personalSign(SESSION_KEY, hash), 33);
    }

    /// @dev Every wrong way of signing with the session key, one after the other, each failing as a
    ///      signature: the raw signature sent with v + 4, and v ∈ {29, 30, 33}.
    function _wrongForms() internal pure returns (function(bytes32) pure returns (bytes memory)[4] memory) {
        return [_keyRawPlus4, _keyV29, _keyV30, _keyV33];
    }

    function _spent(bytes32 id) internal view returns (uint256) {
        return ALLOWANCE - validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token));
    }

    // ------------------------------------------------------------ owner

    function test_owner_eip191SignatureValidates() public {
        PackedUserOperation memory userOp = _ownerOp();
        userOp.signature = _personalSign(OWNER_KEY, _hashOf(userOp));
        vm.assertTrue(uint8(userOp.signature[64]) == 31 || uint8(userOp.signature[64]) == 32, "v + 4");
        handleOp(userOp);
        vm.assertEq(token.balanceOf(alice), 1 ether, "executed");
    }

    function test_owner_eip191SignatureByAnotherKeyFails() public {
        PackedUserOperation memory userOp = _ownerOp();
        userOp.signature = _personalSign(OTHER_KEY, _hashOf(userOp));
        _failsSignature(userOp);
    }

    function test_owner_rawSignatureWithVPlus4Fails() public {
        PackedUserOperation memory userOp = _ownerOp();
        userOp.signature = _rawPlus4(OWNER_KEY, _hashOf(userOp));
        _failsSignature(userOp);
    }

    function test_owner_eip191SignatureWithRawVFails() public {
        PackedUserOperation memory userOp = _ownerOp();
        bytes memory signature = _personalSign(OWNER_KEY, _hashOf(userOp));
        userOp.signature = _withV(signature, uint8(signature[64]) - 4);
        _failsSignature(userOp);
    }

    function test_owner_otherVsFail() public {
        PackedUserOperation memory userOp = _ownerOp();
        uint8[3] memory vs = [29, 30, 33];
        for (uint256 i; i < vs.length; ++i) {
            userOp.signature = _withV(_personalSign(OWNER_KEY, _hashOf(userOp)), vs[i]);
            _failsSignature(userOp);
        }
        // The raw form keeps working.
        signUserOp(userOp, OWNER_KEY);
        handleOp(userOp);
        vm.assertEq(token.balanceOf(alice), 1 ether, "raw form");
    }

    function test_owner_erc1271KeepsTheRawFormOnly() public view {
        bytes32 hash = keccak256("message");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, hash);
        vm.assertEq(account.isValidSignature(hash, abi.encodePacked(r, s, v)), bytes4(0x1626ba7e), "raw");
        vm.assertEq(account.isValidSignature(hash, _personalSign(OWNER_KEY, hash)), bytes4(0xffffffff), "EIP-191");
    }

    /// @dev `cast wallet sign --private-key 0x…a11ce keccak256("userOpHash")` (cast 1.7.1), v + 4: the
    ///      vector leash-core's `signing::to_eip191_form` test produces from cast's output.
    function test_owner_castWalletSignVector() public {
        bytes32 hash = keccak256("userOpHash");
        bytes memory signature =
            hex"9848204da701e12229e9d8d7a5c9fa71441a87d74f18b36183d4dd6110e5f48f3b7e5550a6b6c1f156e1265690443dd7bbe0fe27bccc76871de04ea2b9d20c871f";
        vm.assertEq(OWNER_KEY, 0xa11ce, "the vector's key");
        PackedUserOperation memory userOp = _ownerOp();
        vm.assertEq(_ownerValidation(owner, userOp, hash, signature), 0, "EIP-191 form of cast's signature");
        vm.assertEq(
            _ownerValidation(owner, userOp, hash, _withV(signature, 27)), SIG_VALIDATION_FAILED, "cast's own bytes"
        );
    }

    // ------------------------------------------------------------ scoped and root use forms

    function _checkUseForm(bytes32 id, bool root) internal {
        for (uint256 i; i < 4; ++i) {
            _failsSignature(_useOpSignedBy(id, root, _wrongForms()[i]));
        }
        _failsSignature(_useOpSignedBy(id, root, _otherEip191));
        vm.assertEq(token.balanceOf(alice), 0, "nothing moved by a failed signature");
        handleOp(_useOpSignedBy(id, root, _keyEip191));
        vm.assertEq(token.balanceOf(alice), 1 ether, "executed");
    }

    function test_scopedUse_eip191ByTheKeyValidatesAndEveryOtherFormFails() public {
        bytes32 id = _enable(_grantWithLimits());
        _checkUseForm(id, false);
        // Only the accepted operation spent.
        vm.assertEq(_spent(id), 1 ether, "spent");
    }

    function test_rootUse_eip191ByTheKeyValidatesAndEveryOtherFormFails() public {
        _checkUseForm(_enable(_grant(_list(_root()))), true);
    }

    function test_scopedUse_eip191OverTheAllowanceRevertsWithTheRule() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _transfer(alice, ALLOWANCE + 1));
        userOp.signature = abi.encodePacked(SIG_MODE_USE, id, _personalSign(SESSION_KEY, _hashOf(userOp)));
        _rejects(
            userOp,
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
            )
        );
    }

    // ------------------------------------------------------------ lazy enable form

    function test_lazy_eip191KeySignatureEnablesAndValidates() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        handleOp(_enableOpSignedBy(grant, _keyEip191));
        (SessionStatus status,,) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Enabled), "enabled");
        vm.assertEq(token.balanceOf(alice), 1 ether, "executed");
        vm.assertEq(_spent(id), 1 ether, "spent");
    }

    function test_lazy_everyOtherKeySignatureFormFailsAndEnablesNothing() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        for (uint256 i; i < 4; ++i) {
            _failsSignature(_enableOpSignedBy(grant, _wrongForms()[i]));
        }
        _failsSignature(_enableOpSignedBy(grant, _otherEip191));
        (SessionStatus status,,) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Unused), "not enabled");
        vm.assertEq(token.balanceOf(alice), 0, "nothing moved");
    }

    /// @dev The owner's grant signature stays a raw (typed-data) signature of the session id.
    function test_lazy_ownerGrantSignatureKeepsTheRawFormOnly() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _transfer(alice, 1 ether));
        userOp.signature = abi.encodePacked(
            SIG_MODE_ENABLE, abi.encode(grant, _personalSign(OWNER_KEY, id), _keySignature(userOp, SESSION_KEY))
        );
        _failsSignature(userOp);
    }

    // ------------------------------------------------------------ fuzz: any key, any hash

    function _key(uint256 seed) internal pure returns (uint256) {
        return 1 + seed % (N - 1);
    }

    /// @dev The owner path of an account delegated by any key, over any hash.
    function testFuzz_ownerFormsOverAnyHash(uint256 keySeed, bytes32 hash) public {
        uint256 key = _key(keySeed);
        address eoa = vm.addr(key);
        vm.assume(eoa.code.length == 0 && eoa.balance == 0);
        delegate(key, address(leashImplementation));
        PackedUserOperation memory userOp;
        userOp.sender = eoa;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        vm.assertEq(_ownerValidation(eoa, userOp, hash, abi.encodePacked(r, s, v)), 0, "raw");
        vm.assertEq(_ownerValidation(eoa, userOp, hash, _personalSign(key, hash)), 0, "EIP-191");
        vm.assertEq(
            _ownerValidation(eoa, userOp, hash, abi.encodePacked(r, s, v + 4)), SIG_VALIDATION_FAILED, "raw with v + 4"
        );
        vm.assertEq(
            _ownerValidation(eoa, userOp, hash, _personalSign(_key(keySeed ^ 1), hash)),
            SIG_VALIDATION_FAILED,
            "another key"
        );
    }

    function _ownerValidation(address eoa, PackedUserOperation memory userOp, bytes32 hash, bytes memory signature)
        internal
        returns (uint256)
    {
        userOp.signature = signature;
        vm.prank(address(entryPoint));
        return LeashAccount(payable(eoa)).validateUserOp(userOp, hash, 0);
    }

    /// @dev A session of any key, used over any hash in both forms; wrong forms fail.
    function testFuzz_sessionFormsOverAnyKeyAndHash(uint256 keySeed, bytes32 hash, bool root) public {
        uint256 key = _key(keySeed);
        SessionGrant memory grant = root ? _grant(_list(_root())) : _grant(_list(_native(ALLOWANCE)));
        grant.sessionKey = vm.addr(key);
        bytes32 id = _enable(grant);
        vm.assertEq(_sessionValidation(id, root, hash, _rawSign(key, hash)), 0, "raw");
        vm.assertEq(_sessionValidation(id, root, hash, _personalSign(key, hash)), 0, "EIP-191");
        vm.assertEq(_sessionValidation(id, root, hash, _rawPlus4(key, hash)), SIG_VALIDATION_FAILED, "raw, v + 4");
        key = _key(keySeed ^ 1);
        vm.assertEq(_sessionValidation(id, root, hash, _personalSign(key, hash)), SIG_VALIDATION_FAILED, "other key");
    }

    /// @dev The authorizer part of the validator's result for the use form of session `id` with
    ///      `keySignature` over `hash` (the window rides above it).
    function _sessionValidation(bytes32 id, bool root, bytes32 hash, bytes memory keySignature)
        internal
        returns (uint160)
    {
        PackedUserOperation memory userOp;
        userOp.sender = owner;
        userOp.nonce = uint256(_sessionNonceKey(id)) << 64;
        userOp.callData = _single(alice, 1, "");
        userOp.signature = abi.encodePacked(root ? SIG_MODE_USE_ROOT : SIG_MODE_USE, id, keySignature);
        (bool ok, uint256 validationData,) = _validateAs(owner, userOp, hash);
        vm.assertTrue(ok, "no revert");
        return uint160(validationData);
    }
}
