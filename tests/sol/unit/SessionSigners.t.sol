// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Base64} from "solady/utils/Base64.sol";
import {SessionSigners} from "../../../contracts/signers/SessionSigners.sol";
import {TestSmartOwner} from "../../../contracts/test/TestSmartOwner.sol";
import {
    SessionGrant,
    SessionStatus,
    SIG_MODE_USE,
    SIGNER_CONTRACT,
    SIGNER_P256,
    SIGNER_P256_FALLBACK,
    SIGNER_WEBAUTHN,
    SIGNER_WEBAUTHN_FALLBACK
} from "../../../contracts/types/SessionTypes.sol";
import {GarbageSigner, GasBurningSigner, RevertingSigner} from "../utils/MisbehavingSigners.sol";
import {SignerBuilders} from "../utils/SignerBuilders.sol";

/// @notice Session keys that are not secp256k1 EOAs: ERC-1271 contracts, P-256 keys and WebAuthn
///         passkeys, each checked by precompile or by `P256Verifier` (docs/architecture.md, "Session
///         signers that are not EOAs"). Every kind enables, signs within its scope and is refused
///         beyond it; every bad signature ends in `SIG_VALIDATION_FAILED` (the EntryPoint's AA24).
contract SessionSignersTest is SignerBuilders {
    uint256 internal constant OTHER_P256_KEY = 0xB0B;
    uint256 internal constant OTHER_OWNER_KEY = 0xB0B0;
    uint256 internal constant AMOUNT = 1 ether;

    SessionSigners internal signers;

    function setUp() public override {
        super.setUp();
        signers = validator.SIGNERS();
    }

    /// @dev Enables an ERC-20 session (transfers of the test token up to `ALLOWANCE`) for `kind`'s key.
    function _enableErc20For(uint8 kind) internal returns (bytes32) {
        return _enable(_erc20GrantFor(kind));
    }

    /// @dev Salted by kind: the precompile and fallback kinds of one key share a signer id.
    function _erc20GrantFor(uint8 kind) internal returns (SessionGrant memory grant) {
        grant = _grantTo(
            _idOf(kind), _list(_functionsOn(address(token), bytes4(0xa9059cbb)), _erc20(address(token), ALLOWANCE))
        );
        grant.salt = kind;
    }

    /// @dev `userOp` with its key signature's byte `index` (after mode and session id) flipped.
    function _tamper(PackedUserOperation memory userOp, uint256 index) internal pure {
        userOp.signature[33 + index] = bytes1(uint8(userOp.signature[33 + index]) ^ 0x01);
    }

    // ------------------------------------------------------------ every kind

    function test_everyKind_transfersWithinItsScope() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            uint256 before = token.balanceOf(alice);
            handleOp(_useOpAs(kinds[i], id, _transfer(alice, AMOUNT)));
            vm.assertEq(token.balanceOf(alice), before + AMOUNT, "transferred");
        }
    }

    function test_everyKind_enablesLazily() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            SessionGrant memory grant = _erc20GrantFor(kinds[i]);
            handleOp(_enableOpAs(kinds[i], grant, _transfer(alice, AMOUNT)));
            (SessionStatus status, address key,) = validator.getSession(owner, validator.getSessionId(grant));
            vm.assertEq(uint8(status), uint8(SessionStatus.Enabled), "enabled");
            vm.assertEq(key, _idOf(kinds[i]), "the signer id is the session key");
        }
    }

    function test_everyKind_isRefusedBeyondItsScope() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            _rejects(
                _useOpAs(kinds[i], id, _transfer(alice, ALLOWANCE + 1)),
                abi.encodeWithSelector(
                    ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
                )
            );
        }
    }

    function test_everyKind_tamperedSignatureFails() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            PackedUserOperation memory userOp = _useOpAs(kinds[i], id, _transfer(alice, AMOUNT));
            // The last byte of the key signature: `v`, the contract's signature, `s`, or the JSON.
            _tamper(userOp, userOp.signature.length - 34);
            _failsSignature(userOp);
        }
    }

    /// @dev A bad signature of a well-formed shape costs what a good one costs, so that a bundler's
    ///      estimate with a placeholder holds (the precompile's price is the same either way).
    function test_p256_badSignatureCostsWhatAGoodOneCosts() public {
        for (uint8 kind = SIGNER_P256; kind <= SIGNER_WEBAUTHN; kind += 2) {
            bytes32 id = _enableErc20For(kind);
            PackedUserOperation memory userOp = _useOpAs(kind, id, _transfer(alice, AMOUNT));
            bytes32 hash = entryPoint.getUserOpHash(userOp);
            uint256 good = _validationGas(userOp, hash);
            _tamper(userOp, 100); // a byte of `s`
            uint256 bad = _validationGas(userOp, hash);
            vm.assertLe(good > bad ? good - bad : bad - good, 60, "the same work");
        }
    }

    function _validationGas(PackedUserOperation memory userOp, bytes32 hash) internal returns (uint256 used) {
        uint256 snapshot = vm.snapshotState();
        vm.prank(owner);
        used = gasleft();
        validator.validateUserOp(userOp, hash);
        used -= gasleft();
        vm.revertToState(snapshot);
    }

    function test_unknownSignerKindsAndModeBitsFail() public {
        bytes32 id = _enableErc20For(SIGNER_P256);
        uint8[4] memory modes = [uint8(6 << 2), 7 << 2, 0x20 | (SIGNER_P256 << 2), 0x40 | (SIGNER_P256 << 2)];
        for (uint256 i; i < modes.length; ++i) {
            PackedUserOperation memory userOp = _useOpAs(SIGNER_P256, id, _transfer(alice, AMOUNT));
            userOp.signature[0] = bytes1(modes[i]);
            _failsSignature(userOp);
        }
    }

    // ------------------------------------------------------------ replay

    function test_signatureDoesNotVerifyOnAnotherAccount() public {
        address other = vm.addr(OTHER_OWNER_KEY);
        delegate(OTHER_OWNER_KEY, address(leashImplementation));
        vm.deal(other, 10 ether);
        token.mint(other, 100 ether);
        vm.prank(other);
        LeashAccount(payable(other)).installModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        uint8[6] memory kinds = _kinds();
        for (uint256 i = 1; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            // The same key holds a session on the other account too.
            SessionGrant memory otherGrant = _erc20GrantFor(kinds[i]);
            otherGrant.account = other;
            vm.prank(other);
            bytes32 otherId = validator.enableSession(otherGrant);

            PackedUserOperation memory userOp = _useOpAs(kinds[i], id, _transfer(alice, AMOUNT));
            PackedUserOperation memory replayed = _buildFor(kinds[i], other, _sessionNonceKey(otherId), userOp.callData);
            bytes memory keySignature = _slice(userOp.signature, 33);
            replayed.signature = abi.encodePacked(userOp.signature[0], otherId, keySignature);
            _failsSignature(replayed);
        }
    }

    function test_signatureDoesNotVerifyOnAnotherChain() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i = 1; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            PackedUserOperation memory userOp = _useOpAs(kinds[i], id, _transfer(alice, AMOUNT));
            uint256 snapshot = vm.snapshotState();
            vm.chainId(block.chainid + 1);
            _failsSignature(userOp);
            vm.revertToState(snapshot);
        }
    }

    function test_signatureDoesNotVerifyForAnotherSession() public {
        uint8[6] memory kinds = _kinds();
        for (uint256 i = 1; i < kinds.length; ++i) {
            bytes32 id = _enableErc20For(kinds[i]);
            SessionGrant memory second = _erc20GrantFor(kinds[i]);
            second.salt = 100 + kinds[i];
            bytes32 secondId = _enable(second);

            PackedUserOperation memory userOp = _useOpAs(kinds[i], id, _transfer(alice, AMOUNT));
            PackedUserOperation memory replayed =
                _buildFor(kinds[i], owner, _sessionNonceKey(secondId), userOp.callData);
            replayed.signature = abi.encodePacked(userOp.signature[0], secondId, _slice(userOp.signature, 33));
            _failsSignature(replayed);
        }
    }

    function _slice(bytes memory data, uint256 from) internal pure returns (bytes memory out) {
        out = new bytes(data.length - from);
        for (uint256 i; i < out.length; ++i) {
            out[i] = data[from + i];
        }
    }

    // ------------------------------------------------------------ contract signers

    function _useOpByContract(bytes32 id, address signer, bytes memory signature)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(owner, _sessionNonceKey(id), _transfer(alice, AMOUNT));
        userOp.signature = abi.encodePacked(_mode(SIGNER_CONTRACT, SIG_MODE_USE), id, signer, signature);
    }

    /// @dev A contract signer that reverts, burns its gas, answers garbage or has no code is a no.
    function test_contract_misbehavingSignerIsANo() public {
        address[5] memory misbehaving = [
            address(new RevertingSigner()),
            address(new GasBurningSigner()),
            address(new GarbageSigner(true)),
            address(new GarbageSigner(false)),
            address(0xC0FFEE)
        ];
        for (uint256 i; i < misbehaving.length; ++i) {
            bytes32 id = _enable(_grantTo(misbehaving[i], _list(_erc20(address(token), ALLOWANCE))));
            _failsSignature(_useOpByContract(id, misbehaving[i], hex"1234"));
        }
    }

    function test_contract_signerGetsBoundedGas() public {
        address burner = address(new GasBurningSigner());
        (address signer, bool valid) =
            signers.check{gas: 1_000_000}(SIGNER_CONTRACT, bytes32(0), abi.encodePacked(burner));
        vm.assertEq(signer, burner, "the claimed signer");
        vm.assertFalse(valid, "no");
        // Whatever the signer does, the check returns with most of its gas.
        uint256 before = gasleft();
        signers.check(SIGNER_CONTRACT, bytes32(0), abi.encodePacked(burner));
        vm.assertLe(before - gasleft(), signers.SIGNER_GAS() + 20_000, "at most SIGNER_GAS spent");
    }

    function test_contract_anotherContractsSignatureFindsNoScope() public {
        bytes32 id = _enableErc20For(SIGNER_CONTRACT);
        TestSmartOwner other = new TestSmartOwner(vm.addr(CONTRACT_OWNER_KEY));
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _transfer(alice, AMOUNT));
        userOp.signature = abi.encodePacked(
            _mode(SIGNER_CONTRACT, SIG_MODE_USE),
            id,
            _contractSignature(address(other), CONTRACT_OWNER_KEY, entryPoint.getUserOpHash(userOp))
        );
        _failsSignature(userOp);
    }

    function test_contract_tooShortToNameASigner() public view {
        vm.assertEq(_checked0(SIGNER_CONTRACT, hex"00112233445566778899aabbccddeeff001122"), address(0), "no one");
    }

    function _checked0(uint8 kind, bytes memory keySignature) internal view returns (address signer) {
        bool valid;
        (signer, valid) = signers.check(kind, bytes32(0), keySignature);
        vm.assertFalse(valid, "invalid");
    }

    // ------------------------------------------------------------ P-256

    function test_p256_anotherKeysSignatureFails() public {
        for (uint8 kind = SIGNER_P256; kind <= SIGNER_P256_FALLBACK; ++kind) {
            bytes32 id = _enableErc20For(kind);
            PackedUserOperation memory userOp = _buildFor(kind, owner, _sessionNonceKey(id), _transfer(alice, AMOUNT));
            bytes32 hash = entryPoint.getUserOpHash(userOp);
            // The other key's own x, y: another signer id, no scope.
            userOp.signature = abi.encodePacked(_mode(kind, SIG_MODE_USE), id, _p256Signature(OTHER_P256_KEY, hash));
            _failsSignature(userOp);
            // The session key's x, y with the other key's r, s: the right id, a bad signature.
            bytes memory own = _p256Signature(P256_KEY, hash);
            bytes memory others = _p256Signature(OTHER_P256_KEY, hash);
            for (uint256 j = 64; j < 128; ++j) {
                own[j] = others[j];
            }
            userOp.signature = abi.encodePacked(_mode(kind, SIG_MODE_USE), id, own);
            _failsSignature(userOp);
        }
    }

    function test_p256_wrongLengthNamesNoOne() public view {
        bytes memory signature = _p256Signature(P256_KEY, bytes32(0));
        vm.assertEq(_checked0(SIGNER_P256, _slice(signature, 1)), address(0), "127 bytes");
        vm.assertEq(_checked0(SIGNER_P256, abi.encodePacked(signature, uint8(0))), address(0), "129 bytes");
    }

    function test_p256_highSIsAccepted() public view {
        bytes memory signature = _p256Signature(P256_KEY, bytes32(uint256(1)));
        uint256 n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;
        bytes32 s;
        assembly {
            s := mload(add(signature, 0x80))
        }
        bytes memory flipped = abi.encodePacked(_slice96(signature), bytes32(n - uint256(s)));
        for (uint8 kind = SIGNER_P256; kind <= SIGNER_P256_FALLBACK; ++kind) {
            (address signer, bool valid) = signers.check(kind, bytes32(uint256(1)), flipped);
            vm.assertEq(signer, _p256Id(P256_KEY), "the key's id");
            vm.assertTrue(valid, "n - s verifies too");
        }
    }

    function _slice96(bytes memory data) internal pure returns (bytes memory out) {
        out = new bytes(96);
        for (uint256 i; i < 96; ++i) {
            out[i] = data[i];
        }
    }

    /// @dev Precompile and fallback agree on every signature, good or tampered.
    function testFuzz_p256_precompileAndFallbackAgree(uint256 key, bytes32 hash, uint256 flip) public view {
        key = 1 + key % 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632550;
        bytes memory signature = _p256Signature(key, hash);
        if (flip % 2 == 1) signature[flip % 128] = bytes1(uint8(signature[flip % 128]) ^ uint8(1 + flip % 255));
        (address byPrecompile, bool precompileValid) = signers.check(SIGNER_P256, hash, signature);
        (address byFallback, bool fallbackValid) = signers.check(SIGNER_P256_FALLBACK, hash, signature);
        vm.assertEq(byPrecompile, byFallback, "one id");
        vm.assertEq(precompileValid, fallbackValid, "one answer");
        vm.assertEq(precompileValid, flip % 2 == 0, "valid unless tampered");
    }

    // ------------------------------------------------------------ WebAuthn

    function _webAuthnOp(uint8 kind, bytes32 id, bytes memory keySignature)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = _buildFor(kind, owner, _sessionNonceKey(id), _transfer(alice, AMOUNT));
        userOp.signature = abi.encodePacked(_mode(kind, SIG_MODE_USE), id, keySignature);
    }

    function _opHash(uint8 kind, bytes32 id) internal view returns (bytes32) {
        return entryPoint.getUserOpHash(_webAuthnOp(kind, id, ""));
    }

    function test_webAuthn_wrongChallengeFails() public {
        for (uint8 kind = SIGNER_WEBAUTHN; kind <= SIGNER_WEBAUTHN_FALLBACK; ++kind) {
            bytes32 id = _enableErc20For(kind);
            bytes32 otherChallenge = keccak256("another operation");
            _failsSignature(_webAuthnOp(kind, id, _webAuthnSignature(P256_KEY, otherChallenge, RP_ID, FLAGS_UP_UV)));
        }
    }

    /// @dev An assertion for another relying party (another origin's passkey) names another signer.
    function test_webAuthn_wrongOriginFindsNoScope() public {
        for (uint8 kind = SIGNER_WEBAUTHN; kind <= SIGNER_WEBAUTHN_FALLBACK; ++kind) {
            bytes32 id = _enableErc20For(kind);
            bytes memory keySignature = _webAuthnSignature(P256_KEY, _opHash(kind, id), "evil.test", FLAGS_UP_UV);
            (address signer, bool valid) = signers.check(kind, _opHash(kind, id), keySignature);
            vm.assertTrue(valid, "a genuine assertion");
            vm.assertEq(signer, _webAuthnId(P256_KEY, "evil.test"), "for another relying party");
            _failsSignature(_webAuthnOp(kind, id, keySignature));
        }
    }

    function test_webAuthn_userNotPresentFails() public {
        bytes32 id = _enableErc20For(SIGNER_WEBAUTHN);
        _failsSignature(
            _webAuthnOp(SIGNER_WEBAUTHN, id, _webAuthnSignature(P256_KEY, _opHash(SIGNER_WEBAUTHN, id), RP_ID, 0x04))
        );
        // User presence alone suffices: verification is not required.
        handleOp(
            _webAuthnOp(SIGNER_WEBAUTHN, id, _webAuthnSignature(P256_KEY, _opHash(SIGNER_WEBAUTHN, id), RP_ID, 0x01))
        );
    }

    function test_webAuthn_registrationCeremonyFails() public {
        bytes32 id = _enableErc20For(SIGNER_WEBAUTHN);
        bytes memory clientDataJSON = abi.encodePacked(
            '{"type":"webauthn.create","challenge":"',
            _challengeOf(_opHash(SIGNER_WEBAUTHN, id)),
            '","origin":"https://leash.test"}'
        );
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(RP_ID)), FLAGS_UP_UV, uint32(0));
        _failsSignature(
            _webAuthnOp(
                SIGNER_WEBAUTHN,
                id,
                _webAuthnAssertion(P256_KEY, authenticatorData, clientDataJSON, CHALLENGE_INDEX + 3, TYPE_INDEX)
            )
        );
    }

    function _challengeOf(bytes32 hash) internal pure returns (string memory) {
        return Base64.encode(abi.encodePacked(hash), true, true);
    }

    function test_webAuthn_malformedFails() public view {
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(RP_ID)), FLAGS_UP_UV, uint32(0));
        bytes memory json = '{"type":"webauthn.get","challenge":"x"}';
        address id = _webAuthnId(P256_KEY, RP_ID);
        // Indexes past the end of the JSON: invalid.
        vm.assertEq(
            _checked0(SIGNER_WEBAUTHN, _webAuthnAssertion(P256_KEY, authenticatorData, json, 60, TYPE_INDEX)),
            id,
            "challenge index"
        );
        vm.assertEq(
            _checked0(SIGNER_WEBAUTHN, _webAuthnAssertion(P256_KEY, authenticatorData, json, CHALLENGE_INDEX, 30)),
            id,
            "type index"
        );
        // Authenticator data shorter than rpIdHash, flags and counter, or a header only: no one.
        vm.assertEq(
            _checked0(
                SIGNER_WEBAUTHN,
                _webAuthnAssertion(P256_KEY, _slice(authenticatorData, 1), json, CHALLENGE_INDEX, TYPE_INDEX)
            ),
            address(0),
            "authenticator data"
        );
        vm.assertEq(_checked0(SIGNER_WEBAUTHN, new bytes(133)), address(0), "too short");
    }

    /// @dev The challenge is the hash in base64url without padding (a vector computed apart).
    function test_webAuthn_challengeEncoding() public view {
        bytes32 hash = 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(RP_ID)), FLAGS_UP_UV, uint32(0));
        bytes memory json = '{"type":"webauthn.get","challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}';
        bytes memory keySignature = _webAuthnAssertion(P256_KEY, authenticatorData, json, CHALLENGE_INDEX, TYPE_INDEX);
        (, bool valid) = signers.check(SIGNER_WEBAUTHN, hash, keySignature);
        vm.assertTrue(valid, "the vector's challenge");
        (, valid) = signers.check(SIGNER_WEBAUTHN, bytes32(uint256(hash) + 1), keySignature);
        vm.assertFalse(valid, "another hash");
    }

    /// @dev No random key signature of any kind verifies, and none makes the check revert.
    function testFuzz_randomSignaturesNeverVerify(uint8 kind, bytes32 hash, bytes calldata random) public view {
        kind = uint8(SIGNER_CONTRACT + kind % SIGNER_WEBAUTHN_FALLBACK);
        // A contract signer's claims the suite's real signer, with a random signature.
        bytes memory keySignature = kind == SIGNER_CONTRACT ? abi.encodePacked(address(smartSigner), random) : random;
        (, bool valid) = signers.check(kind, hash, keySignature);
        vm.assertFalse(valid, "random bytes");
    }
}
