// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SessionGrant, PERMISSION_TYPEHASH, SESSION_GRANT_TYPEHASH} from "../types/SessionTypes.sol";

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
    /// @dev In assembly, straight from calldata: a grant of n permissions costs n + 2 hashes plus two
    ///      per permission (its function list and its rule bytes), with no ABI re-encoding (the lazy-enable path hashes every grant it
    ///      enables). Each field is cleaned to its type's width as EIP-712 encodes it. Every array is
    ///      bounds-checked against the calldata, reverting like Solidity's own calldata accessors, so
    ///      this reads exactly the bytes that `_enable` later reads through those accessors.
    function hash(SessionGrant calldata grant) internal pure returns (bytes32 result) {
        bytes32 permissionTypehash = PERMISSION_TYPEHASH;
        bytes32 grantTypehash = SESSION_GRANT_TYPEHASH;
        assembly ("memory-safe") {
            // Memory past the free pointer is scratch, never allocated:
            // [m, m + 0xe0): one struct's encoding; then the permission hashes; then one function list
            // or one permission's rule bytes.
            let m := mload(0x40)
            // Offsets and lengths are capped at 2**32 so the sums below cannot overflow.
            let permissionsOffset := calldataload(add(grant, 0xa0))
            let permissions := add(grant, and(permissionsOffset, 0xffffffff))
            let count := calldataload(permissions)
            let heads := add(permissions, 0x20)
            let bad := or(gt(permissionsOffset, 0xffffffff), gt(count, 0xffffffff))
            bad := or(bad, gt(add(grant, 0xc0), calldatasize()))
            bad := or(bad, gt(add(heads, shl(5, mul(iszero(bad), count))), calldatasize()))
            count := mul(iszero(bad), count)
            let hashes := add(m, 0xe0)
            let selectors := add(hashes, shl(5, count))
            mstore(m, permissionTypehash)
            for { let i := 0 } and(iszero(bad), lt(i, count)) { i := add(i, 1) } {
                let pOffset := calldataload(add(heads, shl(5, i)))
                let p := add(heads, and(pOffset, 0xffffffff))
                bad := or(gt(pOffset, 0xffffffff), gt(add(p, 0xa0), calldatasize()))
                {
                    let functionsOffset := calldataload(add(p, 0x60))
                    let functions := add(p, and(functionsOffset, 0xffffffff))
                    let n := calldataload(functions)
                    bad := or(bad, or(gt(functionsOffset, 0xffffffff), gt(n, 0xffffffff)))
                    bad := or(bad, gt(add(add(functions, 0x20), shl(5, mul(iszero(bad), n))), calldatasize()))
                    n := mul(iszero(bad), n)
                    // bytes4[] hashes as the concatenation of its selectors, each left-aligned in a word.
                    for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                        let word := calldataload(add(functions, shl(5, add(j, 1))))
                        mstore(add(selectors, shl(5, j)), and(word, shl(224, 0xffffffff)))
                    }
                    mstore(add(m, 0x80), keccak256(selectors, shl(5, n)))
                }
                {
                    // `bytes` hashes as the keccak256 of its contents.
                    let rulesOffset := calldataload(add(p, 0x80))
                    let rules := add(p, and(rulesOffset, 0xffffffff))
                    let rulesLength := calldataload(rules)
                    bad := or(bad, or(gt(rulesOffset, 0xffffffff), gt(rulesLength, 0xffffffff)))
                    bad := or(bad, gt(add(add(rules, 0x20), mul(iszero(bad), rulesLength)), calldatasize()))
                    rulesLength := mul(iszero(bad), rulesLength)
                    calldatacopy(selectors, add(rules, 0x20), rulesLength)
                    mstore(add(m, 0xa0), keccak256(selectors, rulesLength))
                }
                mstore(add(m, 0x20), and(calldataload(p), 0xff))
                mstore(add(m, 0x40), shr(96, shl(96, calldataload(add(p, 0x20)))))
                mstore(add(m, 0x60), calldataload(add(p, 0x40)))
                mstore(add(hashes, shl(5, i)), keccak256(m, 0xc0))
            }
            if bad { revert(0x00, 0x00) }
            mstore(m, grantTypehash)
            mstore(add(m, 0x20), shr(96, shl(96, calldataload(grant))))
            mstore(add(m, 0x40), shr(96, shl(96, calldataload(add(grant, 0x20)))))
            mstore(add(m, 0x60), and(calldataload(add(grant, 0x40)), 0xffffffffffff))
            mstore(add(m, 0x80), and(calldataload(add(grant, 0x60)), 0xffffffffffff))
            mstore(add(m, 0xa0), calldataload(add(grant, 0x80)))
            mstore(add(m, 0xc0), keccak256(hashes, shl(5, count)))
            result := keccak256(m, 0xe0)
        }
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
