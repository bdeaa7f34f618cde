// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";
import {LeashAccount} from "../../../contracts/account/LeashAccount.sol";
import {ISessionKeyValidator} from "../../../contracts/interfaces/ISessionKeyValidator.sol";
import {ExecutionLib} from "../../../contracts/libraries/ExecutionLib.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {PermissionType} from "../../../contracts/types/SessionTypes.sol";
import {SessionTestBase} from "../utils/SessionTestBase.sol";
import {Target} from "../../../contracts/test/Target.sol";

/// @notice Seed-driven fuzzing (seed pinned in foundry.toml) of call decoding against a reference
///         model of the permission rules, of batch encodings, and of limit accounting.
contract SessionFuzzTest is SessionTestBase {
    uint256 internal constant NATIVE_ALLOWANCE = 5 ether;
    Target internal otherTarget;
    bytes32 internal sessionId;

    function setUp() public override {
        super.setUp();
        otherTarget = new Target();
        sessionId = _enable(
            _grant(
                _list(
                    _functionsOn(address(target), Target.ping.selector),
                    _erc20(address(token), ALLOWANCE),
                    _native(NATIVE_ALLOWANCE)
                )
            )
        );
        // A permission set with contract-access on top needs a second session: keep the model in one.
    }

    function decodeBatch(bytes calldata data) external pure returns (Execution[] memory) {
        return abi.decode(data, (Execution[]));
    }

    // ------------------------------------------------------------ reference model

    function _isSpend(bytes4 selector) internal pure returns (bool) {
        return selector == ERC20.transfer.selector || selector == ERC20.approve.selector
            || selector == ERC20.transferFrom.selector || selector == bytes4(0x39509351);
    }

    /// @dev The error a single call must raise under this session's grant, or empty if allowed; `checked`:
    ///      the operation takes the balance-checked form, which any call beyond the selector meter needs
    ///      (the session limits the token and native value).
    function _expected(address to, uint256 value, bytes memory data, bool checked)
        internal
        view
        returns (bytes memory)
    {
        bool hasSelector = data.length >= 4;
        bytes4 selector;
        if (hasSelector) {
            assembly {
                selector := and(mload(add(data, 0x20)), shl(224, 0xffffffff))
            }
        }
        if (to == address(validator) || to == owner) {
            if (to == owner && hasSelector && selector != LeashAccount.execute.selector) {
                return abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, sessionId, to, selector);
            }
            return abi.encodeWithSelector(ISessionKeyValidator.ForbiddenCall.selector, sessionId, to, selector);
        }
        if (hasSelector && _isSpend(selector)) {
            if (to != address(token)) {
                return abi.encodeWithSelector(ISessionKeyValidator.Erc20NotAllowed.selector, sessionId, to, selector);
            }
            uint256 offset = selector == ERC20.transferFrom.selector ? 0x44 : 0x24;
            if (data.length < offset + 0x20) {
                return abi.encodeWithSelector(ISessionKeyValidator.MalformedErc20Call.selector, sessionId, to, selector);
            }
            uint256 amount;
            assembly {
                amount := mload(add(add(data, 0x20), offset))
            }
            if (amount > ALLOWANCE) {
                return abi.encodeWithSelector(
                    ISessionKeyValidator.Erc20AllowanceExceeded.selector, sessionId, to, amount, ALLOWANCE
                );
            }
        }
        bool unmetered = !(hasSelector && _isSpend(selector)) && (data.length != 0 || value == 0);
        if (unmetered && !(to == address(target) && hasSelector && selector == Target.ping.selector)) {
            return abi.encodeWithSelector(ISessionKeyValidator.CallNotAllowed.selector, sessionId, to, selector);
        }
        if (value > NATIVE_ALLOWANCE) {
            return abi.encodeWithSelector(
                ISessionKeyValidator.NativeAllowanceExceeded.selector, sessionId, to, value, NATIVE_ALLOWANCE
            );
        }
        // A plain value transfer's recipient could pull the limited token.
        bool valueOnly = data.length == 0 && value != 0;
        if ((unmetered || valueOnly) && !checked) {
            return abi.encodeWithSelector(ISessionKeyValidator.OutflowCheckRequired.selector, sessionId, to, selector);
        }
        return "";
    }

    function _pick(uint256 seed) internal view returns (address to, bytes4 selector) {
        address[6] memory targets =
            [address(target), address(otherTarget), address(token), owner, address(validator), alice];
        bytes4[7] memory selectors = [
            Target.ping.selector,
            Target.pong.selector,
            ERC20.transfer.selector,
            ERC20.approve.selector,
            ERC20.transferFrom.selector,
            LeashAccount.execute.selector,
            bytes4(0xdeadbeef)
        ];
        to = targets[seed % targets.length];
        selector = selectors[(seed >> 8) % selectors.length];
    }

    // ------------------------------------------------------------ properties

    /// @dev Any single call, with arbitrary argument bytes after its selector (which must never leak
    ///      into the rule lookup) and arbitrary truncation, is decided exactly as the model says.
    function testFuzz_singleCallMatchesModel(uint256 seed, bytes32 word1, uint256 amount, uint96 value, uint8 cut)
        public
    {
        (address to, bytes4 selector) = _pick(seed);
        amount = amount % (2 * ALLOWANCE);
        value = uint96(value % (2 * NATIVE_ALLOWANCE));
        bytes memory data = abi.encodePacked(selector, word1, amount, amount);
        uint256 length = cut % 8 == 0 ? data.length : cut % data.length;
        assembly {
            mstore(data, length)
        }
        bool checked = seed >> 16 & 1 == 1;
        bytes memory callData = _single(to, value, data);
        if (checked) callData = _checked(callData, _tokens(address(token)));
        (bool ok, uint256 validationData, bytes memory revertData) = _validate(sessionId, callData);
        bytes memory expected = _expected(to, value, data, checked);
        if (expected.length == 0) {
            vm.assertTrue(ok, "model allows the call");
            vm.assertEq(validationData >> 160, uint256(block.timestamp + 1 days), "window, no failure");
        } else {
            vm.assertFalse(ok, "model rejects the call");
            vm.assertEq(revertData, expected, "exact error");
        }
    }

    /// @dev Flipping any byte of a batch encoding never makes the validator accept calls that the
    ///      account's ABI decoding would see differently or that the model forbids.
    function testFuzz_batchEncodingMutation(uint256 position, uint8 newByte) public {
        Execution[] memory executions = new Execution[](2);
        executions[0] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        executions[1] = Execution(alice, 1 ether, "");
        bytes memory encoded = abi.encode(executions);
        encoded[position % encoded.length] = bytes1(newByte);
        bytes memory callData = abi.encodeCall(LeashAccount.execute, (ExecutionLib.MODE_BATCH, encoded));
        (bool ok, uint256 validationData,) = _validate(sessionId, _checked(callData, _tokens(address(token))));
        if (!ok || validationData == 1) return;
        Execution[] memory decoded = this.decodeBatch(encoded);
        for (uint256 i; i < decoded.length; ++i) {
            vm.assertEq(
                _expected(decoded[i].target, decoded[i].value, decoded[i].callData, true),
                "",
                "accepted call is allowed"
            );
        }
    }

    /// @dev A sequence of transfers passes exactly while the cumulative amount fits the allowance,
    ///      and the remaining budget is always the allowance minus what passed.
    function testFuzz_limitAccounting(uint256[6] memory amounts) public {
        uint256 spent;
        for (uint256 i; i < amounts.length; ++i) {
            uint256 amount = amounts[i] % (ALLOWANCE / 2);
            (bool ok,,) = _validate(sessionId, _transfer(alice, amount));
            vm.assertEq(ok, spent + amount <= ALLOWANCE, "passes iff within the allowance");
            if (ok) spent += amount;
            vm.assertEq(
                validator.getRemaining(owner, sessionId, PermissionType.Erc20TokenTransfer, address(token)),
                ALLOWANCE - spent,
                "remaining"
            );
        }
    }
}
