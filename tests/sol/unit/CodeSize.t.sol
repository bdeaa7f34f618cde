// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {SessionKeyValidator} from "../../../contracts/modules/SessionKeyValidator.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";

/// @notice Every deployed contract fits EIP-170, and every init code EIP-3860, which forge does not
///         enforce in tests but every chain does at deployment. The validator's init code nests
///         `SessionSigners`, `P256Verifier` and `SessionMessages`; the account's nests the validator's.
contract CodeSizeTest is SessionTestBase {
    uint256 internal constant EIP170_LIMIT = 24_576;
    uint256 internal constant EIP3860_LIMIT = 49_152;

    function test_theValidatorAndTheAccountFitEip170() public view {
        vm.assertTrue(address(validator).code.length <= EIP170_LIMIT, "SessionKeyValidator over EIP-170");
        vm.assertTrue(address(account).code.length <= EIP170_LIMIT, "LeashAccount over EIP-170");
        SessionKeyValidator deployed = validator;
        vm.assertTrue(address(deployed.SIGNERS()).code.length <= EIP170_LIMIT, "SessionSigners over EIP-170");
        vm.assertTrue(address(deployed.MESSAGES()).code.length <= EIP170_LIMIT, "SessionMessages over EIP-170");
    }

    function test_theInitCodesFitEip3860() public pure {
        vm.assertTrue(type(SessionKeyValidator).creationCode.length <= EIP3860_LIMIT, "validator init code");
        vm.assertTrue(type(LeashAccount).creationCode.length <= EIP3860_LIMIT, "account init code");
    }
}
