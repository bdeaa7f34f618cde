// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {MAX_ALLOWANCE, Permission, PermissionType, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice The paymaster rule of `GasLimit`, the 2**128-1 cap on every amount, the exact fields of
///         each permission type, and the corners of the call rules that the other suites leave open.
contract LimitsAndShapesTest is SessionTestBase {
    function _maxCost() internal pure returns (uint256) {
        return (VERIFICATION_GAS_LIMIT + CALL_GAS_LIMIT + PRE_VERIFICATION_GAS) * MAX_FEE_PER_GAS;
    }

    function _invalidPermission(SessionGrant memory grant, uint256 index) internal {
        _enableReverts(
            grant,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), index
            )
        );
    }

    // ------------------------------------------------------------ paymaster rule

    function test_gasLimit_sponsoredOperationsAreNotCharged() public {
        bytes32 id = _enable(_grant(_list(_gasLimit(1), _native(ALLOWANCE), _paymaster(address(sponsor)))));
        handleOp(_sponsored(id, _single(alice, 1, ""), address(sponsor)));
        handleOp(_sponsored(id, _single(alice, 1, ""), address(sponsor)));
        vm.assertEq(alice.balance, 2, "both sponsored operations ran");
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)), 1, "nothing charged");
    }

    function test_gasLimit_selfPaidOperationIsCharged() public {
        bytes32 id = _enable(_grant(_list(_gasLimit(1), _native(ALLOWANCE))));
        _rejects(
            _useOp(id, _single(alice, 1, "")),
            abi.encodeWithSelector(ISessionKeyValidator.GasLimitExceeded.selector, id, _maxCost(), 1)
        );
    }

    // ------------------------------------------------------------ amount caps

    function test_caps_amountsAboveTheCapAreRejected() public {
        uint256 over = MAX_ALLOWANCE + 1;
        _invalidPermission(_grant(_list(_native(over))), 0);
        _invalidPermission(_grant(_list(_native(type(uint256).max))), 0);
        _invalidPermission(_grant(_list(_native(1), _gasLimit(over))), 1);
        _invalidPermission(_grant(_list(_gasLimit(type(uint256).max))), 0);
        _invalidPermission(_grant(_list(_native(1), _erc20(address(token), over))), 1);
    }

    function test_caps_amountsAtTheCapAreKeptExactly() public {
        SessionGrant memory grant =
            _grant(_list(_native(MAX_ALLOWANCE), _gasLimit(MAX_ALLOWANCE), _erc20(address(token), MAX_ALLOWANCE)));
        bytes32 id = _enable(grant);
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)), MAX_ALLOWANCE, "native"
        );
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)), MAX_ALLOWANCE, "gas");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)), MAX_ALLOWANCE, "token"
        );
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(alice, 1, "");
        executions[1] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 5)));
        // Balance-checked: the value's recipient could pull the limited token.
        handleOp(_useOp(id, _checked(_batch(executions), _tokens(address(token)))));
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)),
            MAX_ALLOWANCE - 1,
            "native spent"
        );
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)),
            MAX_ALLOWANCE - _maxCost(),
            "gas spent"
        );
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            MAX_ALLOWANCE - 5,
            "token spent"
        );
        // The window and the flags are intact: valid now, expired after validUntil.
        vm.warp(grant.validUntil + 1);
        _failsWindow(_useOp(id, _transfer(alice, 1)));
    }

    // ------------------------------------------------------------ permission shapes

    function test_shapes_eachTypeRejectsFieldsItDoesNotUse() public {
        bytes4[] memory ping = _selectors(Target.ping.selector);
        Permission[7] memory bad = [
            _permission(PermissionType.Root, address(0), 1, new bytes4[](0)),
            _permission(PermissionType.Root, address(0), 0, ping),
            _permission(PermissionType.GasLimit, address(target), 1, new bytes4[](0)),
            _permission(PermissionType.ContractAccess, address(target), 0, ping),
            _permission(PermissionType.FunctionsOnContract, address(target), 1, ping),
            _permission(PermissionType.AccountFunctions, address(0), 1, ping),
            _permission(PermissionType.FunctionsOnAllContracts, address(0), 1, ping)
        ];
        for (uint256 i; i < bad.length; ++i) {
            _invalidPermission(_grant(_list(bad[i])), 0);
        }
        _invalidPermission(
            _grant(_list(_permission(PermissionType.ContractAccess, address(target), 1, new bytes4[](0)))), 0
        );
        _invalidPermission(_grant(_list(_permission(PermissionType.NativeTokenTransfer, address(0), 1, ping))), 0);
        _invalidPermission(_grant(_list(_permission(PermissionType.AccountFunctions, alice, 0, ping))), 0);
    }

    function test_shapes_wellFormedPermissionsEnable() public {
        bytes32 id = _enable(
            _grant(
                _list(
                    _contractAccess(address(target)),
                    _accountFunctions(bytes4(keccak256("accountId()"))),
                    _functionsOnAll(Target.pong.selector)
                )
            )
        );
        handleOp(_useOp(id, _single(address(target), 0, abi.encodeCall(Target.ping, ()))));
        vm.assertEq(target.pings(), 1, "contract access");
    }

    // ------------------------------------------------------------ budgets

    function test_getRemaining_ignoresTheTokenForNonErc20Limits() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE), _gasLimit(7 ether), _erc20(address(token), 3 ether))));
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(token)), ALLOWANCE, "native"
        );
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.GasLimit, address(token)), 7 ether, "gas");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)), 3 ether, "token"
        );
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, alice), 0, "other token");
    }

    // ------------------------------------------------------------ call rules

    function test_emptyCallWithoutValueNeedsAPermission() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(alice, 1, "");
        executions[1] = Execution(address(target), 0, "");
        _rejects(
            _useOp(id, _batch(executions)),
            abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, id, address(target), bytes4(0))
        );
        executions[1] = Execution(alice, 2, "");
        handleOp(_useOp(id, _batch(executions)));
        vm.assertEq(alice.balance, 3, "plain value transfers need no function permission");
    }

    function test_erc20_callOneByteShortOfItsAmountIsMalformed() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        bytes memory data = abi.encodeCall(ERC20.transfer, (alice, 1));
        assembly {
            mstore(data, 67)
        }
        _rejects(
            _useOp(id, _single(address(token), 0, data)),
            abi.encodeWithSelector(
                ISessionKeyValidator.MalformedErc20Call.selector, id, address(token), ERC20.transfer.selector
            )
        );
        bytes memory from = abi.encodeCall(ERC20.transferFrom, (owner, alice, 1));
        assembly {
            mstore(from, 99)
        }
        _rejects(
            _useOp(id, _single(address(token), 0, from)),
            abi.encodeWithSelector(
                ISessionKeyValidator.MalformedErc20Call.selector, id, address(token), ERC20.transferFrom.selector
            )
        );
    }

    function test_erc20_zeroAmountSpendsNothing() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), 1))));
        handleOp(_useOp(id, _single(address(token), 0, abi.encodeCall(ERC20.approve, (alice, 0)))));
        vm.assertEq(validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)), 1, "left");
    }
}
