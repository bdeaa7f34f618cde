// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ERC20} from "solady/tokens/ERC20.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {PermissionType, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";

/// @notice For every permission type: what it allows, and each way it blocks, with the exact error.
contract SessionPermissionsTest is SessionTestBase {
    TestToken internal otherToken;
    Target internal otherTarget;

    function setUp() public override {
        super.setUp();
        otherToken = new TestToken();
        otherToken.mint(owner, 1000 ether);
        otherTarget = new Target();
    }

    function _ping(address to) internal pure returns (bytes memory) {
        return _single(to, 0, abi.encodeCall(Target.ping, ()));
    }

    // ------------------------------------------------------------ root

    function test_root_allowsAnyCallOutsideTheAccount() public {
        bytes32 id = _enable(_grant(_list(_root())));
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(alice, 3 ether, "");
        executions[2] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 500 ether)));
        handleOp(_useOp(id, _batch(executions), SESSION_KEY, true));
        vm.assertEq(target.pings(), 1, "ping");
        vm.assertEq(alice.balance, 3 ether, "value is unlimited");
        vm.assertEq(token.balanceOf(alice), 500 ether, "tokens are unlimited");
    }

    function test_root_blocksCallsToTheAccount() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes memory data = abi.encodeCall(LeashAccount.installModule, (MODULE_TYPE_VALIDATOR, alice, ""));
        _rejects(
            _useOp(id, _single(owner, 0, data), SESSION_KEY, true),
            abi.encodeWithSelector(
                ISessionKeyValidator.ForbiddenCall.selector, id, owner, LeashAccount.installModule.selector
            )
        );
    }

    function test_root_blocksCallsToTheValidator() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes memory data = abi.encodeCall(ISessionKeyValidator.revokeAllSessions, ());
        _rejects(
            _useOp(id, _single(address(validator), 0, data), SESSION_KEY, true),
            abi.encodeWithSelector(
                ISessionKeyValidator.ForbiddenCall.selector,
                id,
                address(validator),
                ISessionKeyValidator.revokeAllSessions.selector
            )
        );
    }

    function test_root_blocksModuleManagementAsTheUserOperationItself() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes memory callData =
            abi.encodeCall(LeashAccount.uninstallModule, (MODULE_TYPE_VALIDATOR, address(validator), ""));
        _rejects(
            _useOp(id, callData, SESSION_KEY, true),
            abi.encodeWithSelector(
                ISessionKeyValidator.NotAnExecuteCall.selector, id, LeashAccount.uninstallModule.selector
            )
        );
    }

    function test_root_blocksDelegatecallMode() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes32 mode = bytes32(bytes1(0xff));
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (mode, abi.encodePacked(address(target), "")));
        _rejects(
            _useOp(id, callData, SESSION_KEY, true),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, id, mode)
        );
    }

    function test_root_cannotBeCombined() public {
        SessionGrant memory grant = _grant(_list(_root(), _native(1)));
        _enableReverts(
            grant, abi.encodeWithSelector(ISessionKeyValidator.RootNotExclusive.selector, validator.getSessionId(grant))
        );
    }

    function test_root_claimedByScopedSessionIsRejected() public {
        bytes32 id = _enable(_grant(_list(_native(1 ether))));
        _rejects(
            _useOp(id, _single(alice, 1, ""), SESSION_KEY, true),
            abi.encodeWithSelector(ISessionKeyValidator.NotRootSession.selector, id)
        );
    }

    function test_root_signedInScopedModeHasNoScopes() public {
        bytes32 id = _enable(_grant(_list(_root())));
        _rejects(
            _useOp(id, _ping(address(target))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.ping.selector
            )
        );
    }

    // ------------------------------------------------------------ native-token-transfer

    function test_native_allowsValueUpToTheAllowance() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        handleOp(_useOp(id, _single(alice, 4 ether, "")));
        vm.assertEq(alice.balance, 4 ether, "sent");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)), 6 ether, "remaining"
        );
    }

    function test_native_exactAllowancePassesAndOneWeiMoreFails() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        handleOp(_useOp(id, _single(alice, ALLOWANCE, "")));
        vm.assertEq(alice.balance, ALLOWANCE, "whole allowance sent");
        _rejects(
            _useOp(id, _single(alice, 1, "")),
            abi.encodeWithSelector(ISessionKeyValidator.NativeAllowanceExceeded.selector, id, alice, 1, 0)
        );
    }

    function test_native_blocksOverAllowance() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _rejects(
            _useOp(id, _single(alice, ALLOWANCE + 1, "")),
            abi.encodeWithSelector(
                ISessionKeyValidator.NativeAllowanceExceeded.selector, id, alice, ALLOWANCE + 1, ALLOWANCE
            )
        );
    }

    function test_native_blocksValueWithoutPermission() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        _rejects(
            _useOp(id, _single(address(target), 1, abi.encodeCall(Target.ping, ()))),
            abi.encodeWithSelector(ISessionKeyValidator.NativeTransferNotAllowed.selector, id, address(target), 1)
        );
    }

    function test_native_doesNotAllowCallingFunctions() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _rejects(
            _useOp(id, _single(address(target), 1, abi.encodeCall(Target.ping, ()))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.ping.selector
            )
        );
    }

    // ------------------------------------------------------------ erc20-token-transfer

    function test_erc20_allowsSpendCallsAndCountsThem() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 1 ether)));
        executions[1] = Execution(address(token), 0, abi.encodeCall(ERC20.approve, (alice, 2 ether)));
        executions[2] = Execution(address(token), 0, abi.encodeCall(ERC20.transferFrom, (owner, alice, 0)));
        handleOp(_useOp(id, _batch(executions)));
        vm.assertEq(token.balanceOf(alice), 1 ether, "transferred");
        vm.assertEq(token.allowance(owner, alice), 2 ether, "approved");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE - 3 ether,
            "transfer and approval counted"
        );
    }

    function test_erc20_increaseAllowanceCountsEvenWhenExecutionReverts() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        // solady's ERC20 has no increaseAllowance, so execution reverts; validation has accounted it.
        handleOp(_useOp(id, _single(address(token), 0, abi.encodeWithSelector(0x39509351, alice, 3 ether))));
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE - 3 ether,
            "counted at validation"
        );
    }

    function test_erc20_exactAllowancePassesAndOneWeiMoreFails() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        handleOp(_useOp(id, _transfer(alice, ALLOWANCE)));
        vm.assertEq(token.balanceOf(alice), ALLOWANCE, "whole allowance moved");
        _rejects(
            _useOp(id, _transfer(alice, 1)),
            abi.encodeWithSelector(ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), 1, 0)
        );
    }

    function test_erc20_blocksTransferFromOverAllowance() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        bytes memory data = abi.encodeCall(ERC20.transferFrom, (owner, alice, ALLOWANCE + 1));
        _rejects(
            _useOp(id, _single(address(token), 0, data)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE + 1, ALLOWANCE
            )
        );
    }

    function test_erc20_blocksAnotherToken() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        bytes memory data = abi.encodeCall(ERC20.approve, (alice, 1));
        _rejects(
            _useOp(id, _single(address(otherToken), 0, data)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(otherToken), ERC20.approve.selector
            )
        );
    }

    function test_erc20_contractAccessAloneCannotMoveTokens() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(token)))));
        _rejects(
            _useOp(id, _transfer(alice, 1)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(token), ERC20.transfer.selector
            )
        );
    }

    function test_erc20_functionPermissionAloneCannotMoveTokens() public {
        bytes32 id = _enable(_grant(_list(_functionsOn(address(token), ERC20.transfer.selector))));
        _rejects(
            _useOp(id, _transfer(alice, 1)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(token), ERC20.transfer.selector
            )
        );
    }

    function test_erc20_blocksTruncatedSpendCall() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        bytes memory data = abi.encodePacked(ERC20.transfer.selector, bytes32(uint256(uint160(address(alice)))));
        _rejects(
            _useOp(id, _single(address(token), 0, data)),
            abi.encodeWithSelector(
                ISessionKeyValidator.MalformedErc20Call.selector, id, address(token), ERC20.transfer.selector
            )
        );
    }

    // ------------------------------------------------------------ gas-limit

    function _maxCost() internal pure returns (uint256) {
        return (VERIFICATION_GAS_LIMIT + CALL_GAS_LIMIT + PRE_VERIFICATION_GAS) * MAX_FEE_PER_GAS;
    }

    function test_gasLimit_countsTheMaximumCostOfSelfPaidOperations() public {
        bytes32 id = _enable(_grant(_list(_gasLimit(3 * _maxCost()), _native(ALLOWANCE))));
        handleOp(_useOp(id, _single(alice, 1, "")));
        handleOp(_useOp(id, _single(alice, 1, "")));
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)), _maxCost(), "two max costs spent"
        );
    }

    function test_gasLimit_exactLimitPassesAndTheNextOperationFails() public {
        bytes32 id = _enable(_grant(_list(_gasLimit(_maxCost()), _native(ALLOWANCE))));
        handleOp(_useOp(id, _single(alice, 1, "")));
        _rejects(
            _useOp(id, _single(alice, 1, "")),
            abi.encodeWithSelector(ISessionKeyValidator.GasLimitExceeded.selector, id, _maxCost(), 0)
        );
    }

    // ------------------------------------------------------------ contract-access

    function test_contractAccess_allowsAnyFunctionAndPlainCalls() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(address(target), 0, abi.encodeCall(Target.pong, ()));
        executions[2] = Execution(address(target), 0, hex"00");
        handleOp(_useOp(id, _batch(executions)));
        vm.assertEq(target.pings(), 2, "both functions ran");
    }

    function test_contractAccess_blocksOtherContracts() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        _rejects(
            _useOp(id, _ping(address(otherTarget))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(otherTarget), Target.ping.selector
            )
        );
    }

    function test_contractAccess_cannotTargetTheAccountOrTheValidator() public {
        SessionGrant memory grant = _grant(_list(_contractAccess(owner)));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 0)
        );
        grant = _grant(_list(_native(1), _contractAccess(address(validator))));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 1)
        );
    }

    // ------------------------------------------------------------ account-functions

    function test_accountFunctions_allowsListedSelectorOnTheAccount() public {
        bytes32 id = _enable(_grant(_list(_accountFunctions(LeashAccount.supportsModule.selector))));
        handleOp(_useOp(id, _single(owner, 0, abi.encodeCall(LeashAccount.supportsModule, (1)))));
        vm.assertEq(
            entryPoint.getNonce(owner, _sessionNonceKey(id)), (uint256(_sessionNonceKey(id)) << 64) | 1, "executed"
        );
    }

    function test_accountFunctions_blocksUnlistedSelector() public {
        bytes32 id = _enable(_grant(_list(_accountFunctions(LeashAccount.supportsModule.selector))));
        _rejects(
            _useOp(id, _single(owner, 0, abi.encodeCall(LeashAccount.accountId, ()))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, owner, LeashAccount.accountId.selector
            )
        );
    }

    function test_accountFunctions_blocksRecursiveExecute() public {
        bytes32 id = _enable(_grant(_list(_accountFunctions(LeashAccount.supportsModule.selector))));
        bytes memory inner = _single(alice, 1 ether, "");
        _rejects(
            _useOp(id, _single(owner, 0, inner)),
            abi.encodeWithSelector(
                ISessionKeyValidator.ForbiddenCall.selector, id, owner, LeashAccount.execute.selector
            )
        );
    }

    function test_accountFunctions_cannotListModuleManagement() public {
        SessionGrant memory grant = _grant(_list(_accountFunctions(LeashAccount.installModule.selector)));
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 0)
        );
    }

    function test_accountFunctions_onlyPathToTheAccount() public {
        bytes32 id = _enable(_grant(_list(_functionsOnAll(LeashAccount.accountId.selector))));
        _rejects(
            _useOp(id, _single(owner, 0, abi.encodeCall(LeashAccount.accountId, ()))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, owner, LeashAccount.accountId.selector
            )
        );
    }

    // ------------------------------------------------------------ functions-on-all-contracts

    function test_functionsOnAll_allowsSelectorAnywhere() public {
        bytes32 id = _enable(_grant(_list(_functionsOnAll(Target.ping.selector))));
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(address(otherTarget), 0, abi.encodeCall(Target.ping, ()));
        handleOp(_useOp(id, _batch(executions)));
        vm.assertEq(target.pings() + otherTarget.pings(), 2, "both pinged");
    }

    function test_functionsOnAll_blocksOtherSelectors() public {
        bytes32 id = _enable(_grant(_list(_functionsOnAll(Target.ping.selector))));
        _rejects(
            _useOp(id, _single(address(target), 0, abi.encodeCall(Target.pong, ()))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.pong.selector
            )
        );
    }

    function test_functionsOnAll_cannotAuthorizeTokenSpends() public {
        bytes32 id = _enable(_grant(_list(_functionsOnAll(ERC20.transfer.selector), _native(1))));
        _rejects(
            _useOp(id, _transfer(alice, 1)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(token), ERC20.transfer.selector
            )
        );
    }

    // ------------------------------------------------------------ functions-on-contract

    function test_functionsOnContract_allowsSelectorOnContract() public {
        bytes32 id = _enable(_grant(_list(_functionsOn(address(target), Target.ping.selector))));
        handleOp(_useOp(id, _ping(address(target))));
        vm.assertEq(target.pings(), 1, "pinged");
    }

    function test_functionsOnContract_blocksOtherContract() public {
        bytes32 id = _enable(_grant(_list(_functionsOn(address(target), Target.ping.selector))));
        _rejects(
            _useOp(id, _ping(address(otherTarget))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(otherTarget), Target.ping.selector
            )
        );
    }

    function test_functionsOnContract_blocksOtherSelector() public {
        bytes32 id = _enable(_grant(_list(_functionsOn(address(target), Target.ping.selector))));
        _rejects(
            _useOp(id, _single(address(target), 0, abi.encodeCall(Target.pong, ()))),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.pong.selector
            )
        );
    }

    function test_functionsOnContract_blocksPlainCallWithoutSelector() public {
        bytes32 id = _enable(_grant(_list(_functionsOn(address(target), Target.ping.selector))));
        _rejects(
            _useOp(id, _single(address(target), 0, "")),
            abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, id, address(target), bytes4(0))
        );
    }

    // ------------------------------------------------------------ batches

    function test_batch_oneBadCallRejectsTheWholeOperation() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE), _native(ALLOWANCE))));
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 1 ether)));
        executions[1] = Execution(alice, 1 ether, "");
        executions[2] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        _rejects(
            _useOp(id, _batch(executions)),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallNotAllowed.selector, id, address(target), Target.ping.selector
            )
        );
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE,
            "nothing spent"
        );
        vm.assertEq(token.balanceOf(alice), 0, "nothing moved");
    }

    function test_batch_limitsAccumulateAcrossCalls() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(alice, ALLOWANCE, "");
        executions[1] = Execution(alice, 1, "");
        _rejects(
            _useOp(id, _batch(executions)),
            abi.encodeWithSelector(ISessionKeyValidator.NativeAllowanceExceeded.selector, id, alice, 1, 0)
        );
    }

    function test_emptyBatchIsRejected() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _rejects(
            _useOp(id, _batch(new Execution[](0))),
            abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, id, address(0), bytes4(0))
        );
    }

    // ------------------------------------------------------------ signatures

    function test_wrongKeyFailsValidationWithoutRevert() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _failsSignature(_useOp(id, _single(alice, 1, ""), SESSION_KEY + 1, false));
    }

    function test_wrongKeyOnForbiddenCallStillRevertsWithTheRule() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _rejects(
            _useOp(id, _single(address(validator), 0, ""), SESSION_KEY + 1, false),
            abi.encodeWithSelector(ISessionKeyValidator.ForbiddenCall.selector, id, address(validator), bytes4(0))
        );
    }

    function test_unknownSessionFailsAsSignature() public {
        _failsSignature(_useOp(keccak256("no such session"), _single(alice, 1, "")));
    }

    function test_malformedSignaturesFailWithoutRevert() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        bytes[5] memory signatures = [
            bytes(""),
            hex"00",
            hex"03",
            abi.encodePacked(uint8(2), bytes32(uint256(7))),
            abi.encodePacked(uint8(0), id, bytes32(0), bytes32(0), uint8(27))
        ];
        for (uint256 i; i < signatures.length; ++i) {
            PackedUserOperation memory userOp = _useOp(id, _single(alice, 1, ""));
            userOp.signature = signatures[i];
            vm.prank(owner);
            vm.assertEq(validator.validateUserOp(userOp, bytes32(0)), 1, "SIG_VALIDATION_FAILED");
        }
    }
}
