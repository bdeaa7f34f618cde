// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {P256Verifier} from "../../../contracts/signers/P256Verifier.sol";
import {Test} from "../utils/Vm.sol";

/// @notice Gas of one P-256 verification by `P256Verifier` and by the P256VERIFY precompile
///         (`0x100`), the same 160 bytes to each: the gas of the called frame, without the caller's
///         cost of reaching it (a cold `P256Verifier` adds 2,600 for its account). Results land in
///         snapshots/p256_gas.json. The invalid signature runs the whole multiplication and differs
///         from the valid one only in its windows' digits.
contract P256GasTest is Test {
    string internal constant GROUP = "p256_gas";
    address internal constant PRECOMPILE = address(0x100);
    uint256 internal constant KEY = 0xA11CE;

    address internal verifier;
    bytes internal valid;
    bytes internal invalid;

    function setUp() public {
        verifier = address(new P256Verifier());
        bytes32 digest = keccak256("a session key's operation");
        (bytes32 r, bytes32 s) = vm.signP256(KEY, digest);
        (uint256 x, uint256 y) = vm.publicKeyP256(KEY);
        valid = abi.encodePacked(digest, r, s, x, y);
        // Another digest: the whole multiplication runs, and R'.x is not r.
        invalid = abi.encodePacked(keccak256("another operation"), r, s, x, y);
    }

    function _measure(address target, bytes memory data, bool expected, string memory name) internal {
        (bool success, bytes memory answer) = target.staticcall(data);
        vm.snapshotGasLastCall(GROUP, name);
        vm.assertTrue(success, "the call succeeds");
        vm.assertEq(answer.length != 0, expected, "the answer");
    }

    function test_gas_p256_verifier_fallback() public {
        _measure(verifier, valid, true, "p256_verifier_fallback");
    }

    function test_gas_p256_verifier_fallback_invalid() public {
        _measure(verifier, invalid, false, "p256_verifier_fallback_invalid");
    }

    function test_gas_p256_verifier_precompile() public {
        _measure(PRECOMPILE, valid, true, "p256_verifier_precompile");
    }
}
