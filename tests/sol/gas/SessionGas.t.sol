// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {Execution} from "../../../contracts/types/Execution.sol";
import {
    Permission,
    PERMIT2,
    Rule,
    RULE_OP_EQ,
    RULE_OP_ONE_OF,
    RULE_RECURRING,
    RULES_VERSION,
    SessionGrant,
    SIG_MODE_USE
} from "../../../contracts/types/SessionTypes.sol";
import {RecipientBlocklistPolicy} from "../../../contracts/policies/RecipientBlocklistPolicy.sol";
import {MockPermit2} from "../utils/Spenders.sol";
import {RuleBuilders} from "../utils/RuleBuilders.sol";
import {Target} from "../../../contracts/test/Target.sol";

interface ISimpleAccount {
    function execute(address target, uint256 value, bytes calldata data) external;
}

/// @notice Gas of session-key UserOperations against the owner-signed baseline, one scenario per
///         test so each `handleOps` runs as its own cold transaction under `--isolate` (set inline
///         below). Results land in snapshots/session_gas.json; docs/benchmarks.md explains them.
/// forge-config: default.isolate = true
contract SessionGasTest is RuleBuilders {
    string internal constant GROUP = "session_gas";
    uint256 internal constant SIMPLE_7702_KEY = 0x5171;
    uint256 internal constant AMOUNT = 1 ether;

    function setUp() public override {
        super.setUp();
        // Recipients already hold some of each asset, as in most real transfers.
        token.mint(alice, 1);
        vm.deal(alice, 1);
        // The beneficiary exists, as a bundler's address does: otherwise every figure would pay
        // 25,000 gas to create its account with the first fee.
        vm.deal(bundler, 1);
    }

    function _measure(PackedUserOperation memory userOp, string memory name) internal {
        handleOp(userOp);
        vm.snapshotGasLastCall(GROUP, name);
        vm.snapshotValue(GROUP, string.concat(name, "_signature_bytes"), userOp.signature.length);
    }

    function _erc20Grant() internal view returns (SessionGrant memory) {
        return _grant(_list(_functionsOn(address(token), bytes4(0xa9059cbb)), _erc20(address(token), ALLOWANCE)));
    }

    function _batchCallData() internal view returns (bytes memory) {
        Execution[] memory executions = new Execution[](3);
        executions[0] = Execution(address(token), 0, abi.encodeWithSelector(0xa9059cbb, alice, AMOUNT));
        executions[1] = Execution(alice, AMOUNT, "");
        executions[2] = Execution(address(target), 0, abi.encodeCall(Target.ping, ()));
        return _batch(executions);
    }

    /// @dev The batch in the balance-checked form, as a session that limits the token must send it: its
    ///      `ping` could move the token by a path the selector meter does not see.
    function _checkedBatch() internal view returns (bytes memory) {
        return _checked(_batchCallData(), _tokens(address(token)));
    }

    /// @dev `key`'s `personal_sign` of `userOp`'s hash in the EIP-191 form (`r ‖ s ‖ v + 4`), what the
    ///      Wallet API's signer returns.
    function _personalSign(PackedUserOperation memory userOp, uint256 key) internal view returns (bytes memory) {
        bytes32 digest =
            keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", entryPoint.getUserOpHash(userOp)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v + 4);
    }

    // ------------------------------------------------------------ baselines

    function test_gas_owner_eth_transfer() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _single(alice, AMOUNT, ""));
        signUserOp(userOp, OWNER_KEY);
        _measure(userOp, "owner_eth_transfer");
    }

    function test_gas_owner_erc20_transfer() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _transfer(alice, AMOUNT));
        signUserOp(userOp, OWNER_KEY);
        _measure(userOp, "owner_erc20_transfer");
    }

    function test_gas_owner_batch3() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _batchCallData());
        signUserOp(userOp, OWNER_KEY);
        _measure(userOp, "owner_batch3");
    }

    function test_gas_owner_eth_transfer_eip191() public {
        PackedUserOperation memory userOp = buildUserOp(owner, 0, _single(alice, AMOUNT, ""));
        userOp.signature = _personalSign(userOp, OWNER_KEY);
        _measure(userOp, "owner_eth_transfer_eip191");
    }

    function test_gas_simple7702_eth_transfer() public {
        address simple = deploySimple7702Account();
        delegate(SIMPLE_7702_KEY, simple);
        address sender = vm.addr(SIMPLE_7702_KEY);
        vm.deal(sender, 10 ether);
        PackedUserOperation memory userOp =
            buildUserOp(sender, 0, abi.encodeCall(ISimpleAccount.execute, (alice, AMOUNT, "")));
        signUserOp(userOp, SIMPLE_7702_KEY);
        _measure(userOp, "simple7702_eth_transfer");
    }

    // ------------------------------------------------------------ sessions, enabled beforehand

    function test_gas_session_eth_transfer() public {
        bytes32 sessionId = _enable(_grant(_list(_native(ALLOWANCE))));
        _measure(_useOp(sessionId, _single(alice, AMOUNT, "")), "session_eth_transfer");
    }

    function test_gas_session_eth_transfer_eip191() public {
        bytes32 sessionId = _enable(_grant(_list(_native(ALLOWANCE))));
        PackedUserOperation memory userOp = _useOp(sessionId, _single(alice, AMOUNT, ""));
        userOp.signature = abi.encodePacked(SIG_MODE_USE, sessionId, _personalSign(userOp, SESSION_KEY));
        _measure(userOp, "session_eth_transfer_eip191");
    }

    function test_gas_session_erc20_transfer() public {
        bytes32 sessionId = _enable(_erc20Grant());
        _measure(_useOp(sessionId, _transfer(alice, AMOUNT)), "session_erc20_transfer");
    }

    /// @dev Paid by a paymaster the grant names (sponsored only: no `GasLimit` to charge).
    function test_gas_session_erc20_transfer_sponsored() public {
        bytes32 sessionId = _enable(
            _grantAsIs(
                _list(
                    _functionsOn(address(token), bytes4(0xa9059cbb)),
                    _erc20(address(token), ALLOWANCE),
                    _paymaster(address(sponsor))
                )
            )
        );
        _measure(_sponsored(sessionId, _transfer(alice, AMOUNT), address(sponsor)), "session_erc20_transfer_sponsored");
    }

    /// @dev The balance-checked path alone: one token pulled through Permit2 (`executeUserOp`, the
    ///      account's balances read around the call, the decrease settled).
    function test_gas_session_permit2_transfer_checked() public {
        vm.etch(PERMIT2, address(new MockPermit2()).code);
        bytes32 sessionId = _enable(_grant(_list(_erc20(address(token), ALLOWANCE), _contractAccess(PERMIT2))));
        bytes memory pull = abi.encodeCall(MockPermit2.transferFrom, (owner, alice, uint160(AMOUNT), address(token)));
        _measure(
            _useOp(sessionId, _checked(_single(PERMIT2, 0, pull), _tokens(address(token)))),
            "session_permit2_transfer_checked"
        );
    }

    function test_gas_session_batch3() public {
        bytes32 sessionId = _enable(_grantWithLimits());
        _measure(_useOp(sessionId, _checkedBatch()), "session_batch3");
    }

    /// @dev A token transfer under a daily recurring allowance: the balance-checked form, charged to
    ///      the day's period in the execution phase.
    function test_gas_session_erc20_transfer_periodic() public {
        Rule[] memory daily = new Rule[](1);
        daily[0] = Rule(RULE_RECURRING, abi.encode(uint48(1 days), uint48(0)));
        Permission memory limit = _erc20(address(token), ALLOWANCE);
        limit.rules = abi.encodePacked(RULES_VERSION, abi.encode(daily));
        bytes32 sessionId = _enable(_grant(_list(limit)));
        _measure(
            _useOp(sessionId, _checked(_transfer(alice, AMOUNT), _tokens(address(token)))),
            "session_erc20_transfer_periodic"
        );
    }

    /// @dev `pay(alice, 7)` on the target under a plain function permission: the baseline of the ruled call.
    function test_gas_session_call_no_rule() public {
        bytes32 sessionId = _enable(_grant(_list(_functionsOn(address(target), Target.pay.selector))));
        _measure(
            _useOp(sessionId, _single(address(target), 0, abi.encodeCall(Target.pay, (alice, 7)))),
            "session_call_no_rule"
        );
    }

    /// @dev The same call under one EQ (the amount) and one ONE_OF of three (the recipient).
    function test_gas_session_call_argument_rule() public {
        TestRule[] memory rules = _rules(
            _argument(
                0, RULE_OP_ONE_OF, _words(uint160(address(0xB0B)), uint160(address(alice)), uint160(address(0xDA7E)))
            ),
            _argument(1, RULE_OP_EQ, _words(7))
        );
        bytes32 sessionId = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        bytes memory callData = _single(address(target), 0, abi.encodeCall(Target.pay, (alice, 7)));
        _measure(_ruledOp(sessionId, callData, _attachment(0, rules)), "session_call_argument_rule");
    }

    /// @dev The same call asking the example policy (`RecipientBlocklistPolicy`, recipient not blocked).
    function test_gas_session_call_policy() public {
        RecipientBlocklistPolicy blocklist = new RecipientBlocklistPolicy();
        TestRule[] memory rules = _rules(_policy(address(blocklist), abi.encode(uint256(0))));
        bytes32 sessionId = _enable(_grant(_list(_ruledOn(address(target), Target.pay.selector, rules))));
        bytes memory callData = _single(address(target), 0, abi.encodeCall(Target.pay, (alice, 7)));
        _measure(_ruledOp(sessionId, callData, _attachment(0, rules)), "session_call_policy");
    }

    // ------------------------------------------------------------ the same first operations, lazily enabled

    function test_gas_session_eth_transfer_lazy() public {
        _measure(_enableOp(_grant(_list(_native(ALLOWANCE))), _single(alice, AMOUNT, "")), "session_eth_transfer_lazy");
    }

    function test_gas_session_erc20_transfer_lazy() public {
        _measure(_enableOp(_erc20Grant(), _transfer(alice, AMOUNT)), "session_erc20_transfer_lazy");
    }

    function test_gas_session_batch3_lazy() public {
        _measure(_enableOp(_grantWithLimits(), _checkedBatch()), "session_batch3_lazy");
    }
}
