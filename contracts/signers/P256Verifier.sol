// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title P256Verifier
/// @notice Verifies an ECDSA signature on NIST P-256 (secp256r1, SEC 2 §2.4.2, FIPS 186-4 D.1.2.3)
///         with the calling convention of the P256VERIFY precompile (RIP-7212, EIP-7951):
///         - calldata: `hash (32) ‖ r (32) ‖ s (32) ‖ x (32) ‖ y (32)`, exactly 160 bytes, `hash`
///           the prehashed digest taken as a big-endian integer;
///         - returns 32 bytes of `uint256(1)` when the signature is valid, and nothing otherwise;
///           it never reverts (bar running out of gas).
///         Valid means, as EIP-7951 has it: r and s in [1, n − 1], x and y in [0, p − 1], (x, y) on
///         the curve (so not the point at infinity, which the precompile encodes as (0, 0)), and
///         R' = (hash · s⁻¹)·G + (r · s⁻¹)·Q not the point at infinity with R'.x ≡ r (mod n).
///         High-s signatures are valid, as they are to the precompile.
/// @dev Why it exists: chains without P256VERIFY at `0x100`. `SessionSigners` calls either the
///      precompile or this contract with the same bytes and reads the answer the same way, so the
///      two must agree on every input, not only on valid signatures (tests/sol/unit/P256Verifier.t.sol
///      holds it to the precompile's answers).
///      How: u1·G + u2·Q by Shamir's trick over a table of G, Q and G + Q in affine coordinates,
///      the running point in Jacobian coordinates (x = X/Z², y = Y/Z³) so the loop needs no
///      inversion; s⁻¹ mod n and the one inversion mod p for G + Q go to the modexp precompile
///      (`0x05`) by Fermat. R'.x mod n is compared without leaving Jacobian coordinates.
///      Assumes only the modexp precompile at `0x05`, present on every EVM chain.
contract P256Verifier {
    /// @dev The field prime p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1.
    uint256 private constant _P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff;
    /// @dev The order n of G (and of the whole group: the cofactor is 1).
    uint256 private constant _N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;
    /// @dev b of y² = x³ − 3x + b (a = −3).
    uint256 private constant _B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b;
    /// @dev The base point G.
    uint256 private constant _GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296;
    uint256 private constant _GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5;

    /// @dev Payable like the precompile, which takes value without complaint: a call with value must
    ///      not revert here where it would not there.
    fallback() external payable {
        assembly {
            /// @dev `base^exponent mod modulus` by the modexp precompile, in scratch memory 0x100-0x1bf.
            ///      Returns 0 if the call fails (out of gas), which no caller can take for a valid
            ///      inverse: both callers invert a nonzero value modulo a prime.
            function modexp(base, exponent, modulus) -> result {
                mstore(0x100, 0x20)
                mstore(0x120, 0x20)
                mstore(0x140, 0x20)
                mstore(0x160, base)
                mstore(0x180, exponent)
                mstore(0x1a0, modulus)
                if staticcall(gas(), 0x05, 0x100, 0xc0, 0x100, 0x20) { result := mload(0x100) }
            }

            /// @dev Doubles (x, y, z) in Jacobian coordinates, a = −3 (dbl-2001-b). The point at
            ///      infinity (z = 0) stays there; no P-256 point has y = 0 (n is odd). The loop below
            ///      inlines the same formulas; this copy serves the rare addition of equal points.
            function double(x, y, z) -> x3, y3, z3 {
                let p := _P
                let yy := mulmod(y, y, p)
                let zz := mulmod(z, z, p)
                // 3(x − z²)(x + z²) = 3x² + a·z⁴.
                let alpha := mulmod(3, mulmod(addmod(x, sub(p, zz), p), addmod(x, zz, p), p), p)
                let beta := mulmod(4, mulmod(x, yy, p), p)
                x3 := addmod(mulmod(alpha, alpha, p), sub(p, addmod(beta, beta, p)), p)
                y3 := addmod(mulmod(alpha, addmod(beta, sub(p, x3), p), p), sub(p, mulmod(8, mulmod(yy, yy, p), p)), p)
                z3 := mulmod(addmod(y, y, p), z, p)
            }

            // Every refusal is `return(0, 0)`: success with no data, as the precompile answers.
            if iszero(eq(calldatasize(), 160)) { return(0, 0) }
            let u1
            let u2
            // Checks, u1 and u2, and the table. Scoped, so that only p, u1 and u2 take stack slots in
            // the loop; r waits in memory at 0x100 for the last comparison.
            {
                // The prime on the stack: the optimizer would otherwise compute each of its uses
                // from smaller literals, several opcodes each (it weighs code size against runs).
                let p := _P
                let r := calldataload(0x20)
                let s := calldataload(0x40)
                let qx := calldataload(0x60)
                let qy := calldataload(0x80)
                // r − 1 and s − 1 below n − 1: r and s in [1, n − 1] (0 − 1 wraps to 2²⁵⁶ − 1).
                if iszero(and(lt(sub(r, 1), sub(_N, 1)), lt(sub(s, 1), sub(_N, 1)))) { return(0, 0) }
                if iszero(and(lt(qx, p), lt(qy, p))) { return(0, 0) }
                // y² = x(x² − 3) + b. With b ≠ 0 this also refuses (0, 0).
                if iszero(
                    eq(mulmod(qy, qy, p), addmod(mulmod(qx, addmod(mulmod(qx, qx, p), sub(p, 3), p), p), _B, p))
                ) {
                    return(0, 0)
                }

                let w := modexp(s, sub(_N, 2), _N)
                u1 := mulmod(calldataload(0x00), w, _N)
                u2 := mulmod(r, w, _N)

                // The table, at 0x40 · index for index = bit of u1 + 2 · bit of u2: G, Q, G + Q.
                mstore(0x40, _GX)
                mstore(0x60, _GY)
                mstore(0x80, qx)
                mstore(0xa0, qy)
                switch eq(qx, _GX)
                case 0 {
                    // Q ≠ ±G: G + Q by the affine chord, its one inversion by Fermat.
                    let lambda :=
                        mulmod(addmod(qy, sub(p, _GY), p), modexp(addmod(qx, sub(p, _GX), p), sub(p, 2), p), p)
                    let x3 := addmod(mulmod(lambda, lambda, p), sub(p, addmod(qx, _GX, p)), p)
                    mstore(0xc0, x3)
                    mstore(0xe0, addmod(mulmod(lambda, addmod(_GX, sub(p, x3), p), p), sub(p, _GY), p))
                }
                default {
                    // Q = G or Q = −G (on the curve, they are the only points with G's x), where G + Q
                    // has no affine chord: fold Q into G, u1·G + u2·(±G) = (u1 ± u2)·G.
                    switch eq(qy, _GY)
                    case 1 { u1 := addmod(u1, u2, _N) }
                    default { u1 := addmod(u1, sub(_N, u2), _N) }
                    u2 := 0
                }
                // u1 = u2 = 0 (only after folding, u2 ≠ 0 otherwise) puts R' at infinity.
                if iszero(or(u1, u2)) { return(0, 0) }
                mstore(0x100, r)
            }

            // Start from the table entry of the highest set bit, not from infinity.
            let i := 255
            let x
            let y
            {
                let offset
                for {} 1 {} {
                    offset := or(shl(6, and(shr(i, u1), 1)), shl(7, and(shr(i, u2), 1)))
                    if offset { break }
                    i := sub(i, 1)
                }
                x := mload(offset)
                y := mload(add(offset, 0x20))
            }
            let z := 1
            // Declared last, so the most used value sits nearest the top of the stack.
            let p := _P
            for {} i {} {
                i := sub(i, 1)
                // Double, as `double` does.
                {
                    let yy := mulmod(y, y, p)
                    let zz := mulmod(z, z, p)
                    z := mulmod(addmod(y, y, p), z, p)
                    let alpha := mulmod(3, mulmod(addmod(x, sub(p, zz), p), addmod(x, zz, p), p), p)
                    let beta := mulmod(4, mulmod(x, yy, p), p)
                    x := addmod(mulmod(alpha, alpha, p), sub(p, addmod(beta, beta, p)), p)
                    y := addmod(
                        mulmod(alpha, addmod(beta, sub(p, x), p), p),
                        sub(p, mulmod(8, mulmod(yy, yy, p), p)),
                        p
                    )
                }
                // Add the table entry of the two bits, affine (madd-2004-hmv).
                let offset := or(shl(6, and(shr(i, u1), 1)), shl(7, and(shr(i, u2), 1)))
                if offset {
                    switch z
                    case 0 {
                        // Infinity plus the entry.
                        x := mload(offset)
                        y := mload(add(offset, 0x20))
                        z := 1
                    }
                    default {
                        let h := mload(offset)
                        let rr := mload(add(offset, 0x20))
                        {
                            let zz := mulmod(z, z, p)
                            h := addmod(mulmod(h, zz, p), sub(p, x), p)
                            rr := addmod(mulmod(rr, mulmod(zz, z, p), p), sub(p, y), p)
                        }
                        switch h
                        case 0 {
                            // The same x: the entry itself (double) or its negation (infinity).
                            switch rr
                            case 0 { x, y, z := double(x, y, z) }
                            default { z := 0 }
                        }
                        default {
                            z := mulmod(z, h, p)
                            let hh := mulmod(h, h, p)
                            let v := mulmod(x, hh, p)
                            hh := mulmod(hh, h, p) // h³
                            x := addmod(addmod(mulmod(rr, rr, p), sub(p, hh), p), sub(p, addmod(v, v, p)), p)
                            y := addmod(mulmod(rr, addmod(v, sub(p, x), p), p), sub(p, mulmod(y, hh, p)), p)
                        }
                    }
                }
            }

            if iszero(z) { return(0, 0) }
            // R'.x = X/Z² lies in [0, p), and p < 2n: R'.x mod n = r means R'.x = r, or R'.x = r + n
            // when that is below p. Compared as X = r·Z² (or (r + n)·Z²), with no inversion.
            let r := mload(0x100)
            let zz := mulmod(z, z, p)
            if iszero(eq(x, mulmod(r, zz, p))) {
                if iszero(and(lt(r, sub(p, _N)), eq(x, mulmod(add(r, _N), zz, p)))) { return(0, 0) }
            }
            mstore(0x00, 1)
            return(0x00, 0x20)
        }
    }
}
