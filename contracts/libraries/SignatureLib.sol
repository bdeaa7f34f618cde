// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title SignatureLib
/// @notice Recovers the signer of a UserOperation hash in either of the two forms a key may sign it
///         in, told apart by the signature itself (docs/permissions.md, "Signature forms"):
///         - `r ‖ s ‖ v` with v ∈ {27, 28} (or EIP-2098's 64-byte `r ‖ vs`): over the hash itself;
///         - `r ‖ s ‖ v` with v ∈ {31, 32}: over its EIP-191 form
///           `keccak256("\x19Ethereum Signed Message:\n32" ‖ hash)`, what `personal_sign` and
///           `cast wallet sign <hash>` sign, recovered with v − 4 (Safe's convention for `eth_sign`).
/// @dev One recovery whatever the form, never two, so a failing signature costs what a valid one of
///      its form does. Any other signature recovers to no one (`address(0)`): a 65-byte signature
///      whose v is not 27 or 28 is taken for the EIP-191 form, and v − 4 is then 27 or 28 only for
///      v ∈ {31, 32}; the precompile refuses every other v. These mirror solady's
///      `ECDSA.tryRecoverCalldata`, with the raw 65-byte form tested first.
library SignatureLib {
    /// @dev `65 << 8 | 27`: `length << 8 | v` of a raw 65-byte signature with v = 27.
    uint256 private constant _RAW_65 = 0x411b;

    /// @dev The signer of `hash` by `signature` (65 bytes in either form, or 64 in EIP-2098's raw
    ///      form), or `address(0)`.
    function tryRecoverCalldata(bytes32 hash, bytes calldata signature) internal view returns (address result) {
        assembly ("memory-safe") {
            for { let m := mload(0x40) } 1 {} {
                // Read past a shorter signature, v is not used.
                let v := byte(0, calldataload(add(signature.offset, 0x40)))
                // Unless the signature is 65 bytes with v ∈ {27, 28} (the raw form, the common case,
                // told in one comparison of `length << 8 | v`):
                if iszero(lt(sub(or(shl(8, signature.length), v), _RAW_65), 2)) {
                    switch signature.length
                    case 65 {
                        // The EIP-191 form, or no signature (v − 4 is not 27 or 28).
                        mstore(0x20, hash)
                        mstore(0x00, "\x00\x00\x00\x00\x19Ethereum Signed Message:\n32")
                        hash := keccak256(0x04, 0x3c)
                        v := sub(v, 4)
                    }
                    case 64 {
                        // EIP-2098's `r ‖ vs`, over the hash itself.
                        let vs := calldataload(add(signature.offset, 0x20))
                        mstore(0x00, hash)
                        mstore(0x20, add(shr(255, vs), 27)) // `v`.
                        mstore(0x40, calldataload(signature.offset)) // `r`.
                        mstore(0x60, shr(1, shl(1, vs))) // `s`.
                        pop(staticcall(gas(), 1, 0x00, 0x80, 0x40, 0x20))
                        mstore(0x60, 0) // Restore the zero slot.
                        result := mload(xor(0x60, returndatasize()))
                        mstore(0x40, m) // Restore the free memory pointer.
                        break
                    }
                    default { break }
                }
                mstore(0x00, hash)
                mstore(0x20, v)
                calldatacopy(0x40, signature.offset, 0x40) // `r` and `s`.
                pop(staticcall(gas(), 1, 0x00, 0x80, 0x40, 0x20))
                mstore(0x60, 0) // Restore the zero slot.
                // `returndatasize()` is `0x20` upon success, and `0x00` otherwise.
                result := mload(xor(0x60, returndatasize()))
                mstore(0x40, m) // Restore the free memory pointer.
                break
            }
        }
    }

    /// @dev The same for a `signature` the caller knows to be 65 bytes long (`r ‖ s ‖ v`), without
    ///      the length check.
    function tryRecover65Calldata(bytes32 hash, bytes calldata signature) internal view returns (address result) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            let v := byte(0, calldataload(add(signature.offset, 0x40)))
            // v ∉ {27, 28}: the EIP-191 form, or no signature (v − 4 is not 27 or 28).
            if iszero(lt(sub(v, 27), 2)) {
                mstore(0x20, hash)
                mstore(0x00, "\x00\x00\x00\x00\x19Ethereum Signed Message:\n32")
                hash := keccak256(0x04, 0x3c)
                v := sub(v, 4)
            }
            mstore(0x00, hash)
            mstore(0x20, v)
            calldatacopy(0x40, signature.offset, 0x40) // `r` and `s`.
            pop(staticcall(gas(), 1, 0x00, 0x80, 0x40, 0x20))
            mstore(0x60, 0) // Restore the zero slot.
            result := mload(xor(0x60, returndatasize()))
            mstore(0x40, m) // Restore the free memory pointer.
        }
    }
}
