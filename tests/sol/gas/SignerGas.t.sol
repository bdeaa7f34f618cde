// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {
    SIGNER_CONTRACT,
    SIGNER_P256,
    SIGNER_P256_FALLBACK,
    SIGNER_SECP256K1,
    SIGNER_WEBAUTHN,
    SIGNER_WEBAUTHN_FALLBACK
} from "../../../contracts/types/SessionTypes.sol";
import {SignerBuilders} from "../utils/SignerBuilders.sol";

/// @notice Gas of the same scoped ERC-20 transfer as `session_erc20_transfer` (snapshots/session_gas.json),
///         signed by each kind of session key; results land in snapshots/signer_gas.json and
///         docs/benchmarks.md explains them. One cold transaction per test.
/// forge-config: default.isolate = true
contract SignerGasTest is SignerBuilders {
    string internal constant GROUP = "signer_gas";
    uint256 internal constant AMOUNT = 1 ether;

    function setUp() public override {
        super.setUp();
        // As in SessionGasTest: the recipient and the beneficiary already exist.
        token.mint(alice, 1);
        vm.deal(bundler, 1);
    }

    function _measure(uint8 kind, string memory name) internal {
        bytes32 sessionId = _enable(
            _grantTo(
                _idOf(kind), _list(_functionsOn(address(token), bytes4(0xa9059cbb)), _erc20(address(token), ALLOWANCE))
            )
        );
        PackedUserOperation memory userOp = _useOpAs(kind, sessionId, _transfer(alice, AMOUNT));
        handleOp(userOp);
        vm.snapshotGasLastCall(GROUP, name);
        vm.snapshotValue(GROUP, string.concat(name, "_signature_bytes"), userOp.signature.length);
    }

    function test_gas_signer_secp256k1() public {
        _measure(SIGNER_SECP256K1, "erc20_transfer_secp256k1");
    }

    function test_gas_signer_contract() public {
        _measure(SIGNER_CONTRACT, "erc20_transfer_contract_signer");
    }

    function test_gas_signer_p256() public {
        _measure(SIGNER_P256, "erc20_transfer_p256_precompile");
    }

    function test_gas_signer_p256_fallback() public {
        _measure(SIGNER_P256_FALLBACK, "erc20_transfer_p256_fallback");
    }

    function test_gas_signer_webauthn() public {
        _measure(SIGNER_WEBAUTHN, "erc20_transfer_webauthn_precompile");
    }

    function test_gas_signer_webauthn_fallback() public {
        _measure(SIGNER_WEBAUTHN_FALLBACK, "erc20_transfer_webauthn_fallback");
    }
}
