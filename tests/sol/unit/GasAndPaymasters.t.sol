// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {MAX_ALLOWANCE, PermissionType, SessionGrant} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {SponsorPaymaster, TokenPaymaster} from "../utils/Paymasters.sol";

/// @notice Who pays for a session's UserOperation: gas bounded by default (a scoped session pays
///         for itself only within a `GasLimit`) and paymaster binding (only the paymasters its grant
///         names). Each rule allowed and blocked, with its exact error, through the real EntryPoint.
contract GasAndPaymastersTest is SessionTestBase {
    /// @dev What a key that bundles its own operation would ask for: the largest fee it can get paid.
    uint256 internal constant DRAIN_FEE = 10_000 gwei;

    SponsorPaymaster internal otherSponsor;
    TokenPaymaster internal tokenPaymaster;

    function setUp() public override {
        super.setUp();
        otherSponsor = new SponsorPaymaster();
        entryPoint.depositTo{value: 1 ether}(address(otherSponsor));
        tokenPaymaster = new TokenPaymaster(token);
        entryPoint.depositTo{value: 1 ether}(address(tokenPaymaster));
        // The account approved the token paymaster once, as an ERC-20 paymaster asks.
        vm.prank(owner);
        token.approve(address(tokenPaymaster), type(uint256).max);
    }

    function _maxCost(PackedUserOperation memory userOp) internal pure returns (uint256) {
        uint256 limits = uint256(userOp.accountGasLimits);
        return ((limits >> 128) + uint128(limits) + userOp.preVerificationGas) * uint128(uint256(userOp.gasFees));
    }

    /// @dev A self-paid operation of `sessionId` at `maxFeePerGas`, the session key its own bundler.
    function _selfPaid(bytes32 sessionId, uint256 maxFeePerGas) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(owner, _sessionNonceKey(sessionId), _single(alice, 1, ""));
        op.gasFees = bytes32((maxFeePerGas << 128) | maxFeePerGas);
        op.signature = abi.encodePacked(uint8(0), sessionId, _keySignature(op, SESSION_KEY));
    }

    function _handleAsSessionKey(PackedUserOperation memory userOp) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = userOp;
        entryPoint.handleOps(ops, payable(sessionSigner));
    }

    // ------------------------------------------------------------ self-bundled gas drain

    function test_selfPaid_withoutGasLimit_isDenied() public {
        bytes32 id = _enable(_grantAsIs(_list(_native(ALLOWANCE))));
        PackedUserOperation memory userOp = _selfPaid(id, DRAIN_FEE);
        uint256 before = owner.balance;
        vm.expectRevert(
            abi.encodeWithSignature(
                "FailedOpWithRevert(uint256,string,bytes)",
                0,
                "AA23 reverted",
                abi.encodeWithSelector(ISessionKeyValidator.SelfPaidGasNotAllowed.selector, id, _maxCost(userOp))
            )
        );
        _handleAsSessionKey(userOp);
        vm.assertEq(owner.balance, before, "no fee left the account");
        vm.assertEq(sessionSigner.balance, 0, "the key earned nothing");
    }

    function test_selfPaid_overTheGasLimit_isDenied() public {
        bytes32 id = _enable(_grantAsIs(_list(_native(ALLOWANCE), _gasLimit(0.01 ether))));
        PackedUserOperation memory userOp = _selfPaid(id, DRAIN_FEE);
        vm.expectRevert(
            abi.encodeWithSignature(
                "FailedOpWithRevert(uint256,string,bytes)",
                0,
                "AA23 reverted",
                abi.encodeWithSelector(ISessionKeyValidator.GasLimitExceeded.selector, id, _maxCost(userOp), 0.01 ether)
            )
        );
        _handleAsSessionKey(userOp);
    }

    function test_selfPaid_withinTheGasLimit_isChargedItsMaxCost() public {
        bytes32 id = _enable(_grantAsIs(_list(_native(ALLOWANCE), _gasLimit(0.01 ether))));
        PackedUserOperation memory userOp = _selfPaid(id, 1 gwei);
        _handleAsSessionKey(userOp);
        vm.assertEq(alice.balance, 1, "executed");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.GasLimit, address(0)),
            0.01 ether - _maxCost(userOp),
            "charged the maximum cost"
        );
    }

    function test_root_keepsPayingItsOwnGasUnbounded() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _single(alice, 1, ""));
        userOp.gasFees = bytes32((DRAIN_FEE << 128) | DRAIN_FEE);
        userOp.signature = abi.encodePacked(uint8(1), id, _keySignature(userOp, SESSION_KEY));
        _handleAsSessionKey(userOp);
        vm.assertEq(alice.balance, 1, "root pays for itself, as documented");
    }

    function test_root_mayUseAnyPaymaster() public {
        bytes32 id = _enable(_grant(_list(_root())));
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _single(alice, 1, ""));
        userOp.paymasterAndData = _paymasterAndData(address(otherSponsor));
        userOp.signature = abi.encodePacked(uint8(1), id, _keySignature(userOp, SESSION_KEY));
        handleOp(userOp);
        vm.assertEq(alice.balance, 1, "sponsored");
    }

    // ------------------------------------------------------------ paymaster binding

    function test_namedPaymaster_isAllowedAndChargesNoGasLimit() public {
        bytes32 id = _enable(_grantAsIs(_list(_native(ALLOWANCE), _paymaster(address(sponsor)))));
        handleOp(_sponsored(id, _single(alice, 1, ""), address(sponsor)));
        vm.assertEq(alice.balance, 1, "sponsored");
    }

    function test_unlistedPaymaster_isDenied() public {
        bytes32 id = _enable(_grantAsIs(_list(_native(ALLOWANCE), _paymaster(address(sponsor)))));
        _rejects(
            _sponsored(id, _single(alice, 1, ""), address(otherSponsor)),
            abi.encodeWithSelector(ISessionKeyValidator.PaymasterNotAllowed.selector, id, address(otherSponsor), false)
        );
    }

    function test_noPaymasterNamed_meansNone() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE))));
        _rejects(
            _sponsored(id, _single(alice, 1, ""), address(sponsor)),
            abi.encodeWithSelector(ISessionKeyValidator.PaymasterNotAllowed.selector, id, address(sponsor), true)
        );
    }

    function test_approvedTokenPaymaster_isDeniedUnlessNamed() public {
        bytes32 id = _enable(_grant(_list(_erc20(address(token), ALLOWANCE), _native(ALLOWANCE))));
        uint256 before = token.balanceOf(owner);
        _rejects(
            _sponsored(id, _transfer(alice, 1), address(tokenPaymaster)),
            abi.encodeWithSelector(ISessionKeyValidator.PaymasterNotAllowed.selector, id, address(tokenPaymaster), true)
        );
        vm.assertEq(token.balanceOf(owner), before, "the paymaster took no token");
    }

    /// @dev The documented limit of binding: a paymaster the grant names is trusted with what it
    ///      charges, which no allowance counts (docs/permissions.md, "What a grant does not protect").
    function test_namedTokenPaymaster_chargesOutsideTheAllowance() public {
        bytes32 id = _enable(
            _grant(_list(_erc20(address(token), ALLOWANCE), _native(ALLOWANCE), _paymaster(address(tokenPaymaster))))
        );
        uint256 before = token.balanceOf(owner);
        handleOp(_sponsored(id, _transfer(alice, 1), address(tokenPaymaster)));
        vm.assertEq(token.balanceOf(owner), before - 1 ether - 1, "the named paymaster took its fee");
        vm.assertEq(
            validator.getRemaining(owner, id, PermissionType.Erc20TokenTransfer, address(token)),
            ALLOWANCE - 1,
            "only the transfer counts: the fee is outside the token allowance"
        );
    }

    function test_shortPaymasterAndData_namesNoOne() public {
        bytes32 id = _enable(_grant(_list(_native(ALLOWANCE), _paymaster(address(sponsor)))));
        PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _single(alice, 1, ""));
        userOp.paymasterAndData = abi.encodePacked(bytes19(bytes20(address(sponsor))));
        bytes32 hash = keccak256("short");
        userOp.signature = _useSignature(id, hash, false);
        (bool ok,, bytes memory revertData) = _validateAs(owner, userOp, hash);
        vm.assertFalse(ok, "denied");
        vm.assertEq(
            revertData,
            abi.encodeWithSelector(ISessionKeyValidator.PaymasterNotAllowed.selector, id, address(0), true),
            "names no paymaster"
        );
    }

    function test_paymasterPermission_hasExactlyItsFields() public {
        _invalid(_grant(_list(_permission(PermissionType.Paymaster, address(0), 0, new bytes4[](0)))));
        _invalid(_grant(_list(_permission(PermissionType.Paymaster, address(sponsor), 1, new bytes4[](0)))));
        _invalid(_grant(_list(_permission(PermissionType.Paymaster, address(sponsor), 0, _selectors(0x12345678)))));
        _invalid(_grant(_list(_paymaster(owner))));
        _invalid(_grant(_list(_paymaster(address(validator)))));
    }

    function _invalid(SessionGrant memory grant) internal {
        _enableReverts(
            grant,
            abi.encodeWithSelector(ISessionKeyValidator.InvalidPermission.selector, validator.getSessionId(grant), 0)
        );
    }

    // ------------------------------------------------------------ fuzz: no session pays without a bound

    /// @dev Any gas fields, any payer: a scoped session without `GasLimit` never has a self-paid
    ///      operation validated, and one with a limit is charged each operation's maximum cost, never
    ///      more in total than the limit.
    function testFuzz_selfPaidGasIsAlwaysBounded(uint128 limit, uint64[4] memory gas, bool bounded) public {
        limit = uint128(1 + uint256(limit) % MAX_ALLOWANCE);
        bytes32 id = _enable(
            bounded ? _grantAsIs(_list(_native(ALLOWANCE), _gasLimit(limit))) : _grantAsIs(_list(_native(ALLOWANCE)))
        );
        uint256 charged;
        for (uint256 round; round < 3; ++round) {
            PackedUserOperation memory userOp = buildUserOp(owner, _sessionNonceKey(id), _single(alice, 1, ""));
            userOp.accountGasLimits = bytes32((uint256(gas[0]) << 128) | gas[1]);
            userOp.preVerificationGas = gas[2];
            userOp.gasFees = bytes32(uint256(gas[3]) + round);
            bytes32 hash = keccak256(abi.encode(round, gas));
            userOp.signature = _useSignature(id, hash, false);
            (bool ok,,) = _validateAs(owner, userOp, hash);
            if (!bounded) vm.assertFalse(ok, "no self-paid operation without a bound");
            if (ok) charged += _maxCost(userOp);
        }
        uint256 left = validator.getRemaining(owner, id, PermissionType.GasLimit, address(0));
        vm.assertTrue(charged <= (bounded ? limit : 0), "charged within the bound");
        if (bounded) vm.assertEq(left, limit - charged, "every validated operation charged its maximum cost");
    }
}
