// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ERC20} from "solady/tokens/ERC20.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    PERMIT2,
    PERMIT2_APPROVE,
    Permission,
    PermissionType,
    SessionGrant
} from "../../../contracts/types/SessionTypes.sol";
import {Target} from "../../../contracts/test/Target.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {CallbackToken, Forwarder, MockPermit2, Puller} from "../utils/Spenders.sol";

/// @notice Outflow by what actually left: every path by which a session's calls can move a limited
///         asset out of the account (Permit2, an earlier approval, a forwarder, `transferAndCall`, a
///         callback, a value transfer's recipient), each refused in the plain form with its rule and
///         charged by the balance decrease in the balance-checked form (`executeUserOp`), allowed
///         within the allowance and undone beyond it; and what a reverted execution costs.
contract OutflowTest is SessionTestBase {
    uint256 internal constant PULL = 3 ether;

    Forwarder internal forwarder;
    Puller internal puller;
    CallbackToken internal callbackToken;

    function setUp() public override {
        super.setUp();
        vm.etch(PERMIT2, address(new MockPermit2()).code);
        forwarder = new Forwarder();
        puller = new Puller(token);
        puller.setTake(PULL);
        callbackToken = new CallbackToken();
        callbackToken.mint(owner, 1000 ether);
        // Approvals the owner gave earlier, outside any session.
        vm.startPrank(owner);
        token.approve(address(forwarder), type(uint256).max);
        token.approve(address(puller), type(uint256).max);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ helpers

    /// @dev A session limiting the test token to `ALLOWANCE`, with `access` beside it.
    function _session(Permission memory access) internal returns (bytes32) {
        return _enable(_grant(_list(_erc20(address(token), ALLOWANCE), access)));
    }

    function _left(bytes32 id) internal view returns (uint256) {
        return validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token));
    }

    function _permit2Pull(uint256 amount) internal view returns (bytes memory) {
        return
            _single(
                PERMIT2, 0, abi.encodeCall(MockPermit2.transferFrom, (owner, alice, uint160(amount), address(token)))
            );
    }

    function _outflowExceeded(bytes32 id, address asset, uint256 outflow, uint256 remaining)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ISessionKeyValidator.OutflowExceeded.selector, id, asset, outflow, remaining);
    }

    function _checkRequired(bytes32 id, address target_, bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.OutflowCheckRequired.selector, id, target_, selector);
    }

    // ------------------------------------------------------------ Permit2

    function test_permit2TransferFrom_plainFormIsRefused() public {
        bytes32 id = _session(_contractAccess(PERMIT2));
        _rejects(_useOp(id, _permit2Pull(1 ether)), _checkRequired(id, PERMIT2, MockPermit2.transferFrom.selector));
    }

    function test_permit2TransferFrom_isChargedByWhatLeft() public {
        bytes32 id = _session(_contractAccess(PERMIT2));
        vm.assertEq(_executionRevert(_useOp(id, _checked(_permit2Pull(PULL), _tokens(address(token))))), "", "ran");
        vm.assertEq(token.balanceOf(alice), PULL, "moved through Permit2");
        vm.assertEq(_left(id), ALLOWANCE - PULL, "charged what left");
    }

    function test_permit2TransferFrom_beyondTheAllowance_isUndone() public {
        bytes32 id = _session(_contractAccess(PERMIT2));
        uint256 before = token.balanceOf(owner);
        bytes memory reason =
            _executionRevert(_useOp(id, _checked(_permit2Pull(ALLOWANCE + 1), _tokens(address(token)))));
        vm.assertEq(reason, _outflowExceeded(id, address(token), ALLOWANCE + 1, ALLOWANCE), "exact error");
        vm.assertEq(token.balanceOf(owner), before, "nothing left the account");
        vm.assertEq(_left(id), ALLOWANCE, "nothing charged");
    }

    function test_permit2Approve_isMeteredLikeTheTokensApprove() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE))));
        bytes memory approve = abi.encodeCall(MockPermit2.approve, (address(token), alice, uint160(4 ether), 0));
        handleOp(_useOp(id, _single(PERMIT2, 0, approve)));
        vm.assertEq(_left(id), ALLOWANCE - 4 ether, "the Permit2 allowance is charged");
        approve = abi.encodeCall(MockPermit2.approve, (address(token), alice, uint160(ALLOWANCE), 0));
        _rejects(
            _useOp(id, _single(PERMIT2, 0, approve)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20AllowanceExceeded.selector, id, address(token), ALLOWANCE, ALLOWANCE - 4 ether
            )
        );
        approve = abi.encodeCall(MockPermit2.approve, (address(callbackToken), alice, 1, 0));
        _rejects(
            _useOp(id, _single(PERMIT2, 0, approve)),
            abi.encodeWithSelector(
                ISessionKeyValidator.Erc20NotAllowed.selector, id, address(callbackToken), PERMIT2_APPROVE
            )
        );
    }

    // ------------------------------------------------------------ approvals, forwarders, callbacks

    function test_preApprovedSpender_isChargedByWhatLeft() public {
        bytes32 id = _session(_functionsOn(address(puller), Puller.ping.selector));
        bytes memory ping = _single(address(puller), 0, abi.encodeCall(Puller.ping, ()));
        _rejects(_useOp(id, ping), _checkRequired(id, address(puller), Puller.ping.selector));
        vm.assertEq(_executionRevert(_useOp(id, _checked(ping, _tokens(address(token))))), "", "ran");
        vm.assertEq(_left(id), ALLOWANCE - PULL, "the pull is charged");
    }

    function test_forwarder_isChargedByWhatLeftAndUndoneBeyond() public {
        bytes32 id = _session(_functionsOn(address(forwarder), Forwarder.forward.selector));
        bytes memory forward =
            _single(address(forwarder), 0, abi.encodeCall(Forwarder.forward, (ERC20(address(token)), alice, 2 ether)));
        _rejects(_useOp(id, forward), _checkRequired(id, address(forwarder), Forwarder.forward.selector));
        _executionRevert(_useOp(id, _checked(forward, _tokens(address(token)))));
        vm.assertEq(token.balanceOf(alice), 2 ether, "forwarded");
        vm.assertEq(_left(id), ALLOWANCE - 2 ether, "charged");
        forward = _single(
            address(forwarder), 0, abi.encodeCall(Forwarder.forward, (ERC20(address(token)), alice, ALLOWANCE))
        );
        vm.assertEq(
            _executionRevert(_useOp(id, _checked(forward, _tokens(address(token))))),
            _outflowExceeded(id, address(token), ALLOWANCE, ALLOWANCE - 2 ether),
            "beyond the allowance"
        );
        vm.assertEq(token.balanceOf(alice), 2 ether, "undone");
    }

    function test_transferAndCall_isChargedByWhatLeft() public {
        bytes32 id = _enable(
            _grant(
                _list(
                    _erc20(address(callbackToken), ALLOWANCE),
                    _functionsOn(address(callbackToken), CallbackToken.transferAndCall.selector)
                )
            )
        );
        bytes memory call =
            _single(address(callbackToken), 0, abi.encodeCall(CallbackToken.transferAndCall, (alice, 5 ether, "")));
        _rejects(_useOp(id, call), _checkRequired(id, address(callbackToken), CallbackToken.transferAndCall.selector));
        _executionRevert(_useOp(id, _checked(call, _tokens(address(callbackToken)))));
        vm.assertEq(callbackToken.balanceOf(alice), 5 ether, "moved");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(callbackToken)),
            ALLOWANCE - 5 ether,
            "charged"
        );
    }

    function test_callbackOfAValueTransfer_isChargedByWhatLeft() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE), _native(ALLOWANCE))));
        bytes memory value = _single(address(puller), 1 ether, "");
        // Metered as value only, a plain transfer could let the recipient pull tokens unmetered.
        _rejects(_useOp(id, value), _checkRequired(id, address(puller), 0));
        _executionRevert(_useOp(id, _checked(value, _tokens(address(token)))));
        vm.assertEq(_left(id), ALLOWANCE - PULL, "the recipient's pull is charged");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.NativeTokenTransfer, address(0)),
            ALLOWANCE - 1 ether,
            "the value once, by what left"
        );
    }

    function test_valueTransfer_isDirectWhenNoTokenIsLimited() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        handleOp(_useOp(id, _single(address(puller), 1 ether, "")));
        vm.assertEq(address(puller).balance, 1 ether, "sent on the cheap path");
    }

    function test_directTransfers_needNoBalanceCheck() public {
        bytes32 id = _session(_contractAccess(PERMIT2));
        handleOp(_useOp(id, _transfer(alice, 1 ether)));
        vm.assertEq(_left(id), ALLOWANCE - 1 ether, "metered by its selector");
    }

    function test_checkedForm_chargesATransferOnce() public {
        bytes32 id = _session(_functionsOn(address(target), Target.ping.selector));
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(token), 0, abi.encodeCall(ERC20.transfer, (alice, 1 ether)));
        calls[1] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        _executionRevert(_useOp(id, _checked(_batch(calls), _tokens(address(token)))));
        vm.assertEq(_left(id), ALLOWANCE - 1 ether, "by the balance, not twice");
    }

    // ------------------------------------------------------------ the token list

    function test_checkedForm_mustListEveryLimitedTokenOnceAscending() public {
        bytes32 id = _enable(
            _grant(
                _list(
                    _erc20(address(token), ALLOWANCE),
                    _erc20(address(callbackToken), ALLOWANCE),
                    _functionsOn(address(target), Target.ping.selector)
                )
            )
        );
        bytes memory ping = _single(address(target), 0, abi.encodeCall(Target.ping, ()));
        (address low, address high) = address(token) < address(callbackToken)
            ? (address(token), address(callbackToken))
            : (address(callbackToken), address(token));
        address[] memory tokens = new address[](2);
        (tokens[0], tokens[1]) = (high, low);
        _rejects(_useOp(id, _checked(ping, tokens)), _invalidTokens(id, 2, 2));
        (tokens[0], tokens[1]) = (low, low);
        _rejects(_useOp(id, _checked(ping, tokens)), _invalidTokens(id, 2, 2));
        _rejects(_useOp(id, _checked(ping, _tokens(low))), _invalidTokens(id, 1, 2));
        (tokens[0], tokens[1]) = (low, alice);
        _rejects(_useOp(id, _checked(ping, tokens)), _invalidTokens(id, 2, 2));
        (tokens[0], tokens[1]) = (low, high);
        handleOp(_useOp(id, _checked(ping, tokens)));
        vm.assertEq(target.pings(), 1, "complete list");
    }

    function _invalidTokens(bytes32 id, uint256 declared, uint256 limited) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.InvalidOutflowTokens.selector, id, declared, limited);
    }

    // ------------------------------------------------------------ reverted executions

    /// @dev Balance-checked: a reverted execution moved nothing, so nothing is charged.
    function test_revertedExecution_checkedForm_chargesNothing() public {
        bytes32 id = _session(_functionsOn(address(puller), Puller.pingAndFail.selector));
        bytes memory call = _single(address(puller), 0, abi.encodeCall(Puller.pingAndFail, ()));
        bytes memory reason = _executionRevert(_useOp(id, _checked(call, _tokens(address(token)))));
        vm.assertEq(reason, abi.encodeWithSignature("Error(string)", "failed after spending"), "its own reason");
        vm.assertEq(_left(id), ALLOWANCE, "nothing charged");
    }

    /// @dev Direct: the amount was charged in validation, which the execution's revert does not
    ///      undo (the EntryPoint keeps validation's writes). The conservative choice: refunding would
    ///      need the execution-phase hook on the cheap path too.
    function test_revertedExecution_directForm_consumesItsAllowance() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), 2000 ether))));
        bytes memory reason = _executionRevert(_useOp(id, _transfer(alice, 1500 ether)));
        vm.assertTrue(reason.length != 0, "the transfer reverted: more than the account holds");
        vm.assertEq(_left(id), 500 ether, "the validation-time charge stays");
    }

    // ------------------------------------------------------------ fuzz: no path moves more than the allowance

    /// @dev Any sequence of operations over every path (direct transfer, Permit2, approval holder,
    ///      forwarder, value transfer with a pulling recipient), any amounts: the token that left the
    ///      account never exceeds its allowance, and what is left is the allowance minus at least
    ///      what left.
    function testFuzz_noPathMovesMoreThanTheAllowance(uint256[5] memory amounts, uint8[5] memory paths) public {
        bytes32 id = _enable(
            _grant(
                _list(
                    _erc20(address(token), ALLOWANCE),
                    _native(ALLOWANCE),
                    _contractAccess(PERMIT2),
                    _functionsOn(address(forwarder), Forwarder.forward.selector)
                )
            )
        );
        uint256 start = token.balanceOf(owner);
        for (uint256 i; i < amounts.length; ++i) {
            uint256 amount = amounts[i] % (ALLOWANCE / 2);
            uint256 path = paths[i] % 4;
            bytes memory call = path == 0
                ? _transfer(alice, amount)
                : path == 1
                    ? _permit2Pull(amount)
                    : path == 2
                        ? _single(
                            address(forwarder),
                            0,
                            abi.encodeCall(Forwarder.forward, (ERC20(address(token)), alice, amount))
                        )
                        : _single(address(puller), 1, "");
            if (path != 0) call = _checked(call, _tokens(address(token)));
            puller.setTake(amount);
            try this.send(_useOp(id, call)) {} catch {}
            uint256 moved = start - token.balanceOf(owner);
            vm.assertTrue(moved <= ALLOWANCE, "never more than the allowance");
            vm.assertTrue(_left(id) <= ALLOWANCE - moved, "charged at least what left");
        }
    }

    function send(PackedUserOperation memory userOp) external {
        handleOp(userOp);
    }
}
