// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {MODULE_TYPE_VALIDATOR} from "../../../contracts/interfaces/IERC7579Module.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    ACCOUNT_EXECUTE,
    ACCOUNT_EXECUTE_FROM_EXECUTOR,
    ACCOUNT_EXECUTE_USER_OP,
    ACCOUNT_INSTALL_MODULE,
    ACCOUNT_UNINSTALL_MODULE,
    ACCOUNT_VALIDATE_USER_OP,
    Permission,
    SessionGrant
} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice The account selectors no session may call: each is refused in `AccountFunctions` at
///         enable time and on the account at call time, and a root session calls no account function.
contract ForbiddenCallsTest is SessionTestBase {
    function _forbidden() internal pure returns (bytes4[6] memory) {
        return [
            ACCOUNT_EXECUTE,
            ACCOUNT_EXECUTE_FROM_EXECUTOR,
            ACCOUNT_INSTALL_MODULE,
            ACCOUNT_UNINSTALL_MODULE,
            ACCOUNT_VALIDATE_USER_OP,
            ACCOUNT_EXECUTE_USER_OP
        ];
    }

    function _forbiddenCall(bytes32 id, address to, bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.ForbiddenCall.selector, id, to, selector);
    }

    function _accountFunctionsSession() internal returns (bytes32) {
        return _enable(_grant(_list(_accountFunctions(LeashAccount.supportsModule.selector), _native(ALLOWANCE))));
    }

    function test_selectorConstantsAreTheAccountFunctions() public pure {
        vm.assertTrue(ACCOUNT_EXECUTE == LeashAccount.execute.selector, "execute");
        vm.assertTrue(ACCOUNT_EXECUTE_FROM_EXECUTOR == bytes4(keccak256("executeFromExecutor(bytes32,bytes)")), "efe");
        vm.assertTrue(ACCOUNT_INSTALL_MODULE == LeashAccount.installModule.selector, "install");
        vm.assertTrue(ACCOUNT_UNINSTALL_MODULE == LeashAccount.uninstallModule.selector, "uninstall");
        vm.assertTrue(ACCOUNT_VALIDATE_USER_OP == LeashAccount.validateUserOp.selector, "validateUserOp");
        vm.assertTrue(
            ACCOUNT_EXECUTE_USER_OP
                == bytes4(
                    keccak256(
                        "executeUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32)"
                    )
                ),
            "executeUserOp"
        );
    }

    // ------------------------------------------------------------ at enable time

    function test_accountFunctions_allowsAnOrdinarySelector() public {
        bytes32 id = _accountFunctionsSession();
        // Balance-checked: the session limits native value, and an account function could move it.
        bytes memory call = _single(owner, 0, abi.encodeCall(LeashAccount.supportsModule, (MODULE_TYPE_VALIDATOR)));
        handleOp(_useOp(id, _checked(call, new address[](0))));
        vm.assertEq(entryPoint.getNonce(owner, _sessionNonceKey(id)), (uint256(_sessionNonceKey(id)) << 64) | 1, "ran");
    }

    function test_accountFunctions_rejectsEachForbiddenSelector() public {
        bytes4[6] memory forbidden = _forbidden();
        for (uint256 i; i < forbidden.length; ++i) {
            SessionGrant memory grant = _grant(_list(_accountFunctions(forbidden[i])));
            _enableReverts(
                grant,
                abi.encodeWithSelector(
                    ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 0
                )
            );
        }
    }

    function test_accountFunctions_rejectsForbiddenSelectorAfterAllowedOnes() public {
        bytes4[6] memory forbidden = _forbidden();
        for (uint256 i; i < forbidden.length; ++i) {
            bytes4[] memory selectors = new bytes4[](2);
            selectors[0] = LeashAccount.supportsModule.selector;
            selectors[1] = forbidden[i];
            Permission memory permission = _accountFunctions(bytes4(0));
            permission.functions = selectors;
            SessionGrant memory grant = _grant(_list(_native(1), permission));
            _enableReverts(
                grant,
                abi.encodeWithSelector(
                    ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 1
                )
            );
        }
    }

    // ------------------------------------------------------------ at call time

    function test_scopedSession_eachForbiddenSelectorOnTheAccountIsForbidden() public {
        bytes32 id = _accountFunctionsSession();
        bytes4[6] memory forbidden = _forbidden();
        for (uint256 i; i < forbidden.length; ++i) {
            bytes memory data = abi.encodePacked(forbidden[i], bytes32(uint256(1)), bytes32(uint256(2)));
            _rejects(_useOp(id, _single(owner, 0, data)), _forbiddenCall(id, owner, forbidden[i]));
        }
    }

    function test_scopedSession_forbiddenSelectorInABatchIsForbidden() public {
        bytes32 id = _accountFunctionsSession();
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(owner, 0, abi.encodeCall(LeashAccount.supportsModule, (MODULE_TYPE_VALIDATOR)));
        executions[1] = Execution(
            owner, 0, abi.encodeCall(LeashAccount.uninstallModule, (MODULE_TYPE_VALIDATOR, address(validator), ""))
        );
        _rejects(_useOp(id, _batch(executions)), _forbiddenCall(id, owner, ACCOUNT_UNINSTALL_MODULE));
    }

    function test_scopedSession_callToTheAccountWithoutSelectorIsForbidden() public {
        bytes32 id = _accountFunctionsSession();
        _rejects(_useOp(id, _single(owner, 1, "")), _forbiddenCall(id, owner, bytes4(0)));
        _rejects(_useOp(id, _single(owner, 0, hex"aabbcc")), _forbiddenCall(id, owner, bytes4(0)));
    }

    function test_scopedSession_callToTheValidatorIsForbidden() public {
        bytes32 id = _enable(_grant(_list(_contractAccess(address(target)))));
        bytes memory data = abi.encodeCall(ISessionKeyValidator.revokeAllSessions, ());
        _rejects(
            _useOp(id, _single(address(validator), 0, data)),
            _forbiddenCall(id, address(validator), ISessionKeyValidator.revokeAllSessions.selector)
        );
    }

    // ------------------------------------------------------------ root

    function test_rootSession_mayCallOutsideTheAccount() public {
        bytes32 id = _enable(_grant(_list(_root())));
        handleOp(_useOp(id, _single(address(target), 0, abi.encodeCall(Target.ping, ())), SESSION_KEY, true));
        vm.assertEq(target.pings(), 1, "pinged");
    }

    function test_rootSession_callsNoAccountFunction() public {
        bytes32 id = _enable(_grant(_list(_root())));
        _rejects(
            _useOp(
                id,
                _single(owner, 0, abi.encodeCall(LeashAccount.supportsModule, (MODULE_TYPE_VALIDATOR))),
                SESSION_KEY,
                true
            ),
            _forbiddenCall(id, owner, LeashAccount.supportsModule.selector)
        );
        _rejects(
            _useOp(id, _single(owner, 0, abi.encodeCall(LeashAccount.accountId, ())), SESSION_KEY, true),
            _forbiddenCall(id, owner, LeashAccount.accountId.selector)
        );
        _rejects(_useOp(id, _single(owner, 1 ether, ""), SESSION_KEY, true), _forbiddenCall(id, owner, bytes4(0)));
    }

    function test_rootSession_eachForbiddenSelectorIsForbidden() public {
        bytes32 id = _enable(_grant(_list(_root())));
        bytes4[6] memory forbidden = _forbidden();
        for (uint256 i; i < forbidden.length; ++i) {
            bytes memory data = abi.encodePacked(forbidden[i], bytes32(uint256(1)));
            _rejects(_useOp(id, _single(owner, 0, data), SESSION_KEY, true), _forbiddenCall(id, owner, forbidden[i]));
        }
    }
}
