// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {Base64} from "solady/utils/Base64.sol";
import {
    Permission,
    SessionGrant,
    SIG_MODE_ENABLE,
    SIG_MODE_USE,
    SIG_SIGNER_SHIFT,
    SIGNER_CONTRACT,
    SIGNER_P256,
    SIGNER_P256_FALLBACK,
    SIGNER_SECP256K1,
    SIGNER_WEBAUTHN,
    SIGNER_WEBAUTHN_FALLBACK
} from "../../../contracts/types/SessionTypes.sol";
import {TestSmartOwner} from "../../../contracts/test/TestSmartOwner.sol";
import {SessionTestBase} from "./SessionTestBase.sol";

/// @notice Session keys of every signer kind (docs/architecture.md, "Session signers that are not
///         EOAs"): their signer ids, and UserOperations signed by them in the use and enable forms.
///         A kind's key signature is built here from the layout the document gives, independently of
///         `SessionSigners`.
abstract contract SignerBuilders is SessionTestBase {
    uint256 internal constant P256_KEY = 0xA11CE;
    uint256 internal constant CONTRACT_OWNER_KEY = 0xC0DE;
    string internal constant RP_ID = "leash.test";
    /// @dev Where the test assertion's JSON puts its fields: after `{`, and after `{"type":"webauthn.get",`.
    uint16 internal constant TYPE_INDEX = 1;
    uint16 internal constant CHALLENGE_INDEX = 23;
    /// @dev Authenticator flags: user present, user verified.
    uint8 internal constant FLAGS_UP_UV = 0x05;

    TestSmartOwner internal smartSigner;

    function setUp() public virtual override {
        super.setUp();
        smartSigner = new TestSmartOwner(vm.addr(CONTRACT_OWNER_KEY));
    }

    /// @dev Every signer kind.
    function _kinds() internal pure returns (uint8[6] memory) {
        return [
            SIGNER_SECP256K1,
            SIGNER_CONTRACT,
            SIGNER_P256,
            SIGNER_P256_FALLBACK,
            SIGNER_WEBAUTHN,
            SIGNER_WEBAUTHN_FALLBACK
        ];
    }

    // ------------------------------------------------------------ signer ids

    function _p256Id(uint256 key) internal pure returns (address) {
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        return address(uint160(uint256(keccak256(abi.encodePacked(x, y)))));
    }

    function _webAuthnId(uint256 key, string memory rpId) internal pure returns (address) {
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        return address(uint160(uint256(keccak256(abi.encodePacked(x, y, sha256(bytes(rpId)))))));
    }

    /// @dev A grant of `permissions` (with the default gas bound) to `signerId`.
    function _grantTo(address signerId, Permission[] memory permissions) internal returns (SessionGrant memory) {
        sessionSigner = signerId;
        return _grant(permissions);
    }

    // ------------------------------------------------------------ key signatures

    function _contractSignature(address signer, uint256 ownerKey, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, hash);
        return abi.encodePacked(signer, r, s, v);
    }

    function _p256Signature(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        (bytes32 r, bytes32 s) = vm.signP256(key, hash);
        return abi.encodePacked(x, y, r, s);
    }

    /// @dev A WebAuthn assertion of `challenge` by `key` for `rpId`, as a browser and an authenticator
    ///      make it, with the given flags, in the key signature's layout.
    function _webAuthnSignature(uint256 key, bytes32 challenge, string memory rpId, uint8 flags)
        internal
        pure
        returns (bytes memory)
    {
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(rpId)), flags, uint32(7));
        bytes memory clientDataJSON = abi.encodePacked(
            '{"type":"webauthn.get","challenge":"',
            Base64.encode(abi.encodePacked(challenge), true, true),
            '","origin":"https://',
            rpId,
            '","crossOrigin":false}'
        );
        return _webAuthnAssertion(key, authenticatorData, clientDataJSON, CHALLENGE_INDEX, TYPE_INDEX);
    }

    function _webAuthnAssertion(
        uint256 key,
        bytes memory authenticatorData,
        bytes memory clientDataJSON,
        uint16 challengeIndex,
        uint16 typeIndex
    ) internal pure returns (bytes memory) {
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        (bytes32 r, bytes32 s) = vm.signP256(key, sha256(abi.encodePacked(authenticatorData, sha256(clientDataJSON))));
        return abi.encodePacked(
            x, y, r, s, challengeIndex, typeIndex, uint16(authenticatorData.length), authenticatorData, clientDataJSON
        );
    }

    /// @dev The key signature of signer `kind` over `hash`, by this suite's key of that kind.
    function _signAs(uint8 kind, bytes32 hash) internal view returns (bytes memory) {
        if (kind == SIGNER_CONTRACT) return _contractSignature(address(smartSigner), CONTRACT_OWNER_KEY, hash);
        if (kind == SIGNER_P256 || kind == SIGNER_P256 + 1) return _p256Signature(P256_KEY, hash);
        if (kind == SIGNER_WEBAUTHN || kind == SIGNER_WEBAUTHN + 1) {
            return _webAuthnSignature(P256_KEY, hash, RP_ID, FLAGS_UP_UV);
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SESSION_KEY, hash);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The signer id of this suite's key of `kind`.
    function _idOf(uint8 kind) internal view returns (address) {
        if (kind == SIGNER_CONTRACT) return address(smartSigner);
        if (kind == SIGNER_P256 || kind == SIGNER_P256 + 1) return _p256Id(P256_KEY);
        if (kind == SIGNER_WEBAUTHN || kind == SIGNER_WEBAUTHN + 1) return _webAuthnId(P256_KEY, RP_ID);
        return vm.addr(SESSION_KEY);
    }

    // ------------------------------------------------------------ operations

    /// @dev The Solidity P-256 verifier needs more than the suite's default verification gas.
    uint256 internal constant FALLBACK_VERIFICATION_GAS = 1_500_000;

    /// @dev `buildUserOp` with enough verification gas for signer `kind`.
    function _buildFor(uint8 kind, address sender, uint192 nonceKey, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = buildUserOp(sender, nonceKey, callData);
        if (kind == SIGNER_P256_FALLBACK || kind == SIGNER_WEBAUTHN_FALLBACK) {
            userOp.accountGasLimits = bytes32((FALLBACK_VERIFICATION_GAS << 128) | CALL_GAS_LIMIT);
        }
    }

    function _mode(uint8 kind, uint8 form) internal pure returns (uint8) {
        return uint8(kind << SIG_SIGNER_SHIFT) | form;
    }

    /// @dev A use-form operation of session `sessionId`, signed by this suite's key of `kind`.
    function _useOpAs(uint8 kind, bytes32 sessionId, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = _buildFor(kind, owner, _sessionNonceKey(sessionId), callData);
        userOp.signature =
            abi.encodePacked(_mode(kind, SIG_MODE_USE), sessionId, _signAs(kind, entryPoint.getUserOpHash(userOp)));
    }

    /// @dev The first operation of `grant` (lazy enable), its key signature by this suite's key of `kind`.
    function _enableOpAs(uint8 kind, SessionGrant memory grant, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory userOp)
    {
        userOp = _buildFor(kind, owner, _sessionNonceKey(validator.getSessionId(grant)), callData);
        bytes memory keySignature = _signAs(kind, entryPoint.getUserOpHash(userOp));
        userOp.signature =
            abi.encodePacked(_mode(kind, SIG_MODE_ENABLE), abi.encode(grant, _ownerSignature(grant), keySignature));
    }
}
