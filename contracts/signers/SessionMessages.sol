// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC5267} from "../interfaces/IERC5267.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";
import {SessionSigners} from "./SessionSigners.sol";
import {SIG_SIGNER_SHIFT, SIGNER_SECP256K1, SIGNER_WEBAUTHN_FALLBACK} from "../types/SessionTypes.sol";

/// @title SessionMessages
/// @notice Reads and verifies a session key's signature of a message as its account (ERC-1271), for
///         `SessionKeyValidator.isValidSignatureWithSender` (docs/permissions.md, "Signing as the
///         account"): ERC-7739's nested hashing, so that a signature made for one account never
///         verifies on another. It says which session signed, for which scope; the validator checks
///         that scope.
/// @dev Assumptions:
/// - Stateless; called in a view, never in ERC-4337 validation.
/// - The signature: `mode (1) ‖ sessionId (32) ‖ uint16 keySignatureLength ‖ keySignature ‖ tail`,
///   `mode = signerKind << 2 | form`, the key signature in its kind's layout over the nested digest.
///   - Form 0, typed data (ERC-7739 `TypedDataSign`): `tail = fields (1) ‖ the app domain's present
///     fields, one word each, in EIP-712 order (name and version hashed) ‖ contents (32) ‖
///     contentsType ‖ uint16 contentsType.length`. ERC-7739 carries the app's domain separator; this
///     carries the fields that make it, so that the scope can name the app's `verifyingContract`,
///     which must be present. Only the implicit contents name (`contentsType` up to its first `(`).
///   - Form 1, a personal message (ERC-7739 `PersonalSign`): `tail` is empty; `hash` is the
///     message's EIP-191 hash.
/// - The account answers ERC-5267's `eip712Domain()`: its name, version, chain id, address and salt
///   are what the key's digest nests.
contract SessionMessages {
    /// @notice Checks the key signatures of non-secp256k1 kinds.
    SessionSigners public immutable SIGNERS;

    bytes32 internal constant _PERSONAL_SIGN_TYPEHASH = keccak256("PersonalSign(bytes prefixed)");

    /// @dev ERC-5267's field bits, in EIP-712 order.
    uint256 private constant _NAME = 1;
    uint256 private constant _VERSION = 2;
    uint256 private constant _CHAIN_ID = 4;
    uint256 private constant _VERIFYING_CONTRACT = 8;
    uint256 private constant _SALT = 16;

    uint256 private constant _FORM_TYPED_DATA = 0;
    uint256 private constant _FORM_PERSONAL = 1;

    constructor(SessionSigners signers) {
        SIGNERS = signers;
    }

    /// @notice Which session's key signed `hash` as `account` by `signature`, and for what.
    /// @return sessionId The session the signature names.
    /// @return signer The signer id the key signature speaks for (`address(0)`: no one).
    /// @return valid Whether the key signature and the message's framing verify.
    /// @return typed Typed data (the scope is a `TypedDataSigning` of `domain`), or a personal message.
    /// @return domain The app's `verifyingContract`, for typed data.
    function check(address account, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes32 sessionId, address signer, bool valid, bool typed, address domain)
    {
        if (signature.length < 35) return (0, address(0), false, false, address(0));
        uint256 mode = uint8(signature[0]);
        sessionId = bytes32(signature[1:33]);
        uint256 keyEnd = 35 + uint16(bytes2(signature[33:35]));
        uint256 kind = mode >> SIG_SIGNER_SHIFT;
        uint256 form = mode & ((1 << SIG_SIGNER_SHIFT) - 1);
        if (signature.length < keyEnd || kind > SIGNER_WEBAUTHN_FALLBACK || form > _FORM_PERSONAL) {
            return (sessionId, address(0), false, false, address(0));
        }
        typed = form == _FORM_TYPED_DATA;
        bytes32 digest;
        if (typed) {
            (digest, domain, valid) = _typedDataDigest(account, hash, signature[keyEnd:]);
        } else {
            valid = keyEnd == signature.length;
            digest = _personalDigest(account, hash);
        }
        bytes calldata keySignature = signature[35:keyEnd];
        if (kind == SIGNER_SECP256K1) {
            signer = SignatureLib.tryRecoverCalldata(digest, keySignature);
            valid = valid && signer != address(0);
        } else {
            bool signed;
            (signer, signed) = SIGNERS.check(kind, digest, keySignature);
            valid = valid && signed;
        }
    }

    /// @dev ERC-7739 `PersonalSign`: `hashTypedData` in the account's domain of
    ///      `PersonalSign(keccak256(prefixed))`, where `hash` is that keccak256.
    function _personalDigest(address account, bytes32 hash) internal view returns (bytes32) {
        (bytes32 accountSeparator,) = _accountDomain(account);
        return _hashTypedData(accountSeparator, keccak256(abi.encode(_PERSONAL_SIGN_TYPEHASH, hash)));
    }

    /// @dev ERC-7739 `TypedDataSign`: the app's contents nested with the account's domain fields, in
    ///      the app's domain. `valid` is whether `hash` is the app's typed-data hash of the contents
    ///      and the tail is well formed.
    function _typedDataDigest(address account, bytes32 hash, bytes calldata tail)
        internal
        view
        returns (bytes32 digest, address domain, bool valid)
    {
        bytes32 appSeparator;
        bytes calldata rest;
        (appSeparator, rest, domain) = _appDomain(tail);
        (bytes32 contents, bytes32 typeHash) = _contents(rest);
        valid = domain != address(0) && typeHash != 0 && _hashTypedData(appSeparator, contents) == hash;
        (, bytes memory accountFields) = _accountDomain(account);
        digest = _hashTypedData(appSeparator, keccak256(abi.encodePacked(typeHash, contents, accountFields)));
    }

    /// @dev `contents (32) ‖ contentsType ‖ uint16 contentsType.length`: the contents, and the
    ///      `TypedDataSign` type hash their type makes; zero when the framing or the contents name is
    ///      wrong.
    function _contents(bytes calldata rest) internal pure returns (bytes32 contents, bytes32 typeHash) {
        if (rest.length < 34) return (0, 0);
        uint256 typeLength = uint16(bytes2(rest[rest.length - 2:]));
        if (rest.length != 34 + typeLength) return (0, 0);
        bytes calldata contentsType = rest[32:32 + typeLength];
        (bytes calldata contentsName, bool named) = _contentsName(contentsType);
        if (!named) return (0, 0);
        typeHash = keccak256(
            abi.encodePacked(
                "TypedDataSign(",
                contentsName,
                " contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
                contentsType
            )
        );
        contents = bytes32(rest[0:32]);
    }

    /// @dev The app domain at the head of `tail`: `fields (1) ‖ one word per present field`, its
    ///      separator, what follows it, and its `verifyingContract`: zero when a field is missing from
    ///      the tail, or when the domain names no `verifyingContract` or fields beyond ERC-5267's five.
    function _appDomain(bytes calldata tail)
        internal
        pure
        returns (bytes32 separator, bytes calldata rest, address verifyingContract)
    {
        if (tail.length == 0) return (0, tail, address(0));
        uint256 fields = uint8(tail[0]);
        uint256 words;
        for (uint256 bit = 1; bit <= _SALT; bit <<= 1) {
            if (fields & bit != 0) ++words;
        }
        uint256 end = 1 + 32 * words;
        if (fields & _VERIFYING_CONTRACT == 0 || fields > 0x1f || tail.length < end) {
            return (0, tail, address(0));
        }
        bytes calldata values = tail[1:end];
        // The verifying contract is the word after those of the fields before it.
        uint256 at;
        for (uint256 bit = 1; bit < _VERIFYING_CONTRACT; bit <<= 1) {
            if (fields & bit != 0) at += 32;
        }
        uint256 word = uint256(bytes32(values[at:at + 32]));
        if (word >> 160 != 0) return (0, tail, address(0));
        separator = keccak256(abi.encodePacked(_domainTypeHash(fields), values));
        return (separator, tail[end:], address(uint160(word)));
    }

    /// @dev The account's EIP-712 separator, and its five ERC-7739 fields encoded as `TypedDataSign`
    ///      nests them (`keccak256(name) ‖ keccak256(version) ‖ chainId ‖ verifyingContract ‖ salt`).
    function _accountDomain(address account) internal view returns (bytes32 separator, bytes memory nested) {
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address self, bytes32 salt,) =
            IERC5267(account).eip712Domain();
        bytes32 nameHash = keccak256(bytes(name));
        bytes32 versionHash = keccak256(bytes(version));
        nested = abi.encode(nameHash, versionHash, chainId, self, salt);
        bytes memory present;
        uint256 bits = uint8(fields);
        if (bits & _NAME != 0) present = abi.encodePacked(present, nameHash);
        if (bits & _VERSION != 0) present = abi.encodePacked(present, versionHash);
        if (bits & _CHAIN_ID != 0) present = abi.encodePacked(present, chainId);
        if (bits & _VERIFYING_CONTRACT != 0) present = abi.encodePacked(present, uint256(uint160(self)));
        if (bits & _SALT != 0) present = abi.encodePacked(present, salt);
        separator = keccak256(abi.encodePacked(_domainTypeHash(bits), present));
    }

    /// @dev `keccak256("EIP712Domain(…)")` with the fields `fields` names, in EIP-712 order.
    function _domainTypeHash(uint256 fields) internal pure returns (bytes32) {
        bytes memory members;
        string[5] memory names =
            ["string name", "string version", "uint256 chainId", "address verifyingContract", "bytes32 salt"];
        for (uint256 i; i < 5; ++i) {
            if (fields & (1 << i) == 0) continue;
            members = members.length == 0 ? bytes(names[i]) : abi.encodePacked(members, ",", names[i]);
        }
        return keccak256(abi.encodePacked("EIP712Domain(", members, ")"));
    }

    /// @dev ERC-7739's implicit contents name: `contentsType` up to its first `(`, which must exist,
    ///      not start with a lowercase letter, and hold none of `, )` or a zero byte.
    function _contentsName(bytes calldata contentsType) internal pure returns (bytes calldata name, bool valid) {
        uint256 end;
        while (end < contentsType.length && contentsType[end] != "(") {
            bytes1 c = contentsType[end];
            if (c == "," || c == " " || c == ")" || c == 0) return (contentsType[0:0], false);
            ++end;
        }
        name = contentsType[0:end];
        valid = end != 0 && end < contentsType.length && (contentsType[0] < "a" || contentsType[0] > "z");
    }

    function _hashTypedData(bytes32 separator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", separator, structHash));
    }
}
