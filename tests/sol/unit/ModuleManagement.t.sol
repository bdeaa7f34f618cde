// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {IERC7579Account} from "../../../contracts/interfaces/IERC7579Account.sol";
import {ILeashAccount} from "../../../contracts/interfaces/ILeashAccount.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";

/// @notice A third-party ERC-7579 validator whose answers the test sets.
contract MockValidator {
    error Refused(uint256 code);

    bool public validatorType = true;
    bool public revertOnUninstall;
    bool public revertOnValidate;
    bool public returnNothing;
    uint256 public validationResult;
    uint256 public installs;
    uint256 public uninstalls;

    function configure(bool validatorType_, bool revertOnUninstall_, bool revertOnValidate_, bool returnNothing_)
        external
    {
        validatorType = validatorType_;
        revertOnUninstall = revertOnUninstall_;
        revertOnValidate = revertOnValidate_;
        returnNothing = returnNothing_;
    }

    function setValidationResult(uint256 result) external {
        validationResult = result;
    }

    function onInstall(bytes calldata) external payable {
        ++installs;
    }

    function onUninstall(bytes calldata) external payable {
        if (revertOnUninstall) revert Refused(1);
        ++uninstalls;
    }

    function isModuleType(uint256 moduleTypeId) external view returns (bool) {
        return validatorType && moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    function validateUserOp(PackedUserOperation calldata, bytes32) external payable returns (uint256) {
        if (revertOnValidate) revert Refused(2);
        if (returnNothing) {
            assembly {
                return(0x00, 0x00)
            }
        }
        return validationResult;
    }

    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }
}

/// @notice Module management on `LeashAccount`: who may install and uninstall, that an uninstalled
///         third-party validator is really gone, and how the account routes validation to one.
contract ModuleManagementTest is SessionTestBase {
    MockValidator internal mock;

    function setUp() public override {
        super.setUp();
        mock = new MockValidator();
    }

    function _installMock() internal {
        vm.prank(owner);
        account.installModule(MODULE_TYPE_VALIDATOR, address(mock), "");
    }

    function _mockNonceKey() internal view returns (uint192) {
        return uint192(uint160(address(mock))) << 32;
    }

    /// @dev An operation routed to the mock validator (which ignores the signature).
    function _mockOp() internal view returns (PackedUserOperation memory userOp) {
        userOp = buildUserOp(owner, _mockNonceKey(), _single(alice, 1 ether, ""));
        userOp.signature = hex"00";
    }

    function _rejectsWith(PackedUserOperation memory userOp, bytes memory inner) internal {
        vm.expectRevert(abi.encodeWithSignature("FailedOpWithRevert(uint256,string,bytes)", 0, "AA23 reverted", inner));
        handleOp(userOp);
    }

    // ------------------------------------------------------------ authorization

    function test_uninstallModule_rejectsOtherCallers() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(validator), "");
        vm.assertTrue(validator.isInitialized(owner), "still installed");
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "account agrees");
    }

    function test_uninstallModule_rejectsOtherCallersForThirdPartyValidators() public {
        _installMock();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(mock), "");
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock), ""), "still installed");
    }

    function test_uninstallModule_byOwnerUserOperation() public {
        PackedUserOperation memory userOp = buildUserOp(
            owner, 0, abi.encodeCall(LeashAccount.uninstallModule, (MODULE_TYPE_VALIDATOR, address(validator), ""))
        );
        signUserOp(userOp, OWNER_KEY);
        handleOp(userOp);
        vm.assertFalse(validator.isInitialized(owner), "uninstalled through the EntryPoint");
    }

    function test_installModule_rejectsOtherCallersForThirdPartyValidators() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnauthorizedCaller.selector, alice));
        account.installModule(MODULE_TYPE_VALIDATOR, address(mock), "");
        vm.assertFalse(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock), ""), "not installed");
    }

    // ------------------------------------------------------------ third-party validators

    function test_thirdPartyValidator_installedValidatesAndUninstalledIsGone() public {
        vm.expectEmit(owner);
        emit IERC7579Account.ModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock));
        _installMock();
        vm.assertEq(mock.installs(), 1, "onInstall called");
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock), ""), "installed");

        handleOp(_mockOp());
        vm.assertEq(alice.balance, 1 ether, "the validator's operation executed");

        vm.expectEmit(owner);
        emit IERC7579Account.ModuleUninstalled(MODULE_TYPE_VALIDATOR, address(mock));
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(mock), "");
        vm.assertEq(mock.uninstalls(), 1, "onUninstall called");
        vm.assertFalse(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock), ""), "uninstalled");
        _rejectsWith(_mockOp(), abi.encodeWithSelector(ILeashAccount.ValidatorNotInstalled.selector, address(mock)));

        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.ModuleNotInstalled.selector, address(mock)));
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(mock), "");
    }

    function test_thirdPartyValidator_failingOnUninstallIsRemovedAnyway() public {
        _installMock();
        mock.configure(true, true, false, false);
        vm.prank(owner);
        account.uninstallModule(MODULE_TYPE_VALIDATOR, address(mock), "");
        vm.assertFalse(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(mock), ""), "uninstalled");
        _rejectsWith(_mockOp(), abi.encodeWithSelector(ILeashAccount.ValidatorNotInstalled.selector, address(mock)));
    }

    function test_thirdPartyValidator_cannotBeInstalledTwice() public {
        _installMock();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.ModuleAlreadyInstalled.selector, address(mock)));
        account.installModule(MODULE_TYPE_VALIDATOR, address(mock), "");
        vm.assertEq(mock.installs(), 1, "onInstall called once");
    }

    function test_thirdPartyValidator_neverInstalledIsRejected() public {
        _rejectsWith(_mockOp(), abi.encodeWithSelector(ILeashAccount.ValidatorNotInstalled.selector, address(mock)));
    }

    function test_install_rejectsContractThatSaysItIsNoValidator() public {
        mock.configure(false, false, false, false);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(ILeashAccount.NotAModuleOfType.selector, address(mock), MODULE_TYPE_VALIDATOR)
        );
        account.installModule(MODULE_TYPE_VALIDATOR, address(mock), "");
    }

    function test_uninstall_rejectsUnsupportedModuleType() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnsupportedModuleType.selector, uint256(2)));
        account.uninstallModule(2, address(validator), "");
        vm.assertTrue(validator.isInitialized(owner), "still installed");
    }

    function test_moduleTypes_onlyValidators() public view {
        vm.assertTrue(account.supportsModule(MODULE_TYPE_VALIDATOR), "validator");
        vm.assertFalse(account.supportsModule(2), "executor");
        vm.assertTrue(account.isModuleInstalled(MODULE_TYPE_VALIDATOR, address(validator), ""), "installed");
        vm.assertFalse(account.isModuleInstalled(2, address(validator), ""), "not as another type");
    }

    // ------------------------------------------------------------ validation routing

    function test_thirdPartyValidator_resultIsPassedThrough() public {
        _installMock();
        mock.setValidationResult(1);
        PackedUserOperation memory userOp = _mockOp();
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        handleOp(userOp);
    }

    function test_thirdPartyValidator_revertBubblesUnchanged() public {
        _installMock();
        mock.configure(true, false, true, false);
        _rejectsWith(_mockOp(), abi.encodeWithSelector(MockValidator.Refused.selector, 2));
    }

    function test_thirdPartyValidator_returningNoDataReverts() public {
        _installMock();
        mock.configure(true, false, false, true);
        _rejectsWith(_mockOp(), "");
    }

    // ------------------------------------------------------------ interfaces and receipts

    function test_supportsInterface() public view {
        vm.assertTrue(account.supportsInterface(0x01ffc9a7), "ERC-165");
        vm.assertTrue(account.supportsInterface(type(IAccount).interfaceId), "IAccount");
        vm.assertTrue(account.supportsInterface(0x1626ba7e), "ERC-1271");
        vm.assertFalse(account.supportsInterface(0xffffffff), "not 0xffffffff");
    }

    function test_tokenReceiptHooks() public view {
        vm.assertTrue(
            account.onERC721Received(alice, alice, 1, "") == LeashAccount.onERC721Received.selector, "ERC-721"
        );
        vm.assertTrue(
            account.onERC1155Received(alice, alice, 1, 1, "") == LeashAccount.onERC1155Received.selector, "ERC-1155"
        );
        vm.assertTrue(
            account.onERC1155BatchReceived(alice, alice, new uint256[](0), new uint256[](0), "")
                == LeashAccount.onERC1155BatchReceived.selector,
            "ERC-1155 batch"
        );
    }

    function test_execute_rejectsUnknownCallType() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(ILeashAccount.UnsupportedCallType.selector, bytes1(0x02)));
        account.execute(bytes32(bytes1(0x02)), abi.encodePacked(alice, uint256(1)));
    }
}
