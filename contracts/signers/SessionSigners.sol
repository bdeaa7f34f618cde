// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Base64} from "solady/utils/Base64.sol";
import {ISessionSigners} from "../interfaces/ISessionSigners.sol";
import {P256Verifier} from "./P256Verifier.sol";
import {
    SIGNER_CONTRACT,
    SIGNER_P256,
    SIGNER_P256_FALLBACK,
    SIGNER_WEBAUTHN,
    SIGNER_WEBAUTHN_FALLBACK
} from "../types/SessionTypes.sol";

/// @title SessionSigners
/// @notice Checks the signature of a session key that is not a secp256k1 EOA, for
///         `SessionKeyValidator` (docs/architecture.md, "Session signers that are not EOAs"): an
///         ERC-1271 contract, a P-256 key, or a P-256 passkey's WebAuthn assertion. It names the
///         signer id the signature speaks for, and says whether the signature is valid.
/// @dev Assumptions:
/// - Stateless, and called in ERC-4337 validation: it reads no storage and uses no banned opcode.
///   What a contract signer reads is that signer's affair (docs/architecture.md, *ERC-7562*).
/// - The signer id does not depend on the signature's validity, so that the validator can run every
///   check as the session's key before it fails a bad signature, and a bad signature of a well-formed
///   shape costs what a good one does: every check of a kind runs, whatever the earlier ones found.
/// - A signature too short for its kind's layout names no one (`address(0)`).
/// - P-256 by precompile calls `0x100` (RIP-7212 or EIP-7951); by fallback, `P256_VERIFIER`, which
///   answers the same calls. Naming the precompile on a chain without it finds no code: invalid.
/// - The P-256 key signs the hash as its digest (prehashed); a WebAuthn key signs what an
///   authenticator signs, `sha256(authenticatorData ‖ sha256(clientDataJSON))`, with the hash as
///   the challenge. High-s signatures are accepted, as the precompile accepts them: a UserOperation's
///   nonce, not its signature's uniqueness, prevents replay.
contract SessionSigners is ISessionSigners {
    /// @notice The gas a contract signer gets for `isValidSignature`: one that needs more refuses.
    uint256 public constant SIGNER_GAS = 100_000;

    /// @notice The Solidity P-256 verifier for chains without the precompile.
    address public immutable P256_VERIFIER = address(new P256Verifier());

    /// @dev The P256VERIFY precompile's address (RIP-7212, EIP-7951).
    address private constant _P256_PRECOMPILE = address(0x100);

    /// @dev `isValidSignature(bytes32,bytes)`'s selector: ERC-1271's magic value.
    bytes4 private constant _ERC1271_MAGIC = 0x1626ba7e;

    /// @dev `"type":"webauthn.get"`, 21 bytes, left-aligned.
    bytes32 private constant _WEBAUTHN_TYPE = '"type":"webauthn.get"';
    uint256 private constant _WEBAUTHN_TYPE_LENGTH = 21;

    /// @dev `"challenge":"` ‖ 43 base64url characters of a 32-byte challenge ‖ `"`.
    uint256 private constant _CHALLENGE_LENGTH = 57;

    /// @dev The x, y, r, s words, then the WebAuthn header: three uint16 (challenge index, type
    ///      index, authenticator data length).
    uint256 private constant _P256_LENGTH = 128;
    uint256 private constant _WEBAUTHN_HEADER = 134;

    /// @dev WebAuthn authenticator data: rpIdHash (32) ‖ flags (1) ‖ signCount (4), at least.
    uint256 private constant _MIN_AUTHENTICATOR_DATA = 37;
    uint256 private constant _USER_PRESENT = 0x01;

    /// @inheritdoc ISessionSigners
    function check(uint256 kind, bytes32 hash, bytes calldata keySignature)
        external
        view
        returns (address signer, bool valid)
    {
        if (kind == SIGNER_CONTRACT) return _checkContract(hash, keySignature);
        if (kind == SIGNER_P256 || kind == SIGNER_P256_FALLBACK) {
            if (keySignature.length != _P256_LENGTH) return (address(0), false);
            signer = address(uint160(uint256(keccak256(keySignature[0:64]))));
            valid = _verifyP256(kind == SIGNER_P256_FALLBACK, hash, keySignature);
            return (signer, valid);
        }
        if (kind == SIGNER_WEBAUTHN || kind == SIGNER_WEBAUTHN_FALLBACK) {
            return _checkWebAuthn(kind == SIGNER_WEBAUTHN_FALLBACK, hash, keySignature);
        }
    }

    /// @dev `signer (20) ‖ signature`: the signer's `isValidSignature(hash, signature)` decides, with
    ///      `SIGNER_GAS`. A revert, running out of gas, short return data or another value refuse.
    function _checkContract(bytes32 hash, bytes calldata keySignature)
        internal
        view
        returns (address signer, bool valid)
    {
        if (keySignature.length < 20) return (address(0), false);
        signer = address(bytes20(keySignature[0:20]));
        bytes memory query = abi.encodeWithSelector(_ERC1271_MAGIC, hash, keySignature[20:]);
        assembly ("memory-safe") {
            // Only the first word of the answer is read, so a signer cannot make this copy much data.
            let ok := staticcall(SIGNER_GAS, signer, add(query, 0x20), mload(query), 0x00, 0x20)
            valid := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), _ERC1271_MAGIC)))
        }
    }

    /// @dev The WebAuthn layout of docs/architecture.md: `x ‖ y ‖ r ‖ s ‖ uint16 challengeIndex ‖
    ///      uint16 typeIndex ‖ uint16 authenticatorDataLength ‖ authenticatorData ‖ clientDataJSON`.
    function _checkWebAuthn(bool fallback_, bytes32 hash, bytes calldata keySignature)
        internal
        view
        returns (address signer, bool valid)
    {
        if (keySignature.length < _WEBAUTHN_HEADER) return (address(0), false);
        bytes calldata authenticatorData;
        bytes calldata clientDataJSON;
        {
            uint256 authenticatorDataLength = uint16(bytes2(keySignature[132:134]));
            uint256 clientDataStart = _WEBAUTHN_HEADER + authenticatorDataLength;
            if (authenticatorDataLength < _MIN_AUTHENTICATOR_DATA || keySignature.length < clientDataStart) {
                return (address(0), false);
            }
            authenticatorData = keySignature[_WEBAUTHN_HEADER:clientDataStart];
            clientDataJSON = keySignature[clientDataStart:];
        }
        signer = address(uint160(uint256(keccak256(abi.encodePacked(keySignature[0:64], authenticatorData[0:32])))));
        bool asserted = _isAssertionOf(
            hash, clientDataJSON, uint16(bytes2(keySignature[128:130])), uint16(bytes2(keySignature[130:132]))
        ) && uint8(authenticatorData[32]) & _USER_PRESENT != 0;
        bytes32 digest = sha256(abi.encodePacked(authenticatorData, sha256(clientDataJSON)));
        valid = _verifyP256(fallback_, digest, keySignature) && asserted;
    }

    /// @dev Whether `clientDataJSON` is an assertion's (`webauthn.get`) with `hash` as its challenge,
    ///      at the indexes given.
    function _isAssertionOf(bytes32 hash, bytes calldata clientDataJSON, uint256 challengeIndex, uint256 typeIndex)
        internal
        pure
        returns (bool)
    {
        if (
            typeIndex + _WEBAUTHN_TYPE_LENGTH > clientDataJSON.length
                || challengeIndex + _CHALLENGE_LENGTH > clientDataJSON.length
        ) return false;
        bool typed = bytes21(clientDataJSON[typeIndex:typeIndex + _WEBAUTHN_TYPE_LENGTH]) == bytes21(_WEBAUTHN_TYPE);
        bool challenged = keccak256(clientDataJSON[challengeIndex:challengeIndex + _CHALLENGE_LENGTH])
            == keccak256(abi.encodePacked('"challenge":"', Base64.encode(abi.encodePacked(hash), true, true), '"'));
        return typed && challenged;
    }

    /// @dev Whether `x ‖ y ‖ r ‖ s` at the start of `keySignature` signed `digest`, asked of the
    ///      precompile or of the fallback with the precompile's input `digest ‖ r ‖ s ‖ x ‖ y`.
    function _verifyP256(bool fallback_, bytes32 digest, bytes calldata keySignature)
        internal
        view
        returns (bool valid)
    {
        address verifier = fallback_ ? P256_VERIFIER : _P256_PRECOMPILE;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, digest)
            calldatacopy(add(m, 0x20), add(keySignature.offset, 0x40), 0x40) // r, s
            calldatacopy(add(m, 0x60), keySignature.offset, 0x40) // x, y
            let ok := staticcall(gas(), verifier, m, 0xa0, 0x00, 0x20)
            valid := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
    }
}
