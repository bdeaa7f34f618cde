// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {
    PermissionType,
    SessionGrant,
    SessionStatus,
    SIG_MODE_ENABLE,
    SIG_MODE_USE,
    SIG_MODE_USE_ROOT
} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice What bundlers rely on when they estimate with a placeholder signature (or with a real one
///         that no longer matches the hash once they replaced the gas fields): validation does all
///         the work of a valid signature, reverts with the rule on a scope violation, and otherwise
///         returns `SIG_VALIDATION_FAILED`, with nothing it wrote surviving the EntryPoint. And the
///         nonce lane that binds a key's signature to one session.
contract PlaceholderSignaturesTest is SessionTestBase {
    /// @dev leash-sdk's placeholder: well formed, recovers to no key (r is above the curve order).
    bytes internal constant DUMMY_ECDSA =
        hex"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1b";
    /// @dev The same placeholder in the EIP-191 form (v + 4 = 31): it takes the EIP-191 path, so it
    ///      costs what a `personal_sign` signature does (`leash_core::signing::to_eip191_form`).
    bytes internal constant DUMMY_ECDSA_EIP191 =
        hex"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1f";
    string internal constant GROUP = "validation_gas";
    /// @dev The authorizer part (low 160 bits) of `validationData` for a failed signature.
    uint256 internal constant SIG_VALIDATION_FAILED = 1;

    /// @dev A copy of `userOp` carrying `signature` (memory structs alias on assignment).
    function _withSignature(PackedUserOperation memory userOp, bytes memory signature)
        internal
        pure
        returns (PackedUserOperation memory)
    {
        return PackedUserOperation(
            userOp.sender,
            userOp.nonce,
            userOp.initCode,
            userOp.callData,
            userOp.accountGasLimits,
            userOp.preVerificationGas,
            userOp.gasFees,
            userOp.paymasterAndData,
            signature
        );
    }

    /// @dev The same operation with the key's signature (the last 65 bytes of the owner and the use
    ///      forms) replaced by `DUMMY_ECDSA`.
    function _withDummyKeySignature(PackedUserOperation memory userOp)
        internal
        pure
        returns (PackedUserOperation memory)
    {
        return _withKeySignature(userOp, DUMMY_ECDSA);
    }

    /// @dev The same operation with the key's signature (the last 65 bytes of the owner and the use
    ///      forms) replaced by `keySignature`.
    function _withKeySignature(PackedUserOperation memory userOp, bytes memory keySignature)
        internal
        pure
        returns (PackedUserOperation memory)
    {
        bytes memory signature = bytes.concat(userOp.signature);
        for (uint256 i; i < 65; ++i) {
            signature[signature.length - 65 + i] = keySignature[i];
        }
        return _withSignature(userOp, signature);
    }

    /// @dev `key`'s `personal_sign` of `userOp`'s hash in the EIP-191 form: `r ‖ s ‖ v + 4`.
    function _eip191KeySignature(PackedUserOperation memory userOp, uint256 key) internal view returns (bytes memory) {
        bytes32 digest =
            keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", entryPoint.getUserOpHash(userOp)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v + 4);
    }

    /// @dev The same operation signed in the EIP-191 form by `key` (the last 65 bytes, as above).
    function _eip191Signed(PackedUserOperation memory userOp, uint256 key)
        internal
        view
        returns (PackedUserOperation memory)
    {
        return _withKeySignature(userOp, _eip191KeySignature(userOp, key));
    }

    /// @dev Gas of the account's `validateUserOp` (and the validator it calls) as the EntryPoint calls
    ///      it, from cold accounts and storage; the state is put back afterwards. The calldata is
    ///      encoded before the gas is read, so this test's own memory growth is not counted.
    function _validation(PackedUserOperation memory userOp) internal returns (uint256 gasUsed, uint256 result) {
        bytes memory data = abi.encodeCall(account.validateUserOp, (userOp, entryPoint.getUserOpHash(userOp), 0));
        address to = address(account);
        uint256 snapshot = vm.snapshotState();
        vm.cool(owner);
        vm.cool(address(validator));
        vm.prank(address(entryPoint));
        bool success;
        assembly ("memory-safe") {
            let start := gas()
            success := call(gas(), to, 0, add(data, 0x20), mload(data), 0x00, 0x20)
            gasUsed := sub(start, gas())
            result := mload(0x00)
        }
        vm.assertTrue(success, "validation does not revert");
        vm.revertToState(snapshot);
    }

    /// @dev Checks that `dummy` fails the signature at no less gas than `real` passes, and records both.
    function _assertDummyCostsAtLeastReal(
        PackedUserOperation memory real,
        PackedUserOperation memory dummy,
        string memory name
    ) internal {
        (uint256 dummyGas, uint256 dummyResult) = _validation(dummy);
        (uint256 realGas, uint256 realResult) = _validation(real);
        vm.assertEq(uint160(realResult), 0, "the real signature validates");
        vm.assertEq(uint160(dummyResult), SIG_VALIDATION_FAILED, "the placeholder fails as a signature");
        vm.assertGe(dummyGas, realGas, "the placeholder costs at least what the real signature does");
        vm.snapshotValue(GROUP, string.concat(name, "_real"), realGas);
        vm.snapshotValue(GROUP, string.concat(name, "_dummy"), dummyGas);
    }

    // ------------------------------------------------------------ gas: placeholder >= real, every form

    function test_ownerPlaceholderCostsAtLeastTheRealSignature() public {
        PackedUserOperation memory real = buildUserOp(owner, 0, _transfer(alice, 1 ether));
        signUserOp(real, OWNER_KEY);
        _assertDummyCostsAtLeastReal(real, _withDummyKeySignature(real), "owner");
    }

    function test_scopedPlaceholderCostsAtLeastTheRealSignature() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory real = _useOp(id, _transfer(alice, 1 ether));
        _assertDummyCostsAtLeastReal(real, _withDummyKeySignature(real), "scoped");
    }

    function test_rootPlaceholderCostsAtLeastTheRealSignature() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory real = _useOp(id, _transfer(alice, 1 ether), SESSION_KEY, true);
        _assertDummyCostsAtLeastReal(real, _withDummyKeySignature(real), "root");
    }

    function test_lazyPlaceholdersCostAtLeastTheRealSignatures() public {
        SessionGrant memory grant = _grantWithLimits();
        PackedUserOperation memory real = _enableOp(grant, _transfer(alice, 1 ether));
        PackedUserOperation memory dummy =
            _withSignature(real, abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, DUMMY_ECDSA, DUMMY_ECDSA)));
        _assertDummyCostsAtLeastReal(real, dummy, "lazy");
        // A real owner signature with a placeholder key signature (what a client estimates with).
        dummy = _withSignature(
            real, abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, _ownerSignature(grant), DUMMY_ECDSA))
        );
        _assertDummyCostsAtLeastReal(real, dummy, "lazy_owner_signed");
    }

    // ------------------------------------------------------------ gas: the EIP-191 form

    /// @dev `personal_sign` signers estimate with the placeholder in their form (v = 31), which costs
    ///      at least what their real signature does. The raw placeholder (v = 27) covers them in the
    ///      use forms too (a failing use form reads the session record); the snapshot records the
    ///      EIP-191 path's cost beside the raw one's.
    function test_ownerEip191PlaceholderCostsAtLeastTheRealSignature() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _transfer(alice, 1 ether));
        signUserOp(userOp, OWNER_KEY);
        PackedUserOperation memory real = _eip191Signed(userOp, OWNER_KEY);
        _assertDummyCostsAtLeastReal(real, _withKeySignature(real, DUMMY_ECDSA_EIP191), "owner_eip191");
    }

    function test_scopedEip191PlaceholdersCostAtLeastTheRealSignature() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory real = _eip191Signed(_useOp(id, _transfer(alice, 1 ether)), SESSION_KEY);
        _assertDummyCostsAtLeastReal(real, _withKeySignature(real, DUMMY_ECDSA_EIP191), "scoped_eip191");
        _assertDummyCostsAtLeastReal(real, _withDummyKeySignature(real), "scoped_eip191_raw_placeholder");
    }

    function test_rootEip191PlaceholdersCostAtLeastTheRealSignature() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory real =
            _eip191Signed(_useOp(id, _transfer(alice, 1 ether), SESSION_KEY, true), SESSION_KEY);
        _assertDummyCostsAtLeastReal(real, _withKeySignature(real, DUMMY_ECDSA_EIP191), "root_eip191");
        _assertDummyCostsAtLeastReal(real, _withDummyKeySignature(real), "root_eip191_raw_placeholder");
    }

    function test_lazyEip191PlaceholderCostsAtLeastTheRealSignature() public {
        SessionGrant memory grant = _grantWithLimits();
        PackedUserOperation memory real = _enableOp(grant, _transfer(alice, 1 ether));
        bytes memory ownerSignature = _ownerSignature(grant);
        real = _withSignature(
            real,
            abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, ownerSignature, _eip191KeySignature(real, SESSION_KEY)))
        );
        PackedUserOperation memory dummy = _withSignature(
            real, abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, ownerSignature, DUMMY_ECDSA_EIP191))
        );
        _assertDummyCostsAtLeastReal(real, dummy, "lazy_eip191_owner_signed");
    }

    /// @dev A real signature over stale gas fields (a bundler replaced them) is a wrong signer too.
    function test_staleSignatureCostsAtLeastAFreshOne() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory real = _useOp(id, _transfer(alice, 1 ether));
        PackedUserOperation memory stale = _useOp(id, _transfer(alice, 1 ether));
        stale.preVerificationGas += 1;
        (uint256 realGas,) = _validation(real);
        (uint256 staleGas, uint256 staleResult) = _validation(stale);
        vm.assertEq(uint160(staleResult), SIG_VALIDATION_FAILED, "stale");
        vm.assertGe(staleGas, realGas, "costs at least a fresh one");
    }

    // ------------------------------------------------------------ failing signatures: rules still apply

    function test_wrongKeyWithinScopeFailsAndSpendsNothing() public {
        bytes32 id = _enable(_grantWithLimits());
        _failsSignature(_useOp(id, _transfer(alice, 1 ether), SESSION_KEY + 1, false));
        vm.assertEq(token.balanceOf(alice), 0, "nothing moved");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE,
            "nothing spent"
        );
    }

    function test_placeholderOverTheAllowanceRevertsWithTheNumbers() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = _withDummyKeySignature(_useOp(id, _transfer(alice, ALLOWANCE + 1)));
        _rejects(
            userOp,
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
            )
        );
    }

    function test_placeholderOnAnUnlistedCallRevertsWithTheRule() public {
        bytes32 id = _enable(_grantWithLimits());
        bytes4 selector = Target.pong.selector;
        PackedUserOperation memory userOp =
            _withDummyKeySignature(_useOp(id, _single(address(target), 0, abi.encodeWithSelector(selector))));
        _rejects(
            userOp, abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, id, address(target), selector)
        );
    }

    function test_placeholderClaimingRootOnAScopedSessionRevertsWithTheRule() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = _withDummyKeySignature(_useOp(id, _ping(), SESSION_KEY, true));
        _rejects(userOp, abi.encodeWithSelector(ISessionKeyValidator.NotRootSession.selector, id));
    }

    function test_lazyPlaceholdersOverTheAllowanceRevertWithTheNumbers() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        PackedUserOperation memory userOp = _enableOp(grant, _transfer(alice, ALLOWANCE + 1));
        userOp.signature = abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, DUMMY_ECDSA, DUMMY_ECDSA));
        _rejects(
            userOp,
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
            )
        );
    }

    function test_lazyWithAFailingKeySignatureEnablesNothing() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        PackedUserOperation memory userOp = _enableOp(grant, _transfer(alice, 1 ether));
        _failsSignature(
            _withSignature(
                userOp, abi.encodePacked(SIG_MODE_ENABLE, abi.encode(grant, _ownerSignature(grant), DUMMY_ECDSA))
            )
        );
        (SessionStatus status,,) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Unused), "not enabled");
        vm.assertEq(token.balanceOf(alice), 0, "nothing moved");
        // The same grant then enables with real signatures.
        handleOp(_enableOp(grant, _transfer(alice, 1 ether)));
        (status,,) = validator.getSession(owner, id);
        vm.assertEq(uint256(status), uint256(SessionStatus.Enabled), "enabled by the real signatures");
    }

    function test_placeholderOnARevokedSessionFailsAsSignature() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = _enable(grant);
        vm.prank(owner);
        validator.revokeSession(grant);
        _failsSignature(_withDummyKeySignature(_useOp(id, _transfer(alice, ALLOWANCE + 1))));
    }

    function test_placeholderAfterRevokeAllFailsAsSignature() public {
        bytes32 id = _enable(_grantWithLimits());
        vm.prank(owner);
        validator.revokeAllSessions();
        _failsSignature(_withDummyKeySignature(_useOp(id, _transfer(alice, ALLOWANCE + 1))));
    }

    /// @dev Whatever 65 bytes stand in for the key's signature, an operation within scope fails as a
    ///      signature, never validates and never spends.
    function testFuzz_anyOtherKeySignatureFailsAndSpendsNothing(bytes32 r, bytes32 s, uint8 v) public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = _useOp(id, _transfer(alice, 1 ether));
        bytes memory real = userOp.signature;
        userOp.signature = abi.encodePacked(SIG_MODE_USE, id, r, s, v);
        vm.assume(keccak256(userOp.signature) != keccak256(real));
        (, uint256 result) = _validation(userOp);
        vm.assertEq(uint160(result), SIG_VALIDATION_FAILED, "fails as a signature");
        _failsSignature(userOp);
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE,
            "nothing spent"
        );
    }

    // ------------------------------------------------------------ the nonce lane binds the session

    function test_useFormOnAnotherLaneReverts() public {
        bytes32 id = _enable(_grantWithLimits());
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id) ^ 1, _ping());
        userOp.signature = abi.encodePacked(SIG_MODE_USE, id, _keySignature(userOp, SESSION_KEY));
        _rejects(
            userOp, abi.encodeWithSelector(ISessionKeyValidator.WrongNonceLane.selector, id, uint32(bytes4(id)) ^ 1)
        );
    }

    function test_enableFormOnAnotherLaneReverts() public {
        SessionGrant memory grant = _grantWithLimits();
        bytes32 id = validator.getSessionId(grant);
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id) ^ 1, _ping());
        userOp.signature = abi.encodePacked(
            SIG_MODE_ENABLE, abi.encode(grant, _ownerSignature(grant), _keySignature(userOp, SESSION_KEY))
        );
        _rejects(
            userOp, abi.encodeWithSelector(ISessionKeyValidator.WrongNonceLane.selector, id, uint32(bytes4(id)) ^ 1)
        );
    }

    /// @dev A relayer swaps the session id under the key's signature for another session of the same
    ///      key (with a larger allowance, say): the lane no longer matches.
    function test_signatureCannotBeMovedToAnotherSessionOfTheSameKey() public {
        bytes32 small = _enable(_grant(_list(_erc20(address(token), 1 ether))));
        SessionGrant memory largeGrant = _grant(_list(_erc20(address(token), ALLOWANCE)));
        largeGrant.salt = 1;
        bytes32 large = _enable(largeGrant);
        vm.assume(bytes4(small) != bytes4(large));
        PackedUserOperation memory userOp = _useOp(small, _transfer(alice, 1 ether));
        bytes memory keySignature = _keySignature(userOp, SESSION_KEY);
        userOp.signature = abi.encodePacked(SIG_MODE_USE, large, keySignature);
        _rejects(
            userOp, abi.encodeWithSelector(ISessionKeyValidator.WrongNonceLane.selector, large, uint32(bytes4(small)))
        );
        // Signed for its own session, it goes through.
        userOp.signature = abi.encodePacked(SIG_MODE_USE, small, keySignature);
        handleOp(userOp);
        vm.assertEq(token.balanceOf(alice), 1 ether, "spent from the session it was signed for");
    }

    function test_rootFormIsBoundToItsLaneToo() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes memory ping = _single(address(target), 0, abi.encodeCall(Target.ping, ()));
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id) ^ 2, ping);
        userOp.signature = abi.encodePacked(SIG_MODE_USE_ROOT, id, _keySignature(userOp, SESSION_KEY));
        _rejects(
            userOp, abi.encodeWithSelector(ISessionKeyValidator.WrongNonceLane.selector, id, uint32(bytes4(id)) ^ 2)
        );
        handleOp(_useOp(id, ping, SESSION_KEY, true));
        vm.assertEq(target.pings(), 1, "on its lane");
    }
}
