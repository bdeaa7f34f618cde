// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SessionTestBase} from "../utils/SessionTestBase.sol";

/// @notice Every deployed contract fits EIP-170, which forge does not enforce in tests but every
///         chain does at deployment.
contract CodeSizeTest is SessionTestBase {
    uint256 internal constant EIP170_LIMIT = 24_576;

    function test_theValidatorAndTheAccountFitEip170() public view {
        vm.assertTrue(address(validator).code.length <= EIP170_LIMIT, "SessionKeyValidator over EIP-170");
        vm.assertTrue(address(account).code.length <= EIP170_LIMIT, "LeashAccount over EIP-170");
    }
}
