// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Deploy} from "../../../script/Deploy.s.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {Test} from "../utils/Vm.sol";

/// @notice Runs the deployment script in-process, twice: everything lands at its deterministic
///         address, and the second run deploys nothing.
contract DeployScriptTest is Test {
    address internal constant CREATE2_DEPLOYER = 0x4e59b44847b379578588920cA78FbF26c0B4956C;
    bytes internal constant CREATE2_DEPLOYER_CODE =
        hex"7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

    Deploy internal script;

    function setUp() public {
        if (CREATE2_DEPLOYER.code.length == 0) vm.etch(CREATE2_DEPLOYER, CREATE2_DEPLOYER_CODE);
        script = new Deploy();
    }

    function test_deploysEverythingOnceAtItsAddress() public {
        vm.assertEq(script.run(), 6, "first run deploys all six contracts on chain 31337");
        Deploy.Deployment[] memory list = script.deployments();
        vm.assertEq(list.length, 6, "six deployments on chain 31337");
        // The canonical ERC-4337 v0.8 addresses, and leash's CREATE2 addresses under salt 0.
        vm.assertEq(script.addressOf(list[0]), 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108, "EntryPoint");
        vm.assertEq(script.addressOf(list[1]), 0xe6Cae83BdE06E4c305530e199D7217f42808555B, "Simple7702Account");
        for (uint256 i = 2; i < list.length; ++i) {
            vm.assertEq(list[i].salt, bytes32(0), list[i].name);
        }
        vm.assertEq(list[2].initCode, type(LeashAccount).creationCode, "LeashAccount init code");
        for (uint256 i; i < list.length; ++i) {
            vm.assertTrue(script.addressOf(list[i]).code.length != 0, list[i].name);
        }
        vm.assertEq(
            LeashAccount(payable(script.addressOf(list[2]))).SESSION_KEY_VALIDATOR(),
            script.addressOf(list[3]),
            "the account's built-in validator is the deployed one"
        );

        vm.assertEq(script.run(), 0, "second run deploys nothing");
    }

    function test_skipsTestContractsOffLocalChains() public {
        vm.chainId(1);
        vm.assertEq(script.deployments().length, 4, "no TestToken or Target off chain 31337");
        vm.assertEq(script.run(), 4, "four contracts");
    }
}
