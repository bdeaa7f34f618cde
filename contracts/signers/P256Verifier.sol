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
///      How: u1·G + u2·Q by fixed 4-bit windows over both scalars at once, from the top: per window
///      four doublings, shared, then one addition from each of two tables, kG and kQ for k = 1..15.
///      The running point is Jacobian (x = X/Z², y = Y/Z³), so the loop never inverts; the entries
///      are affine, so every addition is the cheaper mixed one. kG is a constant table; kQ is built
///      per call and made affine with one batched inversion. s⁻¹ mod n and that inversion mod p go
///      to the modexp precompile (Fermat), and R'.x mod n is compared without leaving Jacobian
///      coordinates. About 165,000 gas a verification against the precompile's 6,900
///      (snapshots/p256_gas.json): some 64 windows × (4 doublings + 2 additions), each doubling about
///      360 gas and each addition about 450. Every addition handles the running point at infinity,
///      equal to the entry (it doubles) or its negation (infinity); the tests reach each case.
///      Assumes the modexp precompile at `0x05` (on every EVM chain) and, as compiled, Shanghai's
///      PUSH0; it uses no later opcode.
contract P256Verifier {
    /// @dev The field prime p = 2²⁵⁶ − 2²²⁴ + 2¹⁹² + 2⁹⁶ − 1.
    uint256 private constant _P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff;
    /// @dev The order n of G (and of the whole group: the cofactor is 1).
    uint256 private constant _N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;
    /// @dev b of y² = x³ − 3x + b (a = −3).
    uint256 private constant _B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b;

    /// @dev Payable like the precompile, which takes value without complaint: a call with value must
    ///      not revert here where it would not there.
    fallback() external payable {
        assembly {
            // Memory: 0x00 r, 0x20 u1, 0x40·k the entry kG (x, y) for k = 1..15; 0x420 u2, 0x400 +
            // 0x40·k the entry kQ; 0x800-0x8bf modexp's arguments; while the kQ are Jacobian,
            // 0x900 + 0x20·k the Z of kQ and 0xb00 + 0x20·k the product Z₂⋯Z_k (k = 2..15, and 1
            // at k = 1). So a table is its base (0 for G, 0x400 for Q) + 0x40·k, its scalar at
            // base + 0x20.

            /// @dev `base^exponent mod modulus` by the modexp precompile. Returns 0 if the call fails,
            ///      which it does only for want of gas: it then had 63/64 of what was left, so the
            ///      1/64 kept back cannot finish the verification, and this call runs out of gas too.
            function modexp(base, exponent, modulus) -> result {
                mstore(0x800, 0x20)
                mstore(0x820, 0x20)
                mstore(0x840, 0x20)
                mstore(0x860, base)
                mstore(0x880, exponent)
                mstore(0x8a0, modulus)
                if staticcall(gas(), 0x05, 0x800, 0xc0, 0x800, 0x20) { result := mload(0x800) }
            }

            /// @dev Doubles (x, y, z) in Jacobian coordinates, a = −3 (dbl-2001-b). The point at
            ///      infinity (z = 0) stays there; no P-256 point has y = 0 (n is odd). The loop below
            ///      inlines the same formulas; this copy serves 2Q and the rare addition of equal
            ///      points.
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
            // Checks, then u1 and u2 to memory. Scoped blocks, so that the loop's variables are the
            // only ones on the stack.
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
                mstore(0x00, r)
                mstore(0x20, mulmod(calldataload(0x00), w, _N))
                mstore(0x420, mulmod(r, w, _N))
            }
            // The table of kQ, k = 1..15: Jacobian by kQ = (k − 1)Q + Q, then affine by one batched
            // inversion (Montgomery's trick: invert the product of the Z, peel them off one by one).
            {
                let p := _P
                // Q from memory in the loop: one stack slot fewer.
                mstore(0x440, calldataload(0x60))
                mstore(0x460, calldataload(0x80))
                let x, y, z := double(mload(0x440), mload(0x460), 1)
                mstore(0x480, x)
                mstore(0x4a0, y)
                mstore(0x940, z)
                mstore(0xb20, 1)
                mstore(0xb40, z)
                for { let k := 3 } lt(k, 16) { k := add(k, 1) } {
                    // (x, y, z) + Q in general position: (k − 1)Q ≠ ±Q for k − 1 in [2, 14] (n is a
                    // prime above 16), so no special case can arise.
                    let h := mulmod(z, z, p)
                    let rr := addmod(mulmod(mload(0x460), mulmod(h, z, p), p), sub(p, y), p)
                    h := addmod(mulmod(mload(0x440), h, p), sub(p, x), p)
                    z := mulmod(z, h, p)
                    let hh := mulmod(h, h, p)
                    let v := mulmod(x, hh, p)
                    hh := mulmod(hh, h, p) // h³
                    x := addmod(addmod(mulmod(rr, rr, p), sub(p, hh), p), sub(p, addmod(v, v, p)), p)
                    y := addmod(mulmod(rr, addmod(v, sub(p, x), p), p), sub(p, mulmod(y, hh, p)), p)
                    mstore(add(0x400, shl(6, k)), x)
                    mstore(add(0x420, shl(6, k)), y)
                    mstore(add(0x900, shl(5, k)), z)
                    mstore(add(0xb00, shl(5, k)), mulmod(mload(add(0xae0, shl(5, k))), z, p))
                }
                // 1 / (Z₂ ⋯ Z₁₅); then for k from 15 down: 1/Z_k = that · Z₂ ⋯ Z_{k−1}, and drop Z_k.
                let inverse := modexp(mload(0xce0), sub(p, 2), p)
                for { let k := 15 } gt(k, 1) { k := sub(k, 1) } {
                    let zInverse := mulmod(inverse, mload(add(0xae0, shl(5, k))), p)
                    inverse := mulmod(inverse, mload(add(0x900, shl(5, k))), p)
                    let zz := mulmod(zInverse, zInverse, p)
                    let o := add(0x400, shl(6, k))
                    mstore(o, mulmod(mload(o), zz, p))
                    o := add(o, 0x20)
                    mstore(o, mulmod(mload(o), mulmod(zz, zInverse, p), p))
                }
            }
            // The table of kG, k = 1..15, affine, 1G the base point G: computed offline; a wrong entry
            // would fail the tests' valid signatures, whose windows take every digit.
            {
                mstore(0x40, 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296) // 1G
                mstore(0x60, 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)
                mstore(0x80, 0x7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978) // 2G
                mstore(0xa0, 0x07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1)
                mstore(0xc0, 0x5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c) // 3G
                mstore(0xe0, 0x8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032)
                mstore(0x100, 0xe2534a3532d08fbba02dde659ee62bd0031fe2db785596ef509302446b030852) // 4G
                mstore(0x120, 0xe0f1575a4c633cc719dfee5fda862d764efc96c3f30ee0055c42c23f184ed8c6)
                mstore(0x140, 0x51590b7a515140d2d784c85608668fdfef8c82fd1f5be52421554a0dc3d033ed) // 5G
                mstore(0x160, 0xe0c17da8904a727d8ae1bf36bf8a79260d012f00d4d80888d1d0bb44fda16da4)
                mstore(0x180, 0xb01a172a76a4602c92d3242cb897dde3024c740debb215b4c6b0aae93c2291a9) // 6G
                mstore(0x1a0, 0xe85c10743237dad56fec0e2dfba703791c00f7701c7e16bdfd7c48538fc77fe2)
                mstore(0x1c0, 0x8e533b6fa0bf7b4625bb30667c01fb607ef9f8b8a80fef5b300628703187b2a3) // 7G
                mstore(0x1e0, 0x73eb1dbde03318366d069f83a6f5900053c73633cb041b21c55e1a86c1f400b4)
                mstore(0x200, 0x62d9779dbee9b0534042742d3ab54cadc1d238980fce97dbb4dd9dc1db6fb393) // 8G
                mstore(0x220, 0xad5accbd91e9d8244ff15d771167cee0a2ed51f6bbe76a78da540a6a0f09957e)
                mstore(0x240, 0xea68d7b6fedf0b71878938d51d71f8729e0acb8c2c6df8b3d79e8a4b90949ee0) // 9G
                mstore(0x260, 0x2a2744c972c9fce787014a964a8ea0c84d714feaa4de823fe85a224a4dd048fa)
                mstore(0x280, 0xcef66d6b2a3a993e591214d1ea223fb545ca6c471c48306e4c36069404c5723f) // 10G
                mstore(0x2a0, 0x878662a229aaae906e123cdd9d3b4c10590ded29fe751eeeca34bbaa44af0773)
                mstore(0x2c0, 0x3ed113b7883b4c590638379db0c21cda16742ed0255048bf433391d374bc21d1) // 11G
                mstore(0x2e0, 0x9099209accc4c8a224c843afa4f4c68a090d04da5e9889dae2f8eefce82a3740)
                mstore(0x300, 0x741dd5bda817d95e4626537320e5d55179983028b2f82c99d500c5ee8624e3c4) // 12G
                mstore(0x320, 0x0770b46a9c385fdc567383554887b1548eeb912c35ba5ca71995ff22cd4481d3)
                mstore(0x340, 0x177c837ae0ac495a61805df2d85ee2fc792e284b65ead58a98e15d9d46072c01) // 13G
                mstore(0x360, 0x63bb58cd4ebea558a24091adb40f4e7226ee14c3a1fb4df39c43bbe2efc7bfd8)
                mstore(0x380, 0x54e77a001c3862b97a76647f4336df3cf126acbe7a069c5e5709277324d2920b) // 14G
                mstore(0x3a0, 0xf599f1bb29f4317542121f8c05a2e7c37171ea77735090081ba7c82f60d0b375)
                mstore(0x3c0, 0xf0454dc6971abae7adfb378999888265ae03af92de3a0ef163668c63e59b9d5f) // 15G
                mstore(0x3e0, 0xb5b93ee3592e2d1f4e6594e51f9643e62a3b21ce75b5fa3f47e59cde0d034f36)
            }

            // u1·G + u2·Q by fixed 4-bit windows from the top, both scalars at once: four doublings
            // per window, then the window's entry of each table, added in affine. The running point
            // starts at infinity (z = 0). Unrolled: loops over the doublings and the two tables cost
            // some 25,000 gas more in jumps and counters.
            let x
            let y
            let z
            // Declared last, so the most used value sits nearest the top of the stack.
            let p := _P
            for { let shift := 256 } shift {} {
                shift := sub(shift, 4)
                // Four doublings (dbl-2001-b, as `double`); none at infinity, which they would keep.
                if z {
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
                }
                // (x, y, z) + the window's entry of G, affine (madd-2004-hmv), unless the digit is 0.
                let offset := shl(6, and(shr(shift, mload(0x20)), 15))
                if offset {
                    switch z
                    case 0 {
                        // Infinity plus the entry.
                        x := mload(offset)
                        y := mload(add(offset, 0x20))
                        z := 1
                    }
                    default {
                        let h := mulmod(z, z, p)
                        let rr := addmod(mulmod(mload(add(offset, 0x20)), mulmod(h, z, p), p), sub(p, y), p)
                        h := addmod(mulmod(mload(offset), h, p), sub(p, x), p)
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
                // The same with the entry of Q.
                offset := add(0x400, shl(6, and(shr(shift, mload(0x420)), 15)))
                if gt(offset, 0x400) {
                    switch z
                    case 0 {
                        // Infinity plus the entry.
                        x := mload(offset)
                        y := mload(add(offset, 0x20))
                        z := 1
                    }
                    default {
                        let h := mulmod(z, z, p)
                        let rr := addmod(mulmod(mload(add(offset, 0x20)), mulmod(h, z, p), p), sub(p, y), p)
                        h := addmod(mulmod(mload(offset), h, p), sub(p, x), p)
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
            let r := mload(0x00)
            let zz := mulmod(z, z, p)
            if iszero(eq(x, mulmod(r, zz, p))) {
                if iszero(and(lt(r, sub(p, _N)), eq(x, mulmod(add(r, _N), zz, p)))) { return(0, 0) }
            }
            mstore(0x00, 1)
            return(0x00, 0x20)
        }
    }
}
