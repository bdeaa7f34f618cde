// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Permission, SessionGrant, PERMISSION_TYPEHASH, SESSION_GRANT_TYPEHASH} from "../types/SessionTypes.sol";

/// @title GrantLib
/// @notice EIP-712 struct hash of a `SessionGrant`, and the envelope of a lazy-enable signature.
/// @dev Assumptions:
/// - The struct hash follows EIP-712 exactly (arrays hash the concatenation of their encoded
///   elements; `bytes4` encodes left-aligned in 32 bytes; the enum encodes as `uint8`), so that
///   `eth_signTypedData_v4` and alloy's `SolStruct::eip712_signing_hash` produce the same digest.
/// - Grants are hashed from calldata where they arrive: the owner's signature covers the hash, so
///   whatever bytes are hashed are the bytes that were authorized.
library GrantLib {
    /// @notice `hashStruct(grant)` per EIP-712.
    function hash(SessionGrant calldata grant) internal pure returns (bytes32) {
        Permission[] calldata permissions = grant.permissions;
        bytes32[] memory permissionHashes = new bytes32[](permissions.length);
        for (uint256 i; i < permissions.length; ++i) {
            Permission calldata p = permissions[i];
            permissionHashes[i] = keccak256(
                abi.encode(
                    PERMISSION_TYPEHASH,
                    uint8(p.permissionType),
                    p.target,
                    p.amount,
                    keccak256(abi.encodePacked(p.functions))
                )
            );
        }
        return keccak256(
            abi.encode(
                SESSION_GRANT_TYPEHASH,
                grant.account,
                grant.sessionKey,
                grant.validAfter,
                grant.validUntil,
                grant.salt,
                keccak256(abi.encodePacked(permissionHashes))
            )
        );
    }

    /// @notice Views `payload` as `abi.encode(SessionGrant grant, bytes ownerSignature, bytes sessionKeySignature)`.
    /// @dev Returns `ok = false` instead of reverting when the three heads or the two byte strings
    ///      reach outside `payload`: a malformed signature must fail validation, not revert it. The
    ///      grant's inner offsets are bounds-checked by Solidity's calldata accessors on use.
    function decodeEnable(bytes calldata payload)
        internal
        pure
        returns (
            bool ok,
            SessionGrant calldata grant,
            bytes calldata ownerSignature,
            bytes calldata sessionKeySignature
        )
    {
        assembly ("memory-safe") {
            let len := payload.length
            let base := payload.offset
            // All offsets are capped at 2**32 so the sums below cannot overflow.
            let limit := 0x100000000
            let grantOffset := calldataload(base)
            let ownerOffset := calldataload(add(base, 0x20))
            let keyOffset := calldataload(add(base, 0x40))
            ok := and(gt(len, 0x5f), and(lt(grantOffset, limit), and(lt(ownerOffset, limit), lt(keyOffset, limit))))
            ok := and(ok, and(lt(grantOffset, len), and(lt(ownerOffset, len), lt(keyOffset, len))))
            let ownerLength := calldataload(add(base, ownerOffset))
            let keyLength := calldataload(add(base, keyOffset))
            ok := and(ok, and(lt(ownerLength, limit), lt(keyLength, limit)))
            ok := and(ok, iszero(gt(add(add(ownerOffset, 0x20), ownerLength), len)))
            ok := and(ok, iszero(gt(add(add(keyOffset, 0x20), keyLength), len)))
            grant := add(base, grantOffset)
            ownerSignature.offset := add(add(base, ownerOffset), 0x20)
            ownerSignature.length := mul(ok, ownerLength)
            sessionKeySignature.offset := add(add(base, keyOffset), 0x20)
            sessionKeySignature.length := mul(ok, keyLength)
        }
    }
}
