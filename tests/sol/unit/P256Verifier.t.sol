// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {P256Verifier} from "../../../contracts/signers/P256Verifier.sol";
import {Test} from "../utils/Vm.sol";

/// @notice `P256Verifier` held to the P256VERIFY precompile (EIP-7951, at `0x100` under Osaka): the
///         same answer, as (success, return data), on valid signatures, on tampered ones, on
///         arbitrary input, and on every edge EIP-7951 names, each with its exact expectation too.
/// @dev The special vectors (R'.x ≥ n, a running point that meets infinity or the entry it adds, a
///      key with x = 0) were built offline with plain affine arithmetic: for a chosen R', r and s,
///      the key is recovered as Q = r⁻¹(s·R' − hash·G); for a chosen key Q and scalars u1, u2,
///      R' = u1·G + u2·Q gives r = R'.x mod n, s = r/u2 and hash = u1·s (every key has signatures
///      over some hash). A model of the verifier's windows confirmed which addition case each hits.
contract P256VerifierTest is Test {
    address internal constant PRECOMPILE = address(0x100);
    uint256 internal constant P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff;
    uint256 internal constant N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;
    uint256 internal constant GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296;
    uint256 internal constant GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5;
    bytes32 internal constant DIGEST = keccak256("a session key's operation");

    address internal verifier;

    struct Input {
        uint256 hash;
        uint256 r;
        uint256 s;
        uint256 x;
        uint256 y;
    }

    function setUp() public {
        verifier = address(new P256Verifier());
    }

    // ------------------------------------------------------------ helpers

    function _encode(Input memory input) internal pure returns (bytes memory) {
        return abi.encodePacked(input.hash, input.r, input.s, input.x, input.y);
    }

    /// @dev `key`'s signature of `digest`, with its public key.
    function _signed(uint256 key, bytes32 digest) internal pure returns (Input memory input) {
        (bytes32 r, bytes32 s) = vm.signP256(key, digest);
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        input = Input(uint256(digest), uint256(r), uint256(s), x, y);
    }

    /// @dev Both answers to `data`, checked equal: the verifier never reverts and answers 32 bytes
    ///      of 1 or nothing, and the precompile answers the same. Returns whether it was "valid".
    function _agreed(bytes memory data) internal view returns (bool valid) {
        (bool success, bytes memory answer) = verifier.staticcall(data);
        (bool precompileSuccess, bytes memory precompileAnswer) = PRECOMPILE.staticcall(data);
        vm.assertTrue(success, "the verifier does not revert");
        vm.assertTrue(precompileSuccess, "the precompile does not revert");
        vm.assertEq(answer, precompileAnswer, "the verifier answers what the precompile does");
        valid = answer.length != 0;
        if (valid) vm.assertEq(answer, abi.encode(uint256(1)), "a valid answer is 32 bytes of 1");
    }

    function _assertValid(Input memory input, string memory what) internal view {
        vm.assertTrue(_agreed(_encode(input)), what);
    }

    function _assertInvalid(Input memory input, string memory what) internal view {
        vm.assertFalse(_agreed(_encode(input)), what);
    }

    function _assertInvalid(bytes memory data, string memory what) internal view {
        vm.assertFalse(_agreed(data), what);
    }

    /// @dev A private key in [1, n − 1] from any seed.
    function _key(uint256 seed) internal pure returns (uint256) {
        return 1 + seed % (N - 1);
    }

    // ------------------------------------------------------------ valid signatures

    function test_validSignaturesVerify() public view {
        uint256[6] memory keys = [uint256(2), 3, 0xA11CE, 0xB0B, N - 2, uint256(keccak256("a long key")) % N];
        for (uint256 i; i < keys.length; ++i) {
            _assertValid(_signed(keys[i], DIGEST), "a signature of the digest");
            _assertValid(_signed(keys[i], bytes32(0)), "a signature of the zero digest");
            _assertValid(_signed(keys[i], bytes32(type(uint256).max)), "a signature of a digest above n");
            _assertValid(_signed(keys[i], keccak256(abi.encode(i))), "a signature of another digest");
        }
    }

    /// @dev RFC 6979, A.2.5: the P-256 key and its deterministic SHA-256 signatures of "sample" and
    ///      "test", as published (data typed in, checked offline against the `cryptography` package).
    function test_rfc6979Vectors() public view {
        uint256 x = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6;
        uint256 y = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299;
        Input memory sample = Input(
            uint256(sha256("sample")),
            0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
            0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8,
            x,
            y
        );
        Input memory test = Input(
            uint256(sha256("test")),
            0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
            0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083,
            x,
            y
        );
        _assertValid(sample, "RFC 6979 P-256/SHA-256 \"sample\"");
        _assertValid(test, "RFC 6979 P-256/SHA-256 \"test\"");
        // The published key is the private key's, as the cheatcode derives it.
        (uint256 derivedX, uint256 derivedY) =
            vm.publicKeyP256(0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721);
        vm.assertEq(derivedX, x, "RFC 6979 public key x");
        vm.assertEq(derivedY, y, "RFC 6979 public key y");
        sample.hash = uint256(sha256("test"));
        _assertInvalid(sample, "\"sample\"'s signature over \"test\"");
    }

    /// @dev s and n − s are both valid: EIP-7951 has no low-s rule.
    function test_highSVerifies() public view {
        for (uint256 i; i < 4; ++i) {
            Input memory input = _signed(0xA11CE + i, keccak256(abi.encode("high s", i)));
            _assertValid(input, "the signature as signed");
            input.s = N - input.s;
            _assertValid(input, "its other s, n - s");
        }
    }

    // ------------------------------------------------------------ fuzz: agreement with the precompile

    /// @dev Any key, any digest: both accept the signature, and both refuse it with one bit of one
    ///      word flipped.
    function testFuzz_signaturesAndTamperedSignatures(uint256 keySeed, bytes32 digest, uint8 word, uint8 bit)
        public
        view
    {
        Input memory input = _signed(_key(keySeed), digest);
        _assertValid(input, "a valid signature");
        uint256 flip = 1 << bit;
        word %= 5;
        if (word == 0) input.hash ^= flip;
        else if (word == 1) input.r ^= flip;
        else if (word == 2) input.s ^= flip;
        else if (word == 3) input.x ^= flip;
        else input.y ^= flip;
        _assertInvalid(input, "the signature with one bit flipped");
    }

    /// @dev Any key and signature with the hash replaced by −r·d (mod n): R' is the point at infinity.
    function testFuzz_rPrimeAtInfinity(uint256 keySeed, bytes32 digest) public view {
        uint256 key = _key(keySeed);
        Input memory input = _signed(key, digest);
        input.hash = N - mulmod(input.r, key, N);
        _assertInvalid(input, "R' at infinity");
    }

    /// @dev 160 arbitrary bytes: nearly always off the curve.
    function testFuzz_anyInput(uint256 hash, uint256 r, uint256 s, uint256 x, uint256 y) public view {
        _agreed(abi.encodePacked(hash, r, s, x, y));
    }

    /// @dev Input of any length.
    function testFuzz_anyLength(bytes calldata data) public view {
        _agreed(data);
    }

    /// @dev Arbitrary hash, r and s (half the time reduced into range) against a real key, so the
    ///      whole multiplication runs: all but never valid, and both must say so alike.
    function testFuzz_anySignatureOnAKey(uint256 keySeed, uint256 hash, uint256 r, uint256 s) public view {
        (uint256 x, uint256 y) = vm.publicKeyP256(_key(keySeed));
        if (hash & 1 == 0) {
            r %= N;
            s %= N;
        }
        _agreed(abi.encodePacked(hash, r, s, x, y));
    }

    // ------------------------------------------------------------ edges, exact expectations

    function test_wrongLengthsAreRefused() public view {
        bytes memory data = _encode(_signed(0xA11CE, DIGEST));
        vm.assertTrue(_agreed(data), "the 160 bytes verify");
        _assertInvalid("", "no calldata");
        bytes memory short = new bytes(159);
        for (uint256 i; i < 159; ++i) {
            short[i] = data[i];
        }
        _assertInvalid(short, "159 bytes");
        _assertInvalid(bytes.concat(data, hex"00"), "161 bytes (a zero byte appended)");
        _assertInvalid(bytes.concat(data, data), "320 bytes");
    }

    function test_scalarsOutOfRangeAreRefused() public view {
        Input memory valid = _signed(0xA11CE, DIGEST);
        Input memory input = _signed(0xA11CE, DIGEST);
        input.r = 0;
        _assertInvalid(input, "r = 0");
        input.r = N;
        _assertInvalid(input, "r = n");
        input.r = type(uint256).max;
        _assertInvalid(input, "r = 2^256 - 1");
        input.r = valid.r;
        input.s = 0;
        _assertInvalid(input, "s = 0");
        input.s = N;
        _assertInvalid(input, "s = n");
        input.s = type(uint256).max;
        _assertInvalid(input, "s = 2^256 - 1");
        input.s = N - 1;
        _assertInvalid(input, "s = n - 1, in range but not the signature's");
    }

    function test_keysOffTheCurveOrOutOfRangeAreRefused() public view {
        Input memory input = _signed(0xA11CE, DIGEST);
        uint256 y = input.y;
        input.y = y + 1;
        _assertInvalid(input, "(x, y + 1): off the curve");
        input.y = P - y;
        _assertInvalid(input, "(x, -y): on the curve, another key");
        input.y = P;
        _assertInvalid(input, "y = p");
        input.y = y;
        input.x = P;
        _assertInvalid(input, "x = p");
        input.x = 0;
        input.y = 0;
        _assertInvalid(input, "(0, 0), the precompile's point at infinity");
        input.x = GX;
        input.y = GY + 1;
        _assertInvalid(input, "(Gx, Gy + 1): off the curve");
    }

    /// @dev (0, √b) is on the curve. A valid signature for it verifies; with x = p (≡ 0) it must not,
    ///      though the point is the same one modulo p.
    function test_aKeyWithXZeroAndItsAliasAtP() public view {
        Input memory input = Input(
            0xb63325fb9f9c0f590fe5e24f089d2aaed92eed860a9d9c60386f2b022948d865,
            0x2ef8ee5faa19ec0bb878fa483bd47d64900ff3c40bfa45fa2098814ad70cba3c,
            0x8e91aa8c1d38f1cf81f4227e579b2556f2d29b60deeb4e0d016eaa584ed8de4e,
            0,
            0x66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4
        );
        _assertValid(input, "the key (0, sqrt(b))");
        input.x = P;
        _assertInvalid(input, "the key written (p, sqrt(b))");
    }

    /// @dev R' = (n + 3, ·), a point whose x is at least n: r = R'.x − n = 3 is the signature's r,
    ///      and r = R'.x itself is out of range.
    function test_rPrimeXAboveN() public view {
        Input memory input = Input(
            0x36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f81818e811892f902b,
            3,
            0xd23f0824128b2f330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b439,
            0x514a283576566392cf6752dc9a84f5cc0b1a40bc966df6c765f362471cb50a3f,
            0x3705e17876d0b7b5be1cfae7f9751757fcbc41930f817931592711733f24943f
        );
        _assertValid(input, "r = R'.x - n");
        input.r = N + 3;
        _assertInvalid(input, "r = R'.x, not reduced");
        input.r = 4;
        _assertInvalid(input, "r = R'.x - n + 1");
    }

    /// @dev hash = −r·d (mod n) makes u1·G + u2·Q = s⁻¹(hash + r·d)·G the point at infinity.
    function test_rPrimeAtInfinityIsRefused() public view {
        uint256[4] memory keys = [uint256(0xA11CE), 7, N - 2, 2];
        for (uint256 i; i < keys.length; ++i) {
            Input memory input = _signed(keys[i], DIGEST);
            input.hash = N - mulmod(input.r, keys[i], N);
            _assertInvalid(input, "R' at infinity");
            // The same, with the hash written as hash + n where that fits.
            if (input.hash <= type(uint256).max - N) {
                input.hash += N;
                _assertInvalid(input, "R' at infinity, the hash above n");
            }
        }
    }

    /// @dev Q = G and Q = −G, the keys 1 and n − 1, whose G + Q the verifier cannot tabulate.
    function test_keysPlusAndMinusG() public view {
        vm.assertEq(_signed(1, DIGEST).x, GX, "key 1 is G");
        vm.assertEq(_signed(N - 1, DIGEST).y, P - GY, "key n - 1 is -G");
        for (uint256 i; i < 3; ++i) {
            bytes32 digest = keccak256(abi.encode("plus and minus G", i));
            _assertValid(_signed(1, digest), "key 1");
            _assertValid(_signed(N - 1, digest), "key n - 1");
            Input memory input = _signed(1, digest);
            input.hash = N - input.r; // hash + r·1 = 0.
            _assertInvalid(input, "key 1, R' at infinity");
            input = _signed(N - 1, digest);
            input.hash = input.r; // hash − r = 0.
            _assertInvalid(input, "key n - 1, R' at infinity");
        }
    }

    /// @dev Keys 1..16 and n − 16..n − 1: Q = ±kG, so Q's table holds ±G's entries.
    function test_smallKeysAndKeysNearN() public view {
        for (uint256 k = 1; k <= 16; ++k) {
            _assertValid(_signed(k, DIGEST), "a small key");
            _assertValid(_signed(N - k, DIGEST), "a key near n");
        }
    }

    /// @dev Key 0xA11CE and u1, u2 chosen so that at window 0 (the last four bits of each scalar)
    ///      the running point equals the entry it adds, and the addition must double: here G's
    ///      entry 1, R' = 2G.
    function test_runningPointMeetsItsGEntry() public view {
        Input memory input = _alice(
            0x343ab661b47612ccaca9584122fbfead67660105c92e81294e5ae4f3ca8d0b51,
            0x7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978,
            0x544068e54029f76e50546688ff92ab8ea60138e24f12dce93effc29db65e3ef4
        );
        _assertValid(input, "R' = 2G by the equal-point addition");
    }

    /// @dev The same with Q's entry 1: R' = 2Q.
    function test_runningPointMeetsItsQEntry() public view {
        Input memory input = _alice(
            0x32f29f0e6847cad0365a82ead35b9a7d35c8bd844810ff7c6c7049904e088f2e,
            0x5c467e2f06bbdc338c71dc0048d88ff932bb134021b119c15912ff43b8b453bd,
            0xadf80e88febf92dd822f47801db72a39d5ec22f0209adfc433d57b9371259ffd
        );
        _assertValid(input, "R' = 2Q by the equal-point addition");
    }

    /// @dev Key 0xA11CE and u1, u2 chosen so that the running point meets the negation of Q's entry
    ///      at window 1 (infinity), then takes G's entry 1 at window 0 from infinity: R' = G, and the
    ///      signature (r = Gx) is valid; with n − s, R' = −G, whose x is the same.
    function test_runningPointThroughInfinity() public view {
        Input memory input = _alice(
            0xe0500d6f8bf0a2602b65ade7712abfe9bde358d3fc540e354e27fb55687e70e3,
            GX,
            0xd5ed21f044c040cee3b29a861120ddb46df77c99ccd7ed9464354438517ec1e6
        );
        _assertValid(input, "R' = G through infinity");
        input.s = N - input.s;
        _assertValid(input, "n - s: R' = -G");
        input.hash ^= 1;
        _assertInvalid(input, "another hash");
    }

    /// @dev A signature by 0xA11CE's key, checked against the cheatcode's key.
    function _alice(uint256 hash, uint256 r, uint256 s) internal pure returns (Input memory) {
        (uint256 x, uint256 y) = vm.publicKeyP256(0xA11CE);
        vm.assertEq(x, 0x7268876e19db7d7a651d55d5f3cd08b0f14f0f2d99ac383d56e705cc58b2de09, "0xA11CE's x");
        return Input(hash, r, s, x, y);
    }

    function test_valueIsAccepted() public {
        (bool success, bytes memory answer) = verifier.call{value: 1}(_encode(_signed(0xA11CE, DIGEST)));
        vm.assertTrue(success, "a call with value does not revert");
        vm.assertEq(answer, abi.encode(uint256(1)), "and verifies");
    }
}
